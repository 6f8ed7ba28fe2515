#!/usr/bin/env node
// The churnstream command line. Each subcommand validates its options, builds the
// configuration and hands off to the app layer; no business logic lives here.
import { Command, InvalidArgumentError } from 'commander';
import { ScoreInputError, scoreCsv } from '../commands/score.js';
import { ConfigError, loadConfig } from '../config.js';
import { runDemo } from '../demo.js';
import { createLogger } from '../logger.js';
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

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof ScoreInputError || isModelError(error)) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
