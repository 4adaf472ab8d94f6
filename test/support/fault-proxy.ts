import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pipeline } from 'node:stream';

/** The S3 operation a request is, as far as the tests care. */
export type S3Operation =
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'PutObject'
  | 'CopyObject'
  | 'GetObject'
  | 'ListObjects'
  | 'ListMultipartUploads'
  | 'HeadObject'
  | 'DeleteObject'
  | 'DeleteObjects'
  | 'Other';

/** What happens to UploadPart requests once the allowed number have passed. */
export type UploadPartFault =
  /** Answer 500 InternalError (the SDK retries, then gives up). */
  | 'status-500'
  /** Reset the connection carrying the request (TCP RST). */
  | 'reset'
  /** The whole endpoint goes dead: every connection, open or new, is reset until heal(). */
  | 'dead';

/**
 * A real HTTP proxy on 127.0.0.1 in front of an S3-compatible server, which can be
 * told to fail: the faults are real (status codes and TCP resets on real sockets),
 * not SDK mocks.
 */
export interface FaultProxy {
  readonly endpoint: string;
  /** Requests received, by operation (including failed ones). */
  count(operation: S3Operation): number;
  /** Body bytes that passed, by operation: `sent` to S3 in requests, `received` from it in answers. */
  bytes(operation: S3Operation): { readonly sent: number; readonly received: number };
  /** Resolves when the next request of `operation` arrives (it is then handled as usual). */
  whenSeen(operation: S3Operation): Promise<void>;
  /** Lets `allowed` more UploadPart requests through, then applies `fault` to every later one. */
  failUploadPartsAfter(allowed: number, fault: UploadPartFault): void;
  /**
   * Answers the next `count` PutObject requests 500 InternalError as soon as their
   * headers arrive, before their body has ended, and closes their connections.
   */
  failPutObjects(count: number): void;
  /** Holds UploadPart requests (unanswered) until release(). */
  holdUploadParts(): void;
  /**
   * Forwards `operation` requests (S3 acts on them) but holds their answers until
   * release(): the window in which a client may give up on a request S3 has done.
   */
  holdResponses(operation: S3Operation): void;
  /** Forwards the held UploadPart requests, delivers the held answers, and stops holding. */
  release(): void;
  /**
   * Turns HeadObject's 404 into 403, as S3 answers for a missing key when the caller's
   * s3:ListBucket grant is limited by an s3:prefix condition (which a HEAD never meets).
   */
  headNotFoundAs403(): void;
  /** Answers every HeadObject 403, as for an object the caller may not read. */
  denyHeadObject(): void;
  /**
   * Enforces If-Match on PutObject and CompleteMultipartUpload as AWS S3 does (the
   * emulator ignores it): 412 PreconditionFailed unless the object has that ETag.
   */
  enforceIfMatch(): void;
  /**
   * Runs `action` just before the next PutObject or CompleteMultipartUpload that
   * carries If-Match is handled: another writer landing inside the commit's window.
   */
  beforeNextConditionalCommit(action: () => Promise<void>): void;
  /**
   * Rewrites the key UploadPartCopy requests copy from, as `rewrite` says (its error
   * answers 500): models stores that read another source than the one named, e.g.
   * Ceph RGW 16 decoding the copy source twice (`rewrite: decodeURIComponent`).
   */
  rewriteCopySource(rewrite: (key: string) => string): void;
  /** Drops x-amz-copy-source-if-match from part copies, as Ceph RGW 16 ignores it. */
  ignoreCopySourceIfMatch(): void;
  /** Runs `action` before the next `operation` request is forwarded (another writer in the window). */
  beforeNext(operation: S3Operation, action: () => Promise<void>): void;
  /** The most `operation` requests that were in flight at once (arrived, not yet answered in full). */
  maxInFlight(operation: S3Operation): number;
  /** Restarts the count of maxInFlight. */
  resetMaxInFlight(): void;
  /** Answers every `operation` request `ms` later than S3 does (a distant S3): concurrency shows. */
  delayResponses(operation: S3Operation, ms: number): void;
  /** Request headers seen, by operation, in arrival order. */
  headersSeen(operation: S3Operation): readonly IncomingHttpHeaders[];
  /** GetObject answers send their headers and `bytes` bytes of the body, then nothing more (a stalled S3). */
  stallGetObjectBodiesAfter(bytes: number): void;
  /** Resets every open connection and every new one until heal(). */
  goDead(): void;
  /** Back to forwarding everything. */
  heal(): void;
  close(): Promise<void>;
}

