/**
 * The anchors, in a process of their own: @aws-sdk/lib-storage's Upload and a plain
 * GetObject stream, with the same S3 client settings as the bridge (createS3Client:
 * keep-alive, 64 sockets, checksums only when required). Reads one JSON command per
 * line on stdin, answers one JSON line on stdout with the seconds the operation took
 * (timed here, so process start and SDK loading are not counted).
 *
 *   {"op":"upload","file":"/tmp/x","key":"a/b","queueSize":4,"partSizeMib":8}
 *   {"op":"download","key":"a/b"}
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { benchS3Client } from '../servers/s3-endpoints.ts';

export type AnchorCommand =
  | { readonly op: 'upload'; readonly file: string; readonly key: string; readonly queueSize: number; readonly partSizeMib: number }
  | { readonly op: 'download'; readonly key: string };

export interface AnchorAnswer {
  readonly seconds?: number;
  readonly bytes?: number;
  readonly error?: string;
}

const [endpoint, bucket] = process.argv.slice(2);
if (endpoint === undefined || bucket === undefined) throw new Error('usage: anchor-worker.ts <endpoint> <bucket>');
const client = benchS3Client(endpoint, {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'bench',
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'bench',
});

async function execute(command: AnchorCommand): Promise<AnchorAnswer> {
  const started = process.hrtime.bigint();
  let bytes = 0;
  if (command.op === 'upload') {
    // 1 MiB reads: fewer, larger chunks for lib-storage to assemble into parts.
    const body = createReadStream(command.file, { highWaterMark: 1 << 20 });
    bytes = (await stat(command.file)).size;
    await new Upload({
      client,
      params: { Bucket: bucket, Key: command.key, Body: body },
      queueSize: command.queueSize,
      partSize: command.partSizeMib * 1024 * 1024,
    }).done();
  } else {
    const output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: command.key }));
    for await (const chunk of output.Body as Readable) bytes += (chunk as Buffer).length;
  }
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, bytes };
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue;
  const answer = await execute(JSON.parse(line) as AnchorCommand).catch((error: unknown) => ({ error: String(error) }));
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
client.destroy();
