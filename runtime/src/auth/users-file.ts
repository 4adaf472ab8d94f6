import { z } from 'zod';
import { normaliseRootPath } from '../storage/store-path.ts';
import { TLS_CLOSE_NOTIFY_MODES, TLS_SESSION_REUSE_MODES } from '../tls-policy.ts';
import { AddressAllowList, AllowListEntryError } from './address-allow-list.ts';
import { isPasswordHash } from './password-hash.ts';
import { PERMISSIONS, type PartnerLimits, type User } from './user.ts';

/** One validated entry of the users document. */
export interface UserRecord extends User {
  readonly passwordHash: string;
  /** undefined = any address. */
  readonly allowFrom: AddressAllowList | undefined;
  /** Logins refused and open sessions ended, until it is set back to false. */
  readonly disabled: boolean;
  /** From this moment (ms since the epoch) logins are refused and open sessions end; undefined = never. */
  readonly expiresAtMs: number | undefined;
}

/**
 * What is wrong with a users document, every problem at once, one a line; the
 * message never contains a password hash.
 */
export class UsersFileError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'UsersFileError';
    this.problems = problems;
  }
}

/**
 * The document version this code writes and knows every field of. A document of a
 * higher version was written for a newer bridge: its unknown fields are warnings (left
 * out, the users kept), so a task of the previous release does not drop every partner
 * during a rolling deploy. In a document of this version or none, an unknown field is
 * an error: it is most likely a typo (`allowfrom`) that would otherwise loosen a rule.
 */
export const USERS_DOCUMENT_VERSION = 1;

const LIMIT_FIELDS = ['maxSessions', 'uploadKiBps', 'downloadKiBps', 'quotaBytes', 'quotaFiles'] as const satisfies ReadonlyArray<keyof PartnerLimits>;

const quoted = (values: readonly string[]): string => values.map((value) => `"${value}"`).join(' or ');
const whole = (least: number, what: string) =>
  z.int({ error: `expected a whole number of ${what}, at least ${least}` }).min(least, `expected a whole number of ${what}, at least ${least}`);

