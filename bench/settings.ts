/**
 * Sizes and repetition counts of one bench run. The full run is what the README
 * reports (about 25 minutes on the 2-core development machine); BENCH_QUICK=1 scales
 * every size down for a run of a few minutes while developing. Any single figure can
 * be overridden with its own variable.
 */
export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;
/** The bridge's upload budget in the bench: what the deployment's default 1 GiB task gives it. */
export const DEFAULT_UPLOAD_BUFFER_MIB = 512;

export interface BenchSettings {
  readonly quick: boolean;
  /** Repetitions of every interleaved comparison (median reported). */
  readonly repetitions: number;
  /** File uploaded and downloaded against lib-storage Upload / GetObject (fauxqs). */
  readonly anchorMib: number;
  /** File used to pick lib-storage's best queueSize and partSize. */
  readonly anchorCalibrationMib: number;
  /** Large file against vsftpd over rclone mount (fauxqs). */
  readonly peerLargeMib: number;
  readonly peerSmallFiles: number;
  readonly peerSmallFileBytes: number;
  /** Objects in the folder listed against vsftpd over rclone mount. */
  readonly peerListObjects: number;
  /** Upload and download size of the ceiling (discard endpoint, vsftpd on local disk) and of TLS beside plain. */
  readonly ceilingMib: number;
  /** Small files of the ceiling: what one STOR costs with S3 taken out. */
  readonly ceilingSmallFiles: number;
  /** Upload and download size of each transfer under a CPU quota (task sizes). */
  readonly taskSizeMib: number;
  readonly concurrentTransfers: number;
  readonly concurrentMib: number;
  /** Stream of unknown length uploaded through the discard endpoint. */
  readonly longStreamGib: number;
  /** Objects of the first listing with client-set times, beside the same without (the large count is the second). */
  readonly listFirstObjects: number;
  /** Object counts of the big listing; memory must stay flat from the first to the second. */
  readonly listSmallObjects: number;
  readonly listLargeObjects: number;
  /** Passed to the bridge as FTP_UPLOAD_BUFFER_MIB when set (the process-wide upload buffer budget). */
  /** FTP_UPLOAD_BUFFER_MIB for the memory scenarios' bridges. @default DEFAULT_UPLOAD_BUFFER_MIB */
  readonly uploadBufferMib: number;
  /** What the bridge may use beyond its buffer budget: Node, the SDK, sockets, TLS. */
  readonly rssOverheadMib: number;
  /** A scenario is stopped when the machine's available memory falls below this. */
  readonly minAvailableMib: number;
  /** Run only these scenarios (comma-separated ids), all when unset. */
  readonly only: ReadonlySet<string> | undefined;
}

export function loadSettings(env: NodeJS.ProcessEnv): BenchSettings {
  const quick = flag(env.BENCH_QUICK);
  const pick = (name: string, full: number, small: number): number => positive(env, name, quick ? small : full);
  const onlyText = env.BENCH_ONLY?.trim();
  const bufferText = env.FTP_UPLOAD_BUFFER_MIB?.trim();
  return {
    quick,
    repetitions: pick('BENCH_REPETITIONS', 5, 3),
    anchorMib: pick('BENCH_ANCHOR_MIB', 256, 48),
    anchorCalibrationMib: pick('BENCH_ANCHOR_CALIBRATION_MIB', 96, 24),
    peerLargeMib: pick('BENCH_PEER_LARGE_MIB', 256, 48),
    peerSmallFiles: pick('BENCH_PEER_SMALL_FILES', 2000, 200),
    peerSmallFileBytes: pick('BENCH_PEER_SMALL_FILE_BYTES', 4096, 4096),
    peerListObjects: pick('BENCH_PEER_LIST_OBJECTS', 5000, 1000),
    ceilingMib: pick('BENCH_CEILING_MIB', 1024, 256),
    ceilingSmallFiles: pick('BENCH_CEILING_SMALL_FILES', 500, 100),
    taskSizeMib: pick('BENCH_TASK_SIZE_MIB', 256, 64),
    concurrentTransfers: pick('BENCH_CONCURRENT_TRANSFERS', 100, 20),
    concurrentMib: pick('BENCH_CONCURRENT_MIB', 64, 16),
    longStreamGib: pick('BENCH_LONG_STREAM_GIB', 50, 2),
    listFirstObjects: pick('BENCH_LIST_FIRST_OBJECTS', 5_000, 2_000),
    listSmallObjects: pick('BENCH_LIST_SMALL_OBJECTS', 10_000, 2_000),
    listLargeObjects: pick('BENCH_LIST_LARGE_OBJECTS', 100_000, 20_000),
    // The deployment's default task (1 GiB) gives the bridge half of it.
    uploadBufferMib: bufferText === undefined || bufferText === '' ? DEFAULT_UPLOAD_BUFFER_MIB : positive(env, 'FTP_UPLOAD_BUFFER_MIB', 0),
    rssOverheadMib: positive(env, 'BENCH_RSS_OVERHEAD_MIB', 192),
    minAvailableMib: positive(env, 'BENCH_MIN_AVAILABLE_MIB', 3072),
    only: onlyText ? new Set(onlyText.split(',').map((id) => id.trim())) : undefined,
  };
}

function flag(raw: string | undefined): boolean {
  return raw !== undefined && ['1', 'true', 'yes', 'on'].includes(raw.trim().toLowerCase());
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}: expected a positive number, got ${JSON.stringify(raw)}`);
  return value;
}
