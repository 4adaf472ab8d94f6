import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * A tiny Secrets Manager on 127.0.0.1 that speaks the AWS JSON 1.1 protocol for
 * GetSecretValue only, with a real SDK client pointed at it.
 */
export interface FakeSecretsManager {
  readonly endpoint: string;
  readonly client: SecretsManagerClient;
  /** Stores a new version of a secret and returns its VersionId. */
  putSecret(secretId: string, value: { readonly string: string } | { readonly binary: Uint8Array }): string;
  /** While true, every request fails with a 500 InternalServiceError. */
  failing: boolean;
  /** GetSecretValue requests seen so far. */
  readonly requests: number;
  stop(): Promise<void>;
}

interface StoredSecret {
  readonly versionId: string;
  readonly string?: string;
  readonly binary?: Uint8Array;
}

export async function startFakeSecretsManager(): Promise<FakeSecretsManager> {
  const secrets = new Map<string, StoredSecret>();
  let requests = 0;
  const state = { failing: false };

  const reply = (response: ServerResponse, status: number, body: unknown, errorType?: string): void => {
    const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() };
    if (errorType !== undefined) headers['x-amzn-errortype'] = errorType;
    response.writeHead(status, headers).end(JSON.stringify(body));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.method !== 'POST' || request.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
      reply(response, 400, { __type: 'UnknownOperationException', message: 'only GetSecretValue' }, 'UnknownOperationException');
      return;
    }
    requests++;
    if (state.failing) {
      reply(response, 500, { __type: 'InternalServiceError', message: 'injected failure' }, 'InternalServiceError');
      return;
    }
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId?: string };
    const secret = input.SecretId === undefined ? undefined : secrets.get(input.SecretId);
    if (secret === undefined) {
      const message = "Secrets Manager can't find the specified secret.";
      reply(response, 400, { __type: 'ResourceNotFoundException', message }, 'ResourceNotFoundException');
      return;
    }
    reply(response, 200, {
      ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${input.SecretId}-AbCdEf`,
      Name: input.SecretId,
      VersionId: secret.versionId,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: Date.now() / 1000,
      ...(secret.string !== undefined ? { SecretString: secret.string } : {}),
      ...(secret.binary !== undefined ? { SecretBinary: Buffer.from(secret.binary).toString('base64') } : {}),
    });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      reply(response, 500, { __type: 'InternalServiceError', message: String(error) }, 'InternalServiceError');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new SecretsManagerClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });

  return {
    endpoint,
    client,
    putSecret(secretId, value) {
      const versionId = randomUUID();
      secrets.set(secretId, 'string' in value ? { versionId, string: value.string } : { versionId, binary: value.binary });
      return versionId;
    },
    get failing() {
      return state.failing;
    },
    set failing(value: boolean) {
      state.failing = value;
    },
    get requests() {
      return requests;
    },
    async stop() {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
