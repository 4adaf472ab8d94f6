/**
 * `npm start`: the bridge and an embedded S3-compatible server (fauxqs, a dev
 * dependency) on 127.0.0.1, with a demo user and a self-signed certificate made on
 * first start. Everything lives under `.local/` at the repository root. The bridge
 * runs as a child process from the same `runtime/dist/main.js` the container runs.
 *
 * This file is a development tool: the container image leaves it out.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFauxqs } from 'fauxqs';
import { generate } from 'selfsigned';
import { hashPassword } from './auth/password-hash.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LOCAL = join(ROOT, '.local');
const BUCKET = 'local-bucket';
const S3_PORT = 4566;
const FTP_PORT = 2121;
const FTPS_PORT = 2990;
const HEALTH_PORT = 2180;
const DEMO = { username: 'demo', password: 'demo', home: 'partners/demo/' };

async function main(): Promise<void> {
  await mkdir(join(LOCAL, 's3'), { recursive: true });
  const usersFile = join(LOCAL, 'users.json');
  const certFile = join(LOCAL, 'tls', 'cert.pem');
  const keyFile = join(LOCAL, 'tls', 'key.pem');
  if (!existsSync(usersFile)) {
    const passwordHash = await hashPassword(DEMO.password);
    const users = { users: [{ username: DEMO.username, passwordHash, home: DEMO.home }] };
    await writeFile(usersFile, `${JSON.stringify(users, null, 2)}\n`);
  }
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    await mkdir(join(LOCAL, 'tls'), { recursive: true });
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      curve: 'P-256',
      notAfterDate: new Date(Date.now() + 825 * 24 * 3600 * 1000),
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
    });
    await writeFile(certFile, pems.cert);
    await writeFile(keyFile, pems.private, { mode: 0o600 });
  }

  const s3 = await startFauxqs({ port: S3_PORT, host: '127.0.0.1', logger: false, s3StorageDir: join(LOCAL, 's3') });
  s3.createBucket(BUCKET);

  const bridge = spawn(process.execPath, [join(ROOT, 'runtime', 'dist', 'main.js')], {
    stdio: 'inherit',
    env: {
      PATH: process.env.PATH,
      FTP_LISTEN_ADDRESS: '127.0.0.1',
      FTP_PORT: String(FTP_PORT),
      FTPS_IMPLICIT_PORT: String(FTPS_PORT),
      FTP_PASSIVE_PORTS: '30000-30099',
      FTP_USERS_FILE: usersFile,
      FTP_TLS_CERT_FILE: certFile,
      FTP_TLS_KEY_FILE: keyFile,
      HEALTH_PORT: String(HEALTH_PORT),
      S3_BUCKET: BUCKET,
      S3_ENDPOINT: `http://127.0.0.1:${S3_PORT}`,
      S3_FORCE_PATH_STYLE: 'true',
      S3_CHECKSUM: 'when_required',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      FTP_SHUTDOWN_GRACE_SECONDS: '5',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    },
  });

  process.stderr.write(`
ftp-s3-bridge local stack
  FTP (explicit FTPS optional)  ftp://${DEMO.username}:${DEMO.password}@127.0.0.1:${FTP_PORT}/
  implicit FTPS                 ftps://127.0.0.1:${FTPS_PORT}/   (self-signed certificate: ${certFile})
  passive ports                 30000-30099
  user                          ${DEMO.username} / ${DEMO.password}   (edit ${usersFile}; hash with: node runtime/dist/main.js hash-password)
  embedded S3                   http://127.0.0.1:${S3_PORT}  bucket "${BUCKET}"
  files land in                 ${join(LOCAL, 's3', 'buckets', BUCKET, 'objects', DEMO.home)}  (one .data file per object)

  try:  curl -T README.md ftp://${DEMO.username}:${DEMO.password}@127.0.0.1:${FTP_PORT}/
        curl ftp://${DEMO.username}:${DEMO.password}@127.0.0.1:${FTP_PORT}/
        curl --ssl-reqd -k ftp://${DEMO.username}:${DEMO.password}@127.0.0.1:${FTP_PORT}/README.md
  Ctrl-C stops both.

`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    // A terminal's Ctrl-C reaches the child too; a plain kill reaches only us.
    if (bridge.exitCode === null) bridge.kill(signal);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const code = await new Promise<number | null>((resolve) => bridge.once('exit', (exitCode) => resolve(exitCode)));
  await s3.stop();
  process.exitCode = stopping ? 0 : (code ?? 1);
}

main().catch((error: unknown) => {
  process.stderr.write(`local stack: ${(error as Error).message}\n`);
  process.exit(1);
});
