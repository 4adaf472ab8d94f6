import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hashPassword, verifyPassword } from '../../runtime/src/auth/password-hash.ts';
import { startDynalite, type TestDynamo } from '../support/dynalite.ts';
import { startFakeSecretsManager, type FakeSecretsManager } from '../support/secrets-manager-server.ts';

/**
 * `ftp-s3-bridge users …` as an operator runs it: the built entry point as a child
 * process, against a users file, a Secrets Manager-like server and dynalite.
 */
const MAIN = join(fileURLToPath(new URL('../..', import.meta.url)), 'runtime', 'dist', 'main.js');

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI without blocking this process (the servers it talks to live here). */
function users(args: readonly string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, 'users', ...args], { env: { PATH: process.env.PATH ?? '', ...options.env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

function ok(run: Run): Run {
  assert.equal(run.status, 0, `exit ${run.status}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return run;
}

interface Document {
  users: Array<Record<string, unknown>>;
}

let dir = '';
let fileCount = 0;
const newFile = (): string => join(dir, `users-${++fileCount}.json`);
const readDocument = async (path: string): Promise<Document> => JSON.parse(await readFile(path, 'utf8')) as Document;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ftp-s3-bridge-users-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('users command line: the contract lines, with a file', () => {
  test('add --password-stdin with limits and expiry, disable, check, remove: exactly as the issue writes them', async () => {
    const file = newFile();
    ok(await users(['add', 'acme', '--home', 'partners/acme', '--password-stdin', '--max-sessions', '4', '--quota-bytes', '1000000', '--expires-at', '2031-01-01T00:00:00Z', '--file', file], { input: 'acme-pass\n' }));
    const [entry] = (await readDocument(file)).users;
    assert.equal(entry?.['username'], 'acme');
    assert.equal(entry?.['home'], 'partners/acme');
    assert.deepEqual([entry?.['maxSessions'], entry?.['quotaBytes'], entry?.['expiresAt']], [4, 1000000, '2031-01-01T00:00:00Z']);
    assert.equal(await verifyPassword('acme-pass', String(entry?.['passwordHash'])), true, 'the password from stdin, one newline dropped');
    ok(await users(['check', '--file', file]));
    ok(await users(['disable', 'acme', '--file', file]));
    assert.equal((await readDocument(file)).users[0]?.['disabled'], true);
    ok(await users(['enable', 'acme', '--file', file]));
    assert.equal('disabled' in ((await readDocument(file)).users[0] ?? {}), false);
    ok(await users(['remove', 'acme', '--file', file]));
    assert.deepEqual((await readDocument(file)).users, []);
  });

  test('check: exit 0 only for a valid document; every problem listed at once', async () => {
    const file = newFile();
    const hash = await hashPassword('x', { parameters: { logN: 10, r: 8, p: 1 } });
    await writeFile(file, JSON.stringify({ users: [{ username: 'a', passwordHash: hash, home: '..', maxSessions: 0 }, { username: 'b', passwordHash: 'plain', home: 'b' }] }));
    const run = await users(['check', '--file', file]);
    assert.equal(run.status, 1);
    assert.match(run.stdout, /3 problems/);
    for (const field of ['"a".home', '"a".maxSessions', '"b".passwordHash']) assert.ok(run.stdout.includes(field), `${field} in ${run.stdout}`);
    const json = JSON.parse((await users(['check', '--json', '--file', file])).stdout) as { valid: boolean; problems: string[] };
    assert.equal(json.valid, false);
    assert.equal(json.problems.length, 3);
    await writeFile(file, '{"users": [');
    assert.equal((await users(['check', '--file', file])).status, 1);
  });

  test('--generate-password prints it once; list, show and --json never show a hash', async () => {
    const file = newFile();
    const added = JSON.parse(ok(await users(['add', 'beta', '--home', '/', '--generate-password', '--permissions', 'list,read', '--allow-from', '203.0.113.0/24', '--allow-from', '2001:db8::/32', '--json', '--file', file])).stdout) as { password: string };
    assert.match(added.password, /^[\w-]{24}$/);
    const [entry] = (await readDocument(file)).users;
    assert.equal(await verifyPassword(added.password, String(entry?.['passwordHash'])), true);
    assert.deepEqual(entry?.['allowFrom'], ['203.0.113.0/24', '2001:db8::/32']);
    const list = ok(await users(['list', '--file', file]));
    const show = ok(await users(['show', 'beta', '--file', file]));
    const listJson = JSON.parse(ok(await users(['list', '--json', '--file', file])).stdout) as Array<Record<string, unknown>>;
    for (const output of [list.stdout, show.stdout, JSON.stringify(listJson)]) {
      assert.ok(!output.includes('$scrypt$'), output);
      assert.ok(!output.includes(added.password), output);
    }
    assert.match(list.stdout, /beta +\/ +list,read +enabled +203\.0\.113\.0\/24,2001:db8::\/32/);
    assert.equal(listJson[0]?.['state'], 'enabled');
  });

  test('passwd from stdin and set FIELD=VALUE…; an empty value removes the field', async () => {
    const file = newFile();
    ok(await users(['add', 'gamma', '--home', 'g', '--password-stdin', '--upload-kibps', '100', '--file', file], { input: 'first' }));
    ok(await users(['passwd', 'gamma', '--password-stdin', '--file', file], { input: 'second\n' }));
    ok(await users(['set', 'gamma', 'maxSessions=2', 'uploadKiBps=', 'permissions=list,read', 'expiresAt=2030-06-30T12:00:00+02:00', '--file', file]));
    const [entry] = (await readDocument(file)).users;
    assert.equal(await verifyPassword('second', String(entry?.['passwordHash'])), true);
    assert.deepEqual([entry?.['maxSessions'], entry?.['uploadKiBps'], entry?.['permissions'], entry?.['expiresAt']], [2, undefined, ['list', 'read'], '2030-06-30T12:00:00+02:00']);
  });

  test('a document written for a newer version: its unknown fields survive a change', async () => {
    const file = newFile();
    const hash = await hashPassword('x', { parameters: { logN: 10, r: 8, p: 1 } });
    await writeFile(file, JSON.stringify({ version: 2, users: [{ username: 'a', passwordHash: hash, home: 'a', geoFence: ['EU'] }] }));
    ok(await users(['disable', 'a', '--file', file]));
    const document = JSON.parse(await readFile(file, 'utf8')) as { version: number } & Document;
    assert.equal(document.version, 2);
    assert.deepEqual(document.users[0], { username: 'a', passwordHash: hash, home: 'a', geoFence: ['EU'], disabled: true });
    const check = ok(await users(['check', '--file', file]));
    assert.match(check.stdout, /geoFence: unknown to this version/);
  });

  test('--help for the command and each subcommand', async () => {
    assert.match(ok(await users(['--help'])).stdout, /Usage: ftp-s3-bridge users SUBCOMMAND/);
    for (const subcommand of ['list', 'show', 'add', 'passwd', 'set', 'disable', 'enable', 'remove', 'check', 'import']) {
      assert.match(ok(await users([subcommand, '--help'])).stdout, new RegExp(`^Usage: ftp-s3-bridge users ${subcommand}`));
    }
  });

  test('ten operators adding users to one file at once: every one is there', async () => {
    const file = newFile();
    const names = Array.from({ length: 10 }, (_, index) => `partner${index}`);
    await Promise.all(names.map(async (name) => ok(await users(['add', name, '--home', name, '--password-stdin', '--file', file], { input: name }))));
    assert.deepEqual((await readDocument(file)).users.map((user) => user['username']).sort(), names.sort());
  });

  describe('every bad input: exit 2, a clear message, nothing written', () => {
    const cases: ReadonlyArray<readonly [name: string, args: readonly string[], message: RegExp, input?: string]> = [
      ['no subcommand', [], /Usage: ftp-s3-bridge users/],
      ['unknown subcommand', ['frobnicate'], /unknown subcommand "frobnicate"/],
      ['unknown option', ['list', '--colour'], /Unknown option '--colour'/],
      ['add without --home', ['add', 'x', '--password-stdin'], /add needs --home PREFIX/, 'p'],
      ['add without a name', ['add', '--home', 'h', '--password-stdin'], /a user name is required/, 'p'],
      ['a password in argv', ['add', 'x', '--home', 'h', '--password', 'hunter2'], /never taken on the command line/],
      ['a password in argv with =', ['add', 'x', '--home', 'h', '--password=hunter2'], /never taken on the command line/],
      ['no password source without a terminal', ['add', 'x', '--home', 'h'], /no password: give --password-stdin/],
      ['an empty password', ['add', 'x', '--home', 'h', '--password-stdin'], /the password is empty/, '\n'],
      ['two password sources', ['add', 'x', '--home', 'h', '--password-stdin', '--generate-password'], /choose one of --password-stdin and --generate-password/],
      ['a bad CIDR', ['add', 'x', '--home', 'h', '--generate-password', '--allow-from', '10.0.0.0/33'], /"x"\.allowFrom\[0\]: "10\.0\.0\.0\/33" has a bad prefix/],
      ['a bad number', ['add', 'x', '--home', 'h', '--generate-password', '--max-sessions', 'many'], /"x"\.maxSessions: expected a whole number/],
      ['a bad expiry', ['add', 'x', '--home', 'h', '--generate-password', '--expires-at', 'next week'], /"x"\.expiresAt: expected an ISO-8601 time/],
      ['a bad permission', ['add', 'x', '--home', 'h', '--generate-password', '--permissions', 'read,admin'], /"x"\.permissions\[1\]: "admin" is not one of/],
      ['a bad home', ['add', 'x', '--home', '../etc', '--generate-password'], /"x"\.home:/],
      ['a bad name', ['add', 'a b', '--home', 'h', '--generate-password'], /username: must not contain spaces/],
      ['a bad TLS mode', ['add', 'x', '--home', 'h', '--generate-password', '--tls-session-reuse', 'never'], /tlsSessionReuse: expected "required" or "optional"/],
      ['adding an existing user', ['add', 'exists', '--home', 'h', '--generate-password'], /user "exists" already exists/],
      ['show of a missing user', ['show', 'nobody'], /no user "nobody"/],
      ['passwd of a missing user', ['passwd', 'nobody', '--generate-password'], /no user "nobody"/],
      ['set of a missing user', ['set', 'nobody', 'maxSessions=2'], /no user "nobody"/],
      ['set without FIELD=VALUE', ['set', 'exists'], /at least one FIELD=VALUE/],
      ['set of an unknown field', ['set', 'exists', 'colour=red'], /"colour" is not a field set can change/],
      ['set of the password hash', ['set', 'exists', 'passwordHash=x'], /passwords change with passwd/],
      ['set without =', ['set', 'exists', 'maxSessions'], /expected FIELD=VALUE/],
      ['set of a bad value', ['set', 'exists', 'disabled=maybe'], /"exists"\.disabled: expected true or false/],
      ['disable of a missing user', ['disable', 'nobody'], /no user "nobody"/],
      ['remove of a missing user', ['remove', 'nobody'], /no user "nobody"/],
      ['an extra argument', ['remove', 'exists', 'extra'], /unexpected argument "extra"/],
      ['import without a source', ['import', '--table', 't'], /import needs one of --from-file/],
    ];
    let file = '';
    let before = '';
    test('setup: a file with one user', async () => {
      file = newFile();
      ok(await users(['add', 'exists', '--home', 'e', '--password-stdin', '--file', file], { input: 'p' }));
      before = await readFile(file, 'utf8');
    });
    for (const [name, args, message, input] of cases) {
      test(name, async () => {
        const run = await users([...args, ...(args.length > 0 && args[0] !== 'import' ? ['--file', file] : [])], input === undefined ? {} : { input });
        assert.equal(run.status, 2, `${run.stdout}${run.stderr}`);
        assert.match(run.stderr, message);
        assert.ok(!run.stderr.includes('hunter2') && !run.stdout.includes('hunter2'));
        assert.equal(await readFile(file, 'utf8'), before);
      });
    }
    test('two stores at once; no store at all', async () => {
      const both = await users(['list', '--file', file, '--table', 'users']);
      assert.equal(both.status, 2);
      assert.match(both.stderr, /choose one store: --file and --table/);
      const none = await users(['list']);
      assert.equal(none.status, 2);
      assert.match(none.stderr, /no store given/);
    });
  });
});

describe('users command line: a Secrets Manager secret', () => {
  let secrets: FakeSecretsManager;
  before(async () => {
    secrets = await startFakeSecretsManager();
  });
  after(() => secrets.stop());

  test('add, disable and list through the secret; the change is a new AWSCURRENT version', async () => {
    secrets.putSecret('partners', { string: '{"users": []}' });
    ok(await users(['add', 'acme', '--home', 'a', '--password-stdin', '--max-sessions', '2', '--secret-id', 'partners'], { input: 'pw', env: secrets.env }));
    ok(await users(['disable', 'acme', '--secret-id', 'partners'], { env: secrets.env }));
    const document = JSON.parse(secrets.currentString('partners') ?? '') as Document;
    assert.equal(document.users[0]?.['disabled'], true);
    assert.match(ok(await users(['list', '--secret-id', 'partners'], { env: secrets.env })).stdout, /acme .* disabled/);
  });

  test('eight operators at once: each change is retried against the version it lost to, none is lost', async () => {
    secrets.putSecret('busy', { string: '{"users": []}' });
    const names = Array.from({ length: 8 }, (_, index) => `p${index}`);
    const runs = await Promise.all(names.map((name) => users(['add', name, '--home', name, '--generate-password', '--secret-id', 'busy'], { env: secrets.env })));
    // Each either landed or was refused clearly (too many attempts): never a silent loss.
    const landed = names.filter((_, index) => runs[index]?.status === 0);
    for (const [index, run] of runs.entries()) {
      if (run.status !== 0) {
        assert.equal(run.status, 1, run.stderr);
        assert.match(run.stderr, /kept changing under this command .* nothing was written/, names[index]);
      }
    }
    const stored = (JSON.parse(secrets.currentString('busy') ?? '') as Document).users.map((user) => user['username']);
    assert.deepEqual(stored.sort(), landed.sort());
    assert.ok(landed.length >= 4, `only ${landed.length} of 8 landed`);
    assert.ok(secrets.stageConflicts > 0, 'the operators did overlap: some stage moves were refused and retried');
  });

  test('a document past the 64 KiB secret limit is refused, naming the table as the way out', async () => {
    const hash = await hashPassword('x', { parameters: { logN: 10, r: 8, p: 1 } });
    const many = Array.from({ length: 600 }, (_, index) => ({ username: `u${index}`, passwordHash: hash, home: `partners/u${index}` }));
    secrets.putSecret('full', { string: JSON.stringify({ users: many }) });
    const run = await users(['add', 'one-more', '--home', 'x', '--generate-password', '--secret-id', 'full'], { env: secrets.env });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /past the secret limit of 65536; move the users to a table/);
  });

  test('a missing secret is a clear failure (exit 1)', async () => {
    const run = await users(['list', '--secret-id', 'nope'], { env: secrets.env });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /secret nope: ResourceNotFoundException/);
  });
});

describe('users command line: a DynamoDB table', () => {
  let dynamo: TestDynamo;
  before(async () => {
    dynamo = await startDynalite();
  });
  after(() => dynamo.stop());

  test('add, set, disable, show, remove through the table (created on first use with DYNAMODB_ENDPOINT)', async () => {
    ok(await users(['add', 'acme', '--home', 'a', '--password-stdin', '--quota-files', '10', '--table', 'users-1'], { input: 'pw', env: dynamo.env }));
    ok(await users(['set', 'acme', 'downloadKiBps=256', '--table', 'users-1'], { env: dynamo.env }));
    ok(await users(['disable', 'acme', '--table', 'users-1'], { env: dynamo.env }));
    const shown = JSON.parse(ok(await users(['show', 'acme', '--json', '--table', 'users-1'], { env: dynamo.env })).stdout) as Record<string, unknown>;
    assert.deepEqual([shown['quotaFiles'], shown['downloadKiBps'], shown['disabled'], shown['state'], shown['passwordHash']], [10, 256, true, 'disabled', undefined]);
    ok(await users(['check', '--table', 'users-1'], { env: dynamo.env }));
    ok(await users(['remove', 'acme', '--table', 'users-1'], { env: dynamo.env }));
    assert.match(ok(await users(['list', '--table', 'users-1'], { env: dynamo.env })).stdout, /no users/);
  });

  test('operators changing one partner at once: conditional writes, every change lands', async () => {
    ok(await users(['add', 'shared', '--home', 's', '--generate-password', '--table', 'users-2'], { env: dynamo.env }));
    const fields = ['maxSessions=3', 'uploadKiBps=10', 'downloadKiBps=20', 'quotaBytes=30', 'quotaFiles=40'];
    const runs = await Promise.all(fields.map((field) => users(['set', 'shared', field, '--table', 'users-2'], { env: dynamo.env })));
    const landed = fields.filter((_, index) => runs[index]?.status === 0);
    for (const run of runs) if (run.status !== 0) assert.match(run.stderr, /kept changing under this command/);
    const shown = JSON.parse(ok(await users(['show', 'shared', '--json', '--table', 'users-2'], { env: dynamo.env })).stdout) as Record<string, unknown>;
    for (const field of landed) {
      const [name, value] = field.split('=');
      assert.equal(shown[name!], Number(value), `${field} was lost`);
    }
    assert.ok(landed.length >= 3, `only ${landed.length} of 5 landed`);
  });

  test('import from a file: every user copied, a second run skips them all', async () => {
    const file = newFile();
    for (const name of ['one', 'two', 'three']) ok(await users(['add', name, '--home', name, '--generate-password', '--file', file]));
    const first = JSON.parse(ok(await users(['import', '--from-file', file, '--table', 'users-3', '--json'], { env: dynamo.env })).stdout) as { imported: string[]; skipped: string[] };
    assert.deepEqual([first.imported.sort(), first.skipped], [['one', 'three', 'two'], []]);
    const second = JSON.parse(ok(await users(['import', '--from-file', file, '--table', 'users-3', '--json'], { env: dynamo.env })).stdout) as { imported: string[]; skipped: string[] };
    assert.deepEqual([second.imported, second.skipped.sort()], [[], ['one', 'three', 'two']]);
    const listed = JSON.parse(ok(await users(['list', '--json', '--table', 'users-3'], { env: dynamo.env })).stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(listed.map((user) => user['username']), ['one', 'three', 'two']);
  });

  test('import refuses an invalid document and copies nothing', async () => {
    const file = newFile();
    await writeFile(file, JSON.stringify({ users: [{ username: 'bad', passwordHash: 'plain', home: 'b' }] }));
    const run = await users(['import', '--from-file', file, '--table', 'users-4'], { env: dynamo.env });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /"bad"\.passwordHash: not a hash/);
  });
});
