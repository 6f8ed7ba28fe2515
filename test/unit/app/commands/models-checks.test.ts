// What `models challenger` and `models promote` check before writing: a challenger must be a
// version of the models directory, not the champion, that loads as a scorer would load it
// (same feature spec and label window); `none` (any case) stops one that runs. A named
// promotion must promote the challenger in force (a retry cannot swap back), and the labels
// must not say the champion ranks better unless --force.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { listVersions } from '../../../../src/adapters/files/model-store.js';
import {
  challengerChange,
  checkLoads,
  promoting,
  promotion,
  weightChange,
} from '../../../../src/app/commands/models-checks.js';
import { type Config, loadConfig } from '../../../../src/app/config.js';
import { UserError } from '../../../../src/app/user-error.js';
import { type Rollout, withChallenger } from '../../../../src/core/experiments/rollout.js';
import { emptyLabelStats } from '../../../../src/core/monitoring/calibration.js';
import type { ResolvedPair } from '../../../../src/core/monitoring/comparison.js';
import { CallLog, FakeComparisonStore } from '../../../helpers/fakes.js';
import { FakeRolloutStore } from '../../../helpers/rollout-fakes.js';

const fixtures = new URL('../../../fixtures/models/', import.meta.url).pathname;
const otherSpec = new URL('../../../fixtures/challenger/churn/v1/feature-spec.json', import.meta.url).pathname;

/** The fixtures (churn t1, t2; ltv t1), ltv t2 (a copy of t1), and copies of churn/t1 a scorer refuses beside t1. */
function modelsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'models-checks-'));
  cpSync(fixtures, dir, { recursive: true });
  cpSync(join(dir, 'ltv', 't1'), join(dir, 'ltv', 't2'), { recursive: true });
  const ltvConfig = join(dir, 'ltv', 't2', 'config.json');
  writeFileSync(ltvConfig, JSON.stringify({ ...JSON.parse(readFileSync(ltvConfig, 'utf8')), version: 't2' }));
  const variant = (version: string, edit: (c: Record<string, unknown>) => object) => {
    const folder = join(dir, 'churn', version);
    cpSync(join(dir, 'churn', 't1'), folder, { recursive: true });
    const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(folder, 'config.json'), JSON.stringify(edit({ ...config, version })));
    return folder;
  };
  variant('t3-window', (c) => ({ ...c, prediction_window_days: 60 }));
  cpSync(
    otherSpec,
    join(
      variant('t4-spec', (c) => ({ ...c, feature_spec_version: 'uci-v1' })),
      'feature-spec.json',
    ),
  );
  writeFileSync(
    join(
      variant('t5-broken', (c) => c),
      'model.txt',
    ),
    'not a model',
  );
  // Named as the stream names a recalibration of t1.
  variant('t1+cal1', (c) => c);
  return dir;
}

const dir = modelsDir();
const config: Config = loadConfig({ CHURNSTREAM_MODELS_DIR: dir });
const initial: Rollout = { revision: 4, champion: { churn: 't1', ltv: 't1' }, challenger: null, weight: 0 };

