#!/usr/bin/env node
// The churnstream command line. Each subcommand validates its options, builds the
// configuration and hands off to the app layer; no business logic lives here.
import { Command, Option } from 'commander';
import { packageVersion } from '../../adapters/files/package-root.js';
import { deadLettersCommand } from '../commands/dead-letters.js';
import { modelsCommand } from '../commands/models.js';
import { ScoreInputError, scoreCsv } from '../commands/score.js';
import { scoreLtvCsv } from '../commands/score-ltv.js';
import { loadConfig } from '../config.js';
import { MAX_DEMO_DAYS, runDemo } from '../demo.js';
import { apiBase } from '../demo-query.js';
import { tuneGarbageCollection } from '../gc-tuning.js';
import { createLogger } from '../logger.js';
import { startService } from '../service.js';
import { provision } from '../setup.js';
import { USER_ERROR_EXIT_CODE, UserError } from '../user-error.js';
import { datasetCommand } from './dataset-command.js';
import { positiveInt } from './options.js';
import { trainCommand } from './train-command.js';

/** Files the demo can replay (the dataset command also reads the orders topic). */
const FILE_SOURCES = ['uci', 'cdnow', 'csv'] as const;

const program = new Command()
  .name('churnstream')
  .description('Real-time customer churn and lifetime-value scoring on Kafka order events')
  .version(packageVersion())
  // Program options only before the command (`models recalibrate --version v1` printed 0.1.0).
  .enablePositionalOptions()
  .showHelpAfterError();

program
  .command('setup')
  .description('create the topics and register the Avro schemas (idempotent)')
  .action(async () => {
    const config = loadConfig();
    const { schemas, partitions } = await provision(config);
    for (const schema of Object.values(schemas)) {
      const topic = schema.subject.replace(/-value$/, '');
      console.log(
        `${topic}: ${partitions.get(topic) ?? '?'} partitions, subject ${schema.subject} schema id ${schema.id}`,
      );
    }
  });

program
  .command('run')
  .description('run the streaming scorer: consumer group, timers and the HTTP API (until SIGTERM/SIGINT)')
  .action(async () => {
    tuneGarbageCollection();
    const config = loadConfig();
    const log = createLogger(config.logLevel);
    // A rejection nobody handles is a bug: say so in the log before Node ends the process.
    process.on('unhandledRejection', (reason) => {
      log.fatal({ err: reason }, 'unhandled promise rejection (a bug); exiting for a restart');
      process.exit(1);
    });
    const service = await startService(config, log, (error) => {
      log.fatal({ err: error }, 'the consumer cannot continue; exiting for a restart');
      process.exit(1);
    });
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down: finishing the batch, committing, closing');
      service.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });

