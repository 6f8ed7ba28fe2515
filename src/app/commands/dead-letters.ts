// `churnstream dead-letters list|replay`: inspect the records the scorer could not process
// and, once their cause is fixed, put the originals back on their topics. The command
// line is defined here with `list`; replay lives in dead-letter-replay.ts.
import { Command } from 'commander';
import { type Config, loadConfig } from '../config.js';
import { addFilterOptions, type DeadLetterFilter, type FilterOptions, filterFrom } from './dead-letter-filter.js';
import { replayDeadLetters } from './dead-letter-replay.js';
import { type DeadLetter, type Printer, type ScannedRecord, scanDeadLetters } from './dead-letter-scan.js';

// The functions the subcommands call, for tests and other callers without a process.
export { type DeadLetterFilter, filterFrom } from './dead-letter-filter.js';
export { type ReplayOptions, type ReplaySummary, replayDeadLetters } from './dead-letter-replay.js';
export type { Printer } from './dead-letter-scan.js';

export interface ListSummary {
  readonly selected: number;
  readonly byErrorClass: ReadonlyMap<string, number>;
  /** Records within the offset range that are not dead letters (do not decode). */
  readonly undecodable: number;
}

const REASON_WIDTH = 80;

/** Prints the selected dead letters, one line (or JSON object) each, then the counts per error_class. */
export async function listDeadLetters(
  config: Config,
  filter: DeadLetterFilter,
  options: { readonly json: boolean },
  print: Printer,
): Promise<ListSummary> {
  const byErrorClass = new Map<string, number>();
  let undecodable = 0;
  await scanDeadLetters(config, filter, (records) => {
    for (const record of records) {
      if (record.ok)
        byErrorClass.set(record.letter.error_class, (byErrorClass.get(record.letter.error_class) ?? 0) + 1);
      else undecodable += 1;
      print.out(options.json ? JSON.stringify(jsonOf(record)) : lineOf(record));
    }
  });
  const selected = [...byErrorClass.values()].reduce((sum, n) => sum + n, 0);
  const counts = [...byErrorClass].sort(([a, m], [b, n]) => n - m || a.localeCompare(b));
  const summary = options.json ? print.err : print.out;
  summary(`${selected} dead letters${counts.length > 0 ? `: ${counts.map(([c, n]) => `${c}=${n}`).join(' ')}` : ''}`);
  if (undecodable > 0) summary(`${undecodable} records in ${config.topics.deadLetters} are not dead letters`);
  return { selected, byErrorClass, undecodable };
}

/** Size of the original value: a truncated dead letter holds only a prefix of it. */
function valueSize(letter: DeadLetter): number | null {
  if (letter.value === null) return null;
  return letter.original_value_size >= 0 ? letter.original_value_size : letter.value.length;
}

function lineOf(record: ScannedRecord): string {
  if (!record.ok) return `${record.offset}\tnot a dead letter: ${record.reason}`;
  const { letter } = record;
  const reason = letter.reason.length > REASON_WIDTH ? `${letter.reason.slice(0, REASON_WIDTH - 1)}…` : letter.reason;
  return [
    record.offset,
    new Date(letter.failed_at).toISOString(),
    letter.error_class,
    `${letter.source_topic}/${letter.source_partition}/${letter.source_offset}`,
    valueSize(letter) === null ? 'null' : `${valueSize(letter)}B`,
    letter.truncated ? 'truncated' : '-',
    reason,
  ].join('\t');
}

function jsonOf(record: ScannedRecord): Record<string, unknown> {
  if (!record.ok) return { offset: record.offset, not_a_dead_letter: record.reason };
  const { letter } = record;
  const base64 = (bytes: Buffer | null) => (bytes === null ? null : bytes.toString('base64'));
  return {
    offset: record.offset,
    ...letter,
    failed_at: new Date(letter.failed_at).toISOString(),
    source_timestamp: new Date(letter.source_timestamp).toISOString(),
    value_size: valueSize(letter),
    key: base64(letter.key),
    value: base64(letter.value),
    headers: letter.headers.map((h) => ({ key: h.key, value: base64(h.value) })),
  };
}

const consolePrinter: Printer = { out: (line) => console.log(line), err: (line) => console.error(line) };

const REPLAY_HELP = `
Each selected dead letter's original key, value and headers are written back unchanged
(to its source topic and partition, or with --to-topic to that topic, partitioned by key);
the record timestamp is the time of the replay. Truncated dead letters (the original was
too large to keep) and ones without a value are skipped and counted; the output says where
to fetch a truncated original. Replay is idempotent in effect: the scorer dedupes order
events by order id, so replaying a record twice, or a range that overlaps an earlier
replay, changes nothing. A record that still fails is dead-lettered again.`;

export function deadLettersCommand(): Command {
  const command = new Command('dead-letters').description(
    'inspect the records the scorer could not process, and replay them once the cause is fixed',
  );
  addFilterOptions(command.command('list').description('print the dead letters, then a count per error_class'))
    .option('--json', 'one JSON object per line (key, value and headers in base64); counts go to stderr', false)
    .addHelpText(
      'after',
      '\nColumns: offset, failed_at, error_class, source topic/partition/offset, value size, truncated, reason.',
    )
    .action(async (options: FilterOptions & { json: boolean }) => {
      const filter = filterFrom(options);
      await listDeadLetters(loadConfig(), filter, { json: options.json }, consolePrinter);
    });
  addFilterOptions(command.command('replay').description("write the selected dead letters' originals back"))
    .option('--to-topic <topic>', "write to this topic instead of each dead letter's source topic")
    .option('--dry-run', 'say what would be written, write nothing', false)
    .addHelpText('after', REPLAY_HELP)
    .action(async (options: FilterOptions & { toTopic?: string; dryRun: boolean }) => {
      const filter = filterFrom(options);
      const replay = { toTopic: options.toTopic ?? null, dryRun: options.dryRun };
      await replayDeadLetters(loadConfig(), filter, replay, consolePrinter);
    });
  return command;
}
