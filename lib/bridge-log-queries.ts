import { Stack } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { CfnQueryDefinition } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LOG_QUERIES, queryText } from './log-queries.ts';

export interface BridgeLogQueriesProps {
  /** The runtime's log group the queries run against. */
  readonly logGroup: logs.ILogGroup;
}

/**
 * The Logs Insights queries docs/operations.md shows (lib/log-queries.ts), saved in CloudWatch Logs as
 * `<stack>/<name>` with the bridge's log group selected.
 */
export class BridgeLogQueries extends Construct {
  /** One per query of LOG_QUERIES, in its order. */
  readonly definitions: readonly CfnQueryDefinition[];

  constructor(scope: Construct, id: string, props: BridgeLogQueriesProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    this.definitions = LOG_QUERIES.map(
      (query) =>
        new CfnQueryDefinition(this, query.name, {
          name: `${stackName}/${query.name}`,
          queryString: queryText(query),
          logGroupNames: [props.logGroup.logGroupName],
        }),
    );
  }
}
