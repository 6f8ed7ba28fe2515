// The challenger's checks at load: a version that does not exist, one reading another
// feature spec, or one resolving labels over another window is a configuration error
// (exit 2, one line naming the settings), and the models in force stay.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelRegistry, versionsOf } from '../../../src/app/model-registry.js';
import { UserError } from '../../../src/app/user-error.js';

const fixtures = new URL('../../fixtures/models/', import.meta.url).pathname;
const otherSpec = new URL('../../fixtures/challenger/churn/v1/feature-spec.json', import.meta.url).pathname;

/** The fixtures plus a copy of churn/t1 (or ltv/t1) as `version`, its config changed by `edit`. */
function withVariant(kind: 'churn' | 'ltv', version: string, edit: (config: Record<string, unknown>) => object) {
  const dir = mkdtempSync(join(tmpdir(), 'challenger-'));
  cpSync(fixtures, dir, { recursive: true });
  const folder = join(dir, kind, version);
  cpSync(join(dir, kind, 't1'), folder, { recursive: true });
  const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(folder, 'config.json'), JSON.stringify(edit({ ...config, version })));
  return { dir, folder };
}

/** The error loading `wanted` raises, after the registry loaded t1 as champion. */
function refusal(dir: string, challenger: { churn?: string; ltv?: string }) {
  const registry = new ModelRegistry(dir);
  registry.loadDefaults({ churn: 't1', ltv: 't1' });
  let error: unknown = null;
  try {
    registry.loadDefaults({ churn: 't1', ltv: 't1', challenger });
  } catch (caught) {
    error = caught;
  }
  // The champion in force stays, without a challenger.
  expect(versionsOf(registry.current)).toEqual({ churn: 't1', ltv: 't1' });
  expect(registry.current.challenger ?? null).toBeNull();
  expect(error).toBeInstanceOf(UserError);
  const message = (error as Error).message;
  expect(message).not.toContain('\n');
  expect(message).toMatch(/^challenger \(CHURNSTREAM_CHALLENGER_CHURN_MODEL \/ CHURNSTREAM_CHALLENGER_LTV_MODEL/);
  return message;
}

describe('challenger checks', () => {
  it('loads a challenger that reads the same spec and windows; a kind not named is the champion’s', () => {
    const { dir } = withVariant('churn', 't3', (c) => c);
    const models = new ModelRegistry(dir).loadDefaults({ churn: 't1', challenger: { churn: 't3' } });
    expect(models.challenger == null ? null : versionsOf(models.challenger)).toEqual({ churn: 't3', ltv: 't1' });
  });

  it('the champion itself, pinned or the newest in the directory (an LTV version equal to the champion’s is the champion’s)', () => {
    expect(refusal(fixtures, { churn: 't1' })).toMatch(/t1 is the champion's churn version; a challenger is another/);
    expect(() => new ModelRegistry(fixtures).loadDefaults({ challenger: { churn: 't2' } })).toThrow(
      /^challenger \(CHURNSTREAM_CHALLENGER_CHURN_MODEL \/ CHURNSTREAM_CHALLENGER_LTV_MODEL or the rollout\): t2 is the champion's churn version \(the newest in the models directory\)/,
    );
    // As a promotion leaves it: the old champion's pair, its LTV version the champion's.
    const promoted = new ModelRegistry(fixtures).loadDefaults({ churn: 't2', challenger: { churn: 't1', ltv: 't1' } });
    expect(promoted.challenger == null ? null : versionsOf(promoted.challenger)).toEqual({ churn: 't1', ltv: 't1' });
  });

  it('a version that does not exist', () => {
    expect(refusal(fixtures, { churn: 'v404' })).toMatch(/churn\/v404/);
  });

  it('another feature spec', () => {
    const { dir, folder } = withVariant('churn', 't3', (c) => ({ ...c, feature_spec_version: 'uci-v1' }));
    cpSync(otherSpec, join(folder, 'feature-spec.json'));
    expect(refusal(dir, { churn: 't3' })).toMatch(/t3 uses feature spec uci-v1, the champion uses default-1/);
  });

  it('another churn label window', () => {
    const { dir } = withVariant('churn', 't3', (c) => ({ ...c, prediction_window_days: 60 }));
    expect(refusal(dir, { churn: 't3' })).toMatch(/predicts 60 days, the champion 90: labels would not compare/);
  });

  it('another LTV window', () => {
    const { dir } = withVariant('ltv', 't3', (c) => ({ ...c, window_months: 6 }));
    expect(refusal(dir, { ltv: 't3' })).toMatch(/ltv model t3 predicts 6 months, the champion 12/);
  });
});
