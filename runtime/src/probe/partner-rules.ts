/**
 * What a partner's network must allow, seen from the partner's side, and how to say it.
 *
 * The deployment's firewall table (lib/firewall-rules.ts) tags each rule towards the
 * allowed client networks with one of these kinds; the partner page
 * (docs/partner-network.md) and the probe's advice both word those rules with
 * `partnerRuleSentence`, so what the probe tells a partner on a failure is the
 * sentence the page prints. The wording lives here, not in lib/, because the probe
 * runs in the container image, which holds runtime/ only; a test checks that the
 * table and these rules agree (kinds, directions, conditions, active-mode ports).
 */

export type PartnerRuleKind = 'control' | 'implicit-tls' | 'passive' | 'active';

export interface PartnerPorts {
  readonly from: number;
  readonly to: number;
}

export interface PartnerRule {
  readonly kind: PartnerRuleKind;
  /** As the partner's firewall sees it: the bridge's rule in the other direction. */
  readonly direction: 'outbound' | 'inbound';
  /** The condition, in the firewall table's words. */
  readonly when: 'always' | 'implicit FTPS on' | 'active mode on';
  /** What the connection is for, as a partner's network team would ask. */
  readonly purpose: string;
}

/** In active mode the bridge connects to any client port above 1023 (RFC 959 leaves the choice to the client). */
export const ACTIVE_MODE_CLIENT_PORTS: PartnerPorts = { from: 1024, to: 65535 };

export const PARTNER_RULES: readonly PartnerRule[] = [
  {
    kind: 'control',
    direction: 'outbound',
    when: 'always',
    purpose: 'the control connection: plain FTP, or explicit FTPS after AUTH TLS',
  },
  {
    kind: 'implicit-tls',
    direction: 'outbound',
    when: 'implicit FTPS on',
    purpose: 'implicit FTPS: TLS from the first byte',
  },
  {
    kind: 'passive',
    direction: 'outbound',
    when: 'always',
    purpose: 'passive data connections (PASV/EPSV) for every listing, upload and download',
  },
  {
    kind: 'active',
    direction: 'inbound',
    when: 'active mode on',
    purpose: 'active mode (PORT/EPRT): the server opens the data connection to your client',
  },
];

export function partnerRule(kind: PartnerRuleKind): PartnerRule {
  const rule = PARTNER_RULES.find((candidate) => candidate.kind === kind);
  if (!rule) throw new Error(`no partner rule ${kind}`);
  return rule;
}

function portText(ports: PartnerPorts): string {
  return ports.from === ports.to ? `TCP port ${ports.from}` : `TCP ports ${ports.from}-${ports.to}`;
}

/**
 * The rule as one sentence. `bridge` names the far end: an address the probe
 * connected to, or "the bridge's public addresses" on the partner page; `client`
 * names the partner's side ("your network", or the probe's own address).
 */
export function partnerRuleSentence(
  kind: PartnerRuleKind,
  options: { readonly ports: PartnerPorts; readonly bridge: string; readonly client?: string },
): string {
  const rule = partnerRule(kind);
  const client = options.client ?? 'your network';
  const ports = kind === 'passive' ? `The passive range (${portText(options.ports)})` : portText(options.ports);
  return rule.direction === 'outbound'
    ? `${ports} must be open outbound from ${client} to ${options.bridge}: ${rule.purpose}.`
    : `${ports} must be open inbound to ${client} from ${options.bridge}: ${rule.purpose}.`;
}
