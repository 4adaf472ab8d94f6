import type { BridgeSettings } from './settings.ts';

/** One shard: a service with one task, pinned to one AZ, owning a contiguous slice of the passive range. */
export interface ShardPlan {
  /** 0-based shard number. */
  readonly index: number;
  /** Index into the deployment's availability zones (round-robin). */
  readonly zoneIndex: number;
  /** The passive ports this shard alone offers, in order. */
  readonly passivePorts: readonly number[];
}

/** Splits the passive range into per-shard slices and spreads the shards round-robin over `zoneCount` AZs. */
export function planShards(settings: BridgeSettings, zoneCount: number): ShardPlan[] {
  if (!Number.isInteger(zoneCount) || zoneCount < 1) throw new Error(`planShards needs at least one availability zone, got ${zoneCount}`);
  return Array.from({ length: settings.shardCount }, (_, index) => {
    const first = settings.firstPassivePort + index * settings.passivePortsPerShard;
    return {
      index,
      zoneIndex: index % zoneCount,
      passivePorts: Array.from({ length: settings.passivePortsPerShard }, (_, offset) => first + offset),
    };
  });
}
