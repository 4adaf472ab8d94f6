/**
 * The rules between settings: port clashes, the AWS limits of docs/design.md (listeners,
 * target groups, security group rules), modes that need each other, the existing VPC's
 * zones and subnets, Fargate's CPU/memory pairs. Each rule names the settings it reads
 * and runs only when each of those is valid on its own, so one bad value is reported
 * once, by its own rule, and every other rule still runs.
 */
import { portClashes, type ListenerPort, type PortLayout } from '../runtime/src/container-environment.ts';
import { AWS_LIMITS, CONTAINER_PORTS, portPlan } from './deployment-ports.ts';
import { FARGATE_MEMORY, RUNTIME_DEFAULTS, SETTINGS_PREFIX, type BridgeSettings, type SettingName } from './settings-schema.ts';

/** Reports a problem of one setting: `problem` reads after "bridge:<name>: ". */
export type Report = (name: SettingName, problem: string) => void;

export interface SettingsRule {
  readonly reads: readonly SettingName[];
  readonly check: (settings: BridgeSettings, report: Report) => void;
}

/** Task memory an explicit upload budget must leave to everything else (Node itself takes about 60 MiB). */
const UNBUDGETED_MIB = 256;

const key = (name: SettingName) => `${SETTINGS_PREFIX}${name}`;
const implicitOn = (s: BridgeSettings) => s.implicitTlsPort !== 0;
const PORTS: readonly SettingName[] = ['shardCount', 'passivePortsPerShard', 'firstPassivePort', 'controlPort', 'implicitTlsPort'];

