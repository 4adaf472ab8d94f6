import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { constants, createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { TLS_CIPHERS } from '../tls-policy.ts';
import { WatchedDocument } from './watched-document.ts';

/**
 * The server certificate and key, re-read when the files or the secret change: new
 * connections get the new certificate, open ones keep theirs, and a broken new pair
 * is logged and ignored.
 *
 * Every control connection gets a SecureContext of its own (`newContext()`), with
 * its own session ticket keys and session cache: a PROT P data connection can then
 * resume only a TLS session issued to its own control connection, which is how the
 * bridge tells the client's data connection from another one from the same address.
 *
 * A secret that is still the deployment's empty placeholder ({"certificate": "",
 * "privateKey": ""}) means "not provisioned yet": the bridge starts without TLS
 * (AUTH answers 431) and takes the certificate as soon as the secret is filled.
 */
/** Where the certificate and key come from: two files, or one Secrets Manager secret. */
export type TlsCredentialsSource =
  | { readonly kind: 'files'; readonly certFile: string; readonly keyFile: string }
  /**
   * Secrets Manager secret whose string is JSON {"certificate": PEM, "privateKey": PEM}, and
   * for a certificate exported from ACM also "certificateChain": PEM and "passphrase" (the
   * exported key is encrypted with it; docs/certificates.md).
   */
  | { readonly kind: 'secret'; readonly secretId: string };

export class TlsCredentials {
  #pair: PemPair | undefined;
  readonly #documents: readonly WatchedDocument[];

  private constructor(pair: PemPair | undefined, documents: readonly WatchedDocument[]) {
    this.#pair = pair;
    this.#documents = documents;
  }

  /** Loads the pair once (throwing a message fit for the operator when it is unusable) and watches it. */
  static async load(options: {
    source: TlsCredentialsSource;
    intervalMs: number;
    logger: Logger;
    secretsClient?: SecretsManagerClient;
  }): Promise<TlsCredentials> {
    const { source, intervalMs, logger, secretsClient } = options;
    const documentSources =
      source.kind === 'files'
        ? [
            { kind: 'file' as const, path: source.certFile },
            { kind: 'file' as const, path: source.keyFile },
          ]
        : [{ kind: 'secret' as const, secretId: source.secretId }];
    const documents = documentSources.map(
      (documentSource) =>
        new WatchedDocument({ source: documentSource, intervalMs, logger, ...(secretsClient ? { secretsClient } : {}) }),
    );
    const texts = await Promise.all(documents.map((document) => document.read()));
    const placeholder = source.kind === 'secret' && isPlaceholder(texts[0] ?? '');
    if (placeholder) {
      logger.warn({ event: 'tls-credentials-missing' }, 'the TLS secret is still empty: TLS stays off until it is filled');
    }
    const credentials = new TlsCredentials(placeholder ? undefined : checkedPair(source, texts), documents);
    credentials.#logCertificate(logger);
    const latest = [...texts];
    documents.forEach((document, index) =>
      document.watch((text) => {
        latest[index] = text;
        try {
          credentials.#pair = checkedPair(source, latest);
          logger.info({ event: 'tls-credentials-reloaded' });
          credentials.#logCertificate(logger);
        } catch (error) {
          logger.error({ event: 'tls-credentials-invalid', err: error }, 'keeping the previous certificate');
        }
      }),
    );
    return credentials;
  }

  /**
   * A fresh context for one control connection (and its data connections), with
   * ticket keys of its own; undefined while a secret is still the empty placeholder.
   */
  newContext(): SecureContext | undefined {
    return this.#pair && secureContext(this.#pair);
  }

  /** Whole days until the served certificate expires (negative once expired); undefined without one. */
  daysLeft(now = Date.now()): number | undefined {
    return this.#pair && Math.floor((this.#pair.validTo.getTime() - now) / DAY_MS);
  }

  close(): void {
    for (const document of this.#documents) document.close();
  }

  #logCertificate(logger: Logger): void {
    const pair = this.#pair;
    if (pair === undefined) return;
    const daysLeft = this.daysLeft()!;
    const level = daysLeft < EXPIRY_WARNING_DAYS ? 'warn' : 'info';
    logger[level]({ event: 'tls-certificate', subject: pair.subject, validTo: pair.validTo.toISOString(), daysLeft }, `the TLS certificate expires in ${daysLeft} days`);
  }
}

const DAY_MS = 86_400_000;
/** Below this many days left, loading the certificate is logged as a warning. */
const EXPIRY_WARNING_DAYS = 30;

interface PemPair {
  readonly cert: string;
  /** Unencrypted, in memory only: decrypting a passphrase-protected key once, not per connection. */
  readonly key: string;
  readonly validTo: Date;
  readonly subject: string;
}

/** The pair from the documents, refused (with a message for the operator) unless it makes a context. */
function checkedPair(source: TlsCredentialsSource, texts: readonly string[]): PemPair {
  let cert: string;
  let key: string;
  let passphrase: string | undefined;
  if (source.kind === 'files') {
    [cert = '', key = ''] = texts;
  } else {
    const parsed = parseSecret(texts[0] ?? '');
    // ACM exports the chain apart from the certificate; clients need both, leaf first.
    cert = parsed.certificateChain === undefined ? parsed.certificate : `${parsed.certificate.trimEnd()}\n${parsed.certificateChain.trim()}\n`;
    key = parsed.privateKey;
    passphrase = parsed.passphrase;
  }
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (error) {
    throw new Error(`TLS certificate and key are not a usable PEM pair: the certificate is not a PEM certificate (${(error as Error).message})`, { cause: error });
  }
  if (/ENCRYPTED PRIVATE KEY|Proc-Type: 4,ENCRYPTED/.test(key)) {
    if (passphrase === undefined) throw new Error('TLS private key is encrypted: the secret needs its "passphrase"');
    try {
      key = createPrivateKey({ key, format: 'pem', passphrase }).export({ format: 'pem', type: 'pkcs8' }).toString();
    } catch (error) {
      throw new Error(`TLS private key could not be decrypted with the secret's passphrase: ${(error as Error).message}`, { cause: error });
    }
  }
  const pair: PemPair = { cert, key, validTo: new Date(leaf.validTo), subject: leaf.subject.replace(/\n/g, ', ') };
  try {
    secureContext(pair);
  } catch (error) {
    throw new Error(`TLS certificate and key are not a usable PEM pair: ${(error as Error).message}`, { cause: error });
  }
  return pair;
}

/**
 * TLS 1.2 and 1.3 with AEAD suites only (see TLS_CIPHERS), and no renegotiation: a
 * client-initiated one costs the server a full handshake each time for nothing FTP
 * needs (a DoS lever on one connection that no connection limit counts). The control
 * connection, the implicit port and every data connection take their context from here.
 */
function secureContext(pair: PemPair): SecureContext {
  return createSecureContext({
    cert: pair.cert,
    key: pair.key,
    minVersion: 'TLSv1.2',
    ciphers: TLS_CIPHERS,
    secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
    ticketKeys: randomBytes(48),
  });
}

function isPlaceholder(text: string): boolean {
  try {
    const { certificate, privateKey } = parseSecret(text);
    return certificate.trim() === '' && privateKey.trim() === '';
  } catch {
    return false;
  }
}

interface TlsSecret {
  readonly certificate: string;
  readonly privateKey: string;
  readonly certificateChain?: string;
  readonly passphrase?: string;
}

function parseSecret(text: string): TlsSecret {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('TLS secret is not JSON {"certificate": "<PEM>", "privateKey": "<PEM>"}');
  }
  const record = value as Record<string, unknown>;
  if (typeof record['certificate'] !== 'string' || typeof record['privateKey'] !== 'string') {
    throw new Error('TLS secret needs string fields "certificate" and "privateKey"');
  }
  const optionalText = (name: 'certificateChain' | 'passphrase'): { [K in typeof name]?: string } => {
    const field = record[name];
    if (field === undefined || field === null || field === '') return {};
    if (typeof field !== 'string') throw new Error(`TLS secret field "${name}" must be a string`);
    return { [name]: field };
  };
  return { certificate: record['certificate'], privateKey: record['privateKey'], ...optionalText('certificateChain'), ...optionalText('passphrase') };
}
