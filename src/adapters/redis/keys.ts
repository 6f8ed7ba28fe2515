// The only place Redis key strings are built. Every key of a customer carries the
// customer id as a hash tag, so all of a customer's keys live in one Redis Cluster
// slot and one Lua script may touch them together. The layout version lets a new
// release change the layout without reading old values by mistake; the namespace lets
// several deployments (or test runs) share one Redis. Documented in docs/REDIS_LAYOUT.md.

export const KEY_LAYOUT_VERSION = 'v1';

export interface RedisKeys {
  /** Hash with the customer's state, scoring metadata, version and applied offsets. */
  customerState(customerId: string): string;
  /**
   * Due timers of the customers of one input partition (sorted set: member = customer
   * id, score = due time in ms). Sharded by partition so timers follow partition
   * ownership; the partition is the hash tag, so each shard is one cluster slot.
   */
  timers(partition: number): string;
  /** Event-time watermark of a partition (string, ms), so replays survive restarts. */
  watermark(partition: number): string;
  /** Resolved-label statistics of one model version (hash of bin counts and sums). */
  labels(modelVersion: string): string;
  /** The latest resolved LTV labels of one model version (list of JSON, bounded length). */
  ltvLabels(modelVersion: string): string;
  /** Joint score histogram of labels resolved with a champion's and a challenger's score (hash). */
  pairs(champion: string, challenger: string): string;
  /** The customers behind those labels (HyperLogLog, same slot as the histogram). */
  pairCustomers(champion: string, challenger: string): string;
  /** What decided a partition's tiers when its last rescoring finished (string, JSON). */
  decidedBy(partition: number): string;
  /** The rollout in force: champion, challenger, experiment weight (hash; written by `models` commands). */
  rollout(): string;
  /** What each running scorer process serves (hash: process -> JSON with the time it said so). */
  serving(): string;
  /** The rollout's log: who changed it, when and why (list of JSON, newest first). */
  rolloutLog(): string;
}

export function redisKeys(namespace: string): RedisKeys {
  const prefix = `cs:${KEY_LAYOUT_VERSION}:${namespace}`;
  return {
    customerState: (customerId) => `${prefix}:{${customerId}}:state`,
    timers: (partition) => `${prefix}:timers:{p${partition}}`,
    watermark: (partition) => `${prefix}:watermark:{p${partition}}`,
    labels: (modelVersion) => `${prefix}:labels:{${modelVersion}}`,
    ltvLabels: (modelVersion) => `${prefix}:ltv-labels:{${modelVersion}}`,
    pairs: (champion, challenger) => `${prefix}:pairs:{${champion}|${challenger}}`,
    pairCustomers: (champion, challenger) => `${prefix}:pair-customers:{${champion}|${challenger}}`,
    decidedBy: (partition) => `${prefix}:decided-by:{p${partition}}`,
    rollout: () => `${prefix}:{rollout}`,
    serving: () => `${prefix}:{rollout}:serving`,
    rolloutLog: () => `${prefix}:{rollout}:log`,
  };
}
