#!/usr/bin/env node
// The churnstream command line. Each subcommand validates its options, builds the
// configuration and hands off to the app layer; no business logic lives here.
import { Command, InvalidArgumentError } from 'commander';
import { buildDatasetFile, type DatasetSource } from '../commands/dataset.js';
import { ScoreInputError, scoreCsv } from '../commands/score.js';
import { ConfigError, loadConfig } from '../config.js';
import { runDemo } from '../demo.js';
import { createLogger } from '../logger.js';
import { startService } from '../service.js';
import { provision } from '../setup.js';

const positiveInt = (name: string) => (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return parsed;
};

const isModelError = (error: unknown): error is Error => error instanceof Error && error.name === 'ModelParseError';

const program = new Command()
  .name('churnstream')
  .description('Real-time customer churn and lifetime-value scoring on Kafka order events')
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
    const config = loadConfig();
    const log = createLogger(config.logLevel);
    const service = await startService(config, log);
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
  .description('produce a seeded synthetic order history and consume it end to end')
  .option('--customers <n>', 'customers to simulate', positiveInt('--customers'), 2000)
  .option('--days <n>', 'days of history', positiveInt('--days'), 540)
  .option('--seed <n>', 'random seed (same seed, same events)', positiveInt('--seed'), 42)
  .option('--no-progress', 'no progress bar')
  .action(async (options: { customers: number; days: number; seed: number; progress: boolean }) => {
    const config = loadConfig();
    const log = createLogger(config.logLevel);
    const summary = await runDemo(config, { ...options, progress: options.progress && process.stderr.isTTY }, log);
    const rate = (count: number, seconds: number) => Math.round(count / Math.max(seconds, 1e-9));
    console.log(
      [
        `produced  ${summary.produced} events in ${summary.produceSeconds.toFixed(2)} s (${rate(summary.produced, summary.produceSeconds)} ev/s)`,
        `consumed  ${summary.consumed} events in ${summary.consumeSeconds.toFixed(2)} s (${rate(summary.consumed, summary.consumeSeconds)} ev/s)`,
        `by type   ${Object.entries(summary.byType)
          .map(([type, count]) => `${type}=${count}`)
          .join(' ')}`,
        `undecodable ${summary.undecodable}`,
        `customers ${summary.customers} (fenced state writes: ${summary.stateWrites})`,
      ].join('\n'),
    );
  });

program
  .command('score')
  .description('score a CSV of feature rows with a LightGBM text model (one output line per row)')
  .requiredOption('--model <model.txt>', 'LightGBM text model')
  .requiredOption('--input <rows.csv>', 'CSV with a header of feature names; empty = missing')
  .option('--raw', 'raw scores instead of transformed predictions', false)
  .option('--contrib', "per-feature contributions in LightGBM's pred_contrib layout", false)
  .action(async (options: { model: string; input: string; raw: boolean; contrib: boolean }) => {
    const lines: string[] = [];
    const flush = () => {
      if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
      lines.length = 0;
    };
    await scoreCsv(options, (line) => {
      lines.push(line);
      if (lines.length >= 1024) flush();
    });
    flush();
  });

program
  .command('dataset')
  .description('build a point-in-time-correct training table with the streaming feature code')
  .requiredOption('--source <kind>', 'uci | cdnow | csv (generic order CSV, docs/DATASETS.md)')
  .requiredOption('--input <path>', 'order history file')
  .requiredOption('--out <file.csv>', 'where to write the table')
  .option('--spec-out <file.json>', 'where to write the fitted feature spec', 'feature-spec.json')
  .option('--spec-version <name>', 'version name of the fitted feature spec', 'fitted-1')
  .option('--first <YYYY-MM-DD>', 'first cutoff (default: 90 days after the first event)')
  .option('--every-days <n>', 'days between cutoffs', positiveInt('--every-days'), 30)
  .option('--churn-days <n>', 'churn label horizon', positiveInt('--churn-days'), 90)
  .option('--ltv-days <n>', 'future-spend label horizon', positiveInt('--ltv-days'), 90)
  .option('--fit-until <YYYY-MM-DD>', 'fit fuzzy breakpoints on cutoffs up to this date (default: all but the last)')
  .option('--no-progress', 'no progress bar')
  .action(
    async (options: {
      source: string;
      input: string;
      out: string;
      specOut: string;
      specVersion: string;
      first?: string;
      everyDays: number;
      churnDays: number;
      ltvDays: number;
      fitUntil?: string;
      progress: boolean;
    }) => {
      if (!['uci', 'cdnow', 'csv'].includes(options.source)) {
        throw new ScoreInputError(`--source must be uci, cdnow or csv, not '${options.source}'`);
      }
      const summary = await buildDatasetFile(
        { ...options, source: options.source as DatasetSource, progress: options.progress && process.stderr.isTTY },
        (line) => console.error(line),
      );
      console.log(
        `${summary.rows} rows, ${summary.customers} customers, cutoffs ${summary.cutoffs[0]}..${summary.cutoffs.at(-1)} (${summary.cutoffs.length}), churn rate ${(summary.churnRate * 100).toFixed(1)}%, data end ${summary.dataEnd}`,
      );
    },
  );

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof ScoreInputError || isModelError(error)) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
