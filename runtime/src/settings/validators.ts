/**
 * The value rules both settings machineries share: the runtime's environment table
 * (config.ts) and the CDK app's context schema (lib/settings-schema.ts). One rule per kind
 * of value, so a bucket name or a key prefix the CDK app accepts is one the container
 * accepts too (test/infra/settings-agreement.test.ts runs one table of cases through both).
 *
 * A validator takes the raw value (a string from the environment or from `cdk -c`, or a
 * JSON value from cdk.json) and returns the value it means, or a problem: "expected
 * <what is allowed>, got <the value>", which each side prefixes with the name of the
 * variable or context key.
 */

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

export type Validator<T> = (raw: unknown) => Checked<T>;

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });

/** The value as shown in a problem: JSON, long strings cut. */
export function shown(raw: unknown): string {
  const text = typeof raw === 'string' && raw.length > 80 ? `${raw.slice(0, 77)}...` : raw;
  return JSON.stringify(text) ?? String(text);
}

const expected = (what: string, raw: unknown): Checked<never> => ({ ok: false, problem: `expected ${what}, got ${shown(raw)}` });

/** A whole number in [min, max]: a JSON number or its decimal digits. */
export function wholeNumber(options: { readonly min: number; readonly max: number; readonly note?: string }): Validator<number> {
  const note = options.note === undefined ? '' : ` (${options.note})`;
  const what = `a whole number from ${options.min} to ${options.max}${note}`;
  return (raw) => {
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < options.min || value > options.max) return expected(what, raw);
    return ok(value);
  };
}

/** A TCP port; with allowZero, 0 turns the listener off. */
export function port(options: { readonly allowZero: boolean }): Validator<number> {
  return wholeNumber(options.allowZero ? { min: 0, max: 65535, note: '0 = off' } : { min: 1, max: 65535 });
}

/** setTimeout's limit; longer delays would fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A duration in seconds (decimals allowed), as whole milliseconds that a timer can wait. */
export function durationSeconds(options: { readonly allowZero: boolean }): Validator<number> {
  const low = options.allowZero ? 'from 0' : 'greater than 0';
  const what = `a number of seconds ${low} and at most ${Math.floor(MAX_TIMER_MS / 1000)} (decimals allowed)`;
  return (raw) => {
    const text = typeof raw === 'number' ? String(raw) : raw;
    const value = typeof text === 'string' && /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
    const ms = Math.round(value * 1000);
    if (!Number.isFinite(value) || ms > MAX_TIMER_MS || (!options.allowZero && ms < 1)) return expected(what, raw);
    return ok(ms);
  };
}

/** A duration in hours from 0 to `maxHours` (decimals allowed), as whole milliseconds. */
export function durationHours(options: { readonly maxHours: number }): Validator<number> {
  const what = `a number of hours from 0 to ${options.maxHours} (decimals allowed)`;
  return (raw) => {
    const text = typeof raw === 'number' ? String(raw) : raw;
    const value = typeof text === 'string' && /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isFinite(value) || value > options.maxHours) return expected(what, raw);
    return ok(Math.round(value * 3_600_000));
  };
}

const TRUE_WORDS = ['on', 'true', '1', 'yes'];
const FALSE_WORDS = ['off', 'false', '0', 'no'];

/** On or off: a JSON boolean, or one of the words on/off, true/false, 1/0, yes/no (any case). */
export const flag: Validator<boolean> = (raw) => {
  if (typeof raw === 'boolean') return ok(raw);
  const lower = typeof raw === 'string' ? raw.toLowerCase() : undefined;
  if (lower !== undefined && TRUE_WORDS.includes(lower)) return ok(true);
  if (lower !== undefined && FALSE_WORDS.includes(lower)) return ok(false);
  return expected('on or off (also true/false, 1/0, yes/no)', raw);
};

/** One of a fixed set of words (any case in, the word as listed out). */
export function oneOf<T extends string>(values: readonly T[]): Validator<T> {
  return (raw) => {
    const lower = typeof raw === 'string' ? raw.toLowerCase() : undefined;
    const found = values.find((value) => value === lower);
    return found === undefined ? expected(`one of ${values.join(', ')}`, raw) : ok(found);
  };
}

// S3's naming rules for general purpose buckets: 3-63 characters of lowercase letters,
// digits, dots and hyphens, a letter or digit at each end, no two dots in a row, not an IPv4
// address, and none of the prefixes and suffixes S3 reserves for its own bucket kinds.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const RESERVED_BUCKET_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_BUCKET_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/** An S3 bucket name, by S3's rules (S3-compatible stores such as Ceph RGW enforce the same by default). */
export const bucketName: Validator<string> = (raw) => {
  const valid =
    typeof raw === 'string' &&
    BUCKET_NAME.test(raw) &&
    !raw.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(raw) &&
    !RESERVED_BUCKET_PREFIXES.some((prefix) => raw.startsWith(prefix)) &&
    !RESERVED_BUCKET_SUFFIXES.some((suffix) => raw.endsWith(suffix));
  return valid ? ok(raw) : expected("an S3 bucket name (3-63 lowercase letters, digits, '.' and '-', a letter or digit at each end)", raw);
};

/** Longest key prefix: leaves at least half of S3's 1024-byte key for the names below it. */
export const MAX_KEY_PREFIX_BYTES = 512;
// S3's "safe characters" for keys. Wildcards (* ?) and IAM policy variables ($) are not
// among them: the CDK app writes the prefix into IAM resource ARNs and event patterns,
// where they would widen what the prefix grants.
const KEY_PREFIX_SEGMENT = /^[A-Za-z0-9!_.'()-]+$/;

/**
 * A root key prefix inside the bucket, normalised: '' or segments joined by one '/',
 * without a slash at either end ('/ftp//in/' is 'ftp/in'). Each segment holds S3's safe
 * characters (letters, digits and !-_.'()) and is not '.' or '..'.
 */
export const keyPrefix: Validator<string> = (raw) => {
  const what = `a key prefix of folders of letters, digits and !-_.'() joined by '/' (no '.' or '..' folder, at most ${MAX_KEY_PREFIX_BYTES} bytes)`;
  if (typeof raw !== 'string') return expected(what, raw);
  const segments = raw.split('/').filter((segment) => segment !== '');
  const prefix = segments.join('/');
  const valid =
    segments.every((segment) => KEY_PREFIX_SEGMENT.test(segment) && segment !== '.' && segment !== '..') &&
    Buffer.byteLength(prefix, 'utf8') <= MAX_KEY_PREFIX_BYTES;
  return valid ? ok(prefix) : expected(what, raw);
};

/** An IPv4 network in CIDR notation whose address has no host bits set (as security groups take it). */
export const ipv4Cidr: Validator<string> = (raw) => {
  const match = typeof raw === 'string' ? /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(raw) : null;
  const what = 'an IPv4 network such as 203.0.113.0/24 (no host bits set)';
  if (match === null) return expected(what, raw);
  const octets = match.slice(1, 5).map(Number);
  const bits = Number(match[5]);
  if (octets.some((octet) => octet > 255) || bits > 32) return expected(what, raw);
  const address = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  const hostMask = bits === 32 ? 0 : (0xffffffff >>> bits) >>> 0;
  return (address & hostMask) === 0 ? ok(raw as string) : expected(what, raw);
};
