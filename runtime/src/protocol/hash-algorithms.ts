import type { ChecksumAlgorithm, StoreCapabilities } from '../storage/object-store.ts';
import type { FtpSession } from './command-handler.ts';
import { ReplyError } from './reply.ts';

/**
 * The session's HASH algorithm (draft-bryan-ftpext-hash): its names, its default, the
 * FEAT line and OPTS HASH. Shared by the checksum commands, OPTS (session-commands.ts)
 * and the session's initial state, so no handler module imports another.
 */

/** IANA "Hash Function Textual Names" as HASH and FEAT spell them. */
const HASH_NAMES: ReadonlyArray<readonly [name: string, algorithm: ChecksumAlgorithm]> = [
  ['SHA-256', 'sha256'],
  ['SHA-1', 'sha1'],
  ['MD5', 'md5'],
  ['CRC32', 'crc32'],
];

/** The draft wants nothing weaker than SHA-1 by default. */
export const DEFAULT_HASH: ChecksumAlgorithm = 'sha256';

/** A session's HASH algorithm until OPTS HASH: SHA-256 where the store answers it, else the first it does. */
export function defaultHash(capabilities: StoreCapabilities): ChecksumAlgorithm {
  if (capabilities.checksums.includes(DEFAULT_HASH)) return DEFAULT_HASH;
  return HASH_NAMES.find(([, algorithm]) => capabilities.checksums.includes(algorithm))?.[1] ?? DEFAULT_HASH;
}

/** "HASH SHA-256*;SHA-1;MD5;CRC32;": every algorithm the store answers, '*' on the session's. */
export function hashFeatureLine(selected: ChecksumAlgorithm, capabilities: StoreCapabilities): string {
  const offered = HASH_NAMES.filter(([, algorithm]) => capabilities.checksums.includes(algorithm));
  return `HASH ${offered.map(([name, algorithm]) => `${name}${algorithm === selected ? '*' : ''};`).join('')}`;
}

/** OPTS HASH [<name>]: the session's algorithm, or a new one. */
export function optsHash(session: FtpSession, value: string): void {
  if (value === '') return session.reply(200, hashName(session.state.hashAlgorithm));
  const { checksums } = session.services.store.capabilities;
  const chosen = HASH_NAMES.find(([name, algorithm]) => name === value.toUpperCase() && checksums.includes(algorithm));
  if (!chosen) throw new ReplyError(501, 'Unknown algorithm, current selection not changed.');
  session.state.hashAlgorithm = chosen[1];
  session.reply(200, chosen[0]);
}

export function hashName(algorithm: ChecksumAlgorithm): string {
  return HASH_NAMES.find(([, value]) => value === algorithm)?.[0] ?? algorithm;
}
