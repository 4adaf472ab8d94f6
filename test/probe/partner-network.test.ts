import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { firewallTable } from '../../lib/firewall-rules.ts';
import { PARTNER_PAGE, partnerRows, renderPartnerNetworkPage } from '../../lib/partner-network-markdown.ts';
import { defaultSettings, validateSettings, type BridgeSettings } from '../../lib/settings.ts';
import { ACTIVE_MODE_CLIENT_PORTS, PARTNER_RULES } from '../../runtime/src/probe/partner-rules.ts';
import { adviceFor } from '../../runtime/src/probe/probe-advice.ts';
import { ProbeError } from '../../runtime/src/probe/probe-error.ts';
import { parseProbeTarget } from '../../runtime/src/probe/probe-target.ts';

const ROOT = new URL('../../', import.meta.url);
const defaults = (): BridgeSettings => defaultSettings();
/** Every conditional rule present. */
const everything = (): BridgeSettings => validateSettings({ ...defaults(), activeMode: true, egress: 'nat' });

describe('partner network page', () => {
  test('docs/partner-network.md is what the generator renders from the firewall table with the cdk.json defaults', () => {
    const committed = readFileSync(new URL(PARTNER_PAGE, ROOT), 'utf8');
    assert.equal(committed, renderPartnerNetworkPage(defaults()), `${PARTNER_PAGE} is out of date: run npm run docs`);
  });

  test('every rule towards the allowed client networks has exactly one partner rule, in the other direction, under the same condition', () => {
    const rows = firewallTable(everything());
    for (const row of rows) {
      assert.equal(row.partner !== undefined, row.peer === 'allowed-clients', `${row.group} ${row.direction} ${row.ports.from}-${row.ports.to}`);
    }
    const tagged = partnerRows(everything());
    assert.deepEqual(tagged.map(({ rule }) => rule.kind).sort(), PARTNER_RULES.map((rule) => rule.kind).sort(), 'each partner rule answers one table row');
    for (const { rule, row } of tagged) {
      assert.notEqual(rule.direction, row.direction, `${rule.kind}: the partner's firewall sees the bridge's rule the other way round`);
      assert.equal(rule.when, row.when, `${rule.kind}: same condition`);
    }
    const active = tagged.find(({ rule }) => rule.kind === 'active')!;
    assert.deepEqual(active.row.ports, ACTIVE_MODE_CLIENT_PORTS);
    assert.deepEqual(ACTIVE_MODE_CLIENT_PORTS, { from: 1024, to: 65535 }, 'docs/design.md: active mode egress to client ports 1024-65535');
  });

  test("the page lists, for every rule, the sentence the probe prints when a step fails for want of it", () => {
    const page = renderPartnerNetworkPage(defaults());
    const target = parseProbeTarget('ftp://acme@ftp.example.com/', { explicitTls: false });
    for (const { rule, row } of partnerRows(defaults())) {
      const bridge = rule.direction === 'outbound' ? "the bridge's public addresses" : "the bridge's outbound addresses";
      const client = rule.kind === 'active' ? 'your FTP clients' : undefined;
      const advice = adviceFor(new ProbeError('timeout', 'no answer'), { rule: { kind: rule.kind, ports: row.ports, bridge, ...(client ? { client } : {}) }, target });
      assert.ok(page.includes(`\n- ${advice[0]}\n`), `the page lacks the probe's advice: ${advice[0]}`);
      assert.ok(page.includes(`| ${rule.direction} | TCP | ${row.ports.from === row.ports.to ? row.ports.from : `${row.ports.from}-${row.ports.to}`} |`), `${rule.kind} row`);
    }
  });

  test('other settings move the page with the table: ports, range, implicit FTPS off', () => {
    const page = renderPartnerNetworkPage(validateSettings({ ...defaults(), controlPort: 2021, implicitTlsPort: 0, shardCount: 4, passivePortsPerShard: 2, firstPassivePort: 40000 }));
    assert.match(page, /\| outbound \| TCP \| 2021 \| to the bridge's public addresses \| always \|/);
    assert.match(page, /\| outbound \| TCP \| 40000-40007 \|/);
    assert.match(page, /--passive-range 40000-40007 /);
    assert.match(page, /\| outbound \| TCP \| 990 \| .* \| implicit FTPS on \(off by default\) \|/, 'a conditional rule stays listed, marked off');
    assert.ok(!page.includes('`ftps://acme@<address>/`'), 'no implicit FTPS example when it is off');
  });
});
