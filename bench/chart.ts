import { machineLine } from './machine.ts';
import type { Comparison } from './measure.ts';
import type { BenchReport } from './report.ts';

/**
 * bench/results/chart.svg, written by hand (no charting dependency): three panels,
 * one row per measurement.
 * 1. Throughput in MiB/s of the bridge and of what it is compared with (log scale).
 * 2. How many times faster the bridge is (log scale, 1 = as fast), with the target.
 * 3. The bridge's peak RSS per scenario, with the bound where there is one.
 */
const WIDTH = 1060;
const LABEL_WIDTH = 330;
const PLOT_WIDTH = 450;
const ROW = 22;
const PANEL_GAP = 46;
const COLORS = { bridge: '#2563eb', reference: '#9ca3af', met: '#16a34a', missed: '#dc2626', info: '#6b7280', bound: '#111827' };

export function drawChart(report: BenchReport): string {
  const svg = new Svg();
  let y = 28;
  svg.text(12, y, `ftp-s3-bridge bench${report.quick ? ' (quick run)' : ''}: ${report.date.slice(0, 10)}`, { size: 17, weight: 'bold' });
  y += 20;
  svg.text(12, y, machineLine(report.machine), { size: 12, fill: COLORS.info });
  y += 30;

  const throughputRows = report.comparisons.filter((comparison) => comparison.bridge.mibPerSecond !== undefined);
  const memoryRows = report.memory.filter((check) => check.mibPerSecond !== undefined);
  if (throughputRows.length + memoryRows.length > 0) {
    y = panelTitle(svg, y, 'Throughput, MiB/s (median; log scale)', [
      ['bridge', COLORS.bridge],
      ['reference', COLORS.reference],
    ]);
    const values = [
      ...throughputRows.flatMap((row) => [row.bridge.mibPerSecond!, row.reference.mibPerSecond!]),
      ...memoryRows.map((row) => row.mibPerSecond!),
    ];
    const scale = logScale(Math.min(...values) / 1.5, Math.max(...values) * 1.5);
    y = axis(svg, y, scale, (value) => `${Number(value.toPrecision(2))}`);
    for (const row of throughputRows) {
      label(svg, y, `${row.group}: ${row.title}`);
      bar(svg, y + 2, scale.min, row.bridge.mibPerSecond!, scale, COLORS.bridge, 8);
      bar(svg, y + 11, scale.min, row.reference.mibPerSecond!, scale, COLORS.reference, 8);
      note(svg, y, `${row.bridge.mibPerSecond} vs ${row.reference.mibPerSecond} (${row.reference.name})`);
      y += ROW;
    }
    for (const row of memoryRows) {
      label(svg, y, row.title);
      bar(svg, y + 4, scale.min, row.mibPerSecond!, scale, COLORS.bridge, 12);
      note(svg, y, `${row.mibPerSecond} MiB/s, ${row.seconds} s`);
      y += ROW;
    }
    y += PANEL_GAP;
  }

  if (report.comparisons.length > 0) {
    y = panelTitle(svg, y, 'Bridge speed / reference speed (median; log scale; 1 = as fast)', [
      ['target met', COLORS.met],
      ['target missed', COLORS.missed],
      ['no target', COLORS.info],
    ]);
    const ratios = report.comparisons.map((comparison) => comparison.ratio);
    const scale = logScale(Math.min(0.25, ...ratios) / 1.2, Math.max(4, ...ratios) * 1.2);
    y = axis(svg, y, scale, (value) => `${Number(value.toPrecision(2))}x`);
    const top = y;
    for (const row of report.comparisons) {
      label(svg, y, `${row.group}: ${row.title}`);
      bar(svg, y + 4, 1, row.ratio, scale, ratioColor(row), 12);
      if (row.target !== undefined) {
        const x = scale.x(row.target.minRatio);
        svg.line(x, y + 1, x, y + ROW - 3, { stroke: COLORS.bound, width: 2 });
      }
      note(svg, y, `${row.ratio.toFixed(2)}x ${row.target === undefined ? '' : `(target ${row.target.text}: ${row.met ? 'met' : 'missed'})`}`);
      y += ROW;
    }
    const one = scale.x(1);
    svg.line(one, top - 4, one, y, { stroke: COLORS.bound, width: 1, dash: '3 3' });
    y += PANEL_GAP;
  }

  const rssRows: Array<{ name: string; peak: number; bound?: number; met?: boolean }> = [
    ...report.comparisons
      .filter((comparison) => comparison.bridge.peakRssMib !== undefined)
      .map((comparison) => ({ name: `${comparison.group}: ${comparison.title}`, peak: comparison.bridge.peakRssMib! })),
    ...report.memory.map((check) => ({ name: check.title, peak: check.peakRssMib, bound: check.boundMib, met: check.met })),
    ...report.listings.map((listing) => ({ name: `LIST of ${listing.objects} objects`, peak: listing.peakRssMib })),
  ];
  if (rssRows.length > 0) {
    y = panelTitle(svg, y, 'Bridge peak RSS, MiB (black mark: bound = upload buffer budget + fixed overhead)', [['peak RSS', COLORS.bridge]]);
    const peaks = rssRows.map((row) => row.peak);
    const bounds = rssRows.flatMap((row) => (row.bound === undefined ? [] : [row.bound]));
    // Bounds far above every peak would squash the bars: the axis stops a little past the larger of the two.
    const max = Math.max(...peaks, ...bounds.filter((bound) => bound < 4 * Math.max(...peaks))) * 1.15;
    const scale = linearScale(0, max);
    y = axis(svg, y, scale, (value) => `${Math.round(value)}`);
    for (const row of rssRows) {
      label(svg, y, row.name);
      const color = row.met === false ? COLORS.missed : COLORS.bridge;
      bar(svg, y + 4, 0, Math.min(row.peak, max), scale, color, 12);
      let text = `${row.peak} MiB`;
      if (row.bound !== undefined) {
        if (row.bound <= max) {
          const x = scale.x(row.bound);
          svg.line(x, y + 1, x, y + ROW - 3, { stroke: COLORS.bound, width: 2 });
        }
        text += ` (bound ${row.bound} MiB${row.bound > max ? ', off the axis' : ''})`;
      }
      note(svg, y, text);
      y += ROW;
    }
    y += 10;
  }
  return svg.render(WIDTH, y + 10);
}

