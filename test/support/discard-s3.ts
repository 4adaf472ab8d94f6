/**
 * A discard S3 endpoint: just enough of S3, on 127.0.0.1, for the bridge to store
 * and retrieve files, without keeping a single body byte. Uploads (PutObject, the
 * multipart calls) are read and dropped, and only the object's size is remembered;
 * GetObject serves that many synthetic bytes. It is the fastest S3 this machine can
 * have, so the bridge in front of it shows its own ceiling.
 *
 * Besides S3 it answers two bench calls: POST /_bench/object {key, size} makes an
 * object exist (for downloads), POST /_bench/folder {prefix, count} makes a folder of
 * `count` synthetic keys that ListObjectsV2 pages through without storing them, and
 * that HeadObject answers with a client-set time (x-amz-meta-mtime), as for files
 * rclone or the bridge's MFMT wrote.
 * GET /_bench/stats tells what arrived.
 *
 * Run directly (`node test/support/discard-s3.ts`), it prints {"port": N} and serves until
 * SIGTERM.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { syntheticBlock } from './synthetic-data.ts';

export interface DiscardStats {
  readonly bytesReceived: number;
  readonly requests: Readonly<Record<string, number>>;
  /** Size of the largest single request body (a multipart part, or a PutObject). */
  readonly largestBodyBytes: number;
  readonly objects: number;
  /** TCP connections accepted: tells whether clients reuse them (keep-alive). */
  readonly connections: number;
}

export interface DiscardS3 {
  readonly port: number;
  readonly endpoint: string;
  stop(): Promise<void>;
}

interface StoredObject {
  readonly size: number;
  readonly etag: string;
  readonly modified: Date;
  /** User metadata (x-amz-meta-*). */
  readonly metadata?: Readonly<Record<string, string>>;
}

interface SyntheticFolder {
  readonly prefix: string;
  readonly count: number;
}

interface Upload {
  readonly key: string;
  readonly parts: Map<number, number>;
}

const XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>';
const NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';
const EPOCH_TEXT = new Date(0).toISOString();
const SYNTHETIC_ETAG = '"e"';
const SYNTHETIC_CLIENT_TIME = 1_700_000_000;

