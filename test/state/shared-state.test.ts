import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { UsersTable } from '../../runtime/src/sources/users-table.ts';
import { DynamoState } from '../../runtime/src/state/dynamo-state.ts';
import { ProcessState } from '../../runtime/src/state/process-state.ts';
import { numberField, StateConflictError, type SharedState } from '../../runtime/src/state/shared-state.ts';
import { startDynalite, type TestDynamo } from '../support/dynalite.ts';
import { waitUntil } from '../support/wait-until.ts';

/**
 * The two SharedState implementations behave alike: changes are atomic per record (no
 * lost update when tasks race), a lapsed record reads as absent whatever TTL did, and a
 * change that decides not to write writes nothing. The DynamoDB one runs on dynalite.
 */
let dynamo: TestDynamo;
before(async () => {
  dynamo = await startDynalite();
  await DynamoState.ensureTable(dynamo.client, 'state');
  // A second bridge on the same endpoint finds the table there.
  await DynamoState.ensureTable(dynamo.client, 'state');
});
after(() => dynamo.stop());

describe('tables created on a local endpoint (the local stack, tests) are used once ACTIVE', () => {
  // As DynamoDB does, for less long: a new table is CREATING, and requests on it get ResourceNotFound.
  const slowTables = async (): Promise<TestDynamo> => startDynalite({ createTableMs: 400 });

  test('the shared-state table', async (t) => {
    const slow = await slowTables();
    t.after(() => slow.stop());
    await DynamoState.ensureTable(slow.client, 'state');
    assert.equal(await increment(new DynamoState({ client: slow.client, table: 'state' }), 'first'), 1);
  });

  test('the users table, created by its first request', async (t) => {
    const slow = await slowTables();
    t.after(() => slow.stop());
    const table = new UsersTable({ client: slow.client, tableName: 'users', createIfMissing: true });
    await table.change('acme', () => ({ username: 'acme', home: 'partners/acme', passwordHash: 'x' }));
    assert.deepEqual((await table.read()).users.map((stored) => stored['username']), ['acme']);
  });
});

const increment = (state: SharedState, key: string): Promise<number> =>
  state.modify(key, (current, now) => {
    const count = numberField(current, 'count') + 1;
    return { result: count, write: { value: { count }, expiresAt: now + 60_000 } };
  });

const implementations: Array<[string, () => SharedState[]]> = [
  ['in process', () => {
    const state = new ProcessState();
    return [state, state];
  }],
  ['DynamoDB (dynalite), two tasks', () => [0, 1].map(() => new DynamoState({ client: dynamo.client, table: 'state' }))],
];

for (const [name, make] of implementations) {
  describe(`SharedState: ${name}`, () => {
    test('racing changes from two tasks lose no update', async () => {
      const [one, two] = make();
      const key = `race-${name}`;
      // Few enough that 5 attempts each always suffice on dynalite; the counts must add up exactly.
      const results = await Promise.all(Array.from({ length: 6 }, (_, index) => increment(index % 2 === 0 ? one! : two!, key)));
      assert.deepEqual([...results].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6]);
      assert.equal(numberField(await one!.read(key), 'count'), 6);
    });

    test('a lapsed record reads as absent, and a change starts from nothing', async () => {
      const [state] = make();
      const key = `lapse-${name}`;
      // Far enough ahead that the read right after the write still sees it on a loaded machine.
      const lapsesAt = Date.now() + 3000;
      await state!.modify(key, () => ({ result: undefined, write: { value: { count: 5 }, expiresAt: lapsesAt } }));
      assert.equal(numberField(await state!.read(key), 'count'), 5);
      await waitUntil('the record to lapse', async () => (await state!.read(key)) === undefined);
      assert.ok(Date.now() >= lapsesAt, 'not before its expiry');
      assert.equal(await increment(state!, key), 1);
    });

    test('deleting, and deciding not to write', async () => {
      const [state] = make();
      const key = `delete-${name}`;
      await increment(state!, key);
      assert.equal(await state!.modify(key, () => ({ result: 'kept' })), 'kept');
      assert.equal(numberField(await state!.read(key), 'count'), 1);
      await state!.modify(key, () => ({ result: undefined, write: { value: undefined, expiresAt: 0 } }));
      assert.equal(await state!.read(key), undefined);
    });
  });
}

test('DynamoDB: a record that keeps changing under a change gives up after 5 attempts, with a clear error', async () => {
  // Fault injection: before each of this client's writes, another task writes the record.
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const other = new DynamoState({ client: dynamo.client, table: 'state' });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutItemCommand') await increment(other, 'contended');
      return await next(args);
    },
    { step: 'initialize', name: 'otherTaskWritesFirst' },
  );
  const state = new DynamoState({ client, table: 'state' });
  let runs = 0;
  const contended = state.modify('contended', (current, now) => {
    runs += 1;
    return { result: undefined, write: { value: { count: numberField(current, 'count') + 100 }, expiresAt: now + 60_000 } };
  });
  await assert.rejects(contended, StateConflictError);
  assert.equal(runs, 5);
  // Only the other task's writes landed.
  assert.equal(numberField(await other.read('contended'), 'count'), 5);
  client.destroy();
});
