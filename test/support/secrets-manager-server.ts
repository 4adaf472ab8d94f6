import { randomUUID } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsError, startAwsJsonServer, TEST_CLIENT_SETTINGS } from './aws-json-server.ts';

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

  const server = await startAwsJsonServer({
    target: 'secretsmanager.GetSecretValue',
    internalErrorType: 'InternalServiceError',
    answer: (body) => {
      requests++;
      if (state.failing) return awsError(500, 'InternalServiceError', 'injected failure');
      const input = body as { SecretId?: string };
      const secret = input.SecretId === undefined ? undefined : secrets.get(input.SecretId);
      if (secret === undefined) return awsError(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      return {
        status: 200,
        body: {
          ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${input.SecretId}-AbCdEf`,
          Name: input.SecretId,
          VersionId: secret.versionId,
          VersionStages: ['AWSCURRENT'],
          CreatedDate: Date.now() / 1000,
          ...(secret.string !== undefined ? { SecretString: secret.string } : {}),
          ...(secret.binary !== undefined ? { SecretBinary: Buffer.from(secret.binary).toString('base64') } : {}),
        },
      };
    },
  });
  const { endpoint } = server;
  const client = new SecretsManagerClient({ endpoint, ...TEST_CLIENT_SETTINGS });

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
      await server.stop();
    },
  };
}
