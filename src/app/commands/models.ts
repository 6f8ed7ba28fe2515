// `churnstream models compare|promote|rollback|weight|challenger|recalibrate|log`: the rollout every
// scorer process follows (kept in Redis; processes pick a change up within
// CHURNSTREAM_ROLLOUT_CHECK_INTERVAL_MS, no restart), each change logged with who, when, why.
import { userInfo } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import {
  promote,
  type Rollout,
  type RolloutAction,
  RolloutRefused,
  rollback,
  withChallenger,
  withWeight,
} from '../../core/experiments/rollout.js';
import { recalibratedVersion } from '../../core/monitoring/recalibration.js';
import { loadConfig } from '../config.js';
import { UserError } from '../user-error.js';
import { compareModels, formatComparison } from './models-compare.js';
import { recalibrateCommand } from './models-recalibrate.js';
import { changeRollout, currentRollout, describe, type Stores, withStores } from './models-rollout.js';

/** The name a churn version is served (and its labels counted) under: recalibrated or not. */
const served = (rollout: Rollout, version: string | null): string | null => {
  const calibration = version === null ? undefined : rollout.calibrations?.[version];
  return version === null || calibration === undefined ? version : recalibratedVersion(version, calibration.revision);
};

const recalibrations = (rollout: Rollout) =>
  new Map(
    Object.entries(rollout.calibrations ?? {}).map(([base, calibration]) => [
      recalibratedVersion(base, calibration.revision),
      { base, calibration },
    ]),
  );

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
        const champion = options.champion ?? served(rollout, rollout.champion.churn);
        const challenger = options.challenger ?? served(rollout, rollout.challenger?.churn ?? null);
        if (champion === null || challenger === null)
          throw new UserError('name both versions (--champion, --challenger): the rollout does not pin them');
        const report = await compareModels(stores, champion, challenger, recalibrations(rollout));
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
  models.addCommand(recalibrateCommand());
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
