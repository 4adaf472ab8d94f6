/**
 * The minimal relay anchor: the least an HTTP front of S3 written in Node can do, in
 * one file and a process of its own. GET /<key> pipes a GetObject stream into the
 * response; PUT /<key> relays the request body into S3 with @aws-sdk/lib-storage's
 * Upload (queueSize and partSizeMib from the query, the anchors' best). curl drives it
 * as it drives the bridge, so the two differ by what the bridge does beyond the hop:
 * FTP, its own uploader, budgets, checksums.
 *
 *   node relay-server.ts <endpoint> <bucket>   (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)
 *
 * Prints {"port": N} and serves on 127.0.0.1 until SIGTERM.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { benchS3Client } from '../servers/s3-endpoints.ts';

const [endpoint, bucket] = process.argv.slice(2);
if (endpoint === undefined || bucket === undefined) throw new Error('usage: relay-server.ts <endpoint> <bucket>');
const client = benchS3Client(endpoint, {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'bench',
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'bench',
});

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://relay');
  const key = decodeURIComponent(url.pathname.slice(1));
  const relay = async (): Promise<void> => {
    if (request.method === 'GET') {
      const output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      response.writeHead(200, { 'content-length': String(output.ContentLength ?? 0) });
      await pipeline(output.Body as Readable, response);
    } else if (request.method === 'PUT') {
      await new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: request },
        queueSize: Number(url.searchParams.get('queueSize') ?? 4),
        partSize: Number(url.searchParams.get('partSizeMib') ?? 8) * 1024 * 1024,
      }).done();
      response.writeHead(200).end();
    } else {
      response.writeHead(405).end();
    }
  };
  relay().catch((error: unknown) => {
    process.stderr.write(`relay: ${request.method} ${key}: ${String(error)}\n`);
    if (!response.headersSent) response.writeHead(502);
    response.destroy();
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`));
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  client.destroy();
});
