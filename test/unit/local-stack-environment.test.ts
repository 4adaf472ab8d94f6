import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configVariables } from '../../runtime/src/config.ts';
import {
  bridgeEnvironment,
  fixedVariables,
  LocalStackSettingError,
  localStackPlace,
} from '../../runtime/src/local/bridge-environment.ts';

const PLACE = { dir: '/tmp/local-stack', s3Port: 4566, dynamoPort: 8000 };

test('every documented variable the caller sets reaches the bridge, but those the local stack fixes', () => {
  const caller = Object.fromEntries(configVariables().map(({ name }) => [name, `from-caller-${name}`]));
  const { env, overridden } = bridgeEnvironment({ ...caller, AWS_ACCESS_KEY_ID: 'a real key', HOME: '/root' }, PLACE);
  const fixed = fixedVariables(PLACE);
  assert.deepEqual([...overridden].sort(), Object.keys(fixed).sort());
  for (const { name } of configVariables()) {
    if (name in fixed) assert.equal(env[name], fixed[name], name);
    else assert.equal(env[name], `from-caller-${name}`, name);
  }
  assert.equal(env['FTP_LISTEN_ADDRESS'], '127.0.0.1');
  assert.equal(env['S3_ENDPOINT'], 'http://127.0.0.1:4566');
  // The shared state in the embedded dynalite, whatever the caller says.
  assert.equal(env['DYNAMODB_ENDPOINT'], 'http://127.0.0.1:8000');
  assert.equal(env['FTP_STATE_TABLE'], 'local-state');
  assert.ok(!('FTP_USERS_SECRET_ID' in env) && !('FTP_TLS_SECRET_ID' in env), 'no Secrets Manager');
  assert.equal(env['AWS_ACCESS_KEY_ID'], 'local', "the caller's AWS credentials stay out");
  assert.ok(!('HOME' in env), 'nothing undocumented passes');
});

test('with nothing set, the local defaults apply and nothing is reported as overridden', () => {
  const { env, overridden } = bridgeEnvironment({ PATH: '/usr/bin' }, PLACE);
  assert.deepEqual(overridden, []);
  assert.equal(env['FTP_PORT'], '2121');
  assert.equal(env['HEALTH_PORT'], '2180');
  assert.equal(env['FTP_USERS_FILE'], '/tmp/local-stack/users.json');
  assert.equal(env['PATH'], '/usr/bin');
});

test('LOCAL_STACK_S3_PORT must be a port number', () => {
  assert.equal(localStackPlace({ LOCAL_STACK_S3_PORT: '0' }, '/d').s3Port, 0);
  assert.equal(localStackPlace({}, '/d').s3Port, 4566);
  for (const bad of ['abc', '-1', '65536', '']) {
    assert.throws(() => localStackPlace({ LOCAL_STACK_S3_PORT: bad }, '/d'), LocalStackSettingError, bad);
  }
});
