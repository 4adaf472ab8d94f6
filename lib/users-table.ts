import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

export interface UsersTableProps {
  /**
   * Keep the table (and every partner in it) when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The partners, one item per partner (runtime/src/sources/users-table.ts reads and writes
 * it: key `username`, the entry as JSON in `entry`, a `revision` every write checks). Pay
 * per request (a few reads a minute per task), point-in-time recovery (a wrong `users
 * remove` can be undone), retained with the stack.
 */
export class UsersTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: UsersTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'username', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}
