import { CfnOutput, Fn, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type { Construct } from 'constructs';
import { portPlan } from './deployment-ports.ts';
import { FtpS3Bridge } from './ftp-s3-bridge.ts';
import type { BridgeSettings } from './settings.ts';

export interface FtpS3BridgeStackProps extends StackProps {
  /** The deployment settings (see settings-schema.ts and cdk.json), checked by FtpS3Bridge. */
  readonly settings: BridgeSettings;
  /**
   * The runtime image.
   * @default - built from runtime/Dockerfile with the repository root as context
   */
  readonly image?: ecs.ContainerImage;
}

/** The app's stack: one FtpS3Bridge and the outputs operators and partners need. */
export class FtpS3BridgeStack extends Stack {
  readonly bridge: FtpS3Bridge;

  constructor(scope: Construct, id: string, props: FtpS3BridgeStackProps) {
    super(scope, id, props);
    // Id 'Default' leaves the bridge out of logical IDs: its resources keep the ones they had when this stack built them itself.
    const bridge = new FtpS3Bridge(this, 'Default', { settings: props.settings, image: props.image });
    this.bridge = bridge;
    const lb = bridge.ftpLoadBalancer;
    const ports = portPlan(bridge.settings);
    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    if (bridge.dnsRecord !== undefined) output('PartnerHostName', bridge.dnsRecord.domainName, 'The name partners connect to (alias of the load balancer); the TLS certificate must name it');
    output('LoadBalancerDnsName', lb.loadBalancer.loadBalancerDnsName, 'DNS name of the FTP endpoint (resolves to the Elastic IPs)');
    output('PublicAddresses', Fn.join(',', lb.addresses.map((address) => address.publicIp)), 'Elastic IPs, one per AZ: give these to partners for their firewalls');
    output(
      'PartnerAllowList',
      Fn.join(',', [...bridge.partnerAddresses]),
      bridge.partnerAddresses.length > lb.addresses.length
        ? 'Every address partners must allow: the Elastic IPs they connect to, and the NAT addresses active-mode data connections come from'
        : 'Every address partners must allow: the Elastic IPs they connect to',
    );
    output('PassivePorts', `${ports.passiveRange.from}-${ports.passiveRange.to}`, 'Passive port range partners must be able to reach');
    output('BucketName', bridge.storage.bucket.bucketName, 'Bucket every file lands in');
    output('ObjectCreatedQueueUrl', bridge.objectCreated.queue.queueUrl, 'SQS queue receiving S3 "Object Created" events and the bridge upload events for downstream jobs');
    output('ObjectCreatedQueueArn', bridge.objectCreated.queue.queueArn, 'ARN of the object-created queue');
    output('DeadLetterQueueUrl', bridge.objectCreated.deadLetterQueue.queueUrl, 'Dead-letter queue of the object-created queue');
    output('UsersSecretArn', bridge.secrets.usersSecret.secretArn, 'Secret holding the users document: ftp-s3-bridge users … --secret-id it (docs/partners.md)');
    if (bridge.usersTable !== undefined) {
      output('UsersTableName', bridge.usersTable.table.tableName, 'Users table: ftp-s3-bridge users … --table it (docs/partners.md)');
    }
    if (bridge.secrets.tlsSecret !== undefined) {
      output('TlsSecretArn', bridge.secrets.tlsSecret.secretArn, 'Secret holding {"certificate","privateKey"}: put the certificate here');
    }
    output('LogGroupName', bridge.logGroup.logGroupName, 'CloudWatch Logs group of the FTP tasks');
    output('AlarmTopicArn', bridge.monitoring.alarmTopic.topicArn, 'SNS topic the alarms notify: subscribe to it (bridge:alarmEmail does for one address)');
    output('DashboardName', bridge.monitoring.dashboard.dashboardName, 'CloudWatch dashboard');
    output('ClusterName', bridge.cluster.clusterName, 'ECS cluster of the shards');
    output(
      'ShardServices',
      Fn.join(',', bridge.shards.map((shard) => shard.service.serviceName)),
      'ECS service of each shard, in shard order: roll one at a time with aws ecs update-service --force-new-deployment (docs/deploys.md)',
    );
  }
}