/** A user entry's fields; each message is what the operator reads after `users[2] "acme".field: `. */
const ENTRY = z.object(
  {
    username: z
      .string({ error: 'required, a string' })
      .min(1, 'must be 1 to 128 characters')
      .max(128, 'must be 1 to 128 characters')
      .regex(/^[^\u0000-\u0020\u007f]*$/, 'must not contain spaces or control characters'),
    passwordHash: z
      .string({ error: 'required, a string from "hash-password"' })
      .refine(isPasswordHash, 'not a hash from "hash-password" (expected $scrypt$ln=…,r=…,p=…$salt$key)'),
    home: z.string({ error: "required, a string ('/' for the whole store)" }).transform((raw, context) => {
      try {
        return normaliseRootPath(raw);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
    permissions: z
      .array(z.enum(PERMISSIONS, { error: (issue) => `${JSON.stringify(issue.input)} is not one of ${PERMISSIONS.join(', ')}` }), {
        error: `expected an array of ${PERMISSIONS.join(', ')}`,
      })
      .optional(),
    allowFrom: z
      .custom<string[]>((value) => Array.isArray(value) && value.every((cidr) => typeof cidr === 'string'), {
        error: 'expected an array of CIDR strings such as "203.0.113.0/24"',
      })
      .transform((cidrs, context) => {
        try {
          return AddressAllowList.parse(cidrs);
        } catch (error) {
          if (!(error instanceof AllowListEntryError)) throw error;
          context.addIssue({ code: 'custom', message: error.message, path: [error.index] });
          return z.NEVER;
        }
      })
      .optional(),
    tlsSessionReuse: z
      .enum(TLS_SESSION_REUSE_MODES, { error: `expected ${quoted(TLS_SESSION_REUSE_MODES)} (for clients that cannot resume TLS sessions)` })
      .optional(),
    tlsCloseNotify: z
      .enum(TLS_CLOSE_NOTIFY_MODES, { error: `expected ${quoted(TLS_CLOSE_NOTIFY_MODES)} (for clients that never send a TLS close_notify)` })
      .optional(),
    disabled: z.boolean({ error: 'expected true or false' }).optional(),
    expiresAt: z.iso
      .datetime({ offset: true, error: 'expected an ISO-8601 time with a zone, such as "2027-06-30T23:59:59Z"' })
      .optional(),
    maxSessions: whole(1, 'sessions').optional(),
    uploadKiBps: whole(1, 'KiB per second').optional(),
    downloadKiBps: whole(1, 'KiB per second').optional(),
    quotaBytes: whole(0, 'bytes').optional(),
    quotaFiles: whole(0, 'files').optional(),
  },
  { error: 'expected an object' },
);

/** The fields of a user entry this version knows, in the order the command line shows them. */
export const USER_FIELDS: readonly string[] = Object.keys(ENTRY.shape);

const DOCUMENT = z.object(
  {
    version: z.int({ error: 'expected a whole number, at least 1' }).min(1, 'expected a whole number, at least 1').optional(),
    users: z.array(z.unknown(), { error: '"users" must be an array' }),
  },
  { error: 'expected a JSON object {"users": [...]}' },
);
const DOCUMENT_FIELDS = Object.keys(DOCUMENT.shape);

export interface ParseOptions {
  /** Called with each unknown field of a document of a newer version (which is then left out). */
  readonly onWarning?: (warning: string) => void;
}

/**
 * Parses and checks a users document:
 * `{"version"?: 1, "users": [{"username", "passwordHash", "home", …}]}` (the fields are
 * ENTRY above; docs/partners.md describes them). Usernames are case-sensitive and must
 * be unique. Throws a UsersFileError listing every problem, each naming the entry
 * (`users[2] "acme"`) and the field.
 */
export function parseUsersDocument(text: string, options: ParseOptions = {}): UserRecord[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    // V8's message can quote the text around the error, which may be a hash: keep only the position.
    const position = /at position \d+(?: \(line \d+ column \d+\))?/.exec((error as Error).message);
    throw new UsersFileError([`not valid JSON${position === null ? '' : ` (${position[0]})`}`]);
  }
  const top = DOCUMENT.safeParse(document);
  if (!top.success) {
    throw new UsersFileError(top.error.issues.map((issue) => (issue.path.length === 0 ? issue.message : `${issue.path.join('.')}: ${issue.message}`)));
  }
  const newer = (top.data.version ?? USERS_DOCUMENT_VERSION) > USERS_DOCUMENT_VERSION;
  const problems: string[] = [];
  // `where` names the field: `users[2] "acme".allowfrom`, or `top-level field "groups"`.
  const unknownField = (where: string, known: readonly string[]): void => {
    if (newer) options.onWarning?.(`${where}: unknown to this version (document version ${top.data.version}); ignored`);
    else problems.push(`${where}: unknown field (known: ${known.join(', ')})`);
  };
  for (const key of Object.keys(document as object)) {
    if (!DOCUMENT_FIELDS.includes(key)) unknownField(`top-level field ${JSON.stringify(key)}`, DOCUMENT_FIELDS);
  }

  const records: UserRecord[] = [];
  const seen = new Set<string>();
  top.data.users.forEach((entry, index) => {
    const rawName = isPlainObject(entry) ? entry['username'] : undefined;
    const named = typeof rawName === 'string' && ENTRY.shape.username.safeParse(rawName).success;
    const label = named ? `users[${index}] ${JSON.stringify(rawName)}` : `users[${index}]`;
    if (named && seen.has(rawName)) problems.push(`${label}: duplicate username`);
    if (named) seen.add(rawName);
    if (isPlainObject(entry)) {
      for (const key of Object.keys(entry)) {
        if (!USER_FIELDS.includes(key)) unknownField(`${label}.${key}`, USER_FIELDS);
      }
    }
    const parsed = ENTRY.safeParse(entry);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${label}${pathText(issue.path)}: ${issue.message}`);
      return;
    }
    const fields = parsed.data;
    const limits: Record<string, number> = {};
    for (const name of LIMIT_FIELDS) if (fields[name] !== undefined) limits[name] = fields[name];
    records.push({
      username: fields.username,
      passwordHash: fields.passwordHash,
      home: fields.home,
      permissions: new Set(fields.permissions ?? PERMISSIONS),
      allowFrom: fields.allowFrom,
      disabled: fields.disabled ?? false,
      expiresAtMs: fields.expiresAt === undefined ? undefined : Date.parse(fields.expiresAt),
      ...(fields.tlsSessionReuse ? { tlsSessionReuse: fields.tlsSessionReuse } : {}),
      ...(fields.tlsCloseNotify ? { tlsCloseNotify: fields.tlsCloseNotify } : {}),
      ...(Object.keys(limits).length > 0 ? { limits: limits as PartnerLimits } : {}),
    });
  });
  if (problems.length > 0) throw new UsersFileError(problems);
  return records;
}

/** `.home`, `.permissions[1]`: the path of a problem inside an entry. */
function pathText(path: readonly PropertyKey[]): string {
  return path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
