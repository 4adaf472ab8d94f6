import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { readLogQueriesBlock, renderLogQueries } from '../../lib/log-queries-markdown.ts';
import { LOG_QUERIES, queryText } from '../../lib/log-queries.ts';
import { REPOSITORY_ROOT, resourcesOfType, synthesize } from './stack-fixture.ts';

describe('saved Logs Insights queries', () => {
  test('each query the docs show is saved, with its text, against the bridge\'s log group', () => {
    const { stack, template } = synthesize();
    const saved = Object.values(resourcesOfType(template, 'AWS::Logs::QueryDefinition')).map((definition) => definition.Properties!);
    const logGroup = stack.resolve(stack.bridge.logGroup.logGroupName);
    assert.deepEqual(
      saved,
      LOG_QUERIES.map((query) => ({ Name: `Bridge/${query.name}`, QueryString: queryText(query), LogGroupNames: [logGroup] })),
    );
  });

  test('docs/operations.md shows the very queries the stack saves', () => {
    const page = readFileSync(new URL('docs/operations.md', REPOSITORY_ROOT), 'utf8');
    assert.equal(readLogQueriesBlock(page), renderLogQueries(), 'docs/operations.md is out of date: run npm run docs');
  });
});
