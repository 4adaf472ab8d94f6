import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { constants, randomBytes } from 'node:crypto';
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
  /** Secrets Manager secret whose string is JSON {"certificate": PEM, "privateKey": PEM}. */
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
    const latest = [...texts];
    documents.forEach((document, index) =>
      document.watch((text) => {
        latest[index] = text;
        try {
          credentials.#pair = checkedPair(source, latest);
          logger.info({ event: 'tls-credentials-reloaded' });
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

  close(): void {
    for (const document of this.#documents) document.close();
  }
}

interface PemPair {
  readonly cert: string;
  readonly key: string;
}

/** The pair from the documents, refused (with a message for the operator) unless it makes a context. */
function checkedPair(source: TlsCredentialsSource, texts: readonly string[]): PemPair {
  let pair: PemPair;
  if (source.kind === 'files') {
    const [cert = '', key = ''] = texts;
    pair = { cert, key };
  } else {
    const parsed = parseSecret(texts[0] ?? '');
    pair = { cert: parsed.certificate, key: parsed.privateKey };
  }
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
    ...pair,
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

function parseSecret(text: string): { certificate: string; privateKey: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('TLS secret is not JSON {"certificate": "<PEM>", "privateKey": "<PEM>"}');
  }
  const record = value as { certificate?: unknown; privateKey?: unknown };
  if (typeof record.certificate !== 'string' || typeof record.privateKey !== 'string') {
    throw new Error('TLS secret needs string fields "certificate" and "privateKey"');
  }
  return { certificate: record.certificate, privateKey: record.privateKey };
}
