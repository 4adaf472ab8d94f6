import { StorageError } from './storage-error.ts';

/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

// C0 controls, DEL and C1 controls; a name holding one could forge lines in listings.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
// In a /u regex a well-formed surrogate pair is one code point, so this only
// matches lone surrogates, which have no UTF-8 form.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Normalises a root path inside the store (S3_PREFIX, a user's home): '' or 'a/b',
 * no leading, trailing or doubled slashes. Refuses '.', '..', backslashes and control
 * characters, so a root can never point outside what it says. Throws an Error whose
 * message is the problem (without the value).
 */
export function normaliseRootPath(raw: string): string {
  if (/[\u0000-\u001f\u007f]/.test(raw)) throw new Error('contains control characters (such as NUL)');
  if (raw.includes('\\')) throw new Error("contains a backslash; use '/' between folders");
  const segments = raw.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    throw new Error("contains a '.' or '..' segment");
  }
  const path = segments.join('/');
  if (Buffer.byteLength(path, 'utf8') > 512) throw new Error('is longer than 512 bytes');
  return path;
}

/** Why `segment` cannot be one segment of a store path, or undefined if it can. */
function segmentProblem(segment: string): string | undefined {
  if (segment === '') return 'empty segment';
  if (segment === '.' || segment === '..') return 'dot segment';
  if (CONTROL_CHARACTER.test(segment)) return 'control character';
  if (LONE_SURROGATE.test(segment)) return 'invalid Unicode';
  return undefined;
}

/** True when `name` could be the last segment of a store path (used to filter listings). */
export function isValidEntryName(name: string): boolean {
  return !name.includes('/') && segmentProblem(name) === undefined;
}

/**
 * Maps store paths ('' for the root, 'a/b' below it) to keys below a root prefix,
 * re-validating every path instead of trusting the caller.
 */
export class KeyMapper {
  readonly prefix: string;

  /** `prefix`: '' or 'a/b' (no leading or trailing slash). */
  constructor(prefix: string) {
    if (prefix !== '') {
      const problem = prefix.split('/').map(segmentProblem).find((p) => p !== undefined);
      if (problem !== undefined) {
        throw new TypeError(`S3 prefix must be '' or segments joined by '/' (${problem})`);
      }
    }
    this.prefix = prefix;
  }

  /**
   * The object key of a store path; '' (the root) maps to the root prefix itself.
   * `suffix` ('/' for folder markers) counts against the key length limit.
   */
  key(path: string, suffix = ''): string {
    if (path !== '') {
      for (const segment of path.split('/')) {
        if (segmentProblem(segment) !== undefined) throw invalidName();
      }
    }
    const key = this.prefix === '' ? path : path === '' ? this.prefix : `${this.prefix}/${path}`;
    checkKeyLength(key + suffix);
    return key;
  }

  /** The key prefix that every object inside folder `path` starts with ('' for an unprefixed root). */
  folderPrefix(path: string): string {
    const key = this.key(path, '/');
    return key === '' ? '' : `${key}/`;
  }
}

/** Throws 'invalid-offset' unless `offset` is a byte offset (a non-negative safe integer). */
export function checkOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new StorageError('invalid-offset', 'Invalid offset');
}

/** The last segment of a store path ('' for the root). */
export function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

const METADATA_NAME = /^[a-z0-9][a-z0-9._-]*$/;

/** Throws 'invalid-name' unless every key of `metadata` is lower-case ASCII, as WriteOptions.metadata promises. */
export function checkMetadataNames(metadata: Readonly<Record<string, string>> | undefined): void {
  for (const name of Object.keys(metadata ?? {})) {
    if (!METADATA_NAME.test(name)) throw new StorageError('invalid-name', 'Invalid metadata name');
  }
}

/** Throws 'invalid-name' if `key` exceeds S3's key length limit. */
export function checkKeyLength(key: string): void {
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw invalidName();
}

function invalidName(): StorageError {
  return new StorageError('invalid-name', 'Invalid file name');
}
