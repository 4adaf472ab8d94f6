/**
 * The firewall table: every security-group rule of the deployment, as data.
 *
 * It mirrors the documented FTP server firewall rules (docs/design.md, "Firewall rules are
 * data"): control port, implicit-TLS port and passive range inbound from the allowed
 * client networks, health checks from the load balancer, HTTPS egress to AWS, and
 * active-mode egress to client ports above 1023. The security groups are built from
 * it (bridge-security-groups.ts), docs/deploy.md renders it (firewall-table-markdown.ts), and a
 * test compares the synthesized template with it rule by rule. The rules towards the
 * allowed client networks also say which rule a partner's firewall needs in return
 * (`partner`): the partner page (partner-network-markdown.ts) and the probe's advice
 * word those from runtime/src/probe/partner-rules.ts.
 */
import { ACTIVE_MODE_CLIENT_PORTS, type PartnerRuleKind } from '../runtime/src/probe/partner-rules.ts';
import { CONTAINER_PORTS, portPlan } from './deployment-ports.ts';
import type { BridgeSettings } from './settings.ts';

/** The security group a rule belongs to. */
export type FirewallGroup = 'load-balancer' | 'task' | 'interface-endpoints';
export type FirewallDirection = 'inbound' | 'outbound';
/** Who is on the other side of a rule. */
export type FirewallPeer =
  /** Each CIDR of `bridge:allowedCidrs`. */
  | 'allowed-clients'
  /** The load balancer's security group. */
  | 'load-balancer'
  /** The tasks' security group. */
  | 'task'
  /** The AWS-managed prefix list of S3 in the region (reached through the gateway endpoint). */
  | 's3-prefix-list'
  /** The interface endpoints' security group (new VPC with egress=endpoints). */
  | 'interface-endpoints'
  /** Any IPv4 address (AWS public endpoints, through NAT). */
  | 'anywhere';

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export interface FirewallRule {
  readonly group: FirewallGroup;
  readonly direction: FirewallDirection;
  readonly protocol: 'tcp';
  readonly ports: PortRange;
  readonly peer: FirewallPeer;
  /** Why the rule exists (and why its stateful counterpart needs no rule). */
  readonly purpose: string;
}

/** A table row: a rule plus the condition under which the deployment has it. */
export interface FirewallTableRow extends FirewallRule {
  /** Human-readable condition, "always" for unconditional rules. */
  readonly when: string;
  /** Whether the given settings include this rule. */
  readonly applies: boolean;
  /** For rules towards the allowed client networks: the rule the partner's firewall needs for it. */
  readonly partner: PartnerRuleKind | undefined;
}

const single = (port: number): PortRange => ({ from: port, to: port });

