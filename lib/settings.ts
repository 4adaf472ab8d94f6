/**
 * The deployment's settings: read from CDK context (`cdk.json` holds the documented
 * defaults, `-c bridge:<name>=<value>` overrides them), typed, and validated against
 * each other and against the AWS limits in docs/design.md before any construct is built.
 */
import { LOG_LEVELS, portClashes, type ListenerPort, type LogLevel, type PortLayout } from '../runtime/src/container-environment.ts';
import { TLS_MODES, type TlsMode } from '../runtime/src/tls-policy.ts';

/** Every context key of this app starts with this prefix; unknown keys with it are refused. */
export const SETTINGS_PREFIX = 'bridge:';

/** How tasks in a new VPC reach AWS APIs: interface endpoints (no internet path) or NAT gateways. */
export type EgressMode = 'endpoints' | 'nat';

export interface BridgeSettings {
  /** Name of the CloudFormation stack. @default 'FtpS3Bridge' */
  readonly stackName: string;
  /** IPv4 networks allowed to reach the FTP ports (and, in active mode, to be connected to). @default ['0.0.0.0/0'] */
  readonly allowedCidrs: readonly string[];
  /** Number of shards: one ECS service with one task each. @default 2 */
  readonly shardCount: number;
  /** Passive ports each shard owns (at most 5 target groups per service: 3 with implicit FTPS, 4 without). @default 3 */
  readonly passivePortsPerShard: number;
  /** First port of the passive range; shard i owns the i-th slice. @default 30000 */
  readonly firstPassivePort: number;
  /** Public control port (explicit FTPS). @default 21 */
  readonly controlPort: number;
  /** Public implicit-TLS port; 0 turns implicit FTPS off. @default 990 */
  readonly implicitTlsPort: number;
  /** Active mode (PORT/EPRT): tasks open data connections to clients. @default false */
  readonly activeMode: boolean;
  /** Whether clients may, must or must not use TLS. @default 'required' */
  readonly tlsMode: TlsMode;
  /** Existing VPC to deploy into (with the three settings below). @default - a new VPC */
  readonly vpcId: string | undefined;
  /** Zones of the existing VPC to use, in order. @default [] */
  readonly vpcAvailabilityZones: readonly string[];
  /** Existing VPC: one public subnet per zone, in zone order (load balancer). @default [] */
  readonly vpcPublicSubnetIds: readonly string[];
  /** Existing VPC: one private subnet per zone, in zone order (tasks; needs routes to AWS APIs). @default [] */
  readonly vpcTaskSubnetIds: readonly string[];
  /** Availability zones of a new VPC: one public address each. @default 2 */
  readonly maxAzs: number;
  /** How tasks of a new VPC reach ECR, CloudWatch Logs and Secrets Manager. @default 'endpoints' */
  readonly egress: EgressMode;
  /** Existing bucket to serve. @default - a new bucket */
  readonly bucketName: string | undefined;
  /** Customer managed KMS key of an existing bucket. @default - none (SSE-S3) */
  readonly bucketKmsKeyArn: string | undefined;
  /** Root key prefix inside the bucket, normalised without leading/trailing slash. @default '' */
  readonly bucketPrefix: string;
  /** Existing users secret (complete ARN). @default - the stack creates one holding {"users":[]} */
  readonly usersSecretArn: string | undefined;
  /** Existing TLS secret (complete ARN). @default - the stack creates one, to be filled by the operator */
  readonly tlsSecretArn: string | undefined;
  /** Task CPU units. @default 512 */
  readonly taskCpu: number;
  /** Task memory in MiB (must fit the CPU, see Fargate task sizes). @default 1024 */
  readonly taskMemoryMiB: number;
  /** NLB TCP idle timeout in seconds (60-6000). @default 3600 */
  readonly idleTimeoutSeconds: number;
  /** Target group deregistration delay in seconds (0-3600). @default 120 */
  readonly deregistrationDelaySeconds: number;
  /** CloudWatch Logs retention in days (a value CloudWatch accepts). @default 90 */
  readonly logRetentionDays: number;
  /** Runtime log level. @default 'info' */
  readonly logLevel: LogLevel;
}

