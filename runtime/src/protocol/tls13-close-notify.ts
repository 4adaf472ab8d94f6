import {
  createDecipheriv,
  createHmac,
  type CipherChaCha20Poly1305Types,
  type CipherGCMTypes,
  type DecipherChaCha20Poly1305,
  type DecipherGCM,
} from 'node:crypto';

/**
 * A TLS 1.3 client's close_notify, read by the bridge itself from the last record the
 * client sent, for when Node's TLS layer does not report it.
 *
 * Java (SunJSSE) ends a TLS 1.3 connection with a user_canceled alert, then close_notify,
 * then FIN, all in one segment. The OpenSSL of Node 22 and 24 (3.5) reads both alerts but
 * does not answer SSL_ERROR_ZERO_RETURN for that close_notify (it keeps user_canceled as
 * the last warning alert, and a TLS 1.3 close_notify does not replace it), and Node ends
 * a TLS stream only on ZERO_RETURN: the end then looks like a bare FIN (measured; Node 20's
 * OpenSSL 3.0 reports it). The record layer is plain to parse and the server knows the
 * client's traffic secret (its keylog), so the last record is decrypted here: a
 * close_notify alert in it is the client's own word that the data ended.
 */

/** TLS 1.3 cipher suites by IANA name: the AEAD and the hash of the key schedule. */
const SUITES: Readonly<Record<string, { readonly aead: Aead; readonly keyLength: number; readonly hash: string }>> = {
  TLS_AES_128_GCM_SHA256: { aead: 'aes-128-gcm', keyLength: 16, hash: 'sha256' },
  TLS_AES_256_GCM_SHA384: { aead: 'aes-256-gcm', keyLength: 32, hash: 'sha384' },
  TLS_CHACHA20_POLY1305_SHA256: { aead: 'chacha20-poly1305', keyLength: 32, hash: 'sha256' },
};

const RECORD_HEADER = 5;
const TAG_LENGTH = 16;
const APPLICATION_DATA = 23;
const ALERT = 21;
const CLOSE_NOTIFY = 0;
/** Larger records are application data for sure (an alert is 2 bytes plus padding): not kept. */
const MAX_KEPT_RECORD = 512;
/** The client's protected handshake records before its application data: Finished (no client certificates, no 0-RTT). */
const CLIENT_HANDSHAKE_RECORDS = 1;

type Aead = CipherGCMTypes | CipherChaCha20Poly1305Types;

export interface RecordKeys {
  readonly aead: Aead;
  readonly key: Buffer;
  readonly iv: Buffer;
}

/** The record keys of a TLS 1.3 traffic secret (RFC 8446 7.3); undefined for an unknown suite. */
export function trafficKeys(suite: string, secret: Buffer): RecordKeys | undefined {
  const known = SUITES[suite];
  if (known === undefined) return undefined;
  return {
    aead: known.aead,
    key: expandLabel(known.hash, secret, 'key', known.keyLength),
    iv: expandLabel(known.hash, secret, 'iv', 12),
  };
}

