import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { summariseProfileDir, type CpuProfileSummary } from '../cpu-profile.ts';
import { curlDownload, curlUpload } from '../curl.ts';
import { cpuFigure, millisecondsFigure, ratioFigure, type Figure } from '../figures.ts';
import { lftpDownload, lftpUpload, type LftpOptions } from '../lftp.ts';
import { compare, interleave, median, timed, variant, type Comparison, type Trial } from '../measure.ts';
import { writeSmallFiles, writeSyntheticFile, type BenchContext, type Scenario, type ScenarioResult } from '../scenario.ts';
import { BRIDGE_HOME, BRIDGE_PASSWORD, BRIDGE_USER, startBridge, type BridgeProcess } from '../servers/bridge.ts';
import { perFileSummary, uploadFiles, type FtpEndpoint } from '../ftp-session.ts';
import { BUCKET, discardStats, registerObject, startDiscardEndpoint, type S3Endpoint } from '../servers/s3-endpoints.ts';
import { startVsftpd } from '../servers/vsftpd.ts';
import { MIB } from '../settings.ts';

/**
 * The ceiling: the bridge in front of the discard S3 endpoint (S3 costs nothing),
 * beside vsftpd serving local disk (the FTP protocol itself on this machine, with
 * sendfile and no S3 at all). The same runs give TLS (PROT P) beside plain, with two
 * clients: curl starts TLS on the data connection before RETR/STOR, lftp after
 * the 150 (TLS 1.2 and 1.3), and the bridge runs a download's TLS natively only when it
 * knows the direction at the handshake (tls-data-connection.ts). Then the
 * bridge is profiled (node --cpu-prof) through one upload and one download, to name
 * what limits it: a large upload, a large download, and small files (where what
 * counts is what one STOR costs). The bridge runs with its default settings (S3_CHECKSUM
 * when_supported: a CRC32 per part, as in production).
 */
