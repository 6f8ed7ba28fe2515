// `churnstream train` end to end, as a user runs it on a shop's own export: the real CLI,
// the real Python trainer (LightGBM, scikit-learn, lifetimes in training/.venv), and the
// scorer's model registry loading what it wrote. No stack needed; slow (a real training).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../src/app/model-registry.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';

const cli = (args: string[]) =>
  spawnSync('node', ['--import', 'tsx', 'src/app/cli/main.ts', ...args], { encoding: 'utf8', timeout: 600_000 });

/** A shop's export: its own column names, ORDER/REFUND/Cancelled words, an `Items` column. */
function shopExport(dir: string, days: number): string {
  const history = generateDemoHistory({ seed: 7, customers: 1500, start: Date.UTC(2022, 0, 1), days });
  const word = { order: 'ORDER', refund: 'REFUND', cancellation: 'Cancelled' } as const;
  const lines = history.map(
    (e) =>
      `${e.customerId},${e.orderId},${new Date(e.eventTime).toISOString()},${e.amount},${word[e.type]},${e.originalOrderId ?? ''},${e.itemCount}`,
  );
  const file = join(dir, 'orders.csv');
  writeFileSync(file, `Customer_ID,Order_ID,Event_Time,Amount,Type,Original_Order_ID,Items\n${lines.join('\n')}\n`);
  return file;
}

describe('churnstream train', () => {
  it('trains churn and a 12-month LTV on a shop export that the scorer then loads; user errors exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'train-'));
    const input = shopExport(dir, 900);
    const models = join(dir, 'models');
    const args = ['train', '--source', 'csv', '--input', input, '--columns', 'items=item_count', '--no-progress'];
    const run = cli([...args, '--model-dir', models, '--model-version', 'shop-1', '--name', 'shop']);
    expect(run.stderr).toContain('3/3 model card');
    expect(run.status).toBe(0);

    // What the scorer loads: both models, one spec, the LTV model's 12-month window.
    const loaded = new ModelRegistry(models).loadDefaults();
    expect(loaded.churn?.config).toMatchObject({ version: 'shop-1', prediction_window_days: 90 });
    expect(loaded.ltv?.config).toMatchObject({ version: 'shop-1', window_months: 12, window_days: 365 });
    expect(loaded.ltv?.config.zero_model?.coef).toHaveLength(loaded.ltv?.config.feature_names.length ?? -1);
    expect(loaded.churn?.spec.version).toBe('shop-shop-1');
    // 900 days leave room for a 365-day gap before the LTV holdout: evaluated out of time.
    const ltvMeta = JSON.parse(readFileSync(join(models, 'ltv', 'shop-1', 'metadata.json'), 'utf8'));
    expect(ltvMeta.evaluation).toMatchObject({ design: 'out_of_time', target_horizon_days: 365, horizon: 365 });
    expect(ltvMeta.metrics.model.n).toBeGreaterThan(100);
    expect(ltvMeta.metrics.bgnbd_gg.n).toBe(ltvMeta.metrics.model.n);
    expect(ltvMeta.typescript_parity.max_relative_diff_mean).toBeLessThan(1e-9);
    const churnMeta = JSON.parse(readFileSync(join(models, 'churn', 'shop-1', 'metadata.json'), 'utf8'));
    expect(churnMeta.typescript_parity.raw_bit_exact).toBe(churnMeta.typescript_parity.rows);
    const report = join(models, 'reports', 'shop-1');
    for (const file of ['MODEL_CARD.md', 'calibration.png', 'gain.png', 'ltv_deciles.png', 'summary.json'])
      expect(existsSync(join(report, file)), file).toBe(true);
    expect(readFileSync(join(report, 'MODEL_CARD.md'), 'utf8')).toContain('Evaluation (out_of_time)');

    // The same version again without --force, and a date range that leaves no history: one line, exit 2.
    const again = cli([...args, '--model-dir', models, '--model-version', 'shop-1']);
    expect(again.status).toBe(2);
    expect(again.stderr.trim()).toMatch(/exists: choose another --model-version, or --force to replace it$/);
    // A --force run that fails leaves the version it would replace intact, and no staging behind.
    const before = readFileSync(join(models, 'churn', 'shop-1', 'model.txt'), 'utf8');
    const empty = cli([
      ...args,
      '--model-dir',
      models,
      '--model-version',
      'shop-1',
      '--force',
      '--start-date',
      '2030-01-01',
    ]);
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain('no events loaded');
    expect(readFileSync(join(models, 'churn', 'shop-1', 'model.txt'), 'utf8')).toBe(before);
    expect(existsSync(join(models, 'ltv', 'shop-1', 'metadata.json'))).toBe(true);
    expect(readdirSync(models).filter((name) => name.startsWith('.train'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(report, 'summary.json'), 'utf8')).ltv_design.design).toBe('out_of_time');
    // Too short an LTV window to serve, a missing input: one line each, exit 2, nothing written.
    const short = cli([...args, '--model-dir', models, '--model-version', 'x', '--ltv-days', '14']);
    expect([short.status, short.stderr.trim()]).toEqual([2, '--ltv-days 14: at least 30 (one month)']);
    const missing = cli([
      'train',
      '--source',
      'csv',
      '--input',
      join(dir, 'nope.csv'),
      '--model-dir',
      models,
      '--model-version',
      'x',
    ]);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim()).toBe(`--input ${join(dir, 'nope.csv')}: no such file`);
    expect(existsSync(join(models, 'churn', 'x'))).toBe(false);
  }, 600_000);

  it('on a short history says the 12-month LTV is extrapolated, and evaluates it at the longest window', () => {
    const dir = mkdtempSync(join(tmpdir(), 'train-'));
    const input = shopExport(dir, 420);
    const models = join(dir, 'models');
    const run = cli([
      ...['train', '--source', 'csv', '--input', input, '--columns', 'items=item_count', '--no-progress'],
      ...['--model-dir', models, '--model-version', 'short', '--every-days', '30'],
    ]);
    expect(run.status, run.stderr).toBe(0);
    const ltvMeta = JSON.parse(readFileSync(join(models, 'ltv', 'short', 'metadata.json'), 'utf8'));
    // 420 days: cutoffs from day 90, so no 365-day window closes; the longest that does is 274 days.
    expect(ltvMeta.evaluation).toMatchObject({ design: 'extrapolated', horizon: 274, target_horizon_days: 365 });
    expect(new ModelRegistry(models).loadDefaults().ltv?.config.window_days).toBe(365);
  }, 600_000);
});