/** HKDF-Expand-Label (RFC 8446 7.1) with an empty context. */
function expandLabel(hash: string, secret: Buffer, label: string, length: number): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, fullLabel.length]), fullLabel, Buffer.from([0])]);
  // HKDF-Expand (RFC 5869 2.3): the secret is already a pseudorandom key.
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let counter = 1; blocks.length * previous.length < length || blocks.length === 0; counter++) {
    previous = createHmac(hash, secret).update(previous).update(info).update(Buffer.from([counter])).digest();
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** The per-record nonce: the IV XOR the 64-bit sequence number (RFC 8446 5.3). */
export function recordNonce(iv: Buffer, sequence: number): Buffer {
  const nonce = Buffer.from(iv);
  const sequenceBytes = Buffer.alloc(8);
  sequenceBytes.writeBigUInt64BE(BigInt(sequence));
  for (let index = 0; index < 8; index++) nonce[nonce.length - 8 + index]! ^= sequenceBytes[index]!;
  return nonce;
}

/** An AEAD decipher: GCM and ChaCha20-Poly1305 take the AAD and the tag the same way. */
function aeadDecipher(keys: RecordKeys, nonce: Buffer): Pick<DecipherGCM, 'setAAD' | 'setAuthTag' | 'update' | 'final'> {
  const options = { authTagLength: TAG_LENGTH };
  const decipher: DecipherGCM | DecipherChaCha20Poly1305 =
    keys.aead === 'chacha20-poly1305'
      ? createDecipheriv(keys.aead, keys.key, nonce, options)
      : createDecipheriv(keys.aead, keys.key, nonce, options);
  return decipher as DecipherGCM;
}

/** The content type and content of a protected record, or undefined if it does not decrypt. */
function openRecord(keys: RecordKeys, sequence: number, record: Buffer): { type: number; content: Buffer } | undefined {
  if (record.length < RECORD_HEADER + TAG_LENGTH + 1) return undefined;
  const decipher = aeadDecipher(keys, recordNonce(keys.iv, sequence));
  decipher.setAAD(record.subarray(0, RECORD_HEADER));
  decipher.setAuthTag(record.subarray(record.length - TAG_LENGTH));
  let inner: Buffer;
  try {
    inner = Buffer.concat([decipher.update(record.subarray(RECORD_HEADER, record.length - TAG_LENGTH)), decipher.final()]);
  } catch {
    return undefined;
  }
  // TLSInnerPlaintext: content, the real content type, then zero padding.
  let end = inner.length - 1;
  while (end >= 0 && inner[end] === 0) end--;
  if (end < 0) return undefined;
  return { type: inner[end]!, content: inner.subarray(0, end) };
}

/**
 * Follows the record boundaries of the bytes a TLS client sends (cheaply: large records
 * are skipped, not copied) and keeps its last protected record when it is small.
 */
export class ClientRecords {
  readonly #header = Buffer.alloc(RECORD_HEADER);
  #headerFilled = 0;
  #remaining = 0;
  #kept: Buffer[] | undefined;
  #protectedRecords = 0;
  #last: { readonly record: Buffer; readonly index: number } | undefined;

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#headerFilled < RECORD_HEADER) {
        const taken = Math.min(RECORD_HEADER - this.#headerFilled, chunk.length - offset);
        chunk.copy(this.#header, this.#headerFilled, offset, offset + taken);
        this.#headerFilled += taken;
        offset += taken;
        if (this.#headerFilled < RECORD_HEADER) return;
        this.#remaining = this.#header.readUInt16BE(3);
        const keep = this.#header[0] === APPLICATION_DATA && this.#remaining <= MAX_KEPT_RECORD;
        this.#kept = keep ? [Buffer.from(this.#header)] : undefined;
      }
      const taken = Math.min(this.#remaining, chunk.length - offset);
      this.#kept?.push(Buffer.from(chunk.subarray(offset, offset + taken)));
      this.#remaining -= taken;
      offset += taken;
      if (this.#remaining === 0) this.#completeRecord();
    }
  }

  #completeRecord(): void {
    if (this.#header[0] === APPLICATION_DATA) {
      const index = this.#protectedRecords++;
      this.#last = this.#kept ? { record: Buffer.concat(this.#kept), index } : undefined;
    } else {
      this.#last = undefined;
    }
    this.#kept = undefined;
    this.#headerFilled = 0;
  }

  /** Whether the stream ended on a whole record that is a close_notify alert under `keys` (the client's application keys). */
  endsWithCloseNotify(keys: RecordKeys): boolean {
    const last = this.#last;
    if (this.#headerFilled !== 0 || last === undefined || last.index < CLIENT_HANDSHAKE_RECORDS) return false;
    const opened = openRecord(keys, last.index - CLIENT_HANDSHAKE_RECORDS, last.record);
    return opened?.type === ALERT && opened.content.length === 2 && opened.content[1] === CLOSE_NOTIFY;
  }
}