export const SETTINGS_RULES: readonly SettingsRule[] = [
  {
    reads: ['controlPort', 'implicitTlsPort'],
    check: (s, report) => {
      if (s.controlPort === s.implicitTlsPort) report('implicitTlsPort', `is the same port as ${key('controlPort')} (${s.controlPort}); they must differ`);
    },
  },
  {
    reads: ['passivePortsPerShard', 'implicitTlsPort'],
    check: (s, report) => {
      const targetGroups = 1 + (implicitOn(s) ? 1 : 0) + s.passivePortsPerShard;
      if (targetGroups > AWS_LIMITS.targetGroupsPerService) {
        report(
          'passivePortsPerShard',
          `${s.passivePortsPerShard} gives each shard's service ${targetGroups} target groups (control${implicitOn(s) ? ' + implicit TLS' : ''} + passive ports); ` +
            `an ECS service can attach at most ${AWS_LIMITS.targetGroupsPerService}: at most ${AWS_LIMITS.targetGroupsPerService - 1 - (implicitOn(s) ? 1 : 0)}` +
            (implicitOn(s) ? `, or ${key('implicitTlsPort')}=0` : ''),
        );
      }
    },
  },
  {
    reads: ['shardCount', 'passivePortsPerShard', 'implicitTlsPort'],
    check: (s, report) => {
      const passive = s.shardCount * s.passivePortsPerShard;
      const listeners = 1 + (implicitOn(s) ? 1 : 0) + passive;
      if (listeners > AWS_LIMITS.listenersPerLoadBalancer) {
        report(
          'shardCount',
          `${s.shardCount} shards × ${key('passivePortsPerShard')} ${s.passivePortsPerShard} = ${passive} passive ports need ${listeners} NLB listeners ` +
            `with the control${implicitOn(s) ? ' and implicit-TLS' : ''} port; a Network Load Balancer has at most ${AWS_LIMITS.listenersPerLoadBalancer}`,
        );
      }
    },
  },
  {
    reads: PORTS,
    check: (s, report) => {
      const { passiveRange } = portPlan(s);
      const range = `${passiveRange.from}-${passiveRange.to}`;
      if (passiveRange.to > 65535) report('firstPassivePort', `the passive range ${range} ends above port 65535; expected at most ${65535 - (passiveRange.to - passiveRange.from)}`);
      // The runtime's own port rules, for the load balancer's listeners and for the container.
      const passive = { first: passiveRange.from, last: passiveRange.to };
      const listeners: PortLayout = { control: s.controlPort, implicitTls: s.implicitTlsPort, health: 0, passive };
      const container: PortLayout = { ...CONTAINER_PORTS, implicitTls: implicitOn(s) ? CONTAINER_PORTS.implicitTls : 0, passive };
      const names: Record<ListenerPort, SettingName | undefined> = { control: 'controlPort', implicitTls: 'implicitTlsPort', health: undefined };
      for (const clash of portClashes(listeners)) {
        const name = names[clash.port];
        // The same port twice is the first rule's.
        if (clash.kind === 'in-passive-range' && name !== undefined) report(name, `${clash.value} is inside the passive range ${range}; expected a port outside it`);
      }
      for (const clash of portClashes(container)) {
        if (clash.kind === 'in-passive-range') {
          report('firstPassivePort', `the passive range ${range} contains the container's ${clash.port} port ${clash.value}; expected a range without it`);
        }
      }
    },
  },
  {
    reads: ['allowedCidrs', 'implicitTlsPort'],
    check: (s, report) => {
      const inbound = (2 + (implicitOn(s) ? 1 : 0)) * s.allowedCidrs.length;
      if (inbound > AWS_LIMITS.rulesPerSecurityGroup) {
        report(
          'allowedCidrs',
          `${s.allowedCidrs.length} networks need ${inbound} inbound rules on the load balancer's security group; ` +
            `the default quota is ${AWS_LIMITS.rulesPerSecurityGroup} (merge networks into larger CIDRs)`,
        );
      }
    },
  },
  {
    reads: ['implicitTlsPort', 'tlsMode'],
    check: (s, report) => {
      if (implicitOn(s) && s.tlsMode === 'off') {
        report('implicitTlsPort', `${s.implicitTlsPort} needs TLS: set ${key('tlsMode')} to optional or required, or ${key('implicitTlsPort')} to 0`);
      }
    },
  },
  {
    reads: ['activeMode', 'vpcId', 'egress'],
    check: (s, report) => {
      if (s.activeMode && s.vpcId === undefined && s.egress !== 'nat') {
        report('activeMode', `needs ${key('egress')}=nat: in active mode tasks open data connections to clients on the internet`);
      }
    },
  },
  {
    reads: ['vpcId', 'vpcAvailabilityZones', 'vpcPublicSubnetIds', 'vpcTaskSubnetIds'],
    check: (s, report) => {
      const subnets = ['vpcPublicSubnetIds', 'vpcTaskSubnetIds'] as const;
      if (s.vpcId === undefined) {
        for (const name of ['vpcAvailabilityZones', ...subnets] as const) {
          if (s[name].length > 0) report(name, `applies to an existing VPC only: set ${key('vpcId')} too`);
        }
        return;
      }
      const zones = s.vpcAvailabilityZones.length;
      if (zones === 0) report('vpcAvailabilityZones', `is needed with ${key('vpcId')}: the zones to use, e.g. eu-west-1a,eu-west-1b`);
      const what = { vpcPublicSubnetIds: 'public subnet (load balancer)', vpcTaskSubnetIds: 'private subnet (tasks)' } as const;
      for (const name of subnets) {
        if (s[name].length === 0) report(name, `is needed with ${key('vpcId')}: one ${what[name]} per zone of ${key('vpcAvailabilityZones')}, in the same order`);
        else if (s[name].length !== zones) report(name, `expected one subnet per zone of ${key('vpcAvailabilityZones')} (${zones}), got ${s[name].length}`);
      }
    },
  },
  {
    reads: ['elasticIpAllocationIds', 'vpcId', 'vpcAvailabilityZones', 'maxAzs'],
    check: (s, report) => {
      const given = s.elasticIpAllocationIds.length;
      if (given > 0 && zoneCount(s) > 0 && given !== zoneCount(s)) {
        report('elasticIpAllocationIds', `expected one allocation ID per zone (${zoneCount(s)}, from ${key(zoneSetting(s))}), got ${given}`);
      }
    },
  },
  {
    reads: ['elasticIpAllocationIds', 'elasticIpQuota', 'vpcId', 'vpcAvailabilityZones', 'maxAzs', 'egress'],
    check: (s, report) => {
      const zones = zoneCount(s);
      const forLoadBalancer = s.elasticIpAllocationIds.length > 0 ? 0 : zones;
      const forNat = s.vpcId === undefined && s.egress === 'nat' ? zones : 0;
      if (forLoadBalancer + forNat > s.elasticIpQuota) {
        const parts = [...(forLoadBalancer > 0 ? [`${forLoadBalancer} for the load balancer`] : []), ...(forNat > 0 ? [`${forNat} for the NAT gateways of ${key('egress')}=nat`] : [])];
        report(
          zoneSetting(s),
          `${zones} zones need ${forLoadBalancer + forNat} new Elastic IPs (${parts.join(' + ')}); ${key('elasticIpQuota')} is ${s.elasticIpQuota} ` +
            `(the default quota per region, shared with everything else there): use fewer zones, existing addresses (${key('elasticIpAllocationIds')})` +
            `${forNat > 0 ? `, ${key('egress')}=endpoints` : ''}, or raise the quota and ${key('elasticIpQuota')}`,
        );
      }
    },
  },
  {
    reads: ['bucketKmsKeyArn', 'bucketName'],
    check: (s, report) => {
      if (s.bucketKmsKeyArn !== undefined && s.bucketName === undefined) {
        report('bucketKmsKeyArn', `applies to an existing bucket only: set ${key('bucketName')} too`);
      }
    },
  },
  {
    reads: ['hostedZoneId', 'hostedZoneName', 'dnsName'],
    check: (s, report) => {
      if (s.hostedZoneId !== undefined && s.hostedZoneName === undefined) report('hostedZoneName', `is needed with ${key('hostedZoneId')}: the zone's domain`);
      if (s.hostedZoneName !== undefined && s.hostedZoneId === undefined) report('hostedZoneId', `is needed with ${key('hostedZoneName')}: the zone's id`);
      if (s.dnsName !== undefined && s.hostedZoneName === undefined) report('dnsName', `needs ${key('hostedZoneId')} and ${key('hostedZoneName')}: the zone the record goes in`);
      if (s.dnsName !== undefined && s.hostedZoneName !== undefined && !s.dnsName.endsWith(`.${s.hostedZoneName}`) && s.dnsName !== s.hostedZoneName) {
        report('dnsName', `${s.dnsName} is not in the hosted zone ${s.hostedZoneName}`);
      }
    },
  },
  {
    reads: ['alarmEmail', 'alarmTopicArn'],
    check: (s, report) => {
      if (s.alarmEmail !== undefined && s.alarmTopicArn !== undefined) {
        report('alarmEmail', `is subscribed to the topic the stack creates; with ${key('alarmTopicArn')}, subscribe the address to that topic instead`);
      }
    },
  },
  {
    reads: ['usersSecretKmsKeyArn', 'usersSecretArn', 'tlsSecretKmsKeyArn', 'tlsSecretArn'],
    check: (s, report) => {
      if (s.usersSecretKmsKeyArn !== undefined && s.usersSecretArn === undefined) report('usersSecretKmsKeyArn', `applies to an existing secret only: set ${key('usersSecretArn')} too`);
      if (s.tlsSecretKmsKeyArn !== undefined && s.tlsSecretArn === undefined) report('tlsSecretKmsKeyArn', `applies to an existing secret only: set ${key('tlsSecretArn')} too`);
    },
  },
  {
    reads: ['bucketVersioning', 'bucketNoncurrentVersionDays', 'bucketName'],
    check: (s, report) => {
      if (s.bucketVersioning && s.bucketName !== undefined) {
        report('bucketVersioning', `applies to a bucket the stack creates only: turn versioning on for ${s.bucketName} yourself`);
      }
    },
  },
  {
    reads: ['uploadBufferMiB', 'taskMemoryMiB'],
    check: (s, report) => {
      const most = s.taskMemoryMiB - UNBUDGETED_MIB;
      if (s.uploadBufferMiB !== undefined && s.uploadBufferMiB > most) {
        report(
          'uploadBufferMiB',
          `${s.uploadBufferMiB} leaves the task less than ${UNBUDGETED_MIB} MiB of ${key('taskMemoryMiB')} ${s.taskMemoryMiB} for Node, sessions and downloads; expected at most ${most}`,
        );
      }
    },
  },
  {
    reads: ['maxConnections', 'maxConnectionsPerAddress'],
    check: (s, report) => {
      const total = s.maxConnections ?? RUNTIME_DEFAULTS.maxConnections;
      const perAddress = s.maxConnectionsPerAddress ?? RUNTIME_DEFAULTS.maxConnectionsPerAddress;
      if (perAddress > total) report('maxConnectionsPerAddress', `${perAddress} is more than ${key('maxConnections')} (${total}); expected at most that`);
    },
  },
  {
    reads: ['ftpIdleTimeoutSeconds', 'idleTimeoutSeconds'],
    check: (s, report) => {
      const idle = s.ftpIdleTimeoutSeconds ?? RUNTIME_DEFAULTS.ftpIdleTimeoutSeconds;
      if (idle >= s.idleTimeoutSeconds) {
        report(
          s.ftpIdleTimeoutSeconds === undefined ? 'idleTimeoutSeconds' : 'ftpIdleTimeoutSeconds',
          `the task's idle timeout (${idle} s) must be shorter than the load balancer's ${key('idleTimeoutSeconds')} (${s.idleTimeoutSeconds} s), ` +
            'or the load balancer drops quiet sessions without the 421 the task sends',
        );
      }
    },
  },
  {
    reads: ['taskCpu', 'taskMemoryMiB'],
    check: (s, report) => {
      const memory = FARGATE_MEMORY[s.taskCpu]!;
      if (!memory.includes(s.taskMemoryMiB)) {
        report(
          'taskMemoryMiB',
          `${s.taskMemoryMiB} does not fit ${key('taskCpu')} ${s.taskCpu}; Fargate accepts ${memoryText(memory)} with it`,
        );
      }
    },
  },
];

/** The deployment's zones: an existing VPC's, or a new VPC's `maxAzs`. */
function zoneCount(s: BridgeSettings): number {
  return s.vpcId === undefined ? s.maxAzs : s.vpcAvailabilityZones.length;
}

function zoneSetting(s: BridgeSettings): SettingName {
  return s.vpcId === undefined ? 'maxAzs' : 'vpcAvailabilityZones';
}

function memoryText(memory: readonly number[]): string {
  if (memory.length <= 3) return `${memory.join(', ')} MiB`;
  return `${memory[0]}-${memory[memory.length - 1]} MiB in steps of ${memory[1]! - memory[0]!}`;
}
