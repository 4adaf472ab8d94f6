import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { UPLOAD_COMPLETED, UPLOAD_EVENT_SOURCE, UPLOAD_FAILED } from '../runtime/src/events/upload-event-names.ts';

export interface ObjectCreatedQueueProps {
  readonly bucket: s3.IBucket;
  /**
   * Only objects under this key prefix (normalised, without trailing slash).
   * @default '' (the whole bucket)
   */
  readonly keyPrefix?: string;
  /**
   * Receives before a message moves to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
}

/**
 * An EventBridge rule forwarding the bucket's "Object Created" events to an SQS queue for
 * downstream jobs. The dead-letter queue takes messages consumers failed `maxReceiveCount`
 * times and events EventBridge could not deliver.
 */
export class ObjectCreatedQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly rule: events.Rule;
  /** The runtime's "FTPS Server File Upload Completed/Failed" events into the same queue. */
  readonly uploadEventsRule: events.Rule;

  constructor(scope: Construct, id: string, props: ObjectCreatedQueueProps) {
    super(scope, id);
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
      throw new Error(`ObjectCreatedQueue: maxReceiveCount must be 1-1000, got ${maxReceiveCount}`);
    }
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      visibilityTimeout: Duration.minutes(5),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });
    const prefix = props.keyPrefix ?? '';
    this.rule = new events.Rule(this, 'Rule', {
      description: 'FTP bridge: objects created in the bucket, for downstream jobs',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [props.bucket.bucketName] },
          ...(prefix === '' ? {} : { object: { key: [{ prefix: `${prefix}/` }] } }),
        },
      },
      targets: [new targets.SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 185, maxEventAge: Duration.hours(24) })],
    });
    // On the default bus, where the tasks send them (docs/audit-and-events.md).
    this.uploadEventsRule = new events.Rule(this, 'UploadEventsRule', {
      description: 'FTP bridge: uploads finished or failed (with partner, path, size, checksum), for downstream jobs',
      eventPattern: { source: [UPLOAD_EVENT_SOURCE], detailType: [UPLOAD_COMPLETED, UPLOAD_FAILED] },
      targets: [new targets.SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 185, maxEventAge: Duration.hours(24) })],
    });
  }
}
