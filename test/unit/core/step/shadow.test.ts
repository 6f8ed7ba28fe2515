// The challenger in the step: in shadow it changes nothing that is published, resolves a
// label per version plus the pair from the same windows; with the experiment's weight at 1
// the challenger decides, and every risk change names its version, experiment and variant.
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../../../src/app/model-registry.js';
import { DEFAULT_HYSTERESIS } from '../../../../src/core/decisions/hysteresis.js';
import type { OrderEvent } from '../../../../src/core/events/order-event.js';
import { histogramAuc, labelStatsByVersion } from '../../../../src/core/monitoring/calibration.js';
import { compareAuc, emptyPairStats, pairStatsByVersions } from '../../../../src/core/monitoring/comparison.js';
import { topDecileLift } from '../../../../src/core/monitoring/lift.js';
import { recalibrated } from '../../../../src/core/monitoring/recalibrated-model.js';
import type { StreamCalibration } from '../../../../src/core/monitoring/recalibration.js';
import type { StoredCustomer } from '../../../../src/core/state/stored-customer.js';
import {
  type CustomerStep,
  processEvents,
  processTimers,
  type ScoringContext,
  scoringContextFor,
} from '../../../../src/core/step/customer-step.js';
import { DAY_MS } from '../../../../src/core/time.js';

const fixtures = new URL('../../../fixtures/models/', import.meta.url).pathname;
const registry = new ModelRegistry(fixtures);
const t1 = registry.loadDefaults({ churn: 't1' }).churn;
const t2 = registry.loadDefaults({ churn: 't2' }).churn;
const T = Date.UTC(2025, 0, 1);
const options = { hysteresis: DEFAULT_HYSTERESIS, maxStalenessMs: 30 * DAY_MS, modelAwareTimers: true };
if (t1 === null || t2 === null) throw new Error('fixture models t1 and t2 must load');
const context = (extra: Partial<ScoringContext> = {}): ScoringContext => ({
  ...scoringContextFor(t1, null, t1.spec, options),
  ...extra,
});
const shadow = () => context({ challenger: { churn: t2, ltv: null } });

/** Customer `id` orders every `gap` days `n` times, then goes silent for a year (timers fire). */
function run(id: string, ctx: ScoringContext, gap: number, n: number): CustomerStep[] {
  const events = Array.from({ length: n }, (_, i) => {
    const event: OrderEvent = {
      customerId: id,
      orderId: `${id}-o${i}`,
      eventTime: T + i * gap * DAY_MS,
      type: 'order',
      amount: 15 + ((i * 7) % 40),
      currency: 'GBP',
      itemCount: 1 + (i % 3),
      originalOrderId: null,
    };
    return { event, offset: String(i + 1) };
  });
  const first = processEvents(id, null, events, ctx);
  const stored: StoredCustomer = {
    state: first.state,
    tier: first.tier,
    nextDue: first.nextDue,
    prediction: first.prediction,
    ltvPrediction: first.ltvPrediction,
  };
  return [first, processTimers(id, stored, T + (n * gap + 365) * DAY_MS, ctx)];
}

const customers = Array.from({ length: 12 }, (_, i) => ({ id: `C${i}`, gap: 5 + i * 9, n: 2 + (i % 5) }));
const all = (ctx: ScoringContext) => customers.flatMap(({ id, gap, n }) => run(id, ctx, gap, n));

describe('challenger in shadow', () => {
  it('publishes exactly what the champion alone publishes', () => {
    const alone = all(context()).flatMap((s) => s.riskChanges);
    expect(alone.length).toBeGreaterThan(10);
    expect(all(shadow()).flatMap((s) => s.riskChanges)).toEqual(alone);
  });

  it('resolves each label for both versions, and the pair, from the same windows', () => {
    const steps = all(shadow());
    const labels = steps.flatMap((s) => s.resolved);
    const pairs = steps.flatMap((s) => s.resolvedPairs);
    const champion = labels.filter((l) => l.modelVersion === 't1');
    const challenger = labels.filter((l) => l.modelVersion === 't2');
    expect(champion.length).toBeGreaterThan(10);
    expect(challenger.map((l) => l.churned)).toEqual(champion.map((l) => l.churned));
    expect(pairs.map((p) => [p.championRank, p.challengerRank, p.churned])).toEqual(
      champion.map((l, i) => [l.rank, challenger[i]?.rank, l.churned]),
    );
    // The champion's labels are those of a champion-only run.
    expect(champion).toEqual(all(context()).flatMap((s) => s.resolved));
    expect(pairs.some((p) => p.championRank !== p.challengerRank)).toBe(true);
    // Each pair names its customer (the comparison counts the customers behind the labels).
    const byCustomer = customers.map(({ id, gap, n }) => run(id, shadow(), gap, n).flatMap((s) => s.resolvedPairs));
    byCustomer.forEach((own, i) => {
      for (const pair of own) expect(pair.customerId).toBe(customers[i]?.id);
    });
    expect(byCustomer.filter((own) => own.length > 1).length).toBeGreaterThan(0);
  });
});

