// What applied steps report: counters summed per call (labelled counters cost a label
// lookup per increment), resolved labels added to the shared model-health statistics.

import type { ResolvedPair } from '../../core/monitoring/comparison.js';
import type { ResolvedLabel, ResolvedLtvLabel } from '../../core/state/stored-customer.js';
import type { CustomerStep } from '../../core/step/customer-step.js';
import type { ComparisonStore, ModelHealthStore, ScorerObserver } from './ports.js';

/** Reports the steps whose state write was applied, and stores their resolved labels. */
export async function reportApplied(
  steps: readonly CustomerStep[],
  stores: { readonly health: ModelHealthStore; readonly comparisons: ComparisonStore },
  observer: ScorerObserver,
): Promise<void> {
  const outcomes = new Map<string, number>();
  const resolved: ResolvedLabel[] = [];
  const resolvedLtv: ResolvedLtvLabel[] = [];
  const pairs: ResolvedPair[] = [];
  let timerEvaluations = 0;
  for (const step of steps) {
    for (const kind in step.outcomes) {
      const count = step.outcomes[kind as keyof typeof step.outcomes];
      if (count > 0) outcomes.set(kind, (outcomes.get(kind) ?? 0) + count);
    }
    for (const refused of step.refused) observer.deadLettered(refused.errorClass, 1);
    observer.riskChanges(step.riskChanges);
    for (const scoring of step.scored) observer.scored(scoring.features, scoring.probability);
    timerEvaluations += step.timerEvaluations;
    for (const label of step.resolved) resolved.push(label);
    for (const label of step.resolvedLtv) resolvedLtv.push(label);
    for (const pair of step.resolvedPairs) pairs.push(pair);
  }
  for (const [kind, count] of outcomes) observer.applied(kind, count);
  observer.timerFired(timerEvaluations);
  // Labels are written after the state, so each is counted at most once (a crash between
  // the two loses a label, never doubles one).
  const { health, comparisons } = stores;
  await Promise.all([
    health.addLabels(resolved),
    health.addLtvLabels(resolvedLtv),
    // Only while a challenger runs (no call otherwise).
    pairs.length > 0 ? comparisons.addPairs(pairs) : undefined,
  ]);
  observer.labelsResolved(resolved);
  observer.ltvLabelsResolved(resolvedLtv);
}
