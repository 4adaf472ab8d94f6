import { normaliseRootPath } from '../storage/store-path.ts';
import { TLS_CLOSE_NOTIFY_MODES, TLS_SESSION_REUSE_MODES, type TlsCloseNotify, type TlsSessionReuse } from '../tls-policy.ts';
import { AddressAllowList, AllowListEntryError } from './address-allow-list.ts';
import { isPasswordHash } from './password-hash.ts';
import { PERMISSIONS, type PartnerLimits, type Permission, type User } from './user.ts';

/** One validated entry of the users document. */
export interface UserRecord extends User {
  readonly passwordHash: string;
  /** undefined = any address. */
  readonly allowFrom: AddressAllowList | undefined;
}

/** What is wrong with a users document; the message never contains a password hash. */
export class UsersFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsersFileError';
  }
}

/** The per-partner limits, each a plain optional field of an entry: a positive whole number. */
const LIMIT_FIELDS = ['maxSessions', 'uploadKiBps', 'downloadKiBps', 'quotaBytes', 'quotaFiles'] as const satisfies ReadonlyArray<keyof PartnerLimits>;

const USER_FIELDS = new Set(['username', 'passwordHash', 'home', 'permissions', 'allowFrom', 'tlsSessionReuse', 'tlsCloseNotify', ...LIMIT_FIELDS]);

/**
 * Parses and checks a users document:
 * `{"users":[{"username","passwordHash","home","permissions"?,"allowFrom"?,"tlsSessionReuse"?,"tlsCloseNotify"?}]}`.
 * Usernames are case-sensitive and must be unique. Throws UsersFileError naming the
 * entry (`users[2] "acme"`) and the field.
 */
export function parseUsersDocument(text: string): UserRecord[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    // V8's message can quote the text around the error, which may be a hash: keep only the position.
    const position = /at position \d+(?: \(line \d+ column \d+\))?/.exec((error as Error).message);
    throw new UsersFileError(`not valid JSON${position === null ? '' : ` (${position[0]})`}`);
  }
  if (!isPlainObject(document)) throw new UsersFileError('expected a JSON object {"users": [...]}');
  for (const key of Object.keys(document)) {
    if (key !== 'users') throw new UsersFileError(`unknown top-level field ${JSON.stringify(key)} (only "users")`);
  }
  const entries = document['users'];
  if (!Array.isArray(entries)) throw new UsersFileError('"users" must be an array');

  const seen = new Set<string>();
  return entries.map((entry: unknown, index) => {
    const record = parseEntry(entry, index);
    if (seen.has(record.username)) {
      throw new UsersFileError(`users[${index}] ${JSON.stringify(record.username)}: duplicate username`);
    }
    seen.add(record.username);
    return record;
  });
}

function parseEntry(entry: unknown, index: number): UserRecord {
  if (!isPlainObject(entry)) throw new UsersFileError(`users[${index}]: expected an object`);
  let label = `users[${index}]`;
  const fail = (field: string, problem: string): never => {
    throw new UsersFileError(`${label}.${field}: ${problem}`);
  };

  const username = entry['username'];
  if (typeof username !== 'string') return fail('username', 'required, a string');
  if (username.length === 0 || username.length > 128) return fail('username', 'must be 1 to 128 characters');
  if (/[\u0000-\u0020\u007f]/.test(username)) return fail('username', 'must not contain spaces or control characters');
  label = `users[${index}] ${JSON.stringify(username)}`;

  for (const key of Object.keys(entry)) {
    if (!USER_FIELDS.has(key)) fail(key, `unknown field (known: ${[...USER_FIELDS].join(', ')})`);
  }

  const passwordHash = entry['passwordHash'];
  if (typeof passwordHash !== 'string') return fail('passwordHash', 'required, a string from "hash-password"');
  if (!isPasswordHash(passwordHash)) {
    return fail('passwordHash', 'not a hash from "hash-password" (expected $scrypt$ln=…,r=…,p=…$salt$key)');
  }

  const rawHome = entry['home'];
  if (typeof rawHome !== 'string') return fail('home', "required, a string ('/' for the whole store)");
  let home: string;
  try {
    home = normaliseRootPath(rawHome);
  } catch (error) {
    return fail('home', (error as Error).message);
  }

  let permissions: ReadonlySet<Permission> = new Set(PERMISSIONS);
  const rawPermissions = entry['permissions'];
  if (rawPermissions !== undefined) {
    if (!Array.isArray(rawPermissions)) return fail('permissions', `expected an array of ${PERMISSIONS.join(', ')}`);
    const granted = new Set<Permission>();
    rawPermissions.forEach((permission: unknown, position) => {
      if (typeof permission !== 'string' || !isPermission(permission)) {
        fail(`permissions[${position}]`, `${JSON.stringify(permission)} is not one of ${PERMISSIONS.join(', ')}`);
      } else {
        granted.add(permission);
      }
    });
    permissions = granted;
  }

  let allowFrom: AddressAllowList | undefined;
  const rawAllowFrom = entry['allowFrom'];
  if (rawAllowFrom !== undefined) {
    if (!Array.isArray(rawAllowFrom) || !rawAllowFrom.every((cidr: unknown) => typeof cidr === 'string')) {
      return fail('allowFrom', 'expected an array of CIDR strings such as "203.0.113.0/24"');
    }
    try {
      allowFrom = AddressAllowList.parse(rawAllowFrom as string[]);
    } catch (error) {
      if (error instanceof AllowListEntryError) return fail(`allowFrom[${error.index}]`, error.message);
      throw error;
    }
  }

  const rawReuse = entry['tlsSessionReuse'];
  if (rawReuse !== undefined && !(TLS_SESSION_REUSE_MODES as readonly unknown[]).includes(rawReuse)) {
    return fail('tlsSessionReuse', `expected ${TLS_SESSION_REUSE_MODES.map((mode) => `"${mode}"`).join(' or ')} (for clients that cannot resume TLS sessions)`);
  }
  const tlsSessionReuse = rawReuse as TlsSessionReuse | undefined;

  const rawCloseNotify = entry['tlsCloseNotify'];
  if (rawCloseNotify !== undefined && !(TLS_CLOSE_NOTIFY_MODES as readonly unknown[]).includes(rawCloseNotify)) {
    return fail('tlsCloseNotify', `expected ${TLS_CLOSE_NOTIFY_MODES.map((mode) => `"${mode}"`).join(' or ')} (for clients that never send a TLS close_notify)`);
  }
  const tlsCloseNotify = rawCloseNotify as TlsCloseNotify | undefined;

  const limits: { -readonly [K in keyof PartnerLimits]: number } = {};
  for (const field of LIMIT_FIELDS) {
    const value = entry[field];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) fail(field, 'expected a whole number of at least 1 (leave it out for no limit)');
    limits[field] = value as number;
  }

  return {
    username,
    passwordHash,
    home,
    permissions,
    allowFrom,
    ...(tlsSessionReuse ? { tlsSessionReuse } : {}),
    ...(tlsCloseNotify ? { tlsCloseNotify } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
  };
}

function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