export const DEFAULT_SETTINGS: BridgeSettings = {
  stackName: 'FtpS3Bridge',
  allowedCidrs: ['0.0.0.0/0'],
  shardCount: 2,
  passivePortsPerShard: 3,
  firstPassivePort: 30000,
  controlPort: 21,
  implicitTlsPort: 990,
  activeMode: false,
  tlsMode: 'required',
  vpcId: undefined,
  vpcAvailabilityZones: [],
  vpcPublicSubnetIds: [],
  vpcTaskSubnetIds: [],
  maxAzs: 2,
  egress: 'endpoints',
  bucketName: undefined,
  bucketKmsKeyArn: undefined,
  bucketPrefix: '',
  usersSecretArn: undefined,
  tlsSecretArn: undefined,
  taskCpu: 512,
  taskMemoryMiB: 1024,
  idleTimeoutSeconds: 3600,
  deregistrationDelaySeconds: 120,
  logRetentionDays: 90,
  logLevel: 'info',
};

/** Ports inside the container (fixed by the runtime image; the NLB maps public ports onto them). */
export const CONTAINER_PORTS = { control: 2121, implicitTls: 2990, health: 8080 } as const;

/** AWS limits the settings are checked against (see docs/design.md). */
export const AWS_LIMITS = {
  listenersPerLoadBalancer: 50,
  targetGroupsPerService: 5,
  /** Default quota of inbound (and of outbound) rules per security group. */
  rulesPerSecurityGroup: 60,
} as const;

/** Log retention values CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Thrown for invalid settings; its message lists every problem, one per line. */
export class SettingsError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid ftp-s3-bridge settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SettingsError';
    this.problems = problems;
  }
}

/** The public ports of one deployment, derived from valid settings. */
export interface PortPlan {
  readonly controlPort: number;
  /** undefined when implicit FTPS is off. */
  readonly implicitTlsPort: number | undefined;
  /** The whole passive range over all shards. */
  readonly passiveRange: { readonly from: number; readonly to: number };
}

export function portPlan(settings: BridgeSettings): PortPlan {
  const count = settings.shardCount * settings.passivePortsPerShard;
  return {
    controlPort: settings.controlPort,
    implicitTlsPort: settings.implicitTlsPort === 0 ? undefined : settings.implicitTlsPort,
    passiveRange: { from: settings.firstPassivePort, to: settings.firstPassivePort + count - 1 },
  };
}