export const ceilingScenario: Scenario = {
  id: 'ceiling',
  title: 'Ceiling: bridge on a discard S3 endpoint vs vsftpd on local disk; TLS vs plain',
  unavailable: (context) => (context.peers.ftpServer ? undefined : 'needs vsftpd'),
  async run(context: BenchContext): Promise<ScenarioResult> {
    const { settings, work, log } = context;
    const mib = settings.ceilingMib;
    const discard = await startDiscardEndpoint();
    const stops: Array<() => Promise<void>> = [() => discard.stop()];
    try {
      await registerObject(discard, BRIDGE_HOME, 0);
      await registerObject(discard, `${BRIDGE_HOME}ceiling/source.bin`, mib * MIB);
      const bridge = await startBridge({ files: context.files, endpoint: discard.endpoint, bucket: BUCKET });
      stops.unshift(() => bridge.stop());

      const localRoot = join(work, 'vsftpd-local-root');
      await mkdir(join(localRoot, 'up'), { recursive: true });
      await chmod(localRoot, 0o755);
      await chmod(join(localRoot, 'up'), 0o777);
      const file = join(localRoot, 'source.bin');
      await writeSyntheticFile(file, mib * MIB, 4);
      const vsftpd = await startVsftpd({ root: localRoot, work, name: 'local' });
      stops.unshift(() => vsftpd.stop());
      const cpuOf = { bridge: bridge.pid, 'discard S3': discard.pid };
      const lftp = (tls?: LftpOptions['tls']): LftpOptions => ({ port: bridge.port, user: BRIDGE_USER, password: BRIDGE_PASSWORD, ...(tls ? { tls } : {}) });
      const lftpClients = [lftp(), lftp('TLSv1.2'), lftp('TLSv1.3')];

      log(`  upload ${mib} MiB x ${settings.repetitions}: bridge plain, bridge TLS, vsftpd local disk`);
      const uploads = await interleave(
        settings.repetitions,
        [
          (round) => timed(() => curlUpload(`${bridge.url}/ceiling/up-${round}.bin`, file), { memoryOf: bridge.pid, cpuOf }),
          (round) => timed(() => curlUpload(`${bridge.url}/ceiling/tls-${round}.bin`, file, { tls: true }), { memoryOf: bridge.pid, cpuOf }),
          (round) => timed(() => curlUpload(`${vsftpd.url}/up/up-${round}.bin`, file)),
          ...lftpClients.map(
            (client) => (round: number) =>
              timed(() => lftpUpload(client, `ceiling/lftp-${client.tls ?? 'plain'}-${round}.bin`, file), { memoryOf: bridge.pid, cpuOf }),
          ),
        ],
        async () => {
          await rm(join(localRoot, 'up'), { recursive: true, force: true });
          await mkdir(join(localRoot, 'up'));
          await chmod(join(localRoot, 'up'), 0o777);
        },
      );
      log(`  download ${mib} MiB x ${settings.repetitions}: bridge plain, bridge TLS, vsftpd local disk`);
      const downloads = await interleave(settings.repetitions, [
        () => timed(() => curlDownload(`${bridge.url}/ceiling/source.bin`), { memoryOf: bridge.pid, cpuOf }),
        () => timed(() => curlDownload(`${bridge.url}/ceiling/source.bin`, { tls: true }), { memoryOf: bridge.pid, cpuOf }),
        () => timed(() => curlDownload(`${vsftpd.url}/source.bin`)),
        ...lftpClients.map((client) => () => timed(() => lftpDownload(client, 'ceiling/source.bin'), { memoryOf: bridge.pid, cpuOf })),
      ]);
      const afterThe150 = afterThe150Figures(mib, uploads.slice(3), downloads.slice(3));
      log(`  ${settings.ceilingSmallFiles} small files x ${settings.repetitions}: bridge, vsftpd local disk`);
      const smallFiles = await writeSmallFiles(join(work, 'ceiling-small'), settings.ceilingSmallFiles, 4096);
      const bridgeSession: FtpEndpoint = { port: bridge.port, user: BRIDGE_USER, password: BRIDGE_PASSWORD };
      const localSession: FtpEndpoint = { port: vsftpd.port, user: 'anonymous', password: 'bench' };
      const perFileSeconds: { bridge: number[]; local: number[] } = { bridge: [], local: [] };
      const small = await interleave(settings.repetitions, [
        (round) =>
          timed(async () => perFileSeconds.bridge.push(...(await uploadFiles(bridgeSession, `/ceiling/small-${round}`, smallFiles))), {
            memoryOf: bridge.pid,
            cpuOf,
          }),
        (round) => timed(async () => perFileSeconds.local.push(...(await uploadFiles(localSession, `/up/small-${round}`, smallFiles)))),
      ]);
      const before = await discardStats(discard);
      const counted = smallFiles.slice(0, 100);
      await uploadFiles(bridgeSession, '/ceiling/small-count', counted);
      const after = await discardStats(discard);
      const requestsPerFile = perFile(
        { ...after.requests, 'new connections': after.connections },
        { ...before.requests, 'new connections': before.connections },
        counted.length,
      );
      await bridge.stop();

      log('  profiling the bridge (node --cpu-prof) through one upload and one download');
      const profiles: CpuProfileSummary[] = [];
      profiles.push(
        await profiled(context, discard, `CPU profile: bridge upload of ${mib} MiB to the discard endpoint`, (profiledBridge) =>
          curlUpload(`${profiledBridge.url}/ceiling/profiled.bin`, file),
        ),
      );
      profiles.push(
        await profiled(context, discard, `CPU profile: bridge download of ${mib} MiB from the discard endpoint`, (profiledBridge) =>
          curlDownload(`${profiledBridge.url}/ceiling/source.bin`),
        ),
      );
      profiles.push(
        await profiled(context, discard, `CPU profile: bridge upload of ${settings.ceilingSmallFiles} small files to the discard endpoint`, async (profiledBridge) => {
          await uploadFiles({ port: profiledBridge.port, user: BRIDGE_USER, password: BRIDGE_PASSWORD }, '/ceiling/small-profiled', smallFiles);
        }),
      );

      const plainUpload = variant('bridge plain', uploads[0]!, mib);
      const plainDownload = variant('bridge plain', downloads[0]!, mib);
      const tlsUpload = variant('bridge PROT P', uploads[1]!, mib);
      const tlsDownload = variant('bridge PROT P', downloads[1]!, mib);
      const comparisons = [
          ...afterThe150.comparisons,
          compare({
            id: 'ceiling-upload',
            group: 'ceiling',
            title: `Upload ${mib} MiB, discard S3`,
            mib,
            bridge: plainUpload,
            reference: variant('vsftpd, local disk', uploads[2]!, mib),
          }),
          compare({
            id: 'ceiling-download',
            group: 'ceiling',
            title: `Download ${mib} MiB, discard S3`,
            mib,
            bridge: plainDownload,
            reference: variant('vsftpd, local disk', downloads[2]!, mib),
          }),
          compare({
            id: 'ceiling-small-files',
            group: 'ceiling',
            title: `Upload ${settings.ceilingSmallFiles} files of 4 KiB, discard S3`,
            bridge: variant('bridge', small[0]!),
            reference: variant('vsftpd, local disk', small[1]!),
            notes: [
              `per file (STOR to 226): bridge ${perFileSummary(perFileSeconds.bridge)}; vsftpd ${perFileSummary(perFileSeconds.local)}`,
              `S3 requests per file through the bridge: ${requestsPerFile}`,
            ],
          }),
          compare({
            id: 'tls-upload',
            group: 'TLS',
            title: `Upload ${mib} MiB, PROT P vs plain`,
            mib,
            bridge: tlsUpload,
            reference: plainUpload,
          }),
          compare({
            id: 'tls-download',
            group: 'TLS',
            title: `Download ${mib} MiB, PROT P vs plain`,
            mib,
            bridge: tlsDownload,
            reference: plainDownload,
          }),
        ] as const;
      const [ceilingUpload, ceilingDownload, , tlsUploadRatio, tlsDownloadRatio] = comparisons.slice(afterThe150.comparisons.length);
      const perFileMs = median(perFileSeconds.bridge) * 1000;
      const figures = [
        ratioFigure('tls-download', 'PROT P vs plain, download (curl: TLS before RETR, 1.3)', tlsDownloadRatio!, { min: 0.9, text: '>= 0.9x' }),
        ratioFigure('tls-upload', 'PROT P vs plain, upload (curl: TLS before STOR, 1.3)', tlsUploadRatio!, { min: 0.9, text: '>= 0.9x' }),
        ...afterThe150.figures,
        ratioFigure('ceiling-upload', 'ceiling vs vsftpd on local disk, discard S3, upload', ceilingUpload!, { min: 0.8, text: '>= 0.8x' }),
        ratioFigure('ceiling-download', 'ceiling vs vsftpd on local disk, discard S3, download', ceilingDownload!, { min: 0.6, text: '>= 0.6x' }),
        millisecondsFigure(
          'small-file',
          'one small file (4 KiB) on one session, discard S3',
          perFileMs,
          { max: 4, text: '<= 4 ms' },
          `STOR to 226, median of ${perFileSeconds.bridge.length}; vsftpd on local disk ${(median(perFileSeconds.local) * 1000).toFixed(1)} ms`,
        ),
        cpuFigure('cpu-upload', 'bridge CPU per GiB uploaded, plain', plainUpload),
        cpuFigure('cpu-upload-tls', 'bridge CPU per GiB uploaded, PROT P', tlsUpload),
        cpuFigure('cpu-download', 'bridge CPU per GiB downloaded, plain', plainDownload),
        cpuFigure('cpu-download-tls', 'bridge CPU per GiB downloaded, PROT P', tlsDownload),
      ].filter((figure) => figure !== undefined);
      return {
        figures,
        comparisons,
        profiles,
        notes: [`discard endpoint saw ${JSON.stringify(await discardStats(discard))}`],
      };
    } finally {
      for (const stop of stops) await stop();
    }
  },
};

