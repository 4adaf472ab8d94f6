import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { hashPassword } from '../../runtime/src/auth/password-hash.ts';
import { PERMISSIONS } from '../../runtime/src/auth/user.ts';
import { parseUsersDocument, UsersFileError } from '../../runtime/src/auth/users-file.ts';

let hash = '';
before(async () => {
  hash = await hashPassword('secret', { parameters: { logN: 10, r: 8, p: 1 } });
});

function documentOf(...users: unknown[]): string {
  return JSON.stringify({ users });
}

function usersFileError(text: string): UsersFileError {
  try {
    parseUsersDocument(text);
  } catch (error) {
    assert.ok(error instanceof UsersFileError, String(error));
    return error;
  }
  assert.fail('expected a UsersFileError');
}

describe('parseUsersDocument', () => {
  test('a full entry', () => {
    const [acme, ...rest] = parseUsersDocument(
      documentOf({
        username: 'acme',
        passwordHash: hash,
        home: 'partners/acme/',
        permissions: ['list', 'read'],
        allowFrom: ['203.0.113.0/24', '2001:db8::/32'],
      }),
    );
    assert.equal(rest.length, 0);
    assert.ok(acme);
    assert.equal(acme.username, 'acme');
    assert.equal(acme.passwordHash, hash);
    assert.equal(acme.home, 'partners/acme');
    assert.deepEqual([...acme.permissions], ['list', 'read']);
    assert.equal(acme.allowFrom?.allows('203.0.113.10'), true);
    assert.equal(acme.allowFrom?.allows('192.0.2.1'), false);
  });

  test('tlsCloseNotify overrides FTP_TLS_CLOSE_NOTIFY for one user, and is left out when not set', () => {
    const [dotnet, other] = parseUsersDocument(
      documentOf({ username: 'dotnet', passwordHash: hash, home: 'd', tlsCloseNotify: 'optional' }, { username: 'o', passwordHash: hash, home: 'o' }),
    );
    assert.equal(dotnet?.tlsCloseNotify, 'optional');
    assert.equal(other !== undefined && 'tlsCloseNotify' in other, false);
  });

  test('defaults: all six permissions, any address', () => {
    const [user] = parseUsersDocument(documentOf({ username: 'u', passwordHash: hash, home: '/' }));
    assert.deepEqual([...(user?.permissions ?? [])], [...PERMISSIONS]);
    assert.equal(user?.allowFrom, undefined);
    assert.equal(user?.home, '');
  });

  test('home normalisation', () => {
    const homes = parseUsersDocument(
      documentOf(
        { username: 'a', passwordHash: hash, home: '' },
        { username: 'b', passwordHash: hash, home: '/x/y/' },
        { username: 'c', passwordHash: hash, home: 'x//y' },
      ),
    ).map((user) => user.home);
    assert.deepEqual(homes, ['', 'x/y', 'x/y']);
  });

  test('empty lists: no permissions; allowFrom [] admits no address', () => {
    const [user] = parseUsersDocument(
      documentOf({ username: 'u', passwordHash: hash, home: 'h', permissions: [], allowFrom: [] }),
    );
    assert.equal(user?.permissions.size, 0);
    assert.equal(user?.allowFrom?.allows('203.0.113.1'), false);
  });

  test('usernames are case-sensitive: Acme and acme are two users', () => {
    const users = parseUsersDocument(
      documentOf({ username: 'acme', passwordHash: hash, home: 'a' }, { username: 'Acme', passwordHash: hash, home: 'b' }),
    );
    assert.equal(users.length, 2);
  });

  test('an empty users list is valid', () => {
    assert.deepEqual(parseUsersDocument('{"users":[]}'), []);
  });

  test('disabled, expiresAt and the five limits; limits left out when none is set', () => {
    const [acme, other] = parseUsersDocument(
      documentOf(
        {
          username: 'acme',
          passwordHash: hash,
          home: 'a',
          disabled: true,
          expiresAt: '2027-06-30T23:59:59+02:00',
          maxSessions: 4,
          uploadKiBps: 512,
          downloadKiBps: 1024,
          quotaBytes: 0,
          quotaFiles: 1000,
        },
        { username: 'o', passwordHash: hash, home: 'o' },
      ),
    );
    assert.equal(acme?.disabled, true);
    assert.equal(acme?.expiresAtMs, Date.parse('2027-06-30T21:59:59Z'));
    assert.deepEqual(acme?.limits, { maxSessions: 4, uploadKiBps: 512, downloadKiBps: 1024, quotaBytes: 0, quotaFiles: 1000 });
    assert.equal(other?.disabled, false);
    assert.equal(other?.expiresAtMs, undefined);
    assert.equal(other !== undefined && 'limits' in other, false);
  });

  test('every problem of a document is reported at once, one a line', () => {
    const error = usersFileError(
      documentOf(
        { username: 'acme', passwordHash: 'hunter2', home: '..', maxSessions: 0 },
        { username: 'beta', passwordHash: hash, home: 'b', expiresAt: 'tomorrow', quotaBytes: 1.5 },
        { username: 'acme', passwordHash: hash, home: 'c' },
      ),
    );
    assert.deepEqual(
      error.problems.map((problem) => problem.replace(/:.*/, '')),
      ['users[0] "acme".passwordHash', 'users[0] "acme".home', 'users[0] "acme".maxSessions', 'users[1] "beta".expiresAt', 'users[1] "beta".quotaBytes', 'users[2] "acme"'],
    );
    assert.equal(error.message.split('\n').length, 6);
    assert.ok(!error.message.includes('hunter2'));
  });

  describe('rollouts: a document written for a newer version', () => {
    const entry = (): Record<string, unknown> => ({ username: 'acme', passwordHash: hash, home: 'h', maxSessions: 2, geoFence: ['EU'] });

    test('keeps its users, leaves out the unknown fields and warns about each', () => {
      const warnings: string[] = [];
      const users = parseUsersDocument(JSON.stringify({ version: 2, users: [entry()], groups: [] }), { onWarning: (warning) => warnings.push(warning) });
      assert.equal(users.length, 1);
      assert.deepEqual(users[0]?.limits, { maxSessions: 2 });
      assert.deepEqual(warnings, [
        'top-level field "groups": unknown to this version (document version 2); ignored',
        'users[0] "acme".geoFence: unknown to this version (document version 2); ignored',
      ]);
    });

    test('a known field with a bad value is still an error', () => {
      assert.match(usersFileError(JSON.stringify({ version: 2, users: [{ ...entry(), maxSessions: -1 }] })).message, /maxSessions: expected a whole number/);
    });

    test('in a document of this version (or none) an unknown field is an error: likely a typo', () => {
      for (const version of [undefined, 1]) {
        assert.match(usersFileError(JSON.stringify({ version, users: [entry()] })).message, /^users\[0\] "acme"\.geoFence: unknown field/);
      }
    });
  });

  describe('rejections name the entry and the field, never the hash', () => {
    const valid = (): Record<string, unknown> => ({ username: 'acme', passwordHash: hash, home: 'h' });
    const cases: ReadonlyArray<readonly [name: string, text: () => string, message: RegExp]> = [
      ['not JSON', () => '{"users": [', /^not valid JSON/],
      ['not an object', () => '[]', /expected a JSON object/],
      ['unknown top-level field', () => '{"users": [], "groups": []}', /^top-level field "groups": unknown field/],
      ['users not an array', () => '{"users": {}}', /"users" must be an array/],
      ['entry not an object', () => documentOf('acme'), /^users\[0\]: expected an object/],
      ['missing username', () => documentOf({ passwordHash: hash, home: 'h' }), /^users\[0\]\.username: required/],
      ['empty username', () => documentOf({ ...valid(), username: '' }), /^users\[0\]\.username: must be 1 to 128/],
      ['username with a space', () => documentOf({ ...valid(), username: 'a b' }), /^users\[0\]\.username: must not contain spaces/],
      ['username with a control character', () => documentOf({ ...valid(), username: 'a\u0001' }), /^users\[0\]\.username:/],
      ['unknown field', () => documentOf({ ...valid(), password: 'x' }), /^users\[0\] "acme"\.password: unknown field/],
      ['missing hash', () => documentOf({ username: 'acme', home: 'h' }), /^users\[0\] "acme"\.passwordHash: required/],
      [
        'malformed hash',
        () => documentOf({ ...valid(), passwordHash: hash.slice(0, -3) }),
        /^users\[0\] "acme"\.passwordHash: not a hash from "hash-password"/,
      ],
      ['plain-text password as hash', () => documentOf({ ...valid(), passwordHash: 'hunter2' }), /passwordHash: not a hash/],
      ['missing home', () => documentOf({ username: 'acme', passwordHash: hash }), /^users\[0\] "acme"\.home: required/],
      ['home with ..', () => documentOf({ ...valid(), home: 'partners/../other' }), /^users\[0\] "acme"\.home: contains a '\.' or '\.\.'/],
      ['home with NUL', () => documentOf({ ...valid(), home: 'a\u0000b' }), /^users\[0\] "acme"\.home: contains control characters/],
      ['home not a string', () => documentOf({ ...valid(), home: 5 }), /^users\[0\] "acme"\.home: required, a string/],
      ['permissions not an array', () => documentOf({ ...valid(), permissions: 'read' }), /^users\[0\] "acme"\.permissions: expected an array/],
      ['unknown permission', () => documentOf({ ...valid(), permissions: ['read', 'admin'] }), /^users\[0\] "acme"\.permissions\[1\]: "admin" is not one of/],
      ['allowFrom not a list of strings', () => documentOf({ ...valid(), allowFrom: [24] }), /^users\[0\] "acme"\.allowFrom: expected an array/],
      ['bad CIDR', () => documentOf({ ...valid(), allowFrom: ['10.0.0.0/8', '10.0.0.0/33'] }), /^users\[0\] "acme"\.allowFrom\[1\]: "10\.0\.0\.0\/33" has a bad prefix/],
      ['tlsCloseNotify not a mode', () => documentOf({ ...valid(), tlsCloseNotify: 'never' }), /^users\[0\] "acme"\.tlsCloseNotify: expected "required" or "optional"/],
      ['disabled not a boolean', () => documentOf({ ...valid(), disabled: 'yes' }), /^users\[0\] "acme"\.disabled: expected true or false/],
      ['expiresAt without a zone', () => documentOf({ ...valid(), expiresAt: '2027-01-01T00:00:00' }), /^users\[0\] "acme"\.expiresAt: expected an ISO-8601 time with a zone/],
      ['maxSessions zero', () => documentOf({ ...valid(), maxSessions: 0 }), /^users\[0\] "acme"\.maxSessions: expected a whole number of sessions, at least 1/],
      ['uploadKiBps a string', () => documentOf({ ...valid(), uploadKiBps: '100' }), /^users\[0\] "acme"\.uploadKiBps: expected a whole number/],
      ['downloadKiBps fractional', () => documentOf({ ...valid(), downloadKiBps: 1.5 }), /^users\[0\] "acme"\.downloadKiBps: expected a whole number/],
      ['quotaBytes negative', () => documentOf({ ...valid(), quotaBytes: -1 }), /^users\[0\] "acme"\.quotaBytes: expected a whole number of bytes, at least 0/],
      ['quotaFiles beyond a safe integer', () => documentOf({ ...valid(), quotaFiles: 2 ** 60 }), /^users\[0\] "acme"\.quotaFiles: expected a whole number/],
      ['version not a number', () => JSON.stringify({ version: 'two', users: [] }), /^version: expected a whole number/],
      [
        'duplicate username',
        () => documentOf(valid(), { username: 'other', passwordHash: hash, home: 'o' }, valid()),
        /^users\[2\] "acme": duplicate username/,
      ],
      [
        'the second entry is bad',
        () => documentOf(valid(), { username: 'beta', passwordHash: hash, home: '..' }),
        /^users\[1\] "beta"\.home:/,
      ],
    ];
    for (const [name, text, message] of cases) {
      test(name, () => {
        const error = usersFileError(text());
        assert.match(error.message, message);
        assert.ok(!error.message.includes(hash.slice(20)), 'the message must not contain the hash');
        assert.ok(!error.message.includes('hunter2'), 'the message must not contain a password');
      });
    }

    test('JSON syntax errors keep only the position, not the text around it', () => {
      const error = usersFileError(`{"users": [{"username": "a", "passwordHash": "${hash}" "home": "x"}]}`);
      assert.match(error.message, /^not valid JSON \(at position \d+/);
      assert.ok(!error.message.includes('scrypt'), error.message);
    });
  });
});
