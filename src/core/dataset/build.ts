// Point-in-time-correct training rows: for every cutoff, the features of each eligible
// customer from events <= cutoff (the streaming reducer replayed in event-time order),
// and labels from events after the cutoff only, all from the customer's canonical history
// (sorted, duplicates dropped: canonical.ts). Eligible: at least one counted order in
// the observation window before the cutoff. Also carries the baselines' inputs: the
// rules score (from the same features) and the BG/NBD summary.
import type { OrderEvent } from '../events/order-event.js';
import { replayAtCutoffs } from '../features/batch.js';
import { rawFeaturesAt } from '../features/extract.js';
import { featureIndex } from '../features/names.js';
import type { FeatureSpec } from '../features/spec.js';
import { DAY_MS } from '../time.js';
import { type RfmSummary, rfmSummary } from './bgnbd-inputs.js';
import { canonicalHistory } from './canonical.js';
import { type Labels, labelsAfter } from './labels.js';

export interface DatasetOptions {
  readonly cutoffs: readonly number[];
  readonly churnHorizonDays: number;
  /** LTV label horizons; a label whose window ends after `dataEnd` is NaN (not known yet). */
  readonly ltvHorizonDays: readonly number[];
  readonly dataEnd?: number;
  readonly spec: FeatureSpec;
}

export interface DatasetRow {
  readonly customerId: string;
  readonly cutoff: number;
  readonly raw: Float64Array;
  readonly labels: Labels;
  readonly rfm: RfmSummary;
}

const FREQUENCY = featureIndex('frequency_orders');

/** Cutoffs every `stepDays` from `first` while a full label horizon still fits before `dataEnd`. */
export function cutoffsBetween(first: number, dataEnd: number, stepDays: number, horizonDays: number): number[] {
  const cutoffs: number[] = [];
  for (let t = first; t + horizonDays * DAY_MS <= dataEnd; t += stepDays * DAY_MS) cutoffs.push(t);
  return cutoffs;
}

export function customerRows(customerId: string, events: readonly OrderEvent[], options: DatasetOptions): DatasetRow[] {
  const sorted = canonicalHistory(events);
  const rows: DatasetRow[] = [];
  replayAtCutoffs(sorted, options.cutoffs, options.spec.retention, (state, cutoff) => {
    const raw = rawFeaturesAt(state, cutoff, options.spec);
    if (!((raw[FREQUENCY] ?? 0) > 0)) return;
    const rfm = rfmSummary(sorted, cutoff);
    if (rfm === null) return;
    rows.push({
      customerId,
      cutoff,
      raw,
      labels: labelsAfter(sorted, cutoff, options.churnHorizonDays, options.ltvHorizonDays, options.dataEnd),
      rfm,
    });
  });
  return rows;
}
