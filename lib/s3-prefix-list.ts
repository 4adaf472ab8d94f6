import { Stack } from 'aws-cdk-lib';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

/**
 * The id of the AWS-managed S3 prefix list of the stack's region (`com.amazonaws.<region>.s3`),
 * for security-group egress to S3 through the gateway endpoint.
 *
 * Prefix list ids differ per region and a context lookup would need an account at synth,
 * so a custom resource reads it at deploy time; synth stays offline.
 */
export class S3PrefixList extends Construct {
  /** The prefix list id (a deploy-time token). */
  readonly prefixListId: string;
  readonly resource: cr.AwsCustomResource;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const region = Stack.of(this).region;
    const call: cr.AwsSdkCall = {
      service: 'EC2',
      action: 'describeManagedPrefixLists',
      parameters: { Filters: [{ Name: 'prefix-list-name', Values: [`com.amazonaws.${region}.s3`] }] },
      physicalResourceId: cr.PhysicalResourceId.of(`s3-prefix-list-${region}`),
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