function ratioColor(comparison: Comparison): string {
  if (comparison.met === undefined) return COLORS.info;
  return comparison.met ? COLORS.met : COLORS.missed;
}

interface Scale {
  readonly min: number;
  readonly max: number;
  readonly ticks: readonly number[];
  x(value: number): number;
}

function logScale(min: number, max: number): Scale {
  const low = Math.log10(min);
  const high = Math.log10(max);
  const ticks: number[] = [];
  for (let exponent = Math.floor(low); exponent <= Math.ceil(high); exponent += 1) {
    for (const step of [1, 2, 5]) {
      const value = step * 10 ** exponent;
      if (value >= min && value <= max) ticks.push(value);
    }
  }
  return { min, max, ticks, x: (value) => LABEL_WIDTH + ((Math.log10(value) - low) / (high - low)) * PLOT_WIDTH };
}

function linearScale(min: number, max: number): Scale {
  const step = 10 ** Math.floor(Math.log10(max / 5));
  const nice = [1, 2, 5, 10].map((factor) => factor * step).find((candidate) => max / candidate <= 8) ?? step * 10;
  const ticks: number[] = [];
  for (let value = min; value <= max; value += nice) ticks.push(value);
  return { min, max, ticks, x: (value) => LABEL_WIDTH + ((value - min) / (max - min)) * PLOT_WIDTH };
}

function panelTitle(svg: Svg, y: number, title: string, legend: ReadonlyArray<readonly [string, string]>): number {
  svg.text(12, y, title, { size: 14, weight: 'bold' });
  let x = LABEL_WIDTH + PLOT_WIDTH + 12;
  for (const [name, color] of legend) {
    svg.rect(x, y - 10, 10, 10, color);
    svg.text(x + 14, y, name, { size: 11 });
    x += 22 + name.length * 6.2;
  }
  return y + 22;
}

function axis(svg: Svg, y: number, scale: Scale, format: (value: number) => string): number {
  for (const tick of scale.ticks) {
    const x = scale.x(tick);
    svg.text(x, y, format(tick), { size: 10, anchor: 'middle', fill: COLORS.info });
    svg.line(x, y + 4, x, y + 8, { stroke: COLORS.reference, width: 1 });
  }
  return y + 10;
}

function label(svg: Svg, y: number, text: string): void {
  svg.text(LABEL_WIDTH - 8, y + 15, text.length > 52 ? `${text.slice(0, 51)}…` : text, { size: 11, anchor: 'end' });
}

function note(svg: Svg, y: number, text: string): void {
  svg.text(LABEL_WIDTH + PLOT_WIDTH + 12, y + 15, text.length > 44 ? `${text.slice(0, 43)}…` : text, { size: 10, fill: COLORS.info });
}

/** A horizontal bar from `from` to `to` (either order) in scale units. */
function bar(svg: Svg, y: number, from: number, to: number, scale: Scale, color: string, height: number): void {
  const a = scale.x(Math.max(scale.min, Math.min(scale.max, from)));
  const b = scale.x(Math.max(scale.min, Math.min(scale.max, to)));
  svg.rect(Math.min(a, b), y, Math.max(1, Math.abs(b - a)), height, color);
}

class Svg {
  readonly #parts: string[] = [];

  text(
    x: number,
    y: number,
    content: string,
    options: { size?: number; weight?: string; anchor?: 'start' | 'middle' | 'end'; fill?: string } = {},
  ): void {
    this.#parts.push(
      `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="${options.size ?? 12}"${options.weight ? ` font-weight="${options.weight}"` : ''}` +
        `${options.anchor ? ` text-anchor="${options.anchor}"` : ''} fill="${options.fill ?? '#111827'}">${escapeXml(content)}</text>`,
    );
  }

  rect(x: number, y: number, width: number, height: number, fill: string): void {
    this.#parts.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${width.toFixed(1)}" height="${height}" fill="${fill}"/>`);
  }

  line(x1: number, y1: number, x2: number, y2: number, options: { stroke: string; width: number; dash?: string }): void {
    this.#parts.push(
      `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="${options.stroke}" stroke-width="${options.width}"${options.dash ? ` stroke-dasharray="${options.dash}"` : ''}/>`,
    );
  }

  render(width: number, height: number): string {
    return [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">`,
      `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
      ...this.#parts,
      '</svg>',
      '',
    ].join('\n');
  }
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
