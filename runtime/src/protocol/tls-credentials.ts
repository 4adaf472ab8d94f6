import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { TlsCredentialsSource } from '../config.ts';
import { WatchedDocument } from '../watched-document.ts';

/**
 * The server certificate and key, as one SecureContext that is rebuilt when the
 * files or the secret change: new connections get the new certificate, open ones
 * keep theirs, and a broken new pair is logged and ignored.
 *
 * A secret that is still the deployment's empty placeholder ({"certificate": "",
 * "privateKey": ""}) means "not provisioned yet": the bridge starts without TLS
 * (AUTH answers 431) and takes the certificate as soon as the secret is filled.
 */
export class TlsCredentials {
  #context: SecureContext | undefined;
  readonly #documents: readonly WatchedDocument[];

  private constructor(context: SecureContext | undefined, documents: readonly WatchedDocument[]) {
    this.#context = context;
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
    const credentials = new TlsCredentials(placeholder ? undefined : buildContext(source, texts), documents);
    const latest = [...texts];
    documents.forEach((document, index) =>
      document.watch((text) => {
        latest[index] = text;
        try {
          credentials.#context = buildContext(source, latest);
          logger.info({ event: 'tls-credentials-reloaded' });
        } catch (error) {
          logger.error({ event: 'tls-credentials-invalid', err: error }, 'keeping the previous certificate');
        }
      }),
    );
    return credentials;
  }

  /** undefined while a secret is still the empty placeholder. */
  get context(): SecureContext | undefined {
    return this.#context;
  }

  close(): void {
    for (const document of this.#documents) document.close();
  }
}

function buildContext(source: TlsCredentialsSource, texts: readonly string[]): SecureContext {
  let cert: string;
  let key: string;
  if (source.kind === 'files') {
    [cert = '', key = ''] = texts;
  } else {
    const parsed = parseSecret(texts[0] ?? '');
    cert = parsed.certificate;
    key = parsed.privateKey;
  }
  try {
    return createSecureContext({ cert, key, minVersion: 'TLSv1.2' });
  } catch (error) {
    throw new Error(`TLS certificate and key are not a usable PEM pair: ${(error as Error).message}`, { cause: error });
  }
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