function operationOf(req: IncomingMessage): S3Operation {
  const url = new URL(req.url ?? '/', 'http://proxy');
  const query = url.searchParams;
  const copy = req.headers['x-amz-copy-source'] !== undefined;
  switch (req.method) {
    case 'PUT':
      if (query.has('uploadId') && query.has('partNumber')) return copy ? 'UploadPartCopy' : 'UploadPart';
      return copy ? 'CopyObject' : 'PutObject';
    case 'POST':
      if (query.has('uploads')) return 'CreateMultipartUpload';
      if (query.has('uploadId')) return 'CompleteMultipartUpload';
      if (query.has('delete')) return 'DeleteObjects';
      return 'Other';
    case 'DELETE':
      return query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
    case 'HEAD':
      return 'HeadObject';
    case 'GET':
      if (query.has('uploads')) return 'ListMultipartUploads';
      return query.get('list-type') === '2' || url.pathname.split('/').filter(Boolean).length <= 1
        ? 'ListObjects'
        : 'GetObject';
    default:
      return 'Other';
  }
}

const INTERNAL_ERROR =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>' +
  '<Message>We encountered an internal error. Please try again.</Message></Error>';
const PRECONDITION_FAILED =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
  '<Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-Match</Condition></Error>';
const NO_SUCH_KEY =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>';

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const counts = new Map<S3Operation, number>();
  const bodyBytes = new Map<S3Operation, { sent: number; received: number }>();
  const bytesOf = (operation: S3Operation): { sent: number; received: number } => {
    let entry = bodyBytes.get(operation);
    if (entry === undefined) bodyBytes.set(operation, (entry = { sent: 0, received: 0 }));
    return entry;
  };
  const sockets = new Set<Socket>();
  let dead = false;
  let holding = false;
  let held: (() => void)[] = [];
  let holdingResponses: S3Operation | undefined;
  let denyHeads = false;
  let notFoundAs403 = false;
  let partFault: { allowed: number; fault: UploadPartFault } | undefined;
  let putFailures = 0;
  let enforcingIfMatch = false;
  let beforeConditionalCommit: (() => Promise<void>) | undefined;
  let copySourceRewrite: ((key: string) => string) | undefined;
  let droppingCopySourceIfMatch = false;
  let getObjectStallAfter: number | undefined;
  let beforeOperation: { operation: S3Operation; action: () => Promise<void> } | undefined;
  const headers = new Map<S3Operation, IncomingHttpHeaders[]>();
  const inFlight = new Map<S3Operation, number>();
  const maxInFlight = new Map<S3Operation, number>();
  let responseDelay: { operation: S3Operation; ms: number } | undefined;
  let watchers: { operation: S3Operation; resolve: () => void }[] = [];

  const killAll = (): void => {
    for (const socket of sockets) socket.resetAndDestroy();
  };

  const forward = (req: IncomingMessage, res: ServerResponse, operation: S3Operation): void => {
    const outgoing = httpRequest({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent: false,
    });
    outgoing.on('response', (incoming) => {
      const answer = (): void => {
        // The client may be gone by now (a reset, the proxy closing): drop the answer.
        if (res.destroyed || res.writableEnded) {
          incoming.destroy();
          return;
        }
        const status = operation === 'HeadObject' && notFoundAs403 && incoming.statusCode === 404 ? 403 : incoming.statusCode;
        res.writeHead(status ?? 502, incoming.headers);
        incoming.on('data', (chunk: Buffer) => (bytesOf(operation).received += chunk.length));
        const stallAfter = operation === 'GetObject' ? getObjectStallAfter : undefined;
        if (stallAfter !== undefined) {
          let sent = 0;
          incoming.on('data', (chunk: Buffer) => {
            if (sent < stallAfter) res.write(chunk.subarray(0, stallAfter - sent));
            sent += chunk.length;
            if (sent >= stallAfter) incoming.pause();
          });
          res.once('close', () => incoming.destroy());
          return;
        }
        pipeline(incoming, res, () => undefined);
      };
      if (holdingResponses === operation) held.push(answer);
      else if (responseDelay?.operation === operation) setTimeout(answer, responseDelay.ms);
      else answer();
    });
    if (res.destroyed) {
      outgoing.destroy();
      return;
    }
    req.on('data', (chunk: Buffer) => (bytesOf(operation).sent += chunk.length));
    pipeline(req, outgoing, (error) => {
      if (error) res.destroy();
    });
    outgoing.on('error', () => res.destroy());
  };

  /** What S3 does with If-Match on a write: the object's current ETag must be the one named. */
  const conditionalCommit = async (req: IncomingMessage, res: ServerResponse, operation: S3Operation): Promise<void> => {
    const action = beforeConditionalCommit;
    beforeConditionalCommit = undefined;
    if (action) await action();
    if (enforcingIfMatch) {
      const key = new URL(req.url ?? '/', 'http://proxy').pathname;
      const current = await new Promise<{ status: number; etag: string | undefined }>((resolve, reject) => {
        const head = httpRequest(
          { host: upstream.hostname, port: upstream.port, method: 'HEAD', path: key, headers: { host: req.headers.host }, agent: false },
          (response) => {
            response.resume();
            resolve({ status: response.statusCode ?? 0, etag: response.headers.etag });
          },
        );
        head.on('error', reject);
        head.end();
      });
      if (current.status !== 200 || current.etag !== req.headers['if-match']) {
        req.resume();
        const body = current.status === 404 ? NO_SUCH_KEY : PRECONDITION_FAILED;
        res.writeHead(current.status === 404 ? 404 : 412, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
    }
    forward(req, res, operation);
  };

  const server = createServer((req, res) => {
    const operation = operationOf(req);
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    headers.set(operation, [...(headers.get(operation) ?? []), req.headers]);
    const running = (inFlight.get(operation) ?? 0) + 1;
    inFlight.set(operation, running);
    maxInFlight.set(operation, Math.max(running, maxInFlight.get(operation) ?? 0));
    res.once('close', () => inFlight.set(operation, (inFlight.get(operation) ?? 1) - 1));
    for (const watcher of watchers.filter((w) => w.operation === operation)) watcher.resolve();
    watchers = watchers.filter((w) => w.operation !== operation);
    if (dead) {
      req.socket.resetAndDestroy();
      return;
    }
    if (operation === 'HeadObject' && denyHeads) {
      req.resume();
      res.writeHead(403, { 'content-length': '0' });
      res.end();
      return;
    }
    if (operation === 'UploadPart' && partFault !== undefined) {
      if (partFault.allowed > 0) {
        partFault.allowed -= 1;
      } else if (partFault.fault === 'status-500') {
        req.resume();
        req.once('end', () => {
          res.writeHead(500, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(INTERNAL_ERROR) });
          res.end(INTERNAL_ERROR);
        });
        return;
      } else {
        if (partFault.fault === 'dead') {
          dead = true;
          killAll();
        }
        req.socket.resetAndDestroy();
        return;
      }
    }
    if (operation === 'PutObject' && putFailures > 0) {
      putFailures -= 1;
      req.resume();
      res.writeHead(500, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(INTERNAL_ERROR), connection: 'close' });
      res.end(INTERNAL_ERROR);
      return;
    }
    if (operation === 'UploadPart' && holding) {
      held.push(() => forward(req, res, operation));
      return;
    }
    if (operation === 'UploadPartCopy' && (copySourceRewrite !== undefined || droppingCopySourceIfMatch)) {
      if (droppingCopySourceIfMatch) delete req.headers['x-amz-copy-source-if-match'];
      if (copySourceRewrite !== undefined) {
        try {
          req.headers['x-amz-copy-source'] = rewrittenCopySource(String(req.headers['x-amz-copy-source']), copySourceRewrite);
        } catch {
          req.resume();
          res.writeHead(500, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(INTERNAL_ERROR) });
          res.end(INTERNAL_ERROR);
          return;
        }
      }
    }
    if (beforeOperation?.operation === operation) {
      const { action } = beforeOperation;
      beforeOperation = undefined;
      req.pause();
      action().then(
        () => forward(req, res, operation),
        () => res.destroy(),
      );
      return;
    }
    const commit = operation === 'PutObject' || operation === 'CompleteMultipartUpload';
    if (commit && req.headers['if-match'] !== undefined && (enforcingIfMatch || beforeConditionalCommit)) {
      conditionalCommit(req, res, operation).catch(() => res.destroy());
      return;
    }
    forward(req, res, operation);
  });
  // While dead, connections are still accepted so each request is counted, then reset.
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    count: (operation) => counts.get(operation) ?? 0,
    bytes: (operation) => ({ ...bytesOf(operation) }),
    whenSeen: (operation) => new Promise<void>((resolve) => watchers.push({ operation, resolve })),
    failPutObjects(count) {
      putFailures = count;
    },
    failUploadPartsAfter(allowed, fault) {
      partFault = { allowed, fault };
    },
    holdUploadParts() {
      holding = true;
    },
    holdResponses(operation) {
      holdingResponses = operation;
    },
    release() {
      holding = false;
      holdingResponses = undefined;
      const waiting = held;
      held = [];
      for (const go of waiting) go();
    },
    headNotFoundAs403() {
      notFoundAs403 = true;
    },
    denyHeadObject() {
      denyHeads = true;
    },
    enforceIfMatch() {
      enforcingIfMatch = true;
    },
    beforeNextConditionalCommit(action) {
      beforeConditionalCommit = action;
    },
    rewriteCopySource(rewrite) {
      copySourceRewrite = rewrite;
    },
    ignoreCopySourceIfMatch() {
      droppingCopySourceIfMatch = true;
    },
    stallGetObjectBodiesAfter(bytes) {
      getObjectStallAfter = bytes;
    },
    beforeNext(operation, action) {
      beforeOperation = { operation, action };
    },
    maxInFlight: (operation) => maxInFlight.get(operation) ?? 0,
    resetMaxInFlight() {
      maxInFlight.clear();
    },
    delayResponses(operation, ms) {
      responseDelay = { operation, ms };
    },
    headersSeen: (operation) => headers.get(operation) ?? [],
    goDead() {
      dead = true;
      killAll();
    },
    heal() {
      dead = false;
      denyHeads = false;
      notFoundAs403 = false;
      partFault = undefined;
      enforcingIfMatch = false;
      beforeConditionalCommit = undefined;
      copySourceRewrite = undefined;
      droppingCopySourceIfMatch = false;
      beforeOperation = undefined;
      responseDelay = undefined;
    },
    async close() {
      holding = false;
      holdingResponses = undefined;
      held = [];
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      killAll();
      server.closeAllConnections();
      await closed;
    },
  };
}

/** "bucket/a/b%25c" with the key ("a/b%c") rewritten, encoded again the way the SDK's callers do. */
function rewrittenCopySource(header: string, rewrite: (key: string) => string): string {
  const slash = header.indexOf('/', header.startsWith('/') ? 1 : 0);
  const bucket = header.slice(0, slash);
  const key = decodeURIComponent(header.slice(slash + 1));
  return `${bucket}/${rewrite(key).split('/').map(encodeURIComponent).join('/')}`;
}