export async function startDiscardS3(options: { readonly port?: number } = {}): Promise<DiscardS3> {
  const objects = new Map<string, StoredObject>();
  const folders: SyntheticFolder[] = [];
  const uploads = new Map<string, Upload>();
  const requests: Record<string, number> = {};
  let bytesReceived = 0;
  let largestBodyBytes = 0;
  let nextUploadId = 1;
  let connections = 0;

  /** Reads and drops a request body; resolves with its length. */
  const drain = async (request: IncomingMessage): Promise<number> => {
    let length = 0;
    request.on('data', (chunk: Buffer) => (length += chunk.length));
    await once(request, 'end');
    bytesReceived += length;
    largestBodyBytes = Math.max(largestBodyBytes, length);
    // aws-chunked bodies carry framing; the decoded length is the object's.
    const decoded = request.headers['x-amz-decoded-content-length'];
    return typeof decoded === 'string' ? Number(decoded) : length;
  };

  const readText = async (request: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };

  const count = (operation: string): void => {
    requests[operation] = (requests[operation] ?? 0) + 1;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://discard');
    const method = request.method ?? 'GET';
    if (url.pathname.startsWith('/_bench/')) {
      await benchCall(method, url.pathname, request, response);
      return;
    }
    // Path style: /bucket/key...
    const slash = url.pathname.indexOf('/', 1);
    const bucket = decodeURIComponent(url.pathname.slice(1, slash === -1 ? undefined : slash));
    const key = slash === -1 ? '' : decodeURIComponent(url.pathname.slice(slash + 1));
    const query = url.searchParams;
    if (key === '') {
      if (method === 'GET' && query.get('list-type') === '2') {
        count('ListObjectsV2');
        sendXml(response, 200, listObjects(bucket, query));
      } else {
        count(`bucket-${method}`);
        response.writeHead(200).end();
      }
      return;
    }
    if (method === 'PUT' && request.headers['x-amz-copy-source'] !== undefined) {
      count('copy');
      request.resume();
      sendError(response, 501, 'NotImplemented', 'The discard endpoint keeps no bytes to copy');
      return;
    }
    if (method === 'PUT' && query.has('uploadId')) {
      count('UploadPart');
      const upload = uploads.get(query.get('uploadId') ?? '');
      const size = await drain(request);
      if (upload === undefined) return sendError(response, 404, 'NoSuchUpload', 'No such upload');
      const partNumber = Number(query.get('partNumber'));
      upload.parts.set(partNumber, size);
      response.writeHead(200, { ETag: `"part-${partNumber}-${size}"` }).end();
      return;
    }
    if (method === 'PUT') {
      count('PutObject');
      const size = await drain(request);
      const etag = `"put-${size}"`;
      objects.set(key, { size, etag, modified: new Date() });
      response.writeHead(200, { ETag: etag }).end();
      return;
    }
    if (method === 'POST' && query.has('uploads')) {
      count('CreateMultipartUpload');
      request.resume();
      const uploadId = `upload-${nextUploadId++}`;
      uploads.set(uploadId, { key, parts: new Map() });
      sendXml(
        response,
        200,
        `<InitiateMultipartUploadResult xmlns="${NAMESPACE}"><Bucket>${xml(bucket)}</Bucket><Key>${xml(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
      );
      return;
    }
    if (method === 'POST' && query.has('uploadId')) {
      count('CompleteMultipartUpload');
      const body = await readText(request);
      const uploadId = query.get('uploadId') ?? '';
      const upload = uploads.get(uploadId);
      if (upload === undefined) return sendError(response, 404, 'NoSuchUpload', 'No such upload');
      let size = 0;
      let parts = 0;
      for (const match of body.matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)) {
        const partSize = upload.parts.get(Number(match[1]));
        if (partSize === undefined) return sendError(response, 400, 'InvalidPart', `Part ${match[1]} was never uploaded`);
        size += partSize;
        parts += 1;
      }
      uploads.delete(uploadId);
      const etag = `"multipart-${size}-${parts}"`;
      objects.set(key, { size, etag, modified: new Date() });
      sendXml(
        response,
        200,
        `<CompleteMultipartUploadResult xmlns="${NAMESPACE}"><Bucket>${xml(bucket)}</Bucket><Key>${xml(key)}</Key><ETag>${xml(etag)}</ETag></CompleteMultipartUploadResult>`,
      );
      return;
    }
    if (method === 'DELETE') {
      request.resume();
      if (query.has('uploadId')) {
        count('AbortMultipartUpload');
        uploads.delete(query.get('uploadId') ?? '');
      } else {
        count('DeleteObject');
        objects.delete(key);
      }
      response.writeHead(204).end();
      return;
    }
    if (method === 'HEAD' || method === 'GET') {
      count(method === 'HEAD' ? 'HeadObject' : 'GetObject');
      request.resume();
      const object = objects.get(key) ?? (method === 'HEAD' ? syntheticObject(key) : undefined);
      if (object === undefined) {
        if (method === 'HEAD') response.writeHead(404).end();
        else sendError(response, 404, 'NoSuchKey', 'The specified key does not exist.');
        return;
      }
      await sendObject(request, response, method, object);
      return;
    }
    count(`other-${method}`);
    request.resume();
    sendError(response, 501, 'NotImplemented', `${method} is not implemented`);
  };

  const benchCall = async (method: string, path: string, request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (method === 'GET' && path === '/_bench/stats') {
      const stats: DiscardStats = { bytesReceived, requests: { ...requests }, largestBodyBytes, objects: objects.size, connections };
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(stats));
      return;
    }
    const body = JSON.parse((await readText(request)) || '{}') as { key?: string; size?: number; prefix?: string; count?: number };
    if (method === 'POST' && path === '/_bench/object' && typeof body.key === 'string' && typeof body.size === 'number') {
      objects.set(body.key, { size: body.size, etag: `"synthetic-${body.size}"`, modified: new Date() });
      response.writeHead(204).end();
      return;
    }
    if (method === 'POST' && path === '/_bench/folder' && typeof body.prefix === 'string' && typeof body.count === 'number') {
      folders.push({ prefix: body.prefix, count: body.count });
      response.writeHead(204).end();
      return;
    }
    response.writeHead(400).end();
  };

  const listObjects = (bucket: string, query: URLSearchParams): string => {
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') ?? '';
    const maxKeys = Math.min(1000, Number(query.get('max-keys') ?? 1000));
    const token = query.get('continuation-token') ?? undefined;
    const after = token === undefined ? (query.get('start-after') ?? '') : Buffer.from(token, 'base64url').toString('utf8');
    const urlEncoded = query.get('encoding-type') === 'url';
    const shown = (key: string): string => xml(urlEncoded ? encodeURIComponent(key).replaceAll('%2F', '/') : key);

    const entries = listEntries(prefix, delimiter, after, maxKeys + 1);
    const truncated = entries.length > maxKeys;
    const page = entries.slice(0, maxKeys);
    const parts = [`<ListBucketResult xmlns="${NAMESPACE}"><Name>${xml(bucket)}</Name><Prefix>${shown(prefix)}</Prefix>`];
    parts.push(`<KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>`);
    if (delimiter !== '') parts.push(`<Delimiter>${xml(delimiter)}</Delimiter>`);
    if (urlEncoded) parts.push('<EncodingType>url</EncodingType>');
    if (truncated) {
      const last = page[page.length - 1]?.name ?? '';
      parts.push(`<NextContinuationToken>${Buffer.from(last, 'utf8').toString('base64url')}</NextContinuationToken>`);
    }
    for (const entry of page) {
      if (entry.folder) {
        parts.push(`<CommonPrefixes><Prefix>${shown(entry.name)}</Prefix></CommonPrefixes>`);
      } else {
        parts.push(
          `<Contents><Key>${shown(entry.name)}</Key><LastModified>${entry.modified}</LastModified><ETag>${xml(SYNTHETIC_ETAG)}</ETag><Size>${entry.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
        );
      }
    }
    parts.push('</ListBucketResult>');
    return XML_HEADER + parts.join('');
  };

  /** Keys and common prefixes after `after`, in key order, at most `limit`. */
  /** A key of a synthetic folder, as HeadObject sees it. */
  const syntheticObject = (key: string): StoredObject | undefined => {
    const slash = key.lastIndexOf('/') + 1;
    const folder = folders.find((candidate) => candidate.prefix === key.slice(0, slash));
    const index = /^f(\d{7})$/.exec(key.slice(slash))?.[1];
    if (folder === undefined || index === undefined || Number(index) >= folder.count) return undefined;
    return { size: 1024, etag: SYNTHETIC_ETAG, modified: new Date(0), metadata: { mtime: String(SYNTHETIC_CLIENT_TIME + Number(index)) } };
  };

  const listEntries = (
    prefix: string,
    delimiter: string,
    after: string,
    limit: number,
  ): Array<{ name: string; folder: boolean; size: number; modified: string }> => {
    const synthetic = folders.find((folder) => folder.prefix === prefix);
    if (synthetic !== undefined) {
      // Names f0000000, f0000001...: their order is their index.
      const start = after === '' ? 0 : Number(after.slice(prefix.length + 1)) + 1;
      const end = Math.min(synthetic.count, start + limit);
      const entries = [];
      for (let index = start; index < end; index += 1) {
        entries.push({ name: `${prefix}f${String(index).padStart(7, '0')}`, folder: false, size: 1024, modified: EPOCH_TEXT });
      }
      return entries;
    }
    const seen = new Map<string, { name: string; folder: boolean; size: number; modified: string }>();
    for (const [key, object] of objects) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const cut = delimiter === '' ? -1 : rest.indexOf(delimiter);
      const name = cut === -1 ? key : prefix + rest.slice(0, cut + delimiter.length);
      if (name <= after || seen.has(name)) continue;
      seen.set(name, { name, folder: cut !== -1, size: object.size, modified: object.modified.toISOString() });
    }
    for (const folder of folders) {
      if (!folder.prefix.startsWith(prefix) || folder.prefix === prefix) continue;
      const rest = folder.prefix.slice(prefix.length);
      const cut = delimiter === '' ? -1 : rest.indexOf(delimiter);
      if (cut === -1) continue;
      const name = prefix + rest.slice(0, cut + delimiter.length);
      if (name > after) seen.set(name, { name, folder: true, size: 0, modified: EPOCH_TEXT });
    }
    return [...seen.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).slice(0, limit);
  };

  const server: Server = createServer({ keepAliveTimeout: 60_000 }, (request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendError(response, 500, 'InternalError', String(error));
      else response.destroy();
    });
  });
  server.on('connection', () => (connections += 1));
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** GetObject/HeadObject of a remembered object: its size in synthetic bytes, with Range support. */
async function sendObject(request: IncomingMessage, response: ServerResponse, method: string, object: StoredObject): Promise<void> {
  const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
  const start = range ? Number(range[1]) : 0;
  const end = range && range[2] !== '' ? Math.min(Number(range[2]), object.size - 1) : object.size - 1;
  if (range && start >= object.size) {
    sendError(response, 416, 'InvalidRange', 'The requested range is not satisfiable');
    return;
  }
  const length = Math.max(0, end - start + 1);
  const headers: Record<string, string | number> = {
    'Content-Length': length,
    'Content-Type': 'application/octet-stream',
    ETag: object.etag,
    'Last-Modified': object.modified.toUTCString(),
    'Accept-Ranges': 'bytes',
  };
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${object.size}`;
  for (const [name, value] of Object.entries(object.metadata ?? {})) headers[`x-amz-meta-${name}`] = value;
  response.writeHead(range ? 206 : 200, headers);
  if (method === 'HEAD') {
    response.end();
    return;
  }
  const block = syntheticBlock();
  let remaining = length;
  while (remaining > 0 && !response.destroyed) {
    const slice = block.subarray(0, Math.min(block.length, remaining));
    remaining -= slice.length;
    if (!response.write(slice)) await drained(response);
  }
  response.end();
}

/** Resolves when the response can take more, or is gone. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

function sendXml(response: ServerResponse, status: number, body: string): void {
  const text = body.startsWith('<?xml') ? body : XML_HEADER + body;
  response.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(text) }).end(text);
}

function sendError(response: ServerResponse, status: number, code: string, message: string): void {
  sendXml(response, status, `<Error><Code>${code}</Code><Message>${xml(message)}</Message></Error>`);
}

function xml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const discard = await startDiscardS3();
  process.stdout.write(`${JSON.stringify({ port: discard.port })}\n`);
  process.once('SIGTERM', () => void discard.stop().then(() => process.exit(0)));
}
