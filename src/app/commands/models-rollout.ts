// The rollout as the `models` commands read and change it: the stores, the rollout in force
// (or the one the settings describe before any change), a change checked against the
// revision it was computed from and logged, and a rollout described in one line.
import { listVersions } from '../../adapters/files/model-store.js';
import { fromPackageRoot } from '../../adapters/files/package-root.js';
import { RedisIsClusterNode } from '../../adapters/redis/connect.js';
import { RedisConnection } from '../../adapters/redis/connection.js';
import type { Rollout, RolloutAction } from '../../core/experiments/rollout.js';
import { describeServing, reportMaxAgeMs, servingView } from '../../core/experiments/serving.js';
import type { Config } from '../config.js';
import type { RolloutStore } from '../scorer/ports.js';
import { UserError } from '../user-error.js';

export type Stores = ReturnType<RedisConnection['stores']>;

export async function withStores<T>(config: Config, work: (stores: Stores) => Promise<T>): Promise<T> {
  const redis =
    config.redisCluster === null
      ? await RedisConnection.open(config.redisUrl, config.redisTlsCaFile).catch((error: unknown) => {
          if (error instanceof RedisIsClusterNode) throw new UserError(`REDIS_URL: ${error.message}`);
          throw error;
        })
      : await RedisConnection.openCluster(config.redisCluster, config.redisTlsCaFile);
  try {
    return await work(redis.stores(config.redisNamespace, config.stateTtlSeconds));
  } finally {
    await redis.close();
  }
}

const newest = (config: Config, kind: 'churn' | 'ltv'): string | null =>
  listVersions(config.models.dir ?? fromPackageRoot('models'), kind).at(-1) ?? null;

/** A scorer reports what it serves on every rollout check: older reports are stopped or hung processes. */
const maxAge = (config: Config | null) => reportMaxAgeMs(config?.rollout.checkIntervalMs ?? 0);

/**
 * The rollout in Redis; before any change, what the running scorers report they serve
 * (they must agree); with no scorer running, the one this shell's settings describe, said
 * so on stderr (the shell may not be configured as the deployment is).
 */
export async function currentRollout(
  config: Config,
  stores: { readonly rollout: RolloutStore },
  warn: (line: string) => void = (line) => console.error(line),
): Promise<Rollout> {
  const stored = await stores.rollout.read();
  if (stored !== null) return stored;
  const now = Date.now();
  const view = servingView(await stores.rollout.serving(), now, maxAge(config));
  if (view.kind === 'disagree' || view.kind === 'changing')
    throw new UserError(
      `the running scorers serve different models or experiments; make them agree before a rollout (a process killed without a stop is forgotten ${maxAge(config) / 1000} s after its last report): ${view.reports.map((r) => describeServing(r, now)).join('; ')}`,
    );
  if (view.kind === 'agreed') {
    const { champion, challenger, weight } = view.serving;
    // Reports name every version; a rollout says "the champion's" (null) for a side the challenger shares.
    const own = (kind: 'churn' | 'ltv') =>
      challenger?.[kind] === champion[kind] ? null : (challenger?.[kind] ?? null);
    return {
      revision: 0,
      champion,
      challenger: challenger === null ? null : { churn: own('churn'), ltv: own('ltv') },
      weight,
    };
  }
  const { challengerChurn, challengerLtv, weight } = config.rollout;
  const settings: Rollout = {
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
  warn(
    `note: no rollout is stored and no scorer reports what it serves (namespace ${config.redisNamespace}); starting from this shell's settings: ${describe(settings)}`,
  );
  return settings;
}

/**
 * A weight decides customers only where the scorers run an experiment: refused where they report
 * none, and, with no scorer running, when this shell names none either (nothing says one runs:
 * the weight would be stored and silently give the challenger nobody).
 */
async function checkExperiment(stores: { readonly rollout: RolloutStore }, config: Config | null, next: Rollout) {
  if (next.weight <= 0 || next.challenger === null) return;
  const fresh = (await stores.rollout.serving()).filter((r) => Date.now() - r.at <= maxAge(config));
  const without = fresh.filter((r) => r.experiment === null).map((r) => r.process);
  if (without.length > 0)
    throw new UserError(
      `a weight decides nobody where no experiment runs: ${without.join(', ')} run(s) without CHURNSTREAM_EXPERIMENT`,
    );
  if (fresh.length === 0 && config !== null && config.rollout.experiment === null)
    throw new UserError(
      'a weight decides nobody where no experiment runs: no scorer reports what it serves and CHURNSTREAM_EXPERIMENT is not set here; set it as the scorers have it (name:salt)',
    );
}

/** Applies one change to the rollout and logs it; refuses if another change landed meanwhile. */
export async function changeRollout(
  stores: { readonly rollout: RolloutStore },
  current: Rollout,
  next: Rollout,
  note: { readonly action: RolloutAction; readonly by: string; readonly why: string; readonly at: Date },
  /** The shell's settings (null: not checked against them, as in tests of other checks). */
  config: Config | null,
): Promise<Rollout> {
  await checkExperiment(stores, config, next);
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
    : `challenger ${r.challenger.churn ?? '(champion)'}/${r.challenger.ltv ?? '(champion)'} deciding ${Number((r.weight * 100).toFixed(4))}% of customers`) +
  calibrated(r);
