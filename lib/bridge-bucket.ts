import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface BridgeBucketProps {
  /**
   * A bucket object to serve as it is (enable its EventBridge notifications yourself). Not
   * together with `existingBucketName`.
   * @default - a new bucket
   */
  readonly bucket?: s3.IBucket;
  /**
   * The customer managed key of `bucket`.
   * @default - none
   */
  readonly kmsKey?: kms.IKey;
  /**
   * Name of an existing bucket to serve. Enable "Amazon EventBridge notifications" on it
   * yourself for the object-created queue to receive events.
   * @default - a new bucket
   */
  readonly existingBucketName?: string;
  /**
   * ARN of the customer managed KMS key that encrypts the existing bucket.
   * @default - none (SSE-S3 or an AWS managed key, nothing to grant)
   */
  readonly existingKmsKeyArn?: string;
  /**
   * Versioning of a new bucket, so that deletes and overwrites can be undone.
   * @default false
   */
  readonly versioned?: boolean;
  /**
   * With versioning: how long a replaced or deleted version is kept.
   * @default - kept until removed by hand
   */
  readonly noncurrentVersionExpiration?: Duration;
  /**
   * Whole days after which a new bucket aborts an incomplete multipart upload: at least
   * the runtime's FTP_PENDING_UPLOAD_HOURS (see incompleteUploadDays), so an upload kept
   * for its partner to continue is discarded by the bridge first.
   * @default 1
   */
  readonly incompleteUploadDays?: number;
}

/** The lifecycle rule's whole days for pending uploads kept `hours`: never less than one day. */
export function incompleteUploadDays(hours: number): number {
  return Math.max(1, Math.ceil(hours / 24));
}

/**
 * The bucket every file lands in. A new bucket blocks public access, enforces TLS,
 * encrypts at rest, aborts incomplete multipart uploads after `incompleteUploadDays`, sends EventBridge
 * notifications and is retained when the stack is deleted.
 */
export class BridgeBucket extends Construct {
  readonly bucket: s3.IBucket;
  /** The customer managed key of an existing bucket, if any. */
  readonly kmsKey: kms.IKey | undefined;
  /** True when this construct created the bucket. */
  readonly created: boolean;

  constructor(scope: Construct, id: string, props: BridgeBucketProps = {}) {
    super(scope, id);
    if (props.existingKmsKeyArn !== undefined && props.existingBucketName === undefined) {
      throw new Error('BridgeBucket: existingKmsKeyArn applies to an existing bucket only; set existingBucketName too');
    }
    if (props.existingBucketName !== undefined && props.versioned === true) {
      throw new Error('BridgeBucket: versioned applies to a new bucket only; turn versioning on for an existing bucket yourself');
    }
    if (props.noncurrentVersionExpiration !== undefined && props.versioned !== true) {
      throw new Error('BridgeBucket: noncurrentVersionExpiration needs versioned: true');
    }
    if (props.bucket !== undefined && (props.existingBucketName !== undefined || props.existingKmsKeyArn !== undefined)) {
      throw new Error('BridgeBucket: pass bucket or existingBucketName (with existingKmsKeyArn), not both');
    }
    if (props.kmsKey !== undefined && props.bucket === undefined) throw new Error('BridgeBucket: kmsKey applies to a bucket passed in; pass bucket too');
    if (props.bucket !== undefined && props.versioned === true) throw new Error('BridgeBucket: versioned applies to a new bucket only');
    if (props.bucket !== undefined) {
      this.bucket = props.bucket;
      this.kmsKey = props.kmsKey;
      this.created = false;
      return;
    }
    if (props.existingBucketName !== undefined) {
      this.bucket = s3.Bucket.fromBucketName(this, 'Bucket', props.existingBucketName);
      this.kmsKey = props.existingKmsKeyArn === undefined ? undefined : kms.Key.fromKeyArn(this, 'Key', props.existingKmsKeyArn);
      this.created = false;
      return;
    }
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Pending uploads (an interrupted STOR kept to be continued) and failed aborts' parts cost until removed.
      lifecycleRules: [
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(props.incompleteUploadDays ?? 1) },
        ...(props.noncurrentVersionExpiration === undefined
          ? []
          : [{ id: 'expire-noncurrent-versions', noncurrentVersionExpiration: props.noncurrentVersionExpiration, expiredObjectDeleteMarker: true }]),
      ],
      ...(props.versioned === true ? { versioned: true } : {}),
      eventBridgeEnabled: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.kmsKey = undefined;
    this.created = true;
  }
}
