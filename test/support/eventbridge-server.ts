import { randomUUID } from 'node:crypto';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { awsError, startAwsJsonServer, TEST_CLIENT_SETTINGS } from './aws-json-server.ts';

/**
 * A tiny EventBridge on 127.0.0.1 that speaks the AWS JSON 1.1 protocol for PutEvents
 * only, with a real SDK client pointed at it: what it received, and switches to refuse
 * entries, fail requests or answer late.
 */
export interface FakeEventBridge {
  readonly endpoint: string;
  readonly client: EventBridgeClient;
  /** Every entry accepted, in order, with Detail parsed. */
  readonly events: ReceivedEvent[];
  /** PutEvents requests seen (accepted or not). */
  readonly requests: number;
  /** While set: each request fails with 500 ('fail'), or its entries are refused one by one ('refuse'). */
  mode: 'ok' | 'fail' | 'refuse';
  /** While set, each answer waits this long. */
  delayMs: number;
  stop(): Promise<void>;
}

export interface ReceivedEvent {
  readonly source: string;
  readonly detailType: string;
  readonly eventBusName: string;
  readonly time: unknown;
  readonly detail: Record<string, unknown>;
}

interface PutEventsInput {
  Entries?: Array<{ Source?: string; DetailType?: string; EventBusName?: string; Time?: unknown; Detail?: string }>;
}

export async function startFakeEventBridge(): Promise<FakeEventBridge> {
  const events: ReceivedEvent[] = [];
  const state = { requests: 0, mode: 'ok' as FakeEventBridge['mode'], delayMs: 0 };

  const server = await startAwsJsonServer({
    target: 'AWSEvents.PutEvents',
    internalErrorType: 'InternalException',
    answer: async (body) => {
      state.requests++;
      if (state.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.delayMs));
      if (state.mode === 'fail') return awsError(500, 'InternalException', 'injected failure');
      const entries = (body as PutEventsInput).Entries ?? [];
      if (entries.length === 0 || entries.length > 10) return awsError(400, 'ValidationException', 'Entries must have 1 to 10 items');
      if (state.mode === 'refuse') {
        return {
          status: 200,
          body: { FailedEntryCount: entries.length, Entries: entries.map(() => ({ ErrorCode: 'InternalFailure', ErrorMessage: 'injected refusal' })) },
        };
      }
      for (const entry of entries) {
        events.push({
          source: entry.Source ?? '',
          detailType: entry.DetailType ?? '',
          eventBusName: entry.EventBusName ?? 'default',
          time: entry.Time,
          detail: JSON.parse(entry.Detail ?? '{}') as Record<string, unknown>,
        });
      }
      return { status: 200, body: { FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: randomUUID() })) } };
    },
  });
  const { endpoint } = server;
  const client = new EventBridgeClient({ endpoint, ...TEST_CLIENT_SETTINGS });
  return {
    endpoint,
    client,
    events,
    get requests() {
      return state.requests;
    },
    get mode() {
      return state.mode;
    },
    set mode(value) {
      state.mode = value;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(value) {
      state.delayMs = value;
    },
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}
