import { join } from 'node:path';
import { configVariables } from '../config.ts';

/** Where the local stack keeps its files and serves S3 (LOCAL_STACK_DIR, LOCAL_STACK_S3_PORT). */
export interface LocalStackPlace {
  readonly dir: string;
  readonly s3Port: number;
  /** The embedded dynalite's port, once it listens (any free port). */
  readonly dynamoPort?: number;
}

export const LOCAL_BUCKET = 'local-bucket';
/** The shared-state table the bridge creates in the embedded dynalite. */
export const LOCAL_STATE_TABLE = 'local-state';

/** The bridge's environment under `npm start`, and what of the caller's it set aside. */
export interface BridgeEnvironment {
  readonly env: Readonly<Record<string, string>>;
  /** Variables the caller set that the local stack sets itself (their values are not used). */
  readonly overridden: readonly string[];
}

/**
 * The variables the local stack sets whatever the environment says: everything listens
 * on loopback, and S3 is the embedded server (no Secrets Manager either).
 */
export function fixedVariables(place: LocalStackPlace): Readonly<Record<string, string | undefined>> {
  return {
    FTP_LISTEN_ADDRESS: '127.0.0.1',
    S3_BUCKET: LOCAL_BUCKET,
    S3_ENDPOINT: `http://127.0.0.1:${place.s3Port}`,
    S3_FORCE_PATH_STYLE: 'true',
    S3_CHECKSUM: 'when_required',
    // fauxqs answers neither ListMultipartUploads nor ListParts: the bridge records pending uploads here.
    FTP_PENDING_UPLOADS_FILE: join(place.dir, 'pending-uploads.json'),
    FTP_USERS_SECRET_ID: undefined,
    FTP_USERS_TABLE: undefined,
    FTP_TLS_SECRET_ID: undefined,
    // The shared state in the embedded dynalite: the same DynamoDB code as on AWS.
    ...(place.dynamoPort === undefined
      ? {}
      : { FTP_STATE_TABLE: LOCAL_STATE_TABLE, DYNAMODB_ENDPOINT: `http://127.0.0.1:${place.dynamoPort}` }),
  };
}

/** The local stack's own defaults; the environment may set any of them. */
export function localDefaults(place: LocalStackPlace): Readonly<Record<string, string>> {
  return {
    FTP_PORT: '2121',
    FTPS_IMPLICIT_PORT: '2990',
    FTP_PASSIVE_PORTS: '30000-30099',
    HEALTH_PORT: '2180',
    FTP_USERS_FILE: join(place.dir, 'users.json'),
    FTP_TLS_CERT_FILE: join(place.dir, 'tls', 'cert.pem'),
    FTP_TLS_KEY_FILE: join(place.dir, 'tls', 'key.pem'),
    FTP_SHUTDOWN_GRACE_SECONDS: '5',
    AWS_REGION: 'us-east-1',
  };
}

/**
 * Every documented configuration variable in the caller's environment reaches the
 * bridge, over the local defaults, except the fixed ones. Nothing else of the
 * caller's environment does (its AWS credentials least of all).
 */
export function bridgeEnvironment(callerEnv: NodeJS.ProcessEnv, place: LocalStackPlace): BridgeEnvironment {
  const fixed = fixedVariables(place);
  const env: Record<string, string> = { PATH: callerEnv['PATH'] ?? '', ...localDefaults(place) };
  const overridden: string[] = [];
  for (const { name } of configVariables()) {
    const value = callerEnv[name];
    if (value === undefined) continue;
    if (name in fixed) overridden.push(name);
    else env[name] = value;
  }
  for (const [name, value] of Object.entries(fixed)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  // fauxqs and dynalite check no signatures; these only keep the SDK from looking for real ones.
  env['AWS_ACCESS_KEY_ID'] = 'local';
  env['AWS_SECRET_ACCESS_KEY'] = 'local';
  return { env, overridden };
}

/** A bad LOCAL_STACK_* value. */
export class LocalStackSettingError extends Error {}

export function localStackPlace(callerEnv: NodeJS.ProcessEnv, defaultDir: string): LocalStackPlace {
  const portText = callerEnv['LOCAL_STACK_S3_PORT'] ?? '4566';
  const s3Port = Number(portText);
  if (!/^\d+$/.test(portText) || s3Port > 65535) {
    throw new LocalStackSettingError(`LOCAL_STACK_S3_PORT: ${JSON.stringify(portText)} is not a port number (0-65535; 0 = any free port)`);
  }
  const dir = callerEnv['LOCAL_STACK_DIR'] || defaultDir;
  return { dir, s3Port };
}