/**
 * PROT P beside plain for the client that starts TLS after the 150 (lftp), TLS 1.2 and
 * 1.3, each direction: the trials of plain, TLS 1.2 and TLS 1.3, in that order.
 */
function afterThe150Figures(
  mib: number,
  uploads: ReadonlyArray<readonly Trial[]>,
  downloads: ReadonlyArray<readonly Trial[]>,
): { comparisons: Comparison[]; figures: Figure[] } {
  const comparisons: Comparison[] = [];
  const figures: Figure[] = [];
  for (const [direction, trials] of [
    ['upload', uploads],
    ['download', downloads],
  ] as const) {
    const plain = variant('lftp plain', trials[0]!, mib);
    for (const [index, version] of [
      [1, '1.2'],
      [2, '1.3'],
    ] as const) {
      const tls = variant(`lftp PROT P, TLS ${version}`, trials[index]!, mib);
      const id = `tls-${direction}-after-150-tls${version.replace('.', '')}`;
      const comparison = compare({
        id,
        group: 'TLS',
        title: `${direction === 'upload' ? 'Upload' : 'Download'} ${mib} MiB, PROT P (TLS ${version}, after the 150) vs plain`,
        mib,
        bridge: tls,
        reference: plain,
      });
      comparisons.push(comparison);
      figures.push(ratioFigure(id, `PROT P vs plain, ${direction} (lftp: TLS after the 150, ${version})`, comparison, { min: 0.9, text: '>= 0.9x' }));
      const cpu = cpuFigure(`cpu-${direction}-tls${version.replace('.', '')}-after-150`, `bridge CPU per GiB ${direction}ed, PROT P (lftp, TLS ${version})`, tls);
      if (cpu !== undefined) figures.push(cpu);
    }
  }
  return { comparisons, figures };
}

/** Requests of each kind per file, from two snapshots of the discard endpoint's counters around `files` uploads. */
function perFile(after: Readonly<Record<string, number>>, before: Readonly<Record<string, number>>, files: number): string {
  return Object.entries(after)
    .map(([operation, count]) => [operation, Math.round((100 * (count - (before[operation] ?? 0))) / files) / 100] as const)
    .filter(([, perFile]) => perFile > 0)
    .map(([operation, perFile]) => `${operation} ${perFile}`)
    .join(', ');
}

/** One transfer through a bridge started under node --cpu-prof; the profile is written when it exits. */
async function profiled(
  context: BenchContext,
  discard: S3Endpoint,
  title: string,
  work: (bridge: BridgeProcess) => Promise<void>,
): Promise<CpuProfileSummary> {
  const dir = await mkdtemp(join(context.work, 'profile-'));
  const bridge = await startBridge({ files: context.files, endpoint: discard.endpoint, bucket: BUCKET, cpuProfileDir: dir });
  try {
    await work(bridge);
  } finally {
    await bridge.stop();
  }
  return await summariseProfileDir(dir, title);
}
