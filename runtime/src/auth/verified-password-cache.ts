import { createHmac, randomBytes } from 'node:crypto';

/**
 * Remembers, for a short time, that a password matched a hash, so a partner's
 * script that opens many sessions at once pays for scrypt once instead of once per
 * session (SFTPGo caches verified passwords too).
 *
 * It holds no password: an entry is an HMAC, under a key made at start and never
 * stored, of username, hash and password together. Only successes are kept, so a
 * guess is never answered from here; it costs a full scrypt and counts towards the
 * lockout as before. A changed hash (a new password) or a removed user never finds
 * an old entry, since the hash is part of the entry and the user is looked up first.
 */
export class VerifiedPasswordCache {
  readonly #key = randomBytes(32);
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** Entry → expiry; insertion order is age order. */
  readonly #entries = new Map<string, number>();

  constructor(options: { readonly ttlMs: number; readonly maxEntries: number; readonly now?: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  has(username: string, passwordHash: string, password: string): boolean {
    const entry = this.#entry(username, passwordHash, password);
    const expires = this.#entries.get(entry);
    if (expires === undefined) return false;
    if (expires > this.#now()) return true;
    this.#entries.delete(entry);
    return false;
  }

  remember(username: string, passwordHash: string, password: string): void {
    const entry = this.#entry(username, passwordHash, password);
    this.#entries.delete(entry);
    if (this.#entries.size >= this.#maxEntries) {
      const [oldest] = this.#entries.keys();
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(entry, this.#now() + this.#ttlMs);
  }

  get size(): number {
    return this.#entries.size;
  }

  #entry(username: string, passwordHash: string, password: string): string {
    return credentialFingerprint({ key: this.#key, username, passwordHash, password });
  }
}

/**
 * An HMAC of username, hash and password together under `key`: the same login
 * attempt gives the same fingerprint, and the fingerprint gives away no password.
 */
export function credentialFingerprint(options: {
  readonly key: Buffer;
  readonly username: string;
  readonly passwordHash: string;
  readonly password: string;
}): string {
  const hmac = createHmac('sha256', options.key);
  // Lengths first, so no two different triples can be written the same way.
  for (const part of [options.username, options.passwordHash, options.password.normalize('NFC')]) {
    hmac.update(`${Buffer.byteLength(part)}:`).update(part);
  }
  return hmac.digest('base64');
}