/** The one-line UserError `run` throws. */
function refusal(run: () => unknown): string {
  let error: unknown = null;
  try {
    run();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(UserError);
  const message = (error as Error).message;
  expect(message).not.toContain('\n');
  return message;
}

/** The change as `models challenger` makes it: computed, then loaded as a scorer would. */
const change = (current: Rollout, name: string | undefined, ltv?: string) => {
  const next = challengerChange(config, current, name, ltv);
  checkLoads(config, next, 'challenger');
  return next;
};

describe('models challenger <version>', () => {
  it('takes a version of the models directory that loads beside the champion', () => {
    expect(change(initial, 't2')).toEqual({ ...initial, revision: 5, challenger: { churn: 't2', ltv: null } });
  });

  it.each([
    [
      'v999',
      /^challenger: no churn version v999 in .* \(there: bad-features, t1, t1\+cal1, t2, t3-window, t4-spec, t5-broken;/,
    ],
    [
      't1+cal1',
      /^challenger: a scorer could not load this rollout: .*t1\+cal1: a version name ending in \+cal<number> is reserved/,
    ],
    ['', /^challenger: name a churn version/],
    ['  ', /^challenger: name a churn version/],
    ['../churn/t2', /^challenger: no churn version \.\.\/churn\/t2 in/],
    ['t1', /^challenger: t1 is the champion/],
    ['t3-window', /^challenger: a scorer could not load this rollout: .*predicts 60 days, the champion 90/],
    ['t4-spec', /^challenger: a scorer could not load this rollout: .*uses feature spec uci-v1, the champion uses/],
    ['t5-broken', /^challenger: a scorer could not load this rollout: .*t5-broken/],
    ['bad-features', /^challenger: a scorer could not load this rollout: .*bad-features/],
    ['v\u001b[31m', /^challenger: no churn version v\\x1b\[31m in/],
  ])('refuses %j', (name, message) => {
    const text = refusal(() => change(initial, name));
    expect(text).toMatch(message);
    // The command line is what to change, not the start-up settings.
    expect(text).not.toContain('CHURNSTREAM_CHALLENGER');
  });

  it('none, in any case, stops a challenger; refused when none runs (it would write a no-op revision)', () => {
    const running = withChallenger(initial, { churn: 't2', ltv: null });
    for (const none of ['none', 'NONE', 'None'])
      expect(change(running, none)).toMatchObject({ challenger: null, weight: 0, revision: 6 });
    expect(refusal(() => change(initial, 'none'))).toMatch(
      /^challenger: there is no challenger to stop \(revision 4\)/,
    );
    expect(refusal(() => change(running, 't2'))).toMatch(/^challenger: t2 is already the challenger/);
  });

  it('--ltv sets the LTV challenger; without it a new churn challenger keeps the one in force', () => {
    const both = change(initial, 't2', 't2');
    expect(both).toMatchObject({ revision: 5, challenger: { churn: 't2', ltv: 't2' } });
    // Another churn challenger, --ltv not given: the LTV challenger stays (it used to be dropped).
    const other = withChallenger(initial, { churn: 't3-window', ltv: 't2' });
    expect(challengerChange(config, other, 't2')).toMatchObject({ challenger: { churn: 't2', ltv: 't2' } });
    expect(change(both, 't2', 'none')).toMatchObject({ challenger: { churn: 't2', ltv: null } });
    expect(refusal(() => change(both, 't2'))).toMatch(/^challenger: t2 with LTV t2 is already the challenger/);
    expect(refusal(() => change(both, 't2', 't2'))).toMatch(/is already the challenger/);
    expect(refusal(() => change(initial, 't2', 't1'))).toMatch(
      /^challenger: t1 is the champion's ltv version \(--ltv\)/,
    );
    expect(refusal(() => change(initial, 't2', 'v9'))).toMatch(
      /^challenger: no ltv version v9 in .* \(--ltv\) \(there: t1, t2;/,
    );
    expect(refusal(() => change(initial, 't2', '../ltv/t2'))).toMatch(/^challenger: no ltv version/);
    expect(refusal(() => change(both, 'none', 't2'))).toMatch(/^challenger: none stops the challenger; --ltv/);
  });

  it('--ltv without a churn version: an LTV-only challenger, or the LTV side of the one in force', () => {
    const ltvOnly = change(initial, undefined, 't2');
    expect(ltvOnly).toEqual({ ...initial, revision: 5, challenger: { churn: null, ltv: 't2' } });
    // The churn challenger in force is kept; --ltv none takes the LTV side back to the champion's.
    const churned = withChallenger(initial, { churn: 't2', ltv: null });
    expect(change(churned, undefined, 't2')).toMatchObject({ challenger: { churn: 't2', ltv: 't2' } });
    expect(change(change(churned, undefined, 't2'), undefined, 'none')).toMatchObject({
      challenger: { churn: 't2', ltv: null },
    });
    expect(refusal(() => change(initial, undefined))).toMatch(/^challenger: name a churn version, none, or an LTV/);
    expect(refusal(() => change(ltvOnly, undefined, 'none'))).toMatch(
      /^challenger: --ltv none leaves a challenger with no model of its own; `models challenger none` stops it/,
    );
    expect(refusal(() => change(ltvOnly, undefined, 't2'))).toMatch(/^challenger: LTV t2 is already the challenger's/);
    expect(refusal(() => change(initial, undefined, 't1'))).toMatch(/^challenger: t1 is the champion's ltv version/);
    expect(refusal(() => change(initial, undefined, 'v9'))).toMatch(/^challenger: no ltv version v9/);
    // A churn challenger named later keeps the LTV side.
    expect(change(ltvOnly, 't2')).toMatchObject({ challenger: { churn: 't2', ltv: 't2' } });
  });

  it('on any name: refused in one line, or a listed version that loads', () => {
    const versions = listVersions(dir, 'churn');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.constantFrom(...versions, 'none', 'NoNe', '.', '..', 't2/')), (name) => {
        let next: Rollout | null = null;
        try {
          next = change(initial, name);
        } catch (error) {
          expect(error).toBeInstanceOf(UserError);
          expect((error as Error).message).not.toContain('\n');
        }
        if (next !== null) expect(next.challenger?.churn).toBe('t2');
      }),
      { numRuns: 200 },
    );
  });
});

/** n paired labels on which the champion ranks churners well and the challenger at random. */
const pairs = (n: number): ResolvedPair[] =>
  Array.from({ length: n }, (_, i) => {
    const churned = i % 4 === 0;
    const noise = ((i * 37) % 100) / 100;
    return {
      customerId: `c${i}`,
      champion: 't1',
      challenger: 't2',
      championRank: churned ? 0.5 + noise / 2 : noise / 2,
      challengerRank: noise,
      churned,
    };
  });

function stores(labelled: number) {
  const comparisons = new FakeComparisonStore(new CallLog());
  void comparisons.addPairs(pairs(labelled));
  const health = {
    labelStats: async () => emptyLabelStats(),
    ltvLabels: async () => [],
    addLabels: async () => undefined,
    addLtvLabels: async () => undefined,
  };
  return { rollout: new FakeRolloutStore(), health, comparisons };
}

describe('models promote [version]', () => {
  let errors: string[];
  let lines: string[];
  beforeEach(() => {
    errors = [];
    lines = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
  });
  afterEach(() => vi.restoreAllMocks());

  const shadow = withChallenger(initial, { churn: 't2', ltv: null });

  it('named: promotes the challenger; a retry names the revision and who promoted it', async () => {
    const s = stores(0);
    const next = await promotion(s, shadow, 't2', false);
    expect(next.champion.churn).toBe('t2');
    expect(promoting(shadow)).toMatch(/promoting challenger t2\/t1 over champion t1\/t1/);
    expect(errors.join('\n')).toMatch(/^warning: no paired labels yet/);
    await s.rollout.change(
      { revision: next.revision, at: 'now', by: 'kim', action: 'promote', why: 'ship', before: shadow, after: next },
      0,
    );
    await expect(promotion(s, next, 't2', false)).rejects.toThrow(
      /^promote: t2 is already the champion \(revision 6 by kim\); nothing promoted$/,
    );
    await expect(promotion(s, next, 't9', false)).rejects.toThrow(/^promote: the challenger is t1, not t9/);
    await expect(promotion(s, initial, 't2', false)).rejects.toThrow(/^promote: the challenger is none, not t2/);
  });

  it('an LTV-only challenger is promoted by its LTV version, or unnamed; and it loads', async () => {
    const s = stores(0);
    const ltvOnly = withChallenger(initial, { churn: null, ltv: 't2' });
    await expect(promotion(s, ltvOnly, 't9', false)).rejects.toThrow(
      /^promote: the challenger is LTV-only, LTV t2, not t9; nothing promoted$/,
    );
    const next = await promotion(s, ltvOnly, 't2', false);
    expect(next).toMatchObject({ champion: { churn: 't1', ltv: 't2' }, challenger: { churn: null, ltv: 't1' } });
    expect(() => checkLoads(config, next, 'promote')).not.toThrow();
    expect(await promotion(s, ltvOnly, undefined, false)).toEqual(next);
  });

  it('refuses when the labels say the champion ranks better, with the difference and its interval; --force overrides', async () => {
    const refused = await promotion(stores(2_000), shadow, undefined, false).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UserError);
    expect(String((refused as Error).message)).toMatch(
      /^promote: the champion ranks better: .*AUC difference \(challenger - champion\) -0\.\d{4}, 95% CI \[-0\.\d{4}, -0\.\d{4}\] on 2000 paired labels; nothing promoted \(--force/,
    );
    const forced = await promotion(stores(2_000), shadow, 't2', true);
    expect(forced.champion.churn).toBe('t2');
    expect(errors.join('\n')).toMatch(/^warning: promoting against the labels \(--force\)/);
  });

  it('refuses the weight in force: a revision that changes nothing', async () => {
    await expect(weightChange(stores(0), shadow, 0, false)).rejects.toThrow(
      /^weight: the weight is already 0 \(revision 5\); nothing changed$/,
    );
  });

  it('a weight raised for a challenger the labels call worse is refused unless --force; lowered, or undecided, it is taken', async () => {
    const refused = await weightChange(stores(2_000), shadow, 1, false).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UserError);
    expect(String((refused as Error).message)).toMatch(
      /^weight: the champion ranks better: .*AUC difference \(challenger - champion\) -0\.\d{4}, .* on 2000 paired labels; the weight stays 0 \(--force/,
    );
    expect((await weightChange(stores(2_000), shadow, 0.5, true)).weight).toBe(0.5);
    expect(errors.join('\n')).toMatch(/^warning: giving customers to a challenger the labels call worse \(--force\)/);
    const half = { ...shadow, weight: 0.5 };
    expect((await weightChange(stores(2_000), half, 0.1, false)).weight).toBe(0.1);
    expect((await weightChange(stores(40), shadow, 0.3, false)).weight).toBe(0.3);
  });

  it('warns and promotes while the labels cannot tell', async () => {
    const next = await promotion(stores(40), shadow, undefined, false);
    expect(next.champion.churn).toBe('t2');
    expect(errors.join('\n')).toMatch(/^warning: the labels cannot tell the two apart yet \(.*on 40 paired labels/);
  });
});
