import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP server on 127.0.0.1 that answers one operation of an AWS JSON 1.1 service (the
 * protocol of Secrets Manager and EventBridge): the fake services of the tests are built
 * on it, each with a real SDK client pointed at `endpoint` (TEST_CLIENT_SETTINGS).
 */
export interface AwsJsonAnswer {
  readonly status: number;
  readonly body: unknown;
  /** Sets x-amzn-errortype and `__type`, which the SDK turns into an exception of that name. */
  readonly errorType?: string;
}

export interface AwsJsonServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** What every test client of a fake service takes besides its endpoint. */
export const TEST_CLIENT_SETTINGS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  maxAttempts: 1,
} as const;

export function awsError(status: number, errorType: string, message: string): AwsJsonAnswer {
  return { status, body: { __type: errorType, message }, errorType };
}

/** Serves `target` (the X-Amz-Target header, such as "AWSEvents.PutEvents") with `answer`; anything else is a 400. */
export async function startAwsJsonServer(options: {
  readonly target: string;
  readonly answer: (input: unknown) => Promise<AwsJsonAnswer> | AwsJsonAnswer;
  /** The error type of an answer that threw. */
  readonly internalErrorType: string;
}): Promise<AwsJsonServer> {
  const send = (response: ServerResponse, { status, body, errorType }: AwsJsonAnswer): void => {
    const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() };
    if (errorType !== undefined) headers['x-amzn-errortype'] = errorType;
    response.writeHead(status, headers).end(JSON.stringify(body));
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.headers['x-amz-target'] !== options.target) {
        send(response, awsError(400, 'UnknownOperationException', `only ${options.target}`));
        return;
      }
      Promise.resolve()
        .then(() => options.answer(JSON.parse(Buffer.concat(chunks).toString('utf8'))))
        .then(
          (answer) => send(response, answer),
          (error: unknown) => send(response, awsError(500, options.internalErrorType, String(error))),
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
