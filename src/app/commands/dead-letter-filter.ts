// Which dead letters `churnstream dead-letters list|replay` act on: the filter options,
// their parsing (commander argument parsers that throw UserError, so a bad value exits 2
// with the message alone), the checks across options, and the match itself.
import type { Command } from 'commander';
import { z } from 'zod';
import { DEAD_LETTER_REASONS } from '../scorer/failures.js';
import { UserError } from '../user-error.js';

export interface DeadLetterFilter {
  /** error_class values to keep; empty: all. */
  readonly reasons: readonly string[];
  /** failed_at >= since (epoch ms). */
  readonly since: number | null;
  /** failed_at < until (epoch ms): since/until is half-open, so whole days or months chain. */
  readonly until: number | null;
  /** Dead-letter topic offsets, both inclusive. */
  readonly fromOffset: number | null;
  readonly toOffset: number | null;
  readonly sourcePartition: number | null;
}

/** The filter options as commander hands them over (already parsed one by one). */
export interface FilterOptions {
  readonly reason?: readonly string[] | undefined;
  readonly since?: number | undefined;
  readonly until?: number | undefined;
  readonly fromOffset?: number | undefined;
  readonly toOffset?: number | undefined;
  readonly sourcePartition?: number | undefined;
}

/** What a filter looks at in a dead letter. */
export interface FilterSubject {
  readonly offset: number;
  readonly errorClass: string;
  readonly failedAt: number;
  readonly sourcePartition: number;
}

// A date alone is midnight UTC; a time needs Z or an offset, so no answer depends on the
// machine's time zone.
const isoTime = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

export const parseIsoTime =
  (option: string) =>
  (value: string): number => {
    if (!isoTime.safeParse(value).success) {
      throw new UserError(`${option}: '${value}' is not an ISO time (2025-01-31 or 2025-01-31T12:00:00Z)`);
    }
    return Date.parse(value);
  };

export const parseNonNegativeInt =
  (option: string) =>
  (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed)) {
      throw new UserError(`${option}: '${value}' is not a non-negative integer`);
    }
    return parsed;
  };

/**
 * A reason that is no error class would select nothing and look like "no such dead
 * letters": refuse it, listing the classes there are.
 */
function checkReasons(reasons: readonly string[]): void {
  const known: readonly string[] = DEAD_LETTER_REASONS;
  const unknown = reasons.filter((reason) => !known.includes(reason));
  if (unknown.length === 0) return;
  throw new UserError(
    `--reason: ${unknown.map((reason) => `'${reason}'`).join(', ')} ${unknown.length === 1 ? 'is not an error class' : 'are not error classes'}; the error classes are: ${known.join(', ')}`,
  );
}

/** --reason may be repeated and may hold a comma list. */
export function collectReasons(value: string, previous: readonly string[] = []): string[] {
  const parts = value.split(',').map((part) => part.trim());
  if (parts.some((part) => part.length === 0)) throw new UserError(`--reason: empty error class in '${value}'`);
  checkReasons(parts);
  return [...previous, ...parts];
}

/** The options every dead-letters subcommand shares. */
export function addFilterOptions(command: Command): Command {
  return command
    .option('--reason <error_class>', 'only these error classes (repeat it or give a comma list)', collectReasons)
    .option('--since <iso-time>', 'only dead letters that failed at or after this time', parseIsoTime('--since'))
    .option('--until <iso-time>', 'only dead letters that failed before this time', parseIsoTime('--until'))
    .option('--from-offset <n>', 'first dead-letter topic offset (inclusive)', parseNonNegativeInt('--from-offset'))
    .option('--to-offset <n>', 'last dead-letter topic offset (inclusive)', parseNonNegativeInt('--to-offset'))
    .option(
      '--source-partition <n>',
      'only dead letters read from this partition of their source topic',
      parseNonNegativeInt('--source-partition'),
    );
}

/** The filter, with the checks that span options (each option alone was parsed already). */
export function filterFrom(options: FilterOptions): DeadLetterFilter {
  const filter: DeadLetterFilter = {
    reasons: [...new Set(options.reason ?? [])],
    since: options.since ?? null,
    until: options.until ?? null,
    fromOffset: options.fromOffset ?? null,
    toOffset: options.toOffset ?? null,
    sourcePartition: options.sourcePartition ?? null,
  };
  // Callers other than commander (tests, other commands) skip the per-option parsers.
  checkReasons(filter.reasons);
  const counts = {
    '--from-offset': filter.fromOffset,
    '--to-offset': filter.toOffset,
    '--source-partition': filter.sourcePartition,
  };
  for (const [option, value] of Object.entries(counts)) {
    if (value !== null && (!Number.isSafeInteger(value) || value < 0)) {
      throw new UserError(`${option}: ${value} is not a non-negative integer`);
    }
  }
  for (const [option, value] of Object.entries({ '--since': filter.since, '--until': filter.until })) {
    if (value !== null && !Number.isFinite(value)) throw new UserError(`${option}: not a valid time`);
  }
  if (filter.since !== null && filter.until !== null && filter.since >= filter.until) {
    throw new UserError(
      `--since (${new Date(filter.since).toISOString()}) must be before --until (${new Date(filter.until).toISOString()})`,
    );
  }
  if (filter.fromOffset !== null && filter.toOffset !== null && filter.fromOffset > filter.toOffset) {
    throw new UserError(`--from-offset (${filter.fromOffset}) must not be after --to-offset (${filter.toOffset})`);
  }
  return filter;
}

export function matchesFilter(filter: DeadLetterFilter, subject: FilterSubject): boolean {
  return (
    (filter.reasons.length === 0 || filter.reasons.includes(subject.errorClass)) &&
    (filter.since === null || subject.failedAt >= filter.since) &&
    (filter.until === null || subject.failedAt < filter.until) &&
    (filter.fromOffset === null || subject.offset >= filter.fromOffset) &&
    (filter.toOffset === null || subject.offset <= filter.toOffset) &&
    (filter.sourcePartition === null || subject.sourcePartition === filter.sourcePartition)
  );
}