program
  .command('demo')
  .description(
    'the main job on demo traffic: scorer + replay of a seeded history (or a data file), then the API stays up',
  )
  .option('--customers <n>', 'customers to simulate', positiveInt('--customers'), 2000)
  .option('--days <n>', `days of history (at most ${MAX_DEMO_DAYS}; ends by today)`, positiveInt('--days'), 540)
  .option('--seed <n>', 'random seed (same seed, same events)', positiveInt('--seed'), 42)
  .addOption(new Option('--source <kind>', 'replay a file instead').choices(FILE_SOURCES))
  .option('--input <path>', 'the file for --source')
  .option('--exit', 'exit after the summary instead of serving the API', false)
  .option('--no-progress', 'no progress bar')
  .action(
    async (options: {
      customers: number;
      days: number;
      seed: number;
      source?: (typeof FILE_SOURCES)[number];
      input?: string;
      exit: boolean;
      progress: boolean;
    }) => {
      if (options.days > MAX_DEMO_DAYS) throw new UserError(`--days ${options.days}: at most ${MAX_DEMO_DAYS}`);
      tuneGarbageCollection();
      // Replays run on event time so timers fire as the history's months go by.
      const config = loadConfig({ CHURNSTREAM_CLOCK: 'watermark', ...process.env });
      const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
      if ((options.source === undefined) !== (options.input === undefined)) {
        throw new ScoreInputError('--source and --input go together');
      }
      const source =
        options.source !== undefined && options.input !== undefined
          ? { kind: options.source, path: options.input }
          : undefined;
      const { service, summary } = await runDemo(
        config,
        { ...options, source, progress: options.progress && process.stderr.isTTY },
        log,
      );
      const rate = (count: number, seconds: number) => Math.round(count / Math.max(seconds, 1e-9));
      console.log(
        [
          `replayed   ${summary.produced} order events in ${summary.produceSeconds.toFixed(1)} s; scored and caught up after ${summary.drainSeconds.toFixed(1)} s (${rate(summary.produced, summary.drainSeconds)} ev/s end to end)`,
          `risk changes published, by new tier: ${Object.entries(summary.riskChangesByTier)
            .map(([tier, n]) => `${tier}=${n}`)
            .join(' ')}`,
          `timer rescorings ${summary.timerEvaluations}, dead letters ${summary.deadLetters}`,
          'riskiest customers now:',
          ...summary.top.map(
            (c) =>
              `  ${c.customerId.padEnd(10)} ${c.level.padEnd(8)} p=${c.probability.toFixed(3)}  ${c.reasons.join(' ')}`,
          ),
          `query API: ${apiBase(config, summary.port)}/customers/<id>${config.http.tokenFile === null ? '' : ' (Authorization: Bearer <token>)'}   metrics: ${config.http.ops === null ? apiBase(config, summary.port) : `http://${config.http.ops.host}:${config.http.ops.port}`}/metrics`,
        ].join('\n'),
      );
      if (options.exit) {
        await service.stop();
        return;
      }
      console.log('serving; Ctrl-C to stop');
      const stop = () => {
        service.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
  );

program
  .command('score')
  .description('score a CSV of feature rows with a LightGBM text model or an LTV artifact (one output line per row)')
  .option('--model <model.txt>', 'LightGBM text model')
  .option('--ltv-model <dir>', 'an LTV artifact folder (models/ltv/<version>): prints predicted_ltv,low,high')
  .requiredOption('--input <rows.csv>', 'CSV with a header of feature names; empty = missing')
  .option('--raw', 'raw scores instead of transformed predictions', false)
  .option('--contrib', "per-feature contributions in LightGBM's pred_contrib layout", false)
  .action(async (options: { model?: string; ltvModel?: string; input: string; raw: boolean; contrib: boolean }) => {
    const lines: string[] = [];
    const flush = () => {
      if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
      lines.length = 0;
    };
    const write = (line: string) => {
      lines.push(line);
      if (lines.length >= 1024) flush();
    };
    if ((options.model === undefined) === (options.ltvModel === undefined))
      throw new ScoreInputError('give exactly one of --model and --ltv-model');
    if (options.ltvModel !== undefined) await scoreLtvCsv({ ltvModel: options.ltvModel, input: options.input }, write);
    else await scoreCsv({ ...options, model: options.model ?? '' }, write);
    flush();
  });

program.addCommand(datasetCommand());
program.addCommand(trainCommand());
program.addCommand(deadLettersCommand());
program.addCommand(modelsCommand());

/**
 * A command line commander refuses (unknown option or command, missing argument, bad
 * value) is a user error: exit 2 like any other, after commander's own message. Help and
 * --version keep exit 0. Set on every command: commands made apart and added with
 * addCommand (dead-letters) do not inherit it.
 */
function exitWithUserErrorCode(command: Command): void {
  command.exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : USER_ERROR_EXIT_CODE));
  for (const sub of command.commands) exitWithUserErrorCode(sub);
}
exitWithUserErrorCode(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof UserError) {
    console.error(error.message);
    process.exit(USER_ERROR_EXIT_CODE);
  }
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
