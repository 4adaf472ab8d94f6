import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { Logger } from 'pino';
import type { UploadOutcome, UploadOutcomes } from '../protocol/upload-outcomes.ts';
import { UPLOAD_COMPLETED, UPLOAD_EVENT_SOURCE, UPLOAD_FAILED } from './upload-event-names.ts';

/**
 * Sends one EventBridge event per finished upload, as Transfer Family's "FTPS Server File
 * Upload Completed" / "...Failed" (schema in docs/audit-and-events.md), in the
 * background: `report` only queues, so the upload's reply never waits for EventBridge
 * and never fails because of it. The queue is bounded; one PutEvents request (up to 10
 * events) is in flight at a time. Events refused, failed or dropped for a full queue
 * are logged (event "upload-event-failed", counted as the UploadEventsFailed metric).
 */
export interface UploadEventPublisherOptions {
  readonly client: EventBridgeClient;
  /** Bus name or ARN (FTP_UPLOAD_EVENTS_BUS). */
  readonly eventBusName: string;
  /** Names this task in each event ("server-id"): the shard. */
  readonly serverId: string;
  readonly logger: Logger;
  /** @default 1000 */
  readonly maxQueued?: number;
}

/** PutEvents takes at most 10 entries a request. */
const BATCH = 10;

export class UploadEventPublisher implements UploadOutcomes {
  readonly #options: UploadEventPublisherOptions;
  readonly #maxQueued: number;
  readonly #queue: PutEventsRequestEntry[] = [];
  #sending: Promise<void> | undefined;

  constructor(options: UploadEventPublisherOptions) {
    this.#options = options;
    this.#maxQueued = options.maxQueued ?? 1000;
  }

  report(outcome: UploadOutcome): void {
    if (this.#queue.length >= this.#maxQueued) {
      this.#options.logger.warn({ event: 'upload-event-failed', reason: 'queue-full', events: 1, path: outcome.path, queued: this.#queue.length });
      return;
    }
    this.#queue.push(this.#entry(outcome));
    this.#sending ??= this.#drain().finally(() => (this.#sending = undefined));
  }

  /** Resolves once everything queued so far has been sent (or has failed); for shutdown. */
  async settled(): Promise<void> {
    while (this.#sending !== undefined) await this.#sending;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, BATCH);
      try {
        const output = await this.#options.client.send(new PutEventsCommand({ Entries: batch }));
        const failed = (output.Entries ?? []).filter((entry) => entry.ErrorCode !== undefined);
        if (failed.length > 0 || (output.FailedEntryCount ?? 0) > 0) {
          this.#options.logger.warn({
            event: 'upload-event-failed',
            reason: 'refused',
            events: Math.max(failed.length, output.FailedEntryCount ?? 0),
            errorCode: failed[0]?.ErrorCode,
            errorMessage: failed[0]?.ErrorMessage,
          });
        }
      } catch (error) {
        this.#options.logger.warn({
          event: 'upload-event-failed',
          reason: 'request-failed',
          events: batch.length,
          err: { type: (error as Error).name, message: (error as Error).message },
        });
      }
    }
  }

  #entry(outcome: UploadOutcome): PutEventsRequestEntry {
    const completed = outcome.status === 'completed';
    const end = new Date(outcome.startedAt.getTime() + outcome.durationMs);
    const detail = {
      'status-code': completed ? 'COMPLETED' : 'FAILED',
      username: outcome.username,
      'file-path': outcome.path,
      'file-size': outcome.bytes,
      ...(outcome.crc32 === undefined ? {} : { 'checksum-crc32': outcome.crc32 }),
      command: outcome.command,
      'client-ip': outcome.clientAddress,
      'server-id': this.#options.serverId,
      'start-timestamp': outcome.startedAt.toISOString(),
      'end-timestamp': end.toISOString(),
      ...(outcome.failure === undefined ? {} : { 'failure-message': outcome.failure }),
    };
    return {
      EventBusName: this.#options.eventBusName,
      Source: UPLOAD_EVENT_SOURCE,
      DetailType: completed ? UPLOAD_COMPLETED : UPLOAD_FAILED,
      Time: end,
      Detail: JSON.stringify(detail),
    };
  }
}
