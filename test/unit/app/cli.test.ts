// The churnstream command line's exit codes, through the real CLI process: a command line
// commander refuses is a user error (exit 2, commander's message on stderr), help and
// --version exit 0, and `dead-letters --reason` takes only error classes the scorer
// writes. None of these cases gets as far as Kafka.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { packageVersion } from '../../../src/adapters/files/package-root.js';
import { DEAD_LETTER_REASONS } from '../../../src/app/scorer/failures.js';
import { USER_ERROR_EXIT_CODE } from '../../../src/app/user-error.js';

const cli = ['--import', 'tsx', new URL('../../../src/app/cli/main.ts', import.meta.url).pathname];
const run = (...args: string[]) =>
  spawnSync(process.execPath, [...cli, ...args], { encoding: 'utf8', timeout: 30_000 });
// Each case starts a Node process with tsx: seconds on a loaded machine.
const SPAWN_TIMEOUT_MS = 30_000;

describe('churnstream usage errors', { timeout: SPAWN_TIMEOUT_MS }, () => {
  it.each([
    ['an unknown option', ['score', '--model', 'm.txt', '--input', 'rows.csv', '--bogus'], /unknown option '--bogus'/],
    [
      'a missing option argument',
      ['score', '--input', 'rows.csv', '--model'],
      /option '--model <model.txt>' argument missing/,
    ],
    [
      'a missing required option',
      ['dataset', '--source', 'csv', '--input', 'rows.csv'],
      /required option '--out <file.csv>' not specified/,
    ],
    [
      'neither or both of two exclusive options',
      ['score', '--input', 'rows.csv'],
      /give exactly one of --model and --ltv-model/,
    ],
    [
      'a train without a model version',
      ['train', '--source', 'csv', '--model-dir', 'm'],
      /required option '--model-version <name>' not specified/,
    ],
    ['an unknown command', ['bogus'], /unknown command 'bogus'/],
    ['an unknown option of a nested command', ['dead-letters', 'list', '--bogus'], /unknown option '--bogus'/],
    ['an invalid option value', ['demo', '--customers', 'many'], /--customers must be a positive integer/],
  ])('exits 2 with commander message on %s', (_, args, message) => {
    const result = run(...args);
    expect(result.stderr).toMatch(message);
    expect(result.status).toBe(USER_ERROR_EXIT_CODE);
  });

  it.each([
    ['--help', ['--help'], 'Usage: churnstream [options] [command]'],
    ['help <command>', ['help', 'dead-letters'], 'Usage: churnstream dead-letters'],
    ['--help of a nested command', ['dead-letters', 'list', '--help'], 'Usage: churnstream dead-letters list'],
    ['--version', ['--version'], packageVersion()],
  ])('exits 0 on %s, printing to stdout', (_, args, text) => {
    const result = run(...args);
    expect(result.stdout).toContain(text);
    expect(result.status).toBe(0);
  });
});

describe('churnstream dead-letters --reason', { timeout: 2 * SPAWN_TIMEOUT_MS }, () => {
  it('refuses a reason that is no error class with exit 2, listing every class', () => {
    for (const subcommand of ['list', 'replay']) {
      const result = run('dead-letters', subcommand, '--reason', 'bad_magic_byte,bad_magik_byte');
      expect(result.status).toBe(USER_ERROR_EXIT_CODE);
      expect(result.stderr).toContain("--reason: 'bad_magik_byte' is not an error class; the error classes are: ");
      const listed = result.stderr.split('the error classes are: ')[1]?.trim().split(', ');
      expect(listed).toEqual([...DEAD_LETTER_REASONS]);
    }
  });

  it('lists every class the scorer dead-letters with, each once', () => {
    // The decode, validation, step-refusal and step-failure classes (docs/RELIABILITY.md).
    expect(DEAD_LETTER_REASONS).toHaveLength(21);
    expect(new Set(DEAD_LETTER_REASONS).size).toBe(DEAD_LETTER_REASONS.length);
    for (const reason of ['bad_magic_byte', 'unknown_schema_id', 'invalid_amount', 'event_too_late', 'internal_error'])
      expect(DEAD_LETTER_REASONS).toContain(reason);
  });
});
