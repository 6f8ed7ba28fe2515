// `churnstream models compare|promote|rollback|weight|challenger|log`: the rollout every
// scorer process follows (kept in Redis; processes pick a change up within
// CHURNSTREAM_ROLLOUT_CHECK_INTERVAL_MS, no restart), each change logged with who, when, why.
import { userInfo } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { listVersions } from '../../adapters/files/model-store.js';
import { fromPackageRoot } from '../../adapters/files/package-root.js';
import { RedisConnection } from '../../adapters/redis/connection.js';
import {
  promote,
  type Rollout,
  type RolloutAction,
  RolloutRefused,
  rollback,
  withChallenger,
  withWeight,
} from '../../core/experiments/rollout.js';
import { type Config, loadConfig } from '../config.js';
import type { RolloutStore } from '../scorer/ports.js';
import { UserError } from '../user-error.js';
import { compareModels, formatComparison } from './models-compare.js';

type Stores = ReturnType<RedisConnection['stores']>;

async function withStores<T>(config: Config, work: (stores: Stores) => Promise<T>): Promise<T> {
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

const describe = (r: Rollout) =>
  `revision ${r.revision}: champion ${r.champion.churn ?? 'newest'}/${r.champion.ltv ?? 'newest'}, ` +
  (r.challenger === null
    ? 'no challenger'
    : `challenger ${r.challenger.churn ?? '(champion)'}/${r.challenger.ltv ?? '(champion)'} deciding ${Math.round(r.weight * 1000) / 10}% of customers`);

const weightArg = (value: string) => {
  const w = Number(value);
  if (!(w >= 0 && w <= 1)) throw new InvalidArgumentError('the weight is a share between 0 and 1');
  return w;
};

/** A rollout-changing subcommand: --why is required, --by defaults to the OS user. */
function changing(
  name: string,
  description: string,
  compute: (current: Rollout, stores: Stores, args: string[]) => Promise<Rollout>,
  action: RolloutAction,
) {
  return new Command(name)
    .description(description)
    .requiredOption('--why <text>', 'why (kept in the rollout log)')
    .option('--by <name>', 'who (kept in the rollout log)', userInfo().username)
    .action(async (...params: unknown[]) => {
      const command = params.at(-1) as Command;
      const options = command.opts<{ why: string; by: string }>();
      const config = loadConfig();
      await withStores(config, async (stores) => {
        const current = await currentRollout(config, stores);
        let next: Rollout;
        try {
          next = await compute(current, stores, command.args);
        } catch (error) {
          if (error instanceof RolloutRefused) throw new UserError(`${name}: ${error.message}`);
          throw error;
        }
        await changeRollout(stores, current, next, { action, by: options.by, why: options.why, at: new Date() });
        console.log(`before ${describe(current)}\nafter  ${describe(next)}`);
      });
    });
}

export function modelsCommand(): Command {
  const models = new Command('models').description(
    'champion and challenger: compare them, promote, roll back, set the weight',
  );
  models
    .command('compare')
    .description('champion vs challenger on the labels the stream resolved (AUC difference with a 95% interval)')
    .option('--champion <version>', 'churn version (default: the rollout in force)')
    .option('--challenger <version>', 'churn version (default: the rollout in force)')
    .option('--json', 'one JSON object', false)
    .action(async (options: { champion?: string; challenger?: string; json: boolean }) => {
      const config = loadConfig();
      await withStores(config, async (stores) => {
        const rollout = await currentRollout(config, stores);
        const champion = options.champion ?? rollout.champion.churn;
        const challenger = options.challenger ?? rollout.challenger?.churn ?? null;
        if (champion === null || challenger === null)
          throw new UserError('name both versions (--champion, --challenger): the rollout does not pin them');
        const report = await compareModels(stores, champion, challenger);
        console.log(options.json ? JSON.stringify(report) : formatComparison(report).join('\n'));
      });
    });
  models.addCommand(
    changing(
      'promote',
      'the challenger becomes champion; the old champion stays in shadow',
      async (c) => promote(c),
      'promote',
    ),
  );
  models.addCommand(
    changing(
      'rollback',
      'back to the rollout before the latest promotion',
      async (c, s) => rollback(c, await s.rollout.log()),
      'rollback',
    ),
  );
  models.addCommand(
    changing(
      'weight',
      "set the challenger's share of customers (0: shadow only)",
      async (c, _s, [w]) => withWeight(c, weightArg(w ?? '')),
      'weight',
    ).argument('<share>', '0..1'),
  );
  models.addCommand(
    changing(
      'challenger',
      'set the challenger churn version (none: stop the challenger)',
      async (c, _s, [v]) => withChallenger(c, v === 'none' ? null : { churn: v ?? null, ltv: null }),
      'challenger',
    ).argument('<version>', 'churn version, or none'),
  );
  models
    .command('log')
    .description('the rollout log: who changed what, when and why (newest first)')
    .option('--limit <n>', 'entries', '20')
    .action(async (options: { limit: string }) => {
      const config = loadConfig();
      await withStores(config, async (stores) => {
        console.log(describe(await currentRollout(config, stores)));
        for (const e of await stores.rollout.log(Number(options.limit)))
          console.log(`${e.at}  ${e.action.padEnd(10)} by ${e.by}: ${e.why}\n    -> ${describe(e.after)}`);
      });
    });
  return models;
}
