import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AddressAllowList, AllowListEntryError, parseCidr } from '../../runtime/src/auth/address-allow-list.ts';
import { formatIpAddress, parseIpAddress } from '../../runtime/src/auth/ip-address.ts';

describe('parseIpAddress / formatIpAddress', () => {
  const cases: ReadonlyArray<readonly [input: string, canonical: string | undefined]> = [
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::FFFF:c000:0201', '192.0.2.1'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:db8:1:1:1:1:1:1', '2001:db8:1:1:1:1:1:1'],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
    ['192.0.2.256', undefined],
    ['example.com', undefined],
    ['', undefined],
  ];
  for (const [input, canonical] of cases) {
    test(input || '(empty)', () => {
      const address = parseIpAddress(input);
      assert.equal(address === undefined ? undefined : formatIpAddress(address), canonical);
    });
  }
});

describe('parseCidr', () => {
  test('IPv4, IPv6 and bare addresses', () => {
    assert.deepEqual(parseCidr('203.0.113.0/24'), { family: 'ipv4', network: '203.0.113.0', prefixLength: 24 });
    assert.deepEqual(parseCidr('203.0.113.7'), { family: 'ipv4', network: '203.0.113.7', prefixLength: 32 });
    assert.deepEqual(parseCidr('0.0.0.0/0'), { family: 'ipv4', network: '0.0.0.0', prefixLength: 0 });
    assert.deepEqual(parseCidr('2001:DB8::/32'), { family: 'ipv6', network: '2001:db8::', prefixLength: 32 });
    assert.deepEqual(parseCidr('2001:db8::1'), { family: 'ipv6', network: '2001:db8::1', prefixLength: 128 });
    assert.deepEqual(parseCidr('::/0'), { family: 'ipv6', network: '::', prefixLength: 0 });
  });

  test('bad entries say what is wrong', () => {
    const cases: ReadonlyArray<readonly [input: string, problem: RegExp]> = [
      ['203.0.113.5/24', /host bits set; did you mean 203\.0\.113\.0\/24\?/],
      ['2001:db8::1/32', /host bits set; did you mean 2001:db8::\/32\?/],
      ['203.0.113.0/33', /bad prefix length \(0-32 for IPv4\)/],
      ['2001:db8::/129', /bad prefix length \(0-128 for IPv6\)/],
      ['203.0.113.0/', /bad prefix length/],
      ['203.0.113.0/-1', /bad prefix length/],
      ['203.0.113.0/2a', /bad prefix length/],
      ['203.0.113/24', /not an IPv4 or IPv6 address/],
      ['example.com/24', /not an IPv4 or IPv6 address/],
      ['fe80::%eth0/64', /zone/],
      ['::ffff:203.0.113.0/120', /write it as IPv4/],
      ['', /not an IPv4 or IPv6 address/],
    ];
    for (const [input, problem] of cases) assert.throws(() => parseCidr(input), problem, input);
  });
});

describe('AddressAllowList', () => {
  const list = AddressAllowList.parse(['203.0.113.0/24', '198.51.100.7', '2001:db8:abcd::/48']);

  test('IPv4 ranges and single addresses', () => {
    assert.equal(list.allows('203.0.113.0'), true);
    assert.equal(list.allows('203.0.113.255'), true);
    assert.equal(list.allows('203.0.114.1'), false);
    assert.equal(list.allows('198.51.100.7'), true);
    assert.equal(list.allows('198.51.100.8'), false);
  });

  test('IPv4-mapped IPv6 client addresses match IPv4 entries', () => {
    assert.equal(list.allows('::ffff:203.0.113.9'), true);
    assert.equal(list.allows('::FFFF:198.51.100.7'), true);
    assert.equal(list.allows('::ffff:203.0.114.9'), false);
  });

  test('IPv6 ranges', () => {
    assert.equal(list.allows('2001:db8:abcd::1'), true);
    assert.equal(list.allows('2001:db8:abcd:ffff:ffff:ffff:ffff:ffff'), true);
    assert.equal(list.allows('2001:DB8:ABCD:0::2'), true);
    assert.equal(list.allows('2001:db8:abce::1'), false);
    assert.equal(list.allows('fe80::1%eth0'), false);
  });

  test('IPv4 entries do not match IPv6 addresses and vice versa', () => {
    const v4Only = AddressAllowList.parse(['0.0.0.0/0']);
    assert.equal(v4Only.allows('10.1.2.3'), true);
    assert.equal(v4Only.allows('2001:db8::1'), false);
    const v6Only = AddressAllowList.parse(['::/0']);
    assert.equal(v6Only.allows('2001:db8::1'), true);
    assert.equal(v6Only.allows('10.1.2.3'), false);
    assert.equal(v6Only.allows('::ffff:10.1.2.3'), false);
  });

  test('garbage addresses and an empty list allow nothing', () => {
    assert.equal(list.allows('not an address'), false);
    assert.equal(list.allows(''), false);
    assert.equal(AddressAllowList.parse([]).allows('203.0.113.1'), false);
  });

  test('a bad entry reports its index', () => {
    assert.throws(
      () => AddressAllowList.parse(['203.0.113.0/24', '10.0.0.1/8']),
      (error: unknown) => error instanceof AllowListEntryError && error.index === 1 && /host bits/.test(error.message),
    );
  });
});
