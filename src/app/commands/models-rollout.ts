// The rollout as the `models` commands read and change it: the stores, the rollout in force
// (or the one the settings describe before any change), a change checked against the
// revision it was computed from and logged, and a rollout described in one line.
import { listVersions } from '../../adapters/files/model-store.js';
import { fromPackageRoot } from '../../adapters/files/package-root.js';
import { RedisConnection } from '../../adapters/redis/connection.js';
import type { Rollout, RolloutAction } from '../../core/experiments/rollout.js';
import type { Config } from '../config.js';
import type { RolloutStore } from '../scorer/ports.js';
import { UserError } from '../user-error.js';

export type Stores = ReturnType<RedisConnection['stores']>;

export async function withStores<T>(config: Config, work: (stores: Stores) => Promise<T>): Promise<T> {
  const redis =
    config.redisCluster === null
      ? await RedisConnection.open(config.redisUrl, config.redisTlsCaFile)
      : await RedisConnection.openCluster(config.redisCluster, config.redisTlsCaFile);
  try {
    return await work(redis.stores(config.redisNamespace, config.stateTtlSeconds));
  } finally {
    await redis.close();
  }
}

const newest = (config: Config, kind: 'churn' | 'ltv'): string | null =>
  listVersions(config.models.dir ?? fromPackageRoot('models'), kind).at(-1) ?? null;

/** The rollout in Redis, or the one the settings describe (revision 0) before any change. */
export async function currentRollout(config: Config, stores: { readonly rollout: RolloutStore }): Promise<Rollout> {
  const stored = await stores.rollout.read();
  if (stored !== null) return stored;
  const { challengerChurn, challengerLtv, weight } = config.rollout;
  return {
    revision: 0,
    // Named, not "newest": a promotion must keep naming the same versions.
    champion: {
      churn: config.models.churnVersion ?? newest(config, 'churn'),
      ltv: config.models.ltvVersion ?? newest(config, 'ltv'),
    },
    challenger:
      challengerChurn === null && challengerLtv === null ? null : { churn: challengerChurn, ltv: challengerLtv },
    weight,
  };
}

/** Applies one change to the rollout and logs it; refuses if another change landed meanwhile. */
export async function changeRollout(
  stores: { readonly rollout: RolloutStore },
  current: Rollout,
  next: Rollout,
  note: { readonly action: RolloutAction; readonly by: string; readonly why: string; readonly at: Date },
): Promise<Rollout> {
  const { action, by, why } = note;
  const entry = { revision: next.revision, at: note.at.toISOString(), by, action, why, before: current, after: next };
  if (!(await stores.rollout.change(entry, current.revision)))
    throw new UserError(
      `the rollout changed meanwhile (revision ${current.revision} is no longer current); run it again`,
    );
  return next;
}

const calibrated = (r: Rollout) => {
  const entries = Object.entries(r.calibrations ?? {});
  return entries.length === 0
    ? ''
    : `; recalibrated ${entries.map(([v, c]) => `${v} (revision ${c.revision})`).join(', ')}`;
};

export const describe = (r: Rollout) =>
  `revision ${r.revision}: champion ${r.champion.churn ?? 'newest'}/${r.champion.ltv ?? 'newest'}, ` +
  (r.challenger === null
    ? 'no challenger'
    : `challenger ${r.challenger.churn ?? '(champion)'}/${r.challenger.ltv ?? '(champion)'} deciding ${Math.round(r.weight * 1000) / 10}% of customers`) +
  calibrated(r);