/** Reads the settings from a context getter (e.g. `(key) => app.node.tryGetContext(key)`). */
export function settingsFromContext(
  get: (key: string) => unknown,
  keys: readonly string[] = [],
): BridgeSettings {
  const problems: string[] = [];
  const known = new Set(Object.keys(DEFAULT_SETTINGS));
  for (const key of keys) {
    if (key.startsWith(SETTINGS_PREFIX) && !known.has(key.slice(SETTINGS_PREFIX.length))) {
      problems.push(`${key} is not a setting (known: ${[...known].map((k) => SETTINGS_PREFIX + k).join(', ')})`);
    }
  }
  const reader = new ContextReader(get, problems);
  const d = DEFAULT_SETTINGS;
  const settings: BridgeSettings = {
    stackName: reader.string('stackName', d.stackName),
    allowedCidrs: reader.list('allowedCidrs', d.allowedCidrs),
    shardCount: reader.integer('shardCount', d.shardCount),
    passivePortsPerShard: reader.integer('passivePortsPerShard', d.passivePortsPerShard),
    firstPassivePort: reader.integer('firstPassivePort', d.firstPassivePort),
    controlPort: reader.integer('controlPort', d.controlPort),
    implicitTlsPort: reader.integer('implicitTlsPort', d.implicitTlsPort),
    activeMode: reader.boolean('activeMode', d.activeMode),
    tlsMode: reader.oneOf('tlsMode', TLS_MODES, d.tlsMode),
    vpcId: reader.optionalString('vpcId'),
    vpcAvailabilityZones: reader.list('vpcAvailabilityZones', d.vpcAvailabilityZones),
    vpcPublicSubnetIds: reader.list('vpcPublicSubnetIds', d.vpcPublicSubnetIds),
    vpcTaskSubnetIds: reader.list('vpcTaskSubnetIds', d.vpcTaskSubnetIds),
    maxAzs: reader.integer('maxAzs', d.maxAzs),
    egress: reader.oneOf('egress', ['endpoints', 'nat'] as const, d.egress),
    bucketName: reader.optionalString('bucketName'),
    bucketKmsKeyArn: reader.optionalString('bucketKmsKeyArn'),
    bucketPrefix: normalisePrefix(reader.string('bucketPrefix', d.bucketPrefix)),
    usersSecretArn: reader.optionalString('usersSecretArn'),
    tlsSecretArn: reader.optionalString('tlsSecretArn'),
    taskCpu: reader.integer('taskCpu', d.taskCpu),
    taskMemoryMiB: reader.integer('taskMemoryMiB', d.taskMemoryMiB),
    idleTimeoutSeconds: reader.integer('idleTimeoutSeconds', d.idleTimeoutSeconds),
    deregistrationDelaySeconds: reader.integer('deregistrationDelaySeconds', d.deregistrationDelaySeconds),
    logRetentionDays: reader.integer('logRetentionDays', d.logRetentionDays),
    logLevel: reader.oneOf('logLevel', LOG_LEVELS, 'info'),
  };
  if (problems.length > 0) throw new SettingsError(problems);
  return validateSettings(settings);
}

/** Checks settings built in code (tests, other apps); returns them unchanged or throws SettingsError. */
export function validateSettings(settings: BridgeSettings): BridgeSettings {
  const problems = settingsProblems(settings);
  if (problems.length > 0) throw new SettingsError(problems);
  return settings;
}

