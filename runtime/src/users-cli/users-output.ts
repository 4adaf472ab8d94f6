import type { StoredEntry } from '../sources/users-store.ts';

/** What a user's entry means now: `enabled`, `disabled`, `expired`, or `expires TIME`. */
export function stateOf(entry: StoredEntry, now: number): string {
  if (entry['disabled'] === true) return 'disabled';
  const expiresAt = entry['expiresAt'];
  if (typeof expiresAt !== 'string') return 'enabled';
  return Date.parse(expiresAt) <= now ? 'expired' : `expires ${expiresAt}`;
}

const LIMITS = ['maxSessions', 'uploadKiBps', 'downloadKiBps', 'quotaBytes', 'quotaFiles'] as const;

/** One line per user, in columns. */
export function renderList(users: readonly StoredEntry[], now: number): string {
  if (users.length === 0) return 'no users\n';
  const rows = [
    ['USERNAME', 'HOME', 'PERMISSIONS', 'STATE', 'ALLOW FROM', 'LIMITS'],
    ...users.map((entry) => [
      String(entry['username']),
      `/${String(entry['home'] ?? '').replace(/^\/+|\/+$/g, '')}`,
      Array.isArray(entry['permissions']) ? entry['permissions'].join(',') || '(none)' : 'all',
      stateOf(entry, now),
      Array.isArray(entry['allowFrom']) ? entry['allowFrom'].join(',') || '(none)' : 'any',
      LIMITS.filter((name) => entry[name] !== undefined).map((name) => `${name}=${String(entry[name])}`).join(' ') || '-',
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')).join('\n') + '\n';
}

/** `field: value` lines; the password hash only as "(set)". */
export function renderEntry(entry: StoredEntry, now: number): string {
  const lines = Object.entries(entry).map(([field, value]) => {
    if (field === 'passwordHash') return 'passwordHash: (set)';
    return `${field}: ${Array.isArray(value) ? value.join(', ') : String(value)}`;
  });
  lines.push(`state: ${stateOf(entry, now)}`);
  return `${lines.join('\n')}\n`;
}
