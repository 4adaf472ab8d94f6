import type { Permission } from '../auth/user.ts';
import type { EntryInfo } from '../storage/object-store.ts';

/**
 * Listing formats. LIST lines follow the Unix `ls -l` layout vsftpd and ProFTPD
 * emit, which FileZilla, WinSCP, curl, lftp and wget all parse; MLSx facts follow
 * RFC 3659 section 7. Times are UTC.
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SIX_MONTHS_MS = 182 * 24 * 3600 * 1000;

/**
 * `ls -l` needs a date in every line. S3 keeps none for most folders; such a folder
 * shows the time of the listing: a 1970 date reads as a restored or emptied folder.
 */
export function formatListLine(entry: EntryInfo, permissions: ReadonlySet<Permission>, now: Date): string {
  const isDirectory = entry.kind === 'directory';
  const write = permissions.has('write') ? 'w' : '-';
  const mode = isDirectory ? `drwx${'r-x'}r-x` : `-r${write}-r--r--`;
  const size = String(entry.size).padStart(12, ' ');
  return `${mode}    1 ftp      ftp      ${size} ${formatListDate(entry.modified ?? now, now)} ${entry.name}`;
}

/** "Nov 21 12:00" within six months of now, "Nov 21  2024" otherwise (as ls does). */
export function formatListDate(date: Date, now: Date): string {
  const month = MONTHS[date.getUTCMonth()];
  const day = String(date.getUTCDate()).padStart(2, ' ');
  const age = now.getTime() - date.getTime();
  if (age >= -3600_000 && age < SIX_MONTHS_MS) {
    return `${month} ${day} ${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}`;
  }
  return `${month} ${day}  ${date.getUTCFullYear()}`;
}

/** RFC 3659 time-val: YYYYMMDDHHMMSS (UTC). */
export function formatTimeVal(date: Date): string {
  return (
    `${date.getUTCFullYear()}${pad2(date.getUTCMonth() + 1)}${pad2(date.getUTCDate())}` +
    `${pad2(date.getUTCHours())}${pad2(date.getUTCMinutes())}${pad2(date.getUTCSeconds())}`
  );
}

/** RFC 3659 time-val, "YYYYMMDDHHMMSS[.sss]" (UTC), or undefined when it is not one. */
export function parseTimeVal(text: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,3}))?$/.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Number((match[7] ?? '').padEnd(3, '0'));
  const time = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
  // Date.UTC rolls "20240231" over into March: only a real calendar time is one.
  if (time.getUTCFullYear() !== year || time.getUTCMonth() !== month - 1 || time.getUTCDate() !== day) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  return time;
}

export const MLST_FACTS = ['type', 'size', 'modify', 'perm'] as const;
export type MlstFact = (typeof MLST_FACTS)[number];

/** The FEAT line: every fact, '*' on those currently selected. */
export function mlstFeatureLine(selected: ReadonlySet<MlstFact>): string {
  return `MLST ${MLST_FACTS.map((fact) => `${fact}${selected.has(fact) ? '*' : ''};`).join('')}`;
}

/**
 * One MLSx entry: "fact=value;...; name". `type` is cdir/pdir/dir/file; `name` is
 * what follows the single space (a bare name for MLSD, the path for MLST).
 */
export function formatMlsxEntry(options: {
  readonly entry: EntryInfo;
  readonly name: string;
  readonly type?: 'cdir' | 'pdir';
  readonly facts: ReadonlySet<MlstFact>;
  readonly permissions: ReadonlySet<Permission>;
}): string {
  const { entry, facts } = options;
  const parts: string[] = [];
  if (facts.has('type')) parts.push(`type=${options.type ?? (entry.kind === 'directory' ? 'dir' : 'file')}`);
  if (facts.has('size') && entry.kind === 'file') parts.push(`size=${entry.size}`);
  // RFC 3659 7.1: a fact the server does not know is left out, not invented.
  if (facts.has('modify') && entry.modified !== undefined) parts.push(`modify=${formatTimeVal(entry.modified)}`);
  if (facts.has('perm')) parts.push(`perm=${permFact(entry.kind, options.permissions)}`);
  return `${parts.map((part) => `${part};`).join('')} ${options.name}`;
}

/** RFC 3659 7.5.5: what this user may do with the entry. */
function permFact(kind: EntryInfo['kind'], permissions: ReadonlySet<Permission>): string {
  const flags: Array<[string, Permission]> =
    kind === 'file'
      ? [['r', 'read'], ['w', 'write'], ['a', 'write'], ['d', 'delete'], ['f', 'rename']]
      : [['e', 'list'], ['l', 'list'], ['c', 'write'], ['m', 'mkdir'], ['p', 'delete'], ['d', 'delete'], ['f', 'rename']];
  return flags.filter(([, permission]) => permissions.has(permission)).map(([flag]) => flag).join('');
}

function pad2(value: number): string {
  return String(value).padStart(2, '0');
}
