import { randomBytes } from 'node:crypto';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { hashPassword } from '../auth/password-hash.ts';
import { parseUsersDocument, UsersFileError } from '../auth/users-file.ts';
import { newDynamoClient, newSecretsClient } from '../sources/aws-clients.ts';
import { UsersSecretStore } from '../sources/users-secret-store.ts';
import { UNCHANGED, UsersFileStore, UsersStoreError, withEntry, type StoredEntry, type StoredUsers, type UsersStore } from '../sources/users-store.ts';
import { UsersTable } from '../sources/users-table.ts';
import { renderEntry, renderList, stateOf } from './users-output.ts';
import { USERS_USAGE, type UsersSubcommand } from './users-usage.ts';

export interface UsersCommandIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Reads a password: without echo at a terminal, else one line of standard input (the composition root's reader). */
  readonly readPassword: () => Promise<string>;
  readonly stdinIsTerminal: boolean;
}

/** Bad input: the operator's to fix (exit 2). */
class InputError extends Error {}

/** The option of a user field, the field, and how its text becomes the document's value. */
const USER_OPTIONS = {
  permissions: { field: 'permissions', kind: 'list' },
  'allow-from': { field: 'allowFrom', kind: 'repeated' },
  'max-sessions': { field: 'maxSessions', kind: 'number' },
  'upload-kibps': { field: 'uploadKiBps', kind: 'number' },
  'download-kibps': { field: 'downloadKiBps', kind: 'number' },
  'quota-bytes': { field: 'quotaBytes', kind: 'number' },
  'quota-files': { field: 'quotaFiles', kind: 'number' },
  'expires-at': { field: 'expiresAt', kind: 'text' },
  'tls-session-reuse': { field: 'tlsSessionReuse', kind: 'text' },
  'tls-close-notify': { field: 'tlsCloseNotify', kind: 'text' },
} as const;

type FieldKind = 'list' | 'repeated' | 'number' | 'boolean' | 'text';

/** The fields `set` changes, and how a value is read (the schema then checks it). */
const SETTABLE: Readonly<Record<string, FieldKind>> = {
  home: 'text',
  permissions: 'list',
  allowFrom: 'list',
  tlsSessionReuse: 'text',
  tlsCloseNotify: 'text',
  disabled: 'boolean',
  expiresAt: 'text',
  maxSessions: 'number',
  uploadKiBps: 'number',
  downloadKiBps: 'number',
  quotaBytes: 'number',
  quotaFiles: 'number',
};

const COMMON: NonNullable<ParseArgsConfig['options']> = {
  file: { type: 'string' },
  'secret-id': { type: 'string' },
  table: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};
const PASSWORD: NonNullable<ParseArgsConfig['options']> = {
  'password-stdin': { type: 'boolean' },
  'generate-password': { type: 'boolean' },
};

