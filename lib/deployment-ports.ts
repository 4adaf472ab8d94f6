/**
 * The fixed ports of the container, the AWS limits the settings are checked against
 * (docs/design.md), and the public ports a deployment's settings give.
 */

/** Ports inside the container (fixed by the runtime image; the NLB maps public ports onto them). */
export const CONTAINER_PORTS = { control: 2121, implicitTls: 2990, health: 8080 } as const;

/** AWS limits the settings are checked against (see docs/design.md). */
export const AWS_LIMITS = {
  listenersPerLoadBalancer: 50,
  targetGroupsPerService: 5,
  /** Default quota of inbound (and of outbound) rules per security group. */
  rulesPerSecurityGroup: 60,
  /** Default quota of Elastic IPs per region (the load balancer takes one per zone, NAT gateways one each). */
  elasticIpsPerRegion: 5,
} as const;

/** The settings the port plan is made of. */
export interface PortSettings {
  readonly shardCount: number;
  readonly passivePortsPerShard: number;
  readonly firstPassivePort: number;
  readonly controlPort: number;
  /** 0 = implicit FTPS off. */
  readonly implicitTlsPort: number;
}

/** The public ports of one deployment, derived from valid settings. */
export interface PortPlan {
  readonly controlPort: number;
  /** undefined when implicit FTPS is off. */
  readonly implicitTlsPort: number | undefined;
  /** The whole passive range over all shards. */
  readonly passiveRange: { readonly from: number; readonly to: number };
}

export function portPlan(settings: PortSettings): PortPlan {
  const count = settings.shardCount * settings.passivePortsPerShard;
  return {
    controlPort: settings.controlPort,
    implicitTlsPort: settings.implicitTlsPort === 0 ? undefined : settings.implicitTlsPort,
    passiveRange: { from: settings.firstPassivePort, to: settings.firstPassivePort + count - 1 },
  };
}
