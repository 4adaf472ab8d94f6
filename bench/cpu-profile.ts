import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where a V8 CPU profile (node --cpu-prof) spent the bridge's time: self time per
 * function, and the same grouped by where the code lives (the bridge's own code,
 * Node's streams, sockets and TLS, the AWS SDK, garbage collection...). Idle time
 * (the event loop waiting for I/O) is reported apart: it is what the bridge does
 * not need the CPU for.
 */
interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface CostEntry {
  readonly name: string;
  /** Share of the non-idle samples, in percent. */
  readonly percent: number;
  readonly ms: number;
  /** For a function: the callers that account for most of its time, nearest first (up to 3 levels). */
  readonly calledFrom?: string;
}

export interface CpuProfileSummary {
  readonly title: string;
  /** Wall time the profile covers. */
  readonly seconds: number;
  /** Share of samples the main thread was busy (not idle), in percent. */
  readonly busyPercent: number;
  readonly topFunctions: readonly CostEntry[];
  readonly byArea: readonly CostEntry[];
}

export async function summariseProfileDir(dir: string, title: string): Promise<CpuProfileSummary> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile written in ${dir}`);
  const profile = JSON.parse(await readFile(join(dir, files[0]!), 'utf8')) as CpuProfile;
  return summarise(profile, title);
}

export function summarise(profile: CpuProfile, title: string): CpuProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const selfMicros = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; it is charged to that sample's node.
  profile.samples.forEach((id, index) => {
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  let idle = 0;
  let busy = 0;
  const functions = new Map<string, { micros: number; callers: Map<string, number> }>();
  const areas = new Map<string, number>();
  for (const [id, micros] of selfMicros) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) continue;
    if (frame.functionName === '(idle)') {
      idle += micros;
      continue;
    }
    busy += micros;
    const name = frameName(frame);
    const entry = functions.get(name) ?? { micros: 0, callers: new Map<string, number>() };
    entry.micros += micros;
    const chain = callerChain(id, parentOf, byId);
    entry.callers.set(chain, (entry.callers.get(chain) ?? 0) + micros);
    functions.set(name, entry);
    const area = areaOf(frame.functionName, frame.url);
    areas.set(area, (areas.get(area) ?? 0) + micros);
  }
  const percent = (micros: number): number => Math.round((1000 * micros) / Math.max(1, busy)) / 10;
  const topFunctions = [...functions.entries()]
    .sort((a, b) => b[1].micros - a[1].micros)
    .slice(0, 12)
    .map(([name, entry]) => {
      const [caller] = [...entry.callers.entries()].sort((a, b) => b[1] - a[1]);
      return {
        name,
        percent: percent(entry.micros),
        ms: Math.round(entry.micros / 1000),
        ...(caller === undefined || caller[0] === '' ? {} : { calledFrom: caller[0] }),
      };
    });
  const byArea = [...areas.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([name, micros]) => ({ name, percent: percent(micros), ms: Math.round(micros / 1000) }));
  return {
    title,
    seconds: Math.round((profile.endTime - profile.startTime) / 1e4) / 100,
    busyPercent: Math.round((1000 * busy) / Math.max(1, busy + idle)) / 10,
    topFunctions,
    byArea,
  };
}

function frameName(frame: CallFrame): string {
  return `${frame.functionName || '(anonymous)'} ${location(frame.url, frame.lineNumber)}`.trim();
}

/** The three nearest callers of a node, skipping anonymous wrappers without a location. */
function callerChain(id: number, parentOf: ReadonlyMap<number, number>, byId: ReadonlyMap<number, ProfileNode>): string {
  const names: string[] = [];
  for (let parent = parentOf.get(id); parent !== undefined && names.length < 3; parent = parentOf.get(parent)) {
    const frame = byId.get(parent)?.callFrame;
    if (frame === undefined || frame.functionName === '(root)') break;
    if (frame.url === '' && frame.functionName === '') continue;
    names.push(frameName(frame));
  }
  return names.join(' < ');
}

function location(url: string, line: number): string {
  if (url === '') return '';
  const short = url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, '')
    .replace(/^.*\/runtime\/dist\//, 'runtime/dist/');
  return `(${short}:${line + 1})`;
}

function areaOf(functionName: string, url: string): string {
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)') return 'native (outside JavaScript: syscalls, libuv, OpenSSL, memcpy)';
  if (url.includes('/runtime/dist/')) return 'the bridge (runtime/dist)';
  if (url.includes('@smithy/') || url.includes('@aws-sdk/') || url.includes('@aws-crypto/')) return 'AWS SDK (@aws-sdk, @smithy, @aws-crypto)';
  if (url.includes('/node_modules/')) return `dependency ${url.replace(/^.*\/node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1')}`;
  if (/^node:internal\/(streams|webstreams)/.test(url) || url === 'node:stream') return 'Node streams';
  if (url.startsWith('node:internal/crypto')) return 'Node crypto (hashes, HMAC)';
  if (url === 'node:zlib') return 'Node zlib (CRC32)';
  if (url === 'node:buffer') return 'Node Buffer (copies, concat)';
  if (url.startsWith('node:internal/modules') || url.startsWith('node:internal/bootstrap')) return 'Node module loading (start-up)';
  if (/^node:(internal\/)?(net|tls|_tls|stream_base|crypto|internal\/tls)/.test(url) || url.includes('_tls_')) return 'Node net/TLS';
  if (/^node:(internal\/)?(http|_http)/.test(url)) return 'Node HTTP client';
  if (url.startsWith('node:')) return 'Node (other)';
  return functionName === '' ? 'native (anonymous)' : `native ${functionName}`;
}