function settingsProblems(s: BridgeSettings): string[] {
  const problems: string[] = [];
  const p = (name: keyof BridgeSettings) => SETTINGS_PREFIX + name;
  const inRange = (name: keyof BridgeSettings, value: number, min: number, max: number, unit = '') => {
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${p(name)} must be an integer from ${min} to ${max}${unit}, got ${value}`);
      return false;
    }
    return true;
  };

  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(s.stackName)) {
    problems.push(`${p('stackName')} must start with a letter and hold only letters, digits and hyphens (at most 128), got "${s.stackName}"`);
  }

  // Client networks.
  if (s.allowedCidrs.length === 0) problems.push(`${p('allowedCidrs')} must list at least one IPv4 CIDR`);
  for (const cidr of s.allowedCidrs) {
    if (!isIpv4Cidr(cidr)) problems.push(`${p('allowedCidrs')}: "${cidr}" is not an IPv4 CIDR such as 203.0.113.0/24`);
  }
  if (new Set(s.allowedCidrs).size !== s.allowedCidrs.length) problems.push(`${p('allowedCidrs')} lists a network twice`);

  // Ports and shards.
  const shardsOk = inRange('shardCount', s.shardCount, 1, AWS_LIMITS.listenersPerLoadBalancer);
  const perShardOk = inRange('passivePortsPerShard', s.passivePortsPerShard, 1, 4);
  const firstOk = inRange('firstPassivePort', s.firstPassivePort, 1024, 65535);
  const controlOk = inRange('controlPort', s.controlPort, 1, 65535);
  const implicitOk = inRange('implicitTlsPort', s.implicitTlsPort, 0, 65535, ' (0 turns implicit FTPS off)');
  if (controlOk && implicitOk && s.controlPort === s.implicitTlsPort) {
    problems.push(`${p('controlPort')} and ${p('implicitTlsPort')} must differ, both are ${s.controlPort}`);
  }
  const implicit = s.implicitTlsPort !== 0;
  if (perShardOk) {
    const targetGroups = 1 + (implicit ? 1 : 0) + s.passivePortsPerShard;
    if (targetGroups > AWS_LIMITS.targetGroupsPerService) {
      problems.push(
        `${p('passivePortsPerShard')} = ${s.passivePortsPerShard} gives each shard's service ${targetGroups} target groups ` +
          `(control${implicit ? ' + implicit TLS' : ''} + passive ports); an ECS service can attach at most ${AWS_LIMITS.targetGroupsPerService}`,
      );
    }
  }
  if (shardsOk && perShardOk) {
    const listeners = 1 + (implicit ? 1 : 0) + s.shardCount * s.passivePortsPerShard;
    if (listeners > AWS_LIMITS.listenersPerLoadBalancer) {
      problems.push(
        `${p('shardCount')} × ${p('passivePortsPerShard')} = ${s.shardCount * s.passivePortsPerShard} passive ports need ${listeners} NLB listeners ` +
          `with the control${implicit ? ' and implicit-TLS' : ''} port; a Network Load Balancer has at most ${AWS_LIMITS.listenersPerLoadBalancer}`,
      );
    }
  }
  if (shardsOk && perShardOk && firstOk && controlOk && implicitOk) {
    const { passiveRange } = portPlan(s);
    const range = `${passiveRange.from}-${passiveRange.to}`;
    if (passiveRange.to > 65535) problems.push(`the passive range ${range} ends above port 65535; lower ${p('firstPassivePort')}`);
    // The runtime's own port rules, for the load balancer's listeners and for the container.
    const passive = { first: passiveRange.from, last: passiveRange.to };
    const listeners: PortLayout = { control: s.controlPort, implicitTls: s.implicitTlsPort, health: 0, passive };
    const container: PortLayout = { ...CONTAINER_PORTS, implicitTls: implicit ? CONTAINER_PORTS.implicitTls : 0, passive };
    const listenerNames: Record<ListenerPort, string> = { control: p('controlPort'), implicitTls: p('implicitTlsPort'), health: '' };
    for (const clash of portClashes(listeners)) {
      // The same port twice is reported above, with the settings' own words.
      if (clash.kind === 'in-passive-range') problems.push(`the passive range ${range} overlaps ${listenerNames[clash.port]} ${clash.value}`);
    }
    for (const clash of portClashes(container)) {
      if (clash.kind === 'in-passive-range') problems.push(`the passive range ${range} overlaps the container's ${clash.port} port ${clash.value}`);
    }
    const perCidr = 2 + (implicit ? 1 : 0);
    const inbound = perCidr * s.allowedCidrs.length;
    if (inbound > AWS_LIMITS.rulesPerSecurityGroup) {
      problems.push(
        `${s.allowedCidrs.length} networks in ${p('allowedCidrs')} need ${inbound} inbound rules on the load balancer's security group; ` +
          `the default quota is ${AWS_LIMITS.rulesPerSecurityGroup} (merge networks into larger CIDRs)`,
      );
    }
  }

  // Modes.
  if (implicit && s.tlsMode === 'off') {
    problems.push(`${p('implicitTlsPort')} ${s.implicitTlsPort} needs TLS: set ${p('tlsMode')} to optional or required, or ${p('implicitTlsPort')} to 0`);
  }
  if (s.activeMode && s.vpcId === undefined && s.egress !== 'nat') {
    problems.push(`${p('activeMode')} needs ${p('egress')}=nat: in active mode tasks open data connections to clients on the internet`);
  }

  // Network.
  if (s.vpcId !== undefined) {
    if (!/^vpc-[0-9a-f]{8,17}$/.test(s.vpcId)) problems.push(`${p('vpcId')} "${s.vpcId}" is not a VPC id such as vpc-0123456789abcdef0`);
    const zones = s.vpcAvailabilityZones.length;
    if (zones === 0) problems.push(`${p('vpcId')} needs ${p('vpcAvailabilityZones')}: the zones to use, e.g. eu-west-1a,eu-west-1b`);
    for (const zone of s.vpcAvailabilityZones) {
      if (!/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/.test(zone)) problems.push(`${p('vpcAvailabilityZones')}: "${zone}" is not an availability zone name such as eu-west-1a`);
    }
    if (new Set(s.vpcAvailabilityZones).size !== zones) problems.push(`${p('vpcAvailabilityZones')} lists a zone twice`);
    for (const name of ['vpcPublicSubnetIds', 'vpcTaskSubnetIds'] as const) {
      const ids = s[name];
      if (ids.length !== zones) problems.push(`${p(name)} must list one subnet per zone of ${p('vpcAvailabilityZones')} (${zones}), got ${ids.length}`);
      for (const id of ids) if (!/^subnet-[0-9a-f]{8,17}$/.test(id)) problems.push(`${p(name)}: "${id}" is not a subnet id such as subnet-0123456789abcdef0`);
    }
  } else {
    for (const name of ['vpcAvailabilityZones', 'vpcPublicSubnetIds', 'vpcTaskSubnetIds'] as const) {
      if (s[name].length > 0) problems.push(`${p(name)} applies to an existing VPC only: set ${p('vpcId')} too`);
    }
  }
  inRange('maxAzs', s.maxAzs, 1, 6);

  // Storage.
  if (s.bucketName !== undefined && !isBucketName(s.bucketName)) {
    problems.push(`${p('bucketName')} "${s.bucketName}" is not a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)`);
  }
  if (s.bucketKmsKeyArn !== undefined) {
    if (s.bucketName === undefined) problems.push(`${p('bucketKmsKeyArn')} applies to an existing bucket only: set ${p('bucketName')} too`);
    if (!/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(s.bucketKmsKeyArn)) {
      problems.push(`${p('bucketKmsKeyArn')} "${s.bucketKmsKeyArn}" is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)`);
    }
  }
  if (s.bucketPrefix !== '' && !isKeyPrefix(s.bucketPrefix)) {
    problems.push(`${p('bucketPrefix')} "${s.bucketPrefix}" must be path segments of letters, digits and !-_.*'() (no empty, "." or ".." segments, no wildcards)`);
  }

  // Secrets.
  for (const name of ['usersSecretArn', 'tlsSecretArn'] as const) {
    const arn = s[name];
    if (arn !== undefined && !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/.test(arn)) {
      problems.push(`${p(name)} "${arn}" is not a complete Secrets Manager secret ARN (…:secret:<name>-<6 characters>)`);
    }
  }

  // Task and load balancer.
  const cpuOk = inRange('taskCpu', s.taskCpu, 256, 16384);
  if (cpuOk) {
    const memory = FARGATE_MEMORY[s.taskCpu];
    if (memory === undefined) {
      problems.push(`${p('taskCpu')} must be one of ${Object.keys(FARGATE_MEMORY).join(', ')}, got ${s.taskCpu}`);
    } else if (!memory.includes(s.taskMemoryMiB)) {
      problems.push(
        `${p('taskMemoryMiB')} ${s.taskMemoryMiB} does not fit ${p('taskCpu')} ${s.taskCpu}; Fargate accepts ${memory[0]}-${memory[memory.length - 1]} MiB in the steps of its task sizes`,
      );
    }
  }
  inRange('idleTimeoutSeconds', s.idleTimeoutSeconds, 60, 6000, ' (NLB TCP listener limits)');
  inRange('deregistrationDelaySeconds', s.deregistrationDelaySeconds, 0, 3600);
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(s.logRetentionDays)) {
    problems.push(`${p('logRetentionDays')} must be one of ${LOG_RETENTION_DAYS.join(', ')}, got ${s.logRetentionDays}`);
  }
  if (!(LOG_LEVELS as readonly string[]).includes(s.logLevel)) problems.push(`${p('logLevel')} must be one of ${LOG_LEVELS.join(', ')}, got "${s.logLevel}"`);
  return problems;
}

