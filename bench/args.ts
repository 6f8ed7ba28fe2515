// Command-line options of the benchmarks, through node:util parseArgs: an unknown option,
// a missing value or a value that is not a number where one is wanted stops the run with
// a message (exit 2), instead of a NaN travelling into the results.
import { basename } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

const script = basename(process.argv[1] ?? 'bench');

/** Says what is wrong and how to call the benchmark, then exits with status 2. */
export function usageError(message: string, usage: string): never {
  process.stderr.write(`${script}: ${message}\nusage: ${usage}\n`);
  process.exit(2);
}

/** Parses the command line strictly: only the declared options, no positionals. */
export function benchArgs<const T extends Options>(options: T, usage: string) {
  try {
    return parseArgs({ options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error), usage);
  }
}

export interface NumberRule {
  readonly integer?: boolean;
  /** Smallest value allowed (inclusive). */
  readonly min?: number;
  /** Above zero (for durations and rates that may be fractional). */
  readonly positive?: boolean;
}

/** The option's value as a finite number obeying `rule`, or a usage error naming the option. */
export function numberOption(name: string, text: string, rule: NumberRule, usage: string): number {
  const value = Number(text);
  const kind = rule.positive
    ? `a positive ${rule.integer ? 'integer' : 'number'}`
    : rule.integer
      ? 'an integer'
      : 'a number';
  const bound = rule.min === undefined ? '' : ` >= ${rule.min}`;
  if (
    text.trim() === '' ||
    !Number.isFinite(value) ||
    (rule.integer === true && !Number.isInteger(value)) ||
    (rule.min !== undefined && value < rule.min) ||
    (rule.positive === true && !(value > 0))
  ) {
    return usageError(`--${name} must be ${kind}${bound}, got '${text}'`, usage);
  }
  return value;
}

/** A comma-separated list of numbers, each obeying `rule`. */
export function numberListOption(name: string, text: string, rule: NumberRule, usage: string): number[] {
  return text.split(',').map((item) => numberOption(name, item, rule, usage));
}

/** The option's value if it is one of `choices`, or a usage error listing them. */
export function choiceOption<const C extends string>(
  name: string,
  text: string,
  choices: readonly C[],
  usage: string,
): C {
  if (!(choices as readonly string[]).includes(text)) {
    return usageError(`--${name} must be one of ${choices.join(', ')}, got '${text}'`, usage);
  }
  return text as C;
}

/**
 * `--redis-cluster`, shared by the benchmarks that run the scorer: its state on the stack's Redis
 * Cluster (3 primaries + 3 replicas, started if need be) instead of the single Redis. With
 * REDIS_CLUSTER_NODES already set, that cluster is used with or without it (cluster-redis.ts).
 */
export const redisClusterOption = { 'redis-cluster': { type: 'boolean', default: false } } as const;

/** Where a benchmark writes its result: `name.md`, or `name-cluster.md` for a run on a Redis Cluster. */
export const resultFile = (name: string, cluster: boolean): URL =>
  new URL(`./results/${name}${cluster ? '-cluster' : ''}.md`, import.meta.url);
