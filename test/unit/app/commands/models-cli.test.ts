// The `models` and `demo` command lines through the real CLI process, on values refused while
// the command line is parsed (no Kafka or Redis reached): each is one line on stderr, exit
// 2, no stack trace. An outside tester found stack traces (exit 1), garbage accepted (0x1,
// ''), a V8 out-of-memory (--folds 1e9), forged log lines (--why with a newline), and
// `recalibrate --version v1` printing the program's version with exit 0, and a --churn-version
// typo (or a path) read as "too few labels" with exit 0.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { USER_ERROR_EXIT_CODE } from '../../../../src/app/user-error.js';

const cli = ['--import', 'tsx', new URL('../../../../src/app/cli/main.ts', import.meta.url).pathname];
// Each case starts a Node process with tsx: seconds on a loaded machine.
const SPAWN_TIMEOUT_MS = 30_000;
// A namespace nothing uses, in case a case reached Redis after all.
const env = { ...process.env, CHURNSTREAM_REDIS_NAMESPACE: 'models-cli-unit' };
const run = (...args: string[]) =>
  spawnSync(process.execPath, [...cli, ...args], { encoding: 'utf8', timeout: SPAWN_TIMEOUT_MS, env });

describe('models command lines refused in one line, exit 2', { timeout: SPAWN_TIMEOUT_MS }, () => {
  it.each([
    [['models', 'weight', '--why', 't', '--', '-0.1'], /^weight '-0\.1': .*plain decimal from 0 to 1/],
    [['models', 'weight', '--why', 't', 'NaN'], /^weight 'NaN'/],
    [['models', 'weight', '--why', 't', '0x1'], /^weight '0x1'/],
    [['models', 'weight', '--why', 't', ''], /^weight '':/],
    [['models', 'log', '--limit', 'abc'], /^--limit 'abc': a whole number from 1 to 10000$/],
    [['models', 'log', '--limit', '0'], /^--limit '0'/],
    [['models', 'recalibrate', '--dry-run', '--folds', '1e9'], /^--folds '1e9': a whole number from 2 to 20$/],
    [['models', 'recalibrate', '--dry-run', '--why', 't', '--version', 'v1'], /unknown option '--version'/],
    [['models', 'recalibrate', '--churn-version', 'v1'], /^recalibrate: --why is required .* or --dry-run/],
    [
      ['models', 'recalibrate', '--dry-run', '--churn-version', 'v9'],
      /^recalibrate: --churn-version v9: no such churn version in .* \(there: v1\)$/,
    ],
    [
      ['models', 'recalibrate', '--dry-run', '--churn-version', '../../etc'],
      /^recalibrate: --churn-version \.\.\/\.\.\/etc: no such/,
    ],
    [['models', 'challenger', 'v2', '--why', ''], /^--why '': empty/],
    [['models', 'challenger', 'v2', '--why', 'x', '--by', '  '], /^--by ' {2}': empty/],
    [['models', 'weight', '0.1', '--why', 'line1\nFAKE  promote by ceo: ok'], /^--why 'line1\\x0aFAKE/],
    [['models', 'promote', '--why', 'x', '--by', 'x\u001b[31mred'], /^--by 'x\\x1b\[31mred'/],
    [['demo', '--days', '3651'], /^--days 3651: at most 3650$/],
  ])('%j', (args, message) => {
    const result = run(...args);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr.trimEnd()).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe('');
    expect(result.status).toBe(USER_ERROR_EXIT_CODE);
  });
});
