/**
 * Every cdk-nag (AwsSolutions) finding this deployment acknowledges, each with its reason.
 * Acknowledgements use CDK's own `Validations` metadata, which cdk-nag reads; they are as
 * narrow as the finding allows (one resource, one finding id where nag reports one).
 */
import { Stack, Token, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { BridgeBucket } from './bridge-bucket.ts';
import type { BridgeSecrets } from './bridge-secrets.ts';
import type { BridgeSecurityGroups } from './bridge-security-groups.ts';
import type { BridgeTaskRole } from './bridge-task-role.ts';
import type { FtpLoadBalancer } from './ftp-load-balancer.ts';
import type { FtpShardService } from './ftp-shard-service.ts';
import type { S3PrefixList } from './s3-prefix-list.ts';
import type { BridgeSettings } from './settings.ts';

/** The parts of the bridge that carry suppressions (FtpS3Bridge passes itself). */
export interface SuppressedBridge extends IConstruct {
  readonly settings: BridgeSettings;
  readonly securityGroups: BridgeSecurityGroups;
  readonly ftpLoadBalancer: FtpLoadBalancer;
  readonly storage: BridgeBucket;
  readonly secrets: BridgeSecrets;
  readonly shards: readonly FtpShardService[];
  readonly executionRole: iam.Role;
  readonly s3PrefixList: S3PrefixList;
  readonly taskRole: BridgeTaskRole;
}

/** Ids CDK gives the singleton Lambda functions behind its own custom resources. */
const CDK_HANDLER_IDS = [
  // AwsCustomResource (the S3 prefix list lookup).
  'AWS679f53fac002430cb0da5b7982bd2287',
  // Bucket notifications (EventBridge on a new bucket).
  'BucketNotificationsHandler050a0587b7544547bf325f094a3db834',
];

export function addNagSuppressions(bridge: SuppressedBridge): void {
  const stack = Stack.of(bridge);
  const acknowledge = (scope: IConstruct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });
  const { settings } = bridge;

  if (settings.allowedCidrs.includes('0.0.0.0/0')) {
    acknowledge(
      bridge.securityGroups.loadBalancer,
      'AwsSolutions-EC23',
      'A public FTP endpoint for partners: bridge:allowedCidrs is 0.0.0.0/0 by choice of the operator; only the FTP ports are open and each user has its own allowFrom list in the runtime.',
    );
  }
  acknowledge(
    bridge.ftpLoadBalancer.loadBalancer,
    'AwsSolutions-ELB2',
    'NLB access logs only cover TLS listeners; every listener is TCP (TLS ends in the container). The runtime logs every session, login and transfer with the client address.',
  );
  if (bridge.storage.created) {
    acknowledge(
      bridge.storage.bucket,
      'AwsSolutions-S1',
      'Every access goes through the bridge, which logs each transfer (user, client address, path, bytes, outcome); S3 server access logs would duplicate it. Enable CloudTrail data events where an independent record is required.',
    );
  }
  for (const secret of [bridge.secrets.usersSecret, bridge.secrets.tlsSecret]) {
    if (secret === undefined) continue;
    acknowledge(
      secret,
      'AwsSolutions-SMG4',
      'Not a rotatable credential: the users document and the TLS certificate are edited by the operator (docs/partners.md, docs/certificates.md); the runtime re-reads them without restart.',
    );
  }
  for (const shard of bridge.shards) {
    acknowledge(
      shard.taskDefinition,
      'AwsSolutions-ECS2',
      'The environment holds configuration only (bucket, ports, modes, secret ARNs); the secrets themselves are read by the runtime from Secrets Manager so that changes apply without a restart.',
    );
  }
  acknowledge(
    bridge.executionRole,
    'AwsSolutions-IAM5[Resource::*]',
    'ecr:GetAuthorizationToken has no resource-level permissions; image pulls and log writes are scoped to the repository and log group by CDK.',
  );
  acknowledge(
    bridge.s3PrefixList.resource,
    'AwsSolutions-IAM5[Resource::*]',
    'ec2:DescribeManagedPrefixLists has no resource-level permissions; the call is read-only.',
  );
  for (const address of bridge.ftpLoadBalancer.addresses) {
    if (address.lookup === undefined) continue;
    acknowledge(address.lookup, 'AwsSolutions-IAM5[Resource::*]', 'ec2:DescribeAddresses has no resource-level permissions; the call is read-only.');
  }
  // CDK's custom resource that lets EventBridge write the task stops into their log group.
  for (const child of stack.node.children.filter((construct) => construct.node.id.startsWith('EventsLogGroupPolicy'))) {
    acknowledge(
      child,
      'AwsSolutions-IAM5[Resource::*]',
      'logs:PutResourcePolicy and logs:DeleteResourcePolicy take no resource-level permissions; the policy it writes only lets EventBridge deliver to the task-stops log group.',
    );
  }
  for (const id of CDK_HANDLER_IDS) {
    const handler = stack.node.tryFindChild(id);
    if (handler === undefined) continue;
    acknowledge(
      handler,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'CDK-managed custom resource handler; the AWS managed basic execution policy only lets it write its own logs.',
    );
  }
  // Object actions must name keys, which takes a wildcard after the bucket (and prefix).
  acknowledge(
    bridge.taskRole.role,
    `AwsSolutions-IAM5[Resource::${flatten(stack.resolve(bridge.taskRole.objectsArn))}]`,
    'Objects are named by partners at run time; the wildcard only covers keys under the bridge prefix of its bucket (test/infra checks there is no other).',
  );
}

/** cdk-nag's rendering of a CloudFormation reference: `<Logical.Attr>`, `<Ref>`, joins concatenated. */
function flatten(node: unknown): string {
  if (typeof node === 'string') return Token.isUnresolved(node) ? node : node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof node === 'object' && node !== null) {
    const value = node as Record<string, unknown>;
    if (Array.isArray(value['Fn::Join'])) {
      const [delimiter, items] = value['Fn::Join'] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if (Array.isArray(value['Fn::GetAtt'])) {
      const [resource, attribute] = value['Fn::GetAtt'] as [unknown, unknown];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if (value['Ref'] !== undefined) return `<${flatten(value['Ref'])}>`;
  }
  return JSON.stringify(node);
}