/** `ftp-s3-bridge users …`: returns the exit status. */
export async function runUsersCommand(argv: readonly string[], io: UsersCommandIo): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand === undefined || subcommand === '--help' || subcommand === '-h' || subcommand === 'help') {
    (subcommand === undefined ? io.stderr : io.stdout).write(USERS_USAGE.main);
    return subcommand === undefined ? 2 : 0;
  }
  if (!isSubcommand(subcommand)) return inputError(io, `unknown subcommand ${JSON.stringify(subcommand)}`, 'main');
  let store: UsersStore | undefined;
  try {
    const { values, positionals } = parse(subcommand, rest);
    if (values['help'] === true) {
      io.stdout.write(USERS_USAGE[subcommand]);
      return 0;
    }
    const json = values['json'] === true;
    if (subcommand === 'import') return await importUsers(values, positionals, json, io);
    store = openStore(values, io.env);
    return await run(subcommand, { store, values, positionals, json, io });
  } catch (error) {
    if (error instanceof InputError) return inputError(io, error.message, subcommand);
    if (error instanceof UsersFileError) {
      io.stderr.write(`ftp-s3-bridge users ${subcommand}: the users document would not be valid:\n${indent(error.problems)}`);
      return 2;
    }
    if (error instanceof UsersStoreError) {
      io.stderr.write(`ftp-s3-bridge users ${subcommand}: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    store?.close();
  }
}

interface Invocation {
  readonly store: UsersStore;
  readonly values: Record<string, unknown>;
  readonly positionals: readonly string[];
  readonly json: boolean;
  readonly io: UsersCommandIo;
}

async function run(subcommand: Exclude<UsersSubcommand, 'import'>, invocation: Invocation): Promise<number> {
  const { store, values, positionals, json, io } = invocation;
  const print = (text: string, data: unknown): void => {
    io.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : text);
  };
  switch (subcommand) {
    case 'list': {
      noArguments(positionals);
      const { users } = await store.read();
      const now = Date.now();
      print(renderList(users, now), users.map((entry) => ({ ...withoutHash(entry), state: stateOf(entry, now) })));
      return 0;
    }
    case 'show': {
      const name = oneName(positionals);
      const entry = (await store.read()).users.find((user) => user['username'] === name);
      if (entry === undefined) throw new InputError(`no user ${JSON.stringify(name)} in ${store.description}`);
      print(renderEntry(entry, Date.now()), { ...withoutHash(entry), state: stateOf(entry, Date.now()) });
      return 0;
    }
    case 'check':
      return await check(store, positionals, json, io);
    case 'add': {
      const name = oneName(positionals);
      if (typeof values['home'] !== 'string') throw new InputError('add needs --home PREFIX (the folder in the bucket, "/" for all of it)');
      const fields = userFields(values);
      const password = await passwordOf(values, io);
      const entry = { username: name, passwordHash: await hashPassword(password.value), home: values['home'], ...fields };
      await store.change(name, (current) => {
        if (find(current, name) !== undefined) throw new InputError(`user ${JSON.stringify(name)} already exists in ${store.description} (set or passwd change it)`);
        return validated(current, name, entry);
      });
      print(`added ${name} (${store.description})${password.generated ? `\npassword: ${password.value}   (shown once)` : ''}\n`, {
        username: name,
        action: 'added',
        ...(password.generated ? { password: password.value } : {}),
      });
      return 0;
    }
    case 'passwd': {
      const name = oneName(positionals);
      await requireUser(store, name);
      const password = await passwordOf(values, io);
      const passwordHash = await hashPassword(password.value);
      await changeUser(store, name, (entry) => ({ ...entry, passwordHash }));
      print(`password of ${name} changed (${store.description}); its open sessions end${password.generated ? `\npassword: ${password.value}   (shown once)` : ''}\n`, {
        username: name,
        action: 'password-changed',
        ...(password.generated ? { password: password.value } : {}),
      });
      return 0;
    }
    case 'set': {
      const [name, ...assignments] = positionals;
      if (name === undefined) throw new InputError('set needs a user name and at least one FIELD=VALUE');
      if (assignments.length === 0) throw new InputError(`set needs at least one FIELD=VALUE (fields: ${Object.keys(SETTABLE).join(', ')})`);
      const changes = assignments.map(assignment);
      await changeUser(store, name, (entry) => {
        const next: Record<string, unknown> = { ...entry };
        for (const [field, value] of changes) {
          if (value === undefined) delete next[field];
          else next[field] = value;
        }
        return next;
      });
      print(`changed ${name}: ${changes.map(([field]) => field).join(', ')} (${store.description})\n`, { username: name, action: 'changed', fields: changes.map(([field]) => field) });
      return 0;
    }
    case 'disable':
    case 'enable': {
      const name = oneName(positionals);
      const disable = subcommand === 'disable';
      await changeUser(store, name, (entry) => {
        const { disabled: _, ...rest } = entry;
        return disable ? { ...rest, disabled: true } : rest;
      });
      print(`${subcommand}d ${name} (${store.description})${disable ? '; its open sessions end' : ''}\n`, { username: name, action: `${subcommand}d` });
      return 0;
    }
    case 'remove': {
      const name = oneName(positionals);
      await store.change(name, (current) => {
        if (find(current, name) === undefined) throw new InputError(`no user ${JSON.stringify(name)} in ${store.description}`);
        return undefined;
      });
      print(`removed ${name} (${store.description}); its files stay in the bucket\n`, { username: name, action: 'removed' });
      return 0;
    }
  }
}

/** Validates the whole document as the bridge would; exit 0 only when valid. */
async function check(store: UsersStore, positionals: readonly string[], json: boolean, io: UsersCommandIo): Promise<number> {
  noArguments(positionals);
  const current = await store.read();
  const warnings: string[] = [];
  let problems: readonly string[] = [];
  let users = 0;
  try {
    users = parseUsersDocument(documentText(current), { onWarning: (warning) => warnings.push(warning) }).length;
  } catch (error) {
    if (!(error instanceof UsersFileError)) throw error;
    problems = error.problems;
  }
  const valid = problems.length === 0;
  if (json) {
    io.stdout.write(`${JSON.stringify({ valid, users, problems, warnings }, null, 2)}\n`);
  } else {
    if (warnings.length > 0) io.stdout.write(`warnings:\n${indent(warnings)}`);
    io.stdout.write(valid ? `${store.description}: valid, ${users} users\n` : `${store.description}: ${problems.length} problems:\n${indent(problems)}`);
  }
  return valid ? 0 : 1;
}

async function importUsers(values: Record<string, unknown>, positionals: readonly string[], json: boolean, io: UsersCommandIo): Promise<number> {
  noArguments(positionals);
  const fromFile = stringOption(values, 'from-file');
  const fromSecret = stringOption(values, 'from-secret-id');
  const table = stringOption(values, 'table');
  if ((fromFile === undefined) === (fromSecret === undefined)) throw new InputError('import needs one of --from-file PATH or --from-secret-id ID');
  if (table === undefined) throw new InputError('import needs --table NAME (the users table to copy into)');
  const source = fromFile !== undefined ? new UsersFileStore(fromFile) : new UsersSecretStore({ client: newSecretsClient(), secretId: fromSecret! });
  const target = tableStore(table, io.env);
  try {
    const document = await source.read();
    // Nothing is copied from a document the bridge would refuse.
    parseUsersDocument(documentText(document));
    const imported: string[] = [];
    const skipped: string[] = [];
    for (const entry of document.users) {
      const name = String(entry['username']);
      await target.change(name, (current) => {
        if (current.users.length > 0) {
          skipped.push(name);
          return UNCHANGED;
        }
        imported.push(name);
        return entry;
      });
    }
    io.stdout.write(
      json
        ? `${JSON.stringify({ imported, skipped }, null, 2)}\n`
        : `imported ${imported.length} users from ${source.description} into ${target.description}` +
            `${skipped.length > 0 ? `; ${skipped.length} already there, left as they are: ${skipped.join(', ')}` : ''}\n`,
    );
    return 0;
  } finally {
    source.close();
    target.close();
  }
}

function parse(subcommand: UsersSubcommand, args: readonly string[]) {
  const options: NonNullable<ParseArgsConfig['options']> = { ...COMMON };
  if (subcommand === 'add') {
    Object.assign(options, PASSWORD, { home: { type: 'string' } });
    for (const [option, { kind }] of Object.entries(USER_OPTIONS)) options[option] = { type: 'string', multiple: kind === 'repeated' };
  }
  if (subcommand === 'passwd') Object.assign(options, PASSWORD);
  if (subcommand === 'import') Object.assign(options, { 'from-file': { type: 'string' }, 'from-secret-id': { type: 'string' } });
  const password = args.find((arg) => /^--password(=|$)/.test(arg));
  if (password !== undefined) throw new InputError('a password is never taken on the command line (others see it): use --password-stdin, --generate-password or the prompt');
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true }) as { values: Record<string, unknown>; positionals: string[] };
  } catch (error) {
    throw new InputError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

function openStore(values: Record<string, unknown>, env: UsersCommandIo['env']): UsersStore {
  const given = (['file', 'secret-id', 'table'] as const).filter((option) => values[option] !== undefined);
  if (given.length > 1) throw new InputError(`choose one store: ${given.map((option) => `--${option}`).join(' and ')} were given`);
  const file = stringOption(values, 'file');
  const secretId = stringOption(values, 'secret-id');
  const table = stringOption(values, 'table');
  if (file !== undefined) return new UsersFileStore(file);
  if (secretId !== undefined) return new UsersSecretStore({ client: newSecretsClient(), secretId });
  if (table !== undefined) return tableStore(table, env);
  // Inside the bridge's container: its own setting.
  const configured = (['FTP_USERS_FILE', 'FTP_USERS_SECRET_ID', 'FTP_USERS_TABLE'] as const).filter((name) => env[name]);
  if (configured.length !== 1) {
    throw new InputError(
      configured.length === 0
        ? 'no store given: --file PATH, --secret-id ID or --table NAME (or set FTP_USERS_FILE, FTP_USERS_SECRET_ID or FTP_USERS_TABLE)'
        : `more than one of ${configured.join(', ')} is set: choose with --file, --secret-id or --table`,
    );
  }
  const [variable] = configured;
  const value = env[variable!]!;
  if (variable === 'FTP_USERS_FILE') return new UsersFileStore(value);
  if (variable === 'FTP_USERS_SECRET_ID') return new UsersSecretStore({ client: newSecretsClient(), secretId: value });
  return tableStore(value, env);
}

function tableStore(tableName: string, env: UsersCommandIo['env']): UsersTable {
  const endpoint = env['DYNAMODB_ENDPOINT'] || undefined;
  // A local DynamoDB gets its table on first use, as the bridge does; on AWS the CDK app owns it.
  return new UsersTable({ client: newDynamoClient(endpoint), tableName, createIfMissing: endpoint !== undefined });
}

/** The fields of add's options, as the users document spells them. */
function userFields(values: Record<string, unknown>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [option, { field, kind }] of Object.entries(USER_OPTIONS)) {
    const value = values[option];
    if (value === undefined) continue;
    fields[field] = kind === 'repeated' ? value : valueOf(kind, value as string);
  }
  return fields;
}

/** `FIELD=VALUE` of set: the field and its value (undefined: remove the field). */
function assignment(text: string): [string, unknown] {
  const at = text.indexOf('=');
  if (at <= 0) throw new InputError(`expected FIELD=VALUE, got ${JSON.stringify(text)}`);
  const field = text.slice(0, at);
  const value = text.slice(at + 1);
  if (field === 'passwordHash' || field === 'password') throw new InputError('passwords change with passwd, never on the command line');
  const kind = SETTABLE[field];
  if (kind === undefined) throw new InputError(`${JSON.stringify(field)} is not a field set can change (fields: ${Object.keys(SETTABLE).join(', ')})`);
  return [field, value === '' ? undefined : valueOf(kind, value)];
}

/** Text as the document's value; what does not convert stays text, so the schema's message names the problem. */
function valueOf(kind: FieldKind, text: string): unknown {
  switch (kind) {
    case 'list':
      return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text;
    default:
      return text;
  }
}

/** Changes an existing user's entry, checked as the bridge would check it. */
async function changeUser(store: UsersStore, name: string, change: (entry: StoredEntry) => StoredEntry): Promise<void> {
  await store.change(name, (current) => {
    const entry = find(current, name);
    if (entry === undefined) throw new InputError(`no user ${JSON.stringify(name)} in ${store.description}`);
    return validated(current, name, change(entry));
  });
}

async function requireUser(store: UsersStore, name: string): Promise<void> {
  if (find(await store.read(), name) === undefined) throw new InputError(`no user ${JSON.stringify(name)} in ${store.description}`);
}

/**
 * The entry, if the document with it has no problem it did not have before (a problem
 * elsewhere, left by a hand edit, does not block fixing or changing other users).
 */
function validated(current: StoredUsers, name: string, entry: StoredEntry): StoredEntry {
  const before = new Set(problemsOf(documentText(current)));
  const added = problemsOf(withEntry(current, name, entry)).filter((problem) => !before.has(problem));
  if (added.length > 0) throw new UsersFileError(added);
  return entry;
}

function problemsOf(text: string): readonly string[] {
  try {
    parseUsersDocument(text);
    return [];
  } catch (error) {
    if (error instanceof UsersFileError) return error.problems;
    throw error;
  }
}

function documentText(users: StoredUsers): string {
  return JSON.stringify({ ...users.top, users: users.users });
}

async function passwordOf(values: Record<string, unknown>, io: UsersCommandIo): Promise<{ value: string; generated: boolean }> {
  if (values['password-stdin'] === true && values['generate-password'] === true) {
    throw new InputError('choose one of --password-stdin and --generate-password');
  }
  if (values['generate-password'] === true) return { value: randomBytes(18).toString('base64url'), generated: true };
  if (values['password-stdin'] !== true && !io.stdinIsTerminal) {
    throw new InputError('no password: give --password-stdin (and pipe it), --generate-password, or run at a terminal to be asked');
  }
  const value = await io.readPassword();
  if (value === '') throw new InputError('the password is empty');
  return { value, generated: false };
}

function find(current: StoredUsers, name: string): StoredEntry | undefined {
  return current.users.find((user) => user['username'] === name);
}

function oneName(positionals: readonly string[]): string {
  const [name, ...extra] = positionals;
  if (name === undefined) throw new InputError('a user name is required');
  if (extra.length > 0) throw new InputError(`unexpected argument ${JSON.stringify(extra[0])}`);
  return name;
}

function noArguments(positionals: readonly string[]): void {
  if (positionals.length > 0) throw new InputError(`unexpected argument ${JSON.stringify(positionals[0])}`);
}

function stringOption(values: Record<string, unknown>, name: string): string | undefined {
  const value = values[name];
  if (value === '') throw new InputError(`--${name} needs a value`);
  return typeof value === 'string' ? value : undefined;
}

function withoutHash(entry: StoredEntry): StoredEntry {
  const { passwordHash: _, ...rest } = entry;
  return rest;
}

function indent(lines: readonly string[]): string {
  return lines.map((line) => `  ${line}\n`).join('');
}

function isSubcommand(name: string): name is UsersSubcommand {
  return name !== 'main' && Object.hasOwn(USERS_USAGE, name);
}

function inputError(io: UsersCommandIo, problem: string, subcommand: UsersSubcommand | 'main'): number {
  const help = subcommand === 'main' ? 'ftp-s3-bridge users --help' : `ftp-s3-bridge users ${subcommand} --help`;
  io.stderr.write(`ftp-s3-bridge users${subcommand === 'main' ? '' : ` ${subcommand}`}: ${problem}\n(${help} lists the options)\n`);
  return 2;
}
