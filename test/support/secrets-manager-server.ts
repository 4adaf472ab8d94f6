import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * A tiny Secrets Manager on 127.0.0.1 that speaks the AWS JSON 1.1 protocol for
 * GetSecretValue, PutSecretValue and UpdateSecretVersionStage, with version stages as
 * AWS keeps them (AWSCURRENT and AWSPREVIOUS move together; a label is on one version at
 * a time; moving a label with a RemoveFromVersionId it is not on fails), and a real SDK
 * client pointed at it.
 */
export interface FakeSecretsManager {
  readonly endpoint: string;
  readonly client: SecretsManagerClient;
  /** The environment a child process's SDK needs to reach this server. */
  readonly env: Readonly<Record<string, string>>;
  /** Stores a new version of a secret, makes it AWSCURRENT and returns its VersionId. */
  putSecret(secretId: string, value: { readonly string: string } | { readonly binary: Uint8Array }): string;
  /** The AWSCURRENT value of a secret as a string, or undefined. */
  currentString(secretId: string): string | undefined;
  /** While true, every request fails with a 500 InternalServiceError. */
  failing: boolean;
  /** GetSecretValue requests seen so far. */
  readonly requests: number;
  /** UpdateSecretVersionStage calls refused because the label had moved (another writer won). */
  readonly stageConflicts: number;
  stop(): Promise<void>;
}

interface StoredVersion {
  readonly string?: string;
  readonly binary?: Uint8Array;
  readonly stages: Set<string>;
}

type Reply = (status: number, body: unknown, errorType?: string) => void;

export async function startFakeSecretsManager(): Promise<FakeSecretsManager> {
  const secrets = new Map<string, Map<string, StoredVersion>>();
  let requests = 0;
  let stageConflicts = 0;
  const state = { failing: false };

  const reply = (response: ServerResponse, status: number, body: unknown, errorType?: string): void => {
    const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() };
    if (errorType !== undefined) headers['x-amzn-errortype'] = errorType;
    response.writeHead(status, headers).end(JSON.stringify(body));
  };
  const fail = (send: Reply, status: number, type: string, message: string): void => send(status, { __type: type, message }, type);
  const notFound = (send: Reply): void => fail(send, 400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");

  /** Puts `stage` on `versionId` only; AWSCURRENT leaves AWSPREVIOUS on the version it left. */
  const moveStage = (versions: Map<string, StoredVersion>, stage: string, versionId: string): void => {
    for (const [id, version] of versions) {
      if (id !== versionId && version.stages.delete(stage) && stage === 'AWSCURRENT') {
        for (const other of versions.values()) other.stages.delete('AWSPREVIOUS');
        version.stages.add('AWSPREVIOUS');
      }
    }
    versions.get(versionId)?.stages.add(stage);
  };

  const operations: Record<string, (input: Record<string, unknown>, send: Reply) => void> = {
    GetSecretValue(input, send) {
      requests++;
      const versions = secrets.get(String(input['SecretId']));
      const wanted = input['VersionId'] as string | undefined;
      const stage = (input['VersionStage'] as string | undefined) ?? (wanted === undefined ? 'AWSCURRENT' : undefined);
      const found = versions === undefined ? undefined : [...versions].find(([id, version]) => (wanted === undefined || id === wanted) && (stage === undefined || version.stages.has(stage)));
      if (found === undefined) return notFound(send);
      const [versionId, version] = found;
      send(200, {
        ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${String(input['SecretId'])}-AbCdEf`,
        Name: input['SecretId'],
        VersionId: versionId,
        VersionStages: [...version.stages],
        CreatedDate: Date.now() / 1000,
        ...(version.string !== undefined ? { SecretString: version.string } : {}),
        ...(version.binary !== undefined ? { SecretBinary: Buffer.from(version.binary).toString('base64') } : {}),
      });
    },
    PutSecretValue(input, send) {
      const versions = secrets.get(String(input['SecretId']));
      if (versions === undefined) return notFound(send);
      const versionId = (input['ClientRequestToken'] as string | undefined) ?? randomUUID();
      if (versions.has(versionId)) return fail(send, 400, 'ResourceExistsException', 'A version with this ClientRequestToken already exists.');
      const stages = (input['VersionStages'] as string[] | undefined) ?? ['AWSCURRENT'];
      versions.set(versionId, { string: input['SecretString'] as string, stages: new Set() });
      for (const stage of stages) moveStage(versions, stage, versionId);
      send(200, { Name: input['SecretId'], VersionId: versionId, VersionStages: stages });
    },
    UpdateSecretVersionStage(input, send) {
      const versions = secrets.get(String(input['SecretId']));
      if (versions === undefined) return notFound(send);
      const stage = String(input['VersionStage']);
      const moveTo = input['MoveToVersionId'] as string | undefined;
      const removeFrom = input['RemoveFromVersionId'] as string | undefined;
      const holder = [...versions].find(([, version]) => version.stages.has(stage))?.[0];
      if (holder !== undefined && holder !== moveTo && holder !== removeFrom) {
        stageConflicts++;
        return fail(send, 400, 'InvalidParameterException', `The staging label ${stage} is attached to version ${holder}, not to ${removeFrom ?? '(none given)'}.`);
      }
      if (moveTo !== undefined && !versions.has(moveTo)) return fail(send, 400, 'ResourceNotFoundException', 'No such version.');
      if (moveTo === undefined) versions.get(removeFrom ?? '')?.stages.delete(stage);
      else moveStage(versions, stage, moveTo);
      send(200, { Name: input['SecretId'] });
    },
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const send: Reply = (status, body, errorType) => reply(response, status, body, errorType);
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('secretsmanager.') ? operations[target.slice('secretsmanager.'.length)] : undefined;
    if (request.method !== 'POST' || operation === undefined) {
      return fail(send, 400, 'UnknownOperationException', 'only GetSecretValue, PutSecretValue, UpdateSecretVersionStage');
    }
    if (state.failing) {
      if (target === 'secretsmanager.GetSecretValue') requests++;
      return fail(send, 500, 'InternalServiceError', 'injected failure');
    }
    operation(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>, send);
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
    env: { AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
    putSecret(secretId, value) {
      const versionId = randomUUID();
      const versions = secrets.get(secretId) ?? new Map<string, StoredVersion>();
      secrets.set(secretId, versions);
      versions.set(versionId, { ...('string' in value ? { string: value.string } : { binary: value.binary }), stages: new Set() });
      moveStage(versions, 'AWSCURRENT', versionId);
      return versionId;
    },
    currentString(secretId) {
      return [...(secrets.get(secretId)?.values() ?? [])].find((version) => version.stages.has('AWSCURRENT'))?.string;
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
    get stageConflicts() {
      return stageConflicts;
    },
    async stop() {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
