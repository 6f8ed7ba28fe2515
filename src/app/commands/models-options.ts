// Option and argument parsers of the `models` commands. A bad value is a UserError raised
// while the command line is parsed (one line on stderr, exit 2; see cli/main.ts), before any
// connection is opened, so nothing invalid reaches Redis or the rollout. Not commander's
// InvalidArgumentError: commander quotes the value raw, and a value with a newline or an
// escape sequence would print as two lines or recolour the terminal. Numbers are plain
// decimals: Number() alone would take 0x1, '', ' 1' and Infinity.
import { userInfo } from 'node:os';
import { type Command, Option } from 'commander';
import { SHARE, SHARE_DECIMAL } from '../config-rollout.js';
import { UserError } from '../user-error.js';

/** At most this many entries per `models log` (the log is a Redis list read with LRANGE). */
export const MAX_LOG_LIMIT = 10_000;
/** At most this many folds: each needs labels of both outcomes, and the folds are dealt in memory. */
export const MAX_FOLDS = 20;
/** At most this many characters per --why or --by: a log line, not a document (link one). */
export const MAX_NOTE_LENGTH = 1000;
/** pure-rand seeds with a 32-bit integer: a larger seed would silently alias a smaller one. */
export const MAX_SEED = 2 ** 31 - 1;

/**
 * What cannot go into a line of the rollout log: control characters (C0, DEL, C1: newlines,
 * ANSI escapes), Unicode line and paragraph separators, and the bidirectional overrides,
 * isolates and marks (they reorder what a terminal shows, the marks invisibly). Any of them lets a note forge a log line.
 */
const UNPRINTABLE = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069\u061c\u200e\u200f]/u;
const UNPRINTABLE_ALL = new RegExp(UNPRINTABLE.source, 'gu');

/** The text with every character noteArg refuses shown escaped (\x1b, \u2028): log entries written before the check. */
export const printable = (text: string): string =>
  text.replace(UNPRINTABLE_ALL, (c) => {
    const hex = (c.codePointAt(0) ?? 0).toString(16);
    return hex.length <= 2 ? `\\x${hex.padStart(2, '0')}` : `\\u${hex.padStart(4, '0')}`;
  });

/** The refusal of a value, the value shown escaped. */
const refused = (name: string, value: string, what: string) => new UserError(`${name} '${printable(value)}': ${what}`);

/** The challenger's share of customers: a decimal in [0, 1]. */
export function shareArg(value: string): number {
  const share = SHARE_DECIMAL.test(value) ? Number(value) : Number.NaN;
  if (!(share >= 0 && share <= 1)) throw refused('weight', value, `the challenger's share of customers is ${SHARE}`);
  return share;
}

/** A whole number from `min` to `max`, in decimal digits only. */
export const integerArg = (name: string, min: number, max: number) => (value: string) => {
  // More than 10 digits is out of every range here (and of Number's exact integers soon).
  const n = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= min && n <= max)) throw refused(name, value, `a whole number from ${min} to ${max}`);
  return n;
};

/** --why and --by: kept in the rollout log, so one line of something. */
export const noteArg = (name: string) => (value: string) => {
  const text = value.trim();
  if (text === '') throw refused(name, value, 'empty; it is kept in the rollout log, say it in words');
  if (UNPRINTABLE.test(text))
    throw refused(name, value, 'one line without control characters, please (it is kept in the rollout log)');
  if ([...text].length > MAX_NOTE_LENGTH)
    throw new UserError(
      `${name}: ${[...text].length} characters; at most ${MAX_NOTE_LENGTH} (it is a line of the rollout log: link a document for more)`,
    );
  return text;
};

/** --why (required unless `whyRequired` is false) and --by (default: the OS user) of a changing command. */
export const withNotes = (command: Command, whyRequired = true): Command =>
  command
    .addOption(
      new Option('--why <text>', 'why (kept in the rollout log)')
        .argParser(noteArg('--why'))
        .makeOptionMandatory(whyRequired),
    )
    .addOption(
      new Option('--by <name>', 'who (kept in the rollout log)')
        .argParser(noteArg('--by'))
        .default(userInfo().username),
    );