describe('a challenger that is the champion recalibrated', () => {
  // Same trees, another probability scale: a calibration keeps the order, so the comparison
  // must find the two equal, whatever resolution the new scale gives the probability bins.
  const calibration: StreamCalibration = {
    a: 2.7,
    b: -1.3,
    revision: 1,
    fittedOn: { version: 't1', labels: 0, churned: 0, positives: [], negatives: [] },
    heldOut: { before: 0, after: 0, folds: 0 },
  };
  const twin = recalibrated(t1, calibration);

  it('resolves labels with the same ranking scores and other probabilities: AUC, lift and the difference tie', () => {
    const steps = all(context({ challenger: { churn: twin, ltv: null } }));
    const labels = steps.flatMap((s) => s.resolved);
    const mine = labels.filter((l) => l.modelVersion === 't1');
    const its = labels.filter((l) => l.modelVersion === twin.config.version);
    expect(mine.length).toBeGreaterThan(10);
    expect(its.map((l) => l.rank)).toEqual(mine.map((l) => l.rank));
    expect(its.some((l, i) => Math.abs(l.probability - (mine[i]?.probability ?? 0)) > 0.05)).toBe(true);
    const stats = labelStatsByVersion(labels);
    const [a, b] = [stats.get('t1'), stats.get(twin.config.version)];
    if (a === undefined || b === undefined) throw new Error('both versions resolve labels');
    expect(histogramAuc(b)).toBe(histogramAuc(a));
    expect(topDecileLift(b)).toBe(topDecileLift(a));
    const [pair] = [...pairStatsByVersions(steps.flatMap((s) => s.resolvedPairs)).values()];
    const comparison = compareAuc(pair?.stats ?? emptyPairStats());
    expect(comparison.positives + comparison.negatives).toBe(mine.length);
    expect([comparison.difference, comparison.standardError]).toEqual([0, 0]);
  });
});

describe('challenger deciding (experiment)', () => {
  const experiment = (challengerWeight: number) => ({ name: 'exp-1', salt: 's', challengerWeight });

  it('at weight 1 publishes what the challenger as champion would, marked with experiment and variant', () => {
    const challenged = all(context({ challenger: { churn: t2, ltv: null }, experiment: experiment(1) })).flatMap(
      (s) => s.riskChanges,
    );
    const asChampion = all({ ...context(), churn: t2 }).flatMap((s) => s.riskChanges);
    expect(challenged.map(({ experiment: e, variant, ...rest }) => rest)).toEqual(
      asChampion.map(({ experiment: e, variant, ...rest }) => rest),
    );
    expect(challenged.every((r) => r.experiment === 'exp-1' && r.variant === 'challenger')).toBe(true);
    expect(challenged.every((r) => r.churn_model_version === 't2')).toBe(true);
  });

  it('at weight 0 the champion decides and the events still name the experiment', () => {
    const changes = all(context({ challenger: { churn: t2, ltv: null }, experiment: experiment(0) })).flatMap(
      (s) => s.riskChanges,
    );
    expect(changes.every((r) => r.variant === 'champion' && r.churn_model_version === 't1')).toBe(true);
    expect(changes.map(({ experiment: e, variant, ...rest }) => rest)).toEqual(
      all(context()).flatMap((s) => s.riskChanges.map(({ experiment: e2, variant: v2, ...rest }) => rest)),
    );
  });
});
