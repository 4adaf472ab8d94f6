import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashes in the PHC string format used by passlib and others:
 * `$scrypt$ln=15,r=8,p=1$<salt>$<key>` (salt and key in unpadded base64). The
 * parameters travel with the hash, so they can be raised later without breaking
 * existing users.
 */
const DEFAULT_PARAMETERS: ScryptParameters = { logN: 15, r: 8, p: 1 };
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Refuse hashes that would make one login use more memory than this. */
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;

export interface ScryptParameters {
  /** log2 of the CPU/memory cost N. */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

interface ParsedHash {
  readonly parameters: ScryptParameters;
  readonly salt: Buffer;
  readonly key: Buffer;
}

/** Salt and key lengths are fixed (16 and 32 bytes), so a truncated copy is refused up front. */
const HASH_PATTERN = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/;

/** Hashes a password with a fresh random salt. */
export async function hashPassword(
  password: string,
  options: { readonly parameters?: ScryptParameters } = {},
): Promise<string> {
  const parameters = options.parameters ?? DEFAULT_PARAMETERS;
  if (!parametersAcceptable(parameters)) throw new RangeError('scrypt parameters out of range');
  const salt = randomBytes(SALT_BYTES);
  const key = await deriveKey({ password, salt, parameters, keyLength: KEY_BYTES });
  const { logN, r, p } = parameters;
  return `$scrypt$ln=${logN},r=${r},p=${p}$${unpaddedBase64(salt)}$${unpaddedBase64(key)}`;
}

/** True if `encoded` is a hash this module can verify (checked when a users file is read). */
export function isPasswordHash(encoded: string): boolean {
  return parseHash(encoded) !== undefined;
}

/**
 * Checks a password against a hash in constant time (for a given hash). A malformed
 * hash verifies false.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parseHash(encoded);
  if (parsed === undefined) return false;
  const key = await deriveKey({ password, salt: parsed.salt, parameters: parsed.parameters, keyLength: parsed.key.length });
  return timingSafeEqual(key, parsed.key);
}

function parseHash(encoded: string): ParsedHash | undefined {
  const match = HASH_PATTERN.exec(encoded);
  if (match === null) return undefined;
  const [, logN, r, p, salt, key] = match;
  const parameters = { logN: Number(logN), r: Number(r), p: Number(p) };
  if (!parametersAcceptable(parameters) || salt === undefined || key === undefined) return undefined;
  const saltBytes = Buffer.from(salt, 'base64');
  const keyBytes = Buffer.from(key, 'base64');
  // Re-encoding must give back the text, or the base64 had stray bits or wrong length.
  if (unpaddedBase64(saltBytes) !== salt || unpaddedBase64(keyBytes) !== key) return undefined;
  return { parameters, salt: saltBytes, key: keyBytes };
}

function parametersAcceptable(parameters: ScryptParameters): boolean {
  const { logN, r, p } = parameters;
  if (!Number.isInteger(logN) || !Number.isInteger(r) || !Number.isInteger(p)) return false;
  if (logN < 10 || logN > 22 || r < 1 || r > 64 || p < 1 || p > 16) return false;
  return memoryNeeded(parameters) <= MAX_MEMORY_BYTES;
}

function memoryNeeded(parameters: ScryptParameters): number {
  return 128 * 2 ** parameters.logN * parameters.r * (parameters.p + 1);
}

function deriveKey(options: {
  readonly password: string;
  readonly salt: Buffer;
  readonly parameters: ScryptParameters;
  readonly keyLength: number;
}): Promise<Buffer> {
  const { logN, r, p } = options.parameters;
  // Node's default maxmem (32 MiB) is exactly what N=2^15, r=8 needs, which it refuses.
  const scryptOptions: ScryptOptions = { N: 2 ** logN, r, p, maxmem: memoryNeeded(options.parameters) + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(options.password.normalize('NFC'), options.salt, options.keyLength, scryptOptions, (error, key) => {
      if (error === null) resolve(key);
      else reject(error);
    });
  });
}

function unpaddedBase64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}