/** Fargate task sizes: CPU units → accepted memory in MiB. */
const FARGATE_MEMORY: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: steps(1024, 4096, 1024),
  1024: steps(2048, 8192, 1024),
  2048: steps(4096, 16384, 1024),
  4096: steps(8192, 30720, 1024),
  8192: steps(16384, 61440, 4096),
  16384: steps(32768, 122880, 8192),
};

function steps(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

function isIpv4Cidr(value: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (match === null) return false;
  const octets = match.slice(1, 5).map(Number);
  const bits = Number(match[5]);
  if (octets.some((o) => o > 255) || bits > 32) return false;
  // The address must be the network address (no host bits), as security groups expect.
  const address = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  const hostMask = bits === 32 ? 0 : (0xffffffff >>> bits) >>> 0;
  return (address & hostMask) === 0;
}

function isBucketName(value: string): boolean {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(value) && !value.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(value);
}

function isKeyPrefix(value: string): boolean {
  return value.length <= 512 && value.split('/').every((segment) => /^[A-Za-z0-9!_.'()-]+$/.test(segment) && segment !== '.' && segment !== '..');
}

function normalisePrefix(value: string): string {
  return value.replace(/^\/+/, '').replace(/\/+$/, '');
}

/** Reads one typed value per key; context from `-c` arrives as strings, from cdk.json as JSON. */
class ContextReader {
  private readonly get: (key: string) => unknown;
  private readonly problems: string[];

  constructor(get: (key: string) => unknown, problems: string[]) {
    this.get = get;
    this.problems = problems;
  }

  private raw(name: string): unknown {
    return this.get(SETTINGS_PREFIX + name);
  }

  string(name: string, fallback: string): string {
    const value = this.raw(name);
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'string') {
      this.problems.push(`${SETTINGS_PREFIX}${name} must be a string, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return value.trim();
  }

  optionalString(name: string): string | undefined {
    const value = this.string(name, '');
    return value === '' ? undefined : value;
  }

  integer(name: string, fallback: number): number {
    const value = this.raw(name);
    if (value === undefined || value === null) return fallback;
    const number = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isInteger(number)) {
      this.problems.push(`${SETTINGS_PREFIX}${name} must be an integer, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return number;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined || value === null) return fallback;
    if (typeof value === 'boolean') return value;
    const text = String(value).trim().toLowerCase();
    if (['true', 'on', 'yes', '1'].includes(text)) return true;
    if (['false', 'off', 'no', '0'].includes(text)) return false;
    this.problems.push(`${SETTINGS_PREFIX}${name} must be true or false, got ${JSON.stringify(value)}`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.string(name, fallback);
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${SETTINGS_PREFIX}${name} must be one of ${allowed.join(', ')}, got "${value}"`);
    return fallback;
  }

  /** A JSON array, or a comma-separated string (`-c bridge:allowedCidrs=a,b`). */
  list(name: string, fallback: readonly string[]): readonly string[] {
    const value = this.raw(name);
    if (value === undefined || value === null) return fallback;
    let items: unknown = value;
    if (typeof value === 'string') {
      const text = value.trim();
      if (text.startsWith('[')) {
        try {
          items = JSON.parse(text);
        } catch {
          items = undefined;
        }
      } else {
        items = text === '' ? [] : text.split(',').map((item) => item.trim());
      }
    }
    if (!Array.isArray(items) || !items.every((item): item is string => typeof item === 'string')) {
      this.problems.push(`${SETTINGS_PREFIX}${name} must be a list of strings (JSON array or comma-separated), got ${JSON.stringify(value)}`);
      return fallback;
    }
    return items.map((item) => item.trim());
  }
}
