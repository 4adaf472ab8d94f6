import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PERMISSIONS, type Permission } from '../../runtime/src/auth/user.ts';
import {
  formatListDate,
  formatListLine,
  formatMlsxEntry,
  formatTimeVal,
  MLST_FACTS,
  mlstFeatureLine,
} from '../../runtime/src/protocol/listing-format.ts';

const ALL = new Set<Permission>(PERMISSIONS);
const NOW = new Date('2026-11-21T12:00:00Z');

test('LIST lines look like vsftpd: mode, links, owner, group, size, date, name', () => {
  const file = { name: 'report 1.csv', kind: 'file' as const, size: 1234, modified: new Date('2026-11-03T08:05:00Z') };
  assert.equal(formatListLine(file, ALL, NOW), '-rw-r--r--    1 ftp      ftp              1234 Nov  3 08:05 report 1.csv');
  const marked = { name: 'in', kind: 'directory' as const, size: 0, modified: new Date('2026-10-01T07:00:00Z') };
  assert.equal(formatListLine(marked, ALL, NOW), 'drwxr-xr-x    1 ftp      ftp                 0 Oct  1 07:00 in');
  assert.match(formatListLine(file, new Set<Permission>(['list', 'read']), NOW), /^-r--r--r-- /);
});

test('a folder with no known date is listed at the time of the listing, never in 1970', () => {
  const folder = { name: 'in', kind: 'directory' as const, size: 0, modified: undefined };
  assert.equal(formatListLine(folder, ALL, NOW), 'drwxr-xr-x    1 ftp      ftp                 0 Nov 21 12:00 in');
});

test('dates within six months show the time, older (or far future) ones the year', () => {
  assert.equal(formatListDate(new Date('2026-06-01T10:00:00Z'), NOW), 'Jun  1 10:00');
  assert.equal(formatListDate(new Date('2026-05-01T10:00:00Z'), NOW), 'May  1  2026');
  assert.equal(formatListDate(new Date('2027-01-01T00:00:00Z'), NOW), 'Jan  1  2027');
});

test('MLSx entries carry the selected facts and the perm fact follows the permissions', () => {
  const file = { name: 'a.txt', kind: 'file' as const, size: 5, modified: new Date('2026-11-21T01:02:03Z') };
  const facts = new Set(MLST_FACTS);
  assert.equal(formatMlsxEntry({ entry: file, name: 'a.txt', facts, permissions: ALL }), 'type=file;size=5;modify=20261121010203;perm=rwadf; a.txt');
  assert.equal(
    formatMlsxEntry({ entry: file, name: 'a.txt', facts: new Set(['type', 'size'] as const), permissions: new Set<Permission>(['read']) }),
    'type=file;size=5; a.txt',
  );
  const dir = { name: 'd', kind: 'directory' as const, size: 0, modified: undefined };
  assert.equal(
    formatMlsxEntry({ entry: dir, name: 'd', facts, permissions: new Set<Permission>(['list']) }),
    'type=dir;perm=el; d',
    'a fact the server does not know is left out (RFC 3659 7.1)',
  );
  const marked = { ...dir, modified: new Date('2026-11-20T00:00:00Z') };
  assert.equal(formatMlsxEntry({ entry: marked, name: 'd', facts, permissions: ALL }), 'type=dir;modify=20261120000000;perm=elcmpdf; d');
  assert.equal(mlstFeatureLine(new Set(['size'] as const)), 'MLST type;size*;modify;perm;');
  assert.equal(formatTimeVal(new Date('2001-02-03T04:05:06Z')), '20010203040506');
});