/** Every row of the table, resolved against the settings, including rows the settings leave out. */
export function firewallTable(settings: BridgeSettings): FirewallTableRow[] {
  const ports = portPlan(settings);
  const implicitPublic = settings.implicitTlsPort === 0 ? 990 : settings.implicitTlsPort;
  const implicit = ports.implicitTlsPort !== undefined;
  const endpoints = settings.vpcId === undefined && settings.egress === 'endpoints';
  const passive = ports.passiveRange;
  const row = (
    when: string,
    applies: boolean,
    { partner, ...rule }: Omit<FirewallRule, 'protocol'> & { readonly partner?: PartnerRuleKind },
  ): FirewallTableRow => ({
    ...rule,
    protocol: 'tcp',
    when,
    applies,
    partner,
  });
  return [
    row('always', true, {
      group: 'load-balancer',
      direction: 'inbound',
      ports: single(ports.controlPort),
      peer: 'allowed-clients',
      partner: 'control',
      purpose: 'Control connection (plain FTP or explicit FTPS with AUTH TLS). Replies return on it: stateful, no outbound rule.',
    }),
    row('implicit FTPS on', implicit, {
      group: 'load-balancer',
      direction: 'inbound',
      ports: single(implicitPublic),
      peer: 'allowed-clients',
      partner: 'implicit-tls',
      purpose: 'Implicit FTPS control connection, TLS from the first byte.',
    }),
    row('always', true, {
      group: 'load-balancer',
      direction: 'inbound',
      ports: passive,
      peer: 'allowed-clients',
      partner: 'passive',
      purpose:
        'Passive data connections (PASV/EPSV): clients connect to the advertised port. Only this range, not every port above 1023; data and ACKs return statefully.',
    }),
    row('always', true, {
      group: 'load-balancer',
      direction: 'outbound',
      ports: single(CONTAINER_PORTS.control),
      peer: 'task',
      purpose: 'Forward control connections to the tasks (public control port to container port).',
    }),
    row('implicit FTPS on', implicit, {
      group: 'load-balancer',
      direction: 'outbound',
      ports: single(CONTAINER_PORTS.implicitTls),
      peer: 'task',
      purpose: 'Forward implicit FTPS connections to the tasks.',
    }),
    row('always', true, {
      group: 'load-balancer',
      direction: 'outbound',
      ports: passive,
      peer: 'task',
      purpose: 'Forward passive data connections to the one task that owns the port (same port in the container).',
    }),
    row('always', true, {
      group: 'load-balancer',
      direction: 'outbound',
      ports: single(CONTAINER_PORTS.health),
      peer: 'task',
      purpose: 'Health checks (HTTP GET /health).',
    }),
    row('always', true, {
      group: 'task',
      direction: 'inbound',
      ports: single(CONTAINER_PORTS.control),
      peer: 'load-balancer',
      purpose: 'Control connections through the load balancer only. Client IPs are preserved; referencing its group keeps direct access closed.',
    }),
    row('implicit FTPS on', implicit, {
      group: 'task',
      direction: 'inbound',
      ports: single(CONTAINER_PORTS.implicitTls),
      peer: 'load-balancer',
      purpose: 'Implicit FTPS connections through the load balancer only.',
    }),
    row('always', true, {
      group: 'task',
      direction: 'inbound',
      ports: passive,
      peer: 'load-balancer',
      purpose: 'Passive data connections through the load balancer only.',
    }),
    row('always', true, {
      group: 'task',
      direction: 'inbound',
      ports: single(CONTAINER_PORTS.health),
      peer: 'load-balancer',
      purpose: 'Health checks from the load balancer.',
    }),
    row('always', true, {
      group: 'task',
      direction: 'outbound',
      ports: single(443),
      peer: 's3-prefix-list',
      purpose: 'HTTPS to S3 through the gateway endpoint: objects, and ECR image layers.',
    }),
    row('new VPC, egress=endpoints', endpoints, {
      group: 'task',
      direction: 'outbound',
      ports: single(443),
      peer: 'interface-endpoints',
      purpose: 'HTTPS to the interface endpoints of ECR, CloudWatch Logs and Secrets Manager. Tasks have no other way out.',
    }),
    row('new VPC, egress=endpoints', endpoints, {
      group: 'interface-endpoints',
      direction: 'inbound',
      ports: single(443),
      peer: 'task',
      purpose: 'The interface endpoints accept HTTPS from the tasks only.',
    }),
    row('egress=nat or existing VPC', !endpoints, {
      group: 'task',
      direction: 'outbound',
      ports: single(443),
      peer: 'anywhere',
      purpose: 'HTTPS to ECR, CloudWatch Logs and Secrets Manager through NAT (or whatever the existing VPC routes to).',
    }),
    row('active mode on', settings.activeMode, {
      group: 'task',
      direction: 'outbound',
      ports: ACTIVE_MODE_CLIENT_PORTS,
      peer: 'allowed-clients',
      partner: 'active',
      purpose:
        'Active mode (PORT/EPRT): the server opens data connections to client ports above 1023. Source port 20 cannot be expressed in a security group; client ACKs return statefully.',
    }),
  ];
}

/** The rules the given settings deploy. */
export function firewallRules(settings: BridgeSettings): FirewallRule[] {
  return firewallTable(settings)
    .filter((row) => row.applies)
    .map(({ group, direction, protocol, ports, peer, purpose }) => ({ group, direction, protocol, ports, peer, purpose }));
}
