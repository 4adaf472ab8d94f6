import { Stack } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface BridgeTaskRoleProps {
  readonly bucket: s3.IBucket;
  /**
   * The bridge's root prefix in the bucket (normalised, no leading or trailing slash).
   * @default '' (the whole bucket)
   */
  readonly keyPrefix?: string;
  /**
   * Customer managed key of the bucket.
   * @default - none
   */
  readonly kmsKey?: kms.IKey;
  /** Secrets the runtime reads (GetSecretValue only). */
  readonly secrets: readonly secretsmanager.ISecret[];
  /**
   * Customer managed keys the secrets are encrypted with: kms:Decrypt on each, through
   * Secrets Manager only.
   * @default - none
   */
  readonly secretKeys?: readonly kms.IKey[];
  /**
   * The users table the runtime reads (dynamodb:Scan only: it reads every partner at once).
   * @default - none (users come from a secret)
   */
  readonly usersTable?: dynamodb.ITable;
  /**
   * The EventBridge bus the runtime sends upload events to (events:PutEvents on it alone).
   * @default - no upload events
   */
  readonly eventBus?: events.IEventBus;
  /**
   * The shared-state table: GetItem, PutItem and DeleteItem on it, nothing else (no
   * scans, no table changes).
   * @default - none
   */
  readonly stateTable?: dynamodb.ITable;
}

/**
 * The task role: only the S3 actions the bridge uses (get, put, delete, abort multipart
 * upload on objects under its prefix; list the bucket under its prefix), reading its own
 * secrets, reading and writing items of its state table, and the bucket's customer key if
 * there is one. Every resource is named.
 */
export class BridgeTaskRole extends Construct {
  readonly role: iam.Role;
  /** The one wildcard resource: every object under the bucket's prefix (`bucket-arn/prefix/*`). */
  readonly objectsArn: string;

  constructor(scope: Construct, id: string, props: BridgeTaskRoleProps) {
    super(scope, id);
    const prefix = props.keyPrefix ?? '';
    if (prefix.startsWith('/') || prefix.endsWith('/') || prefix.includes('*')) {
      throw new Error(`BridgeTaskRole: keyPrefix must be normalised (no leading/trailing slash, no wildcard), got "${prefix}"`);
    }
    this.role = new iam.Role(this, 'Role', {
      description: 'FTP bridge task: its bucket prefix and its secrets',
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    this.objectsArn = props.bucket.arnForObjects(prefix === '' ? '*' : `${prefix}/*`);
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'Objects',
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        resources: [this.objectsArn],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'List',
        actions: ['s3:ListBucket'],
        resources: [props.bucket.bucketArn],
        ...(prefix === '' ? {} : { conditions: { StringLike: { 's3:prefix': [`${prefix}/`, `${prefix}/*`] } } }),
      }),
    );
    if (props.secrets.length > 0) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'Secrets',
          actions: ['secretsmanager:GetSecretValue'],
          resources: props.secrets.map((secret) => secret.secretArn),
        }),
      );
    }
    if (props.usersTable !== undefined) {
      this.role.addToPolicy(new iam.PolicyStatement({ sid: 'UsersTable', actions: ['dynamodb:Scan'], resources: [props.usersTable.tableArn] }));
    }
    const secretKeys = props.secretKeys ?? [];
    if (secretKeys.length > 0) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'SecretKeys',
          actions: ['kms:Decrypt'],
          resources: secretKeys.map((key) => key.keyArn),
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
    if (props.eventBus !== undefined) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'UploadEvents',
          actions: ['events:PutEvents'],
          resources: [props.eventBus.eventBusArn],
        }),
      );
    }
    if (props.stateTable !== undefined) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'State',
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
          resources: [props.stateTable.tableArn],
        }),
      );
    }
    if (props.kmsKey !== undefined) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'BucketKey',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [props.kmsKey.keyArn],
        }),
      );
    }
  }
}
