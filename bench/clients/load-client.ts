/**
 * Many simultaneous transfers, in a process of their own: `count` FTP clients
 * (basic-ftp) log in, wait for each other, then all upload (synthetic bytes, a
 * different stream per object) or all download at once. Every object's size and
 * SHA-256 are computed on the bytes as they pass, and printed as one JSON line:
 * the orchestrator compares what went up with what came back down.
 *
 *   node load-client.ts '{"port":2121,"user":"u","password":"p","op":"upload","count":100,"bytes":67108864,"folder":"/load"}'
 */
import { Client } from 'basic-ftp';
import { createHash } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { syntheticStream } from '../../test/support/synthetic-data.ts';

export interface LoadRequest {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly op: 'upload' | 'download';
  readonly count: number;
  /** Bytes per object (uploads). */
  readonly bytes: number;
  /** Folder of the objects, obj-<i>.bin. */
  readonly folder: string;
}

export interface ObjectDigest {
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface LoadResult {
  /** From the moment every client was logged in to the end of the last transfer. */
  readonly seconds: number;
  readonly objects: readonly ObjectDigest[];
  readonly failures: readonly string[];
}

const request = JSON.parse(process.argv[2] ?? '{}') as LoadRequest;

async function transfer(client: Client, index: number): Promise<ObjectDigest> {
  const name = `${request.folder}/obj-${index}.bin`;
  const hash = createHash('sha256');
  let bytes = 0;
  if (request.op === 'upload') {
    const tap = new PassThrough({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    syntheticStream(request.bytes, index + 1).pipe(tap);
    await client.uploadFrom(tap, name);
  } else {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        bytes += chunk.length;
        callback();
      },
    });
    await client.downloadTo(sink, name);
  }
  return { name, bytes, sha256: hash.digest('hex') };
}

const clients = Array.from({ length: request.count }, () => new Client(0));
const failures: string[] = [];
await Promise.all(
  clients.map((client) => client.access({ host: '127.0.0.1', port: request.port, user: request.user, password: request.password })),
);
if (request.op === 'upload') await clients[0]!.ensureDir(request.folder);
const started = process.hrtime.bigint();
const results = await Promise.all(
  clients.map((client, index) =>
    transfer(client, index).catch((error: unknown) => {
      failures.push(`obj-${index}: ${String(error)}`);
      return undefined;
    }),
  ),
);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
for (const client of clients) client.close();
const result: LoadResult = { seconds, objects: results.filter((digest) => digest !== undefined), failures };
process.stdout.write(`${JSON.stringify(result)}\n`);
