// The `churnstream score` contract, end to end through the real CLI process, against
// the LightGBM golden fixtures.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNumber } from '../../../src/core/models/lightgbm/parse.js';
import { goldenCases } from '../../helpers/lightgbm-fixtures.js';

const cli = ['--import', 'tsx', new URL('../../../src/app/cli/main.ts', import.meta.url).pathname];
const run = (...args: string[]) => execFileSync(process.execPath, [...cli, 'score', ...args], { encoding: 'utf8' });
const parseOutput = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => line.split(',').map((field) => parseNumber(field, 'output')));

const cases = goldenCases();
const byName = (name: string) => {
  const found = cases.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no fixture ${name}`);
  return found;
};

describe('churnstream score', () => {
  it('prints raw scores bit-exact, one line per row', () => {
    const golden = byName('binary');
    const out = parseOutput(run('--model', golden.modelPath, '--input', golden.rowsPath, '--raw'));
    expect(out.length).toBe(golden.rows.length);
    out.forEach((row, i) => {
      expect(Object.is(row[0], golden.raw[i]?.[0])).toBe(true);
    });
  });

  it('prints K columns for K classes and pred_contrib layout with --contrib', () => {
    const golden = byName('multiclass');
    const predictions = parseOutput(run('--model', golden.modelPath, '--input', golden.rowsPath));
    expect(predictions[0]?.length).toBe(3);
    const contrib = parseOutput(run('--model', golden.modelPath, '--input', golden.rowsPath, '--contrib'));
    expect(contrib[0]?.length).toBe(3 * (golden.header.length + 1));
    contrib.forEach((row, i) => {
      row.forEach((v, k) => {
        expect(Math.abs(v - (golden.contrib?.[i]?.[k] ?? Number.NaN))).toBeLessThanOrEqual(1e-12);
      });
    });
  });

  it('matches columns by name, ignores extras, reads empty as missing', () => {
    const golden = byName('binary');
    const dir = mkdtempSync(join(tmpdir(), 'score-'));
    const reordered = join(dir, 'rows.csv');
    const names = [...golden.header].reverse();
    const lines = golden.rows.slice(0, 20).map((row) =>
      [
        'extra',
        ...names.map((name) => {
          const v = row[golden.header.indexOf(name)] ?? Number.NaN;
          return Number.isNaN(v)
            ? ''
            : v === Number.POSITIVE_INFINITY
              ? 'inf'
              : v === Number.NEGATIVE_INFINITY
                ? '-inf'
                : String(v);
        }),
      ].join(','),
    );
    writeFileSync(reordered, [['id', ...names].join(','), ...lines].join('\n'));
    const out = parseOutput(run('--model', golden.modelPath, '--input', reordered, '--raw'));
    out.forEach((row, i) => {
      expect(Object.is(row[0], golden.raw[i]?.[0])).toBe(true);
    });
  });

  it('fails with a clear message and exit code 2 on bad input', () => {
    const golden = byName('binary');
    const dir = mkdtempSync(join(tmpdir(), 'score-'));
    const missing = join(dir, 'missing.csv');
    writeFileSync(missing, 'f_num_nan,f_zero\n1,2\n');
    const result = spawnSync(process.execPath, [...cli, 'score', '--model', golden.modelPath, '--input', missing], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/lacks feature columns: f_cat, f_unif, f_tiny, f_wide/);
    const garbage = join(dir, 'garbage.csv');
    writeFileSync(garbage, `${golden.header.join(',')}\n1,2,3,4,five,6\n`);
    const bad = spawnSync(process.execPath, [...cli, 'score', '--model', golden.modelPath, '--input', garbage], {
      encoding: 'utf8',
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/row 1, column f_tiny: 'five' is not a number/);
  });
});
