// The training table's rows: how a row waits in a spill run (one JSON line, exact doubles,
// non-finite values spelled out), the table's order (cutoff, then customer id), and its
// CSV columns (memberships from the fitted spec, the labels, the baselines' inputs).
import type { DatasetRow } from '../../core/dataset/build.js';
import { rulesChurnScore } from '../../core/decisions/rules.js';
import { withMemberships } from '../../core/features/extract.js';
import { FEATURE_NAMES } from '../../core/features/names.js';
import type { FeatureSpec } from '../../core/features/spec.js';
import { formatNumber } from './score.js';

export interface TableRow {
  readonly customerId: string;
  readonly cutoff: number;
  readonly raw: Float64Array;
  readonly churned: number;
  /** Per LTV horizon; NaN where the window was still open when the data end. */
  readonly futureSpend: readonly number[];
  readonly rfm: readonly [frequency: number, recency: number, age: number, monetary: number];
}

const encodeNumber = (v: number): number | string => (Number.isFinite(v) ? v : String(v));
const decodeNumber = (v: number | string): number => (typeof v === 'number' ? v : Number(v));

export function encodeRow(row: DatasetRow): string {
  const { frequency, recency, age, monetary } = row.rfm;
  return JSON.stringify([
    row.cutoff,
    row.customerId,
    row.labels.churned,
    row.labels.futureSpend.map(encodeNumber),
    frequency,
    recency,
    age,
    monetary,
    ...Array.from(row.raw, encodeNumber),
  ]);
}

export function decodeRow(line: string): TableRow {
  const [cutoff, customerId, churned, futureSpend, frequency, recency, age, monetary, ...raw] = JSON.parse(line) as [
    number,
    string,
    number,
    (number | string)[],
    number,
    number,
    number,
    number,
    ...(number | string)[],
  ];
  return {
    cutoff,
    customerId,
    churned,
    futureSpend: futureSpend.map(decodeNumber),
    rfm: [frequency, recency, age, monetary],
    raw: Float64Array.from(raw, decodeNumber),
  };
}

/** The table's order: cutoff, then customer id (code-unit order, as in every run). */
export function compareRows(a: { cutoff: number; customerId: string }, b: { cutoff: number; customerId: string }) {
  return a.cutoff - b.cutoff || (a.customerId < b.customerId ? -1 : a.customerId > b.customerId ? 1 : 0);
}

export function tableHeader(churnDays: number, ltvDays: readonly number[]): string[] {
  return [
    'customer_id',
    'cutoff',
    ...FEATURE_NAMES,
    `churn_${churnDays}d`,
    ...ltvDays.map((days) => `future_spend_${days}d`),
    'rules_churn_probability',
    'bgnbd_frequency',
    'bgnbd_recency',
    'bgnbd_age',
    'gg_monetary',
  ];
}

/** A cutoff as the table writes it. */
export const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);
/** Empty for missing, otherwise the score CLI's number form (inf, -inf, shortest round trip). */
const cell = (v: number) => (Number.isNaN(v) ? '' : formatNumber(v));

export function tableRecord(row: TableRow, spec: FeatureSpec): string[] {
  const features = withMemberships(row.raw, spec);
  return [
    row.customerId,
    isoDay(row.cutoff),
    ...Array.from(features, cell),
    String(row.churned),
    ...row.futureSpend.map(cell),
    String(rulesChurnScore(features).probability),
    ...row.rfm.map(String),
  ];
}
