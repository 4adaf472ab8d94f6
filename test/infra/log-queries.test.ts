import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { LOG_QUERIES, queryText } from '../../lib/log-queries.ts';
import { REPOSITORY_ROOT, resourcesOfType, synthesize } from './stack-fixture.ts';

describe('saved Logs Insights queries', () => {
  test('each query of README is saved, with its text, against the bridge\'s log group', () => {
    const { stack, template } = synthesize();
    const saved = Object.values(resourcesOfType(template, 'AWS::Logs::QueryDefinition')).map((definition) => definition.Properties!);
    const logGroup = stack.resolve(stack.bridge.logGroup.logGroupName);
    assert.deepEqual(
      saved,
      LOG_QUERIES.map((query) => ({ Name: `Bridge/${query.name}`, QueryString: queryText(query), LogGroupNames: [logGroup] })),
    );
  });

  test('README shows the very queries the stack saves (bin/render-log-queries.ts --check)', () => {
    const result = spawnSync(process.execPath, ['bin/render-log-queries.ts', '--check'], { cwd: fileURLToPath(REPOSITORY_ROOT), encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, `${result.stderr}${result.stdout}`);
  });
});
