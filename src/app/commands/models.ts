// `churnstream models compare|promote|rollback|weight|challenger|recalibrate|log`: the rollout every
// scorer process follows (kept in Redis; processes pick a change up within
// CHURNSTREAM_ROLLOUT_CHECK_INTERVAL_MS, no restart), each change logged with who, when, why.
// Every value is checked before anything is written (models-options.ts, models-checks.ts):
// a bad one is one line on stderr and exit 2, and the rollout stays as it was.
import { Command } from 'commander';
import {
  type Rollout,
  type RolloutAction,
  RolloutRefused,
  rollback,
  sameModels,
} from '../../core/experiments/rollout.js';
import { type Config, loadConfig } from '../config.js';
import { UserError } from '../user-error.js';
import { challengerChange, checkLoads, promoting, promotion, weightChange } from './models-checks.js';
import { compareCommand } from './models-compare-command.js';
import { integerArg, MAX_LOG_LIMIT, printable, shareArg, withNotes } from './models-options.js';
import { recalibrateCommand } from './models-recalibrate.js';
import { changeRollout, currentRollout, describe, type Stores, withStores } from './models-rollout.js';

interface Change {
  readonly config: Config;
  readonly current: Rollout;
  readonly stores: Stores;
  /** The subcommand's arguments, parsed. */
  readonly args: readonly unknown[];
  readonly options: { readonly force?: boolean; readonly ltv?: string };
}

/** A rollout-changing subcommand: the next rollout is computed, checked, then written. */
function changing(
  name: RolloutAction,
  description: string,
  compute: (change: Change) => Rollout | Promise<Rollout>,
  /** A line said once the change is known to load, before it is written. */
  saying?: (current: Rollout) => string,
): Command {
  return withNotes(new Command(name).description(description)).action(async (...params: unknown[]) => {
    const command = params.at(-1) as Command;
    const options = command.opts<{ why: string; by: string; force?: boolean; ltv?: string }>();
    const config = loadConfig();
    await withStores(config, async (stores) => {
      const current = await currentRollout(config, stores);
      let next: Rollout;
      try {
        next = await compute({ config, current, stores, args: command.processedArgs, options });
      } catch (error) {
        if (error instanceof RolloutRefused) throw new UserError(`${name}: ${error.message}`);
        throw error;
      }
      if (!sameModels(current, next)) checkLoads(config, next, name);
      if (saying !== undefined) console.log(saying(current));
      const note = { action: name, by: options.by, why: options.why, at: new Date() };
      await changeRollout(stores, current, next, note, config);
      console.log(printable(`before ${describe(current)}`));
      console.log(printable(`after  ${describe(next)}`));
    });
  });
}

export function modelsCommand(): Command {
  const models = new Command('models').description(
    'champion and challenger: compare them, promote, roll back, set the weight',
  );
  models.addCommand(compareCommand());
  models.addCommand(
    changing(
      'promote',
      'the challenger becomes champion; the old champion stays in shadow',
      (c) => promotion(c.stores, c.current, c.args[0] as string | undefined, c.options.force === true),
      promoting,
    )
      .argument(
        '[version]',
        'the churn version to promote (an LTV-only challenger: its LTV version); refused unless it is the challenger (name it in scripts)',
      )
      .option('--force', 'promote even when the labels say the champion ranks better', false),
  );
  models.addCommand(
    changing('rollback', 'back to the rollout before the latest promotion', async (c) =>
      rollback(c.current, await c.stores.rollout.log()),
    ),
  );
  models.addCommand(
    changing('weight', "set the challenger's share of customers (0: shadow only)", (c) =>
      weightChange(c.stores, c.current, c.args[0] as number, c.options.force === true),
    )
      .argument('<share>', 'a decimal from 0 to 1', shareArg)
      .option('--force', 'raise it even when the labels say the champion ranks better', false),
  );
  models.addCommand(
    changing('challenger', 'set the challenger churn version (none: stop the challenger)', (c) =>
      challengerChange(c.config, c.current, c.args[0] as string | undefined, c.options.ltv),
    )
      .argument(
        '[version]',
        'a churn version of the models directory, or none; omitted with --ltv: an LTV-only challenger',
      )
      .option('--ltv <version>', "the challenger's LTV version (none: the champion's); unset: kept as it is"),
  );
  models.addCommand(recalibrateCommand());
  models
    .command('log')
    .description('the rollout log: who changed what, when and why (newest first)')
    .option('--limit <n>', `entries (1..${MAX_LOG_LIMIT})`, integerArg('--limit', 1, MAX_LOG_LIMIT), 20)
    .action(async (options: { limit: number }) => {
      const config = loadConfig();
      await withStores(config, async (stores) => {
        console.log(printable(describe(await currentRollout(config, stores))));
        // Entries written before --why and --by were checked may hold newlines or escapes.
        for (const e of await stores.rollout.log(options.limit))
          console.log(
            `${printable(`${e.at}  ${e.action.padEnd(10)} by ${e.by}: ${e.why}`)}\n    -> ${printable(describe(e.after))}`,
          );
      });
    });
  return models;
}
