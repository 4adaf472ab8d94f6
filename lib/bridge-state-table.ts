import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { STATE_TABLE_LAYOUT } from '../runtime/src/container-environment.ts';

export interface BridgeStateTableProps {
  /**
   * What happens to the table when the stack is deleted. Its content rebuilds itself
   * (leases lapse, quota counts are measured again), lockout counts aside.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The state every shard shares (FTP_STATE_TABLE): partner session leases, quota counts
 * and lockout counts, one small record each. On-demand (a few requests per login and
 * upload), with TTL on `ttl` to clean up lapsed records; the runtime checks each
 * record's own expiry, since TTL deletes only within about 48 hours.
 */
export class BridgeStateTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: BridgeStateTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: STATE_TABLE_LAYOUT.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: STATE_TABLE_LAYOUT.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
  }
}
