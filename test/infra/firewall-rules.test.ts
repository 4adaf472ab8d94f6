import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { firewallRules, firewallTable } from '../../lib/firewall-rules.ts';
import { readFirewallBlock, renderFirewallTable } from '../../lib/firewall-table-markdown.ts';
import { CONTAINER_PORTS } from '../../lib/deployment-ports.ts';
import { defaultSettings, REPOSITORY_ROOT, settingsWith } from './stack-fixture.ts';

const key = (rule: { group: string; direction: string; ports: { from: number; to: number }; peer: string }) =>
  `${rule.group} ${rule.direction} ${rule.ports.from}-${rule.ports.to} ${rule.peer}`;

describe('firewall table', () => {
  test('with the defaults it holds exactly the documented FTP rules', () => {
    assert.deepEqual(firewallRules(defaultSettings()).map(key), [
      'load-balancer inbound 21-21 allowed-clients',
      'load-balancer inbound 990-990 allowed-clients',
      'load-balancer inbound 30000-30005 allowed-clients',
      `load-balancer outbound ${CONTAINER_PORTS.control}-${CONTAINER_PORTS.control} task`,
      `load-balancer outbound ${CONTAINER_PORTS.implicitTls}-${CONTAINER_PORTS.implicitTls} task`,
      'load-balancer outbound 30000-30005 task',
      `load-balancer outbound ${CONTAINER_PORTS.health}-${CONTAINER_PORTS.health} task`,
      `task inbound ${CONTAINER_PORTS.control}-${CONTAINER_PORTS.control} load-balancer`,
      `task inbound ${CONTAINER_PORTS.implicitTls}-${CONTAINER_PORTS.implicitTls} load-balancer`,
      'task inbound 30000-30005 load-balancer',
      `task inbound ${CONTAINER_PORTS.health}-${CONTAINER_PORTS.health} load-balancer`,
      'task outbound 443-443 s3-prefix-list',
      'task outbound 443-443 interface-endpoints',
      'interface-endpoints inbound 443-443 task',
    ]);
  });

  // Each case: settings, rules that must be present, rules that must be absent.
  const cases: [string, Parameters<typeof settingsWith>[0], string[], string[]][] = [
    [
      'active mode opens client ports 1024-65535 towards the allowed networks only',
      { activeMode: true, egress: 'nat' },
      ['task outbound 1024-65535 allowed-clients', 'task outbound 443-443 anywhere'],
      ['task outbound 443-443 interface-endpoints', 'interface-endpoints inbound 443-443 task'],
    ],
    [
      'implicit TLS off removes its port everywhere',
      { implicitTlsPort: 0 },
      [],
      ['load-balancer inbound 990-990 allowed-clients', `task inbound ${CONTAINER_PORTS.implicitTls}-${CONTAINER_PORTS.implicitTls} load-balancer`],
    ],
    [
      'other ports and more shards move the listener rules and the passive range',
      { controlPort: 2021, implicitTlsPort: 9990, shardCount: 4, passivePortsPerShard: 2, firstPassivePort: 40000 },
      ['load-balancer inbound 2021-2021 allowed-clients', 'load-balancer inbound 9990-9990 allowed-clients', 'load-balancer inbound 40000-40007 allowed-clients', 'task inbound 40000-40007 load-balancer'],
      ['load-balancer inbound 21-21 allowed-clients'],
    ],
  ];
  for (const [name, overrides, present, absent] of cases) {
    test(name, () => {
      const keys = firewallRules(settingsWith(overrides)).map(key);
      for (const rule of present) assert.ok(keys.includes(rule), `missing ${rule}`);
      for (const rule of absent) assert.ok(!keys.includes(rule), `unexpected ${rule}`);
    });
  }

  test('passive mode never opens every port above 1023 inbound', () => {
    for (const rule of firewallRules(settingsWith({ activeMode: true, egress: 'nat' }))) {
      if (rule.direction === 'inbound') assert.ok(rule.ports.to - rule.ports.from < 1000, `too wide: ${key(rule)}`);
    }
  });

  test('every purpose is a valid security group rule description', () => {
    for (const row of firewallTable(settingsWith({ activeMode: true, egress: 'nat' }))) {
      assert.match(row.purpose, /^[a-zA-Z0-9. _\-:/()#,@[\]+=&;{}!$*]{1,255}$/, row.purpose);
    }
  });

  test('docs/deploy.md shows the table as rendered with the default settings', () => {
    const page = readFileSync(new URL('docs/deploy.md', REPOSITORY_ROOT), 'utf8');
    assert.equal(readFirewallBlock(page), renderFirewallTable(defaultSettings()), 'docs/deploy.md is out of date: run npm run docs');
  });

  test('the rendered table lists every row, including conditional ones', () => {
    const rendered = renderFirewallTable(defaultSettings());
    for (const row of firewallTable(defaultSettings())) assert.ok(rendered.includes(row.purpose), row.purpose);
    assert.match(rendered, /\| active mode on \|/);
  });
});
