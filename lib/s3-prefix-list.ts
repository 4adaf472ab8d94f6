import { Stack } from 'aws-cdk-lib';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

export interface S3PrefixListProps {
  /**
   * The gateway-endpoint service whose prefix list to read: S3, or DynamoDB (the shared-state table).
   * @default 's3'
   */
  readonly service?: 's3' | 'dynamodb';
}

/**
 * The id of the AWS-managed prefix list of S3 (or DynamoDB) in the stack's region
 * (`com.amazonaws.<region>.s3`), for security-group egress through the gateway endpoint.
 *
 * Prefix list ids differ per region and a context lookup would need an account at synth,
 * so a custom resource reads it at deploy time; synth stays offline.
 */
export class S3PrefixList extends Construct {
  /** The prefix list id (a deploy-time token). */
  readonly prefixListId: string;
  readonly resource: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: S3PrefixListProps = {}) {
    super(scope, id);
    const region = Stack.of(this).region;
    const service = props.service ?? 's3';
    const call: cr.AwsSdkCall = {
      service: 'EC2',
      action: 'describeManagedPrefixLists',
      parameters: { Filters: [{ Name: 'prefix-list-name', Values: [`com.amazonaws.${region}.${service}`] }] },
      physicalResourceId: cr.PhysicalResourceId.of(`${service}-prefix-list-${region}`),
      outputPaths: ['PrefixLists.0.PrefixListId'],
    };
    this.resource = new cr.AwsCustomResource(this, 'Lookup', {
      onCreate: call,
      onUpdate: call,
      installLatestAwsSdk: false,
      // DescribeManagedPrefixLists has no resource-level permissions.
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE }),
    });
    this.prefixListId = this.resource.getResponseField('PrefixLists.0.PrefixListId');
  }
}
