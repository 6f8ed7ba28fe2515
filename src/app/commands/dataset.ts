// `churnstream dataset`: a point-in-time-correct training table from an order history,
// built with the same feature code the stream runs. Fits the fuzzy breakpoints on the
// rows up to --fit-until (never on later rows, so the holdout stays unseen) and writes
// them as the feature spec that ships with the models.
import { createWriteStream, writeFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { stringify } from 'csv-stringify';
import { loadCdnow } from '../../adapters/files/datasets/cdnow.js';
import { loadGenericCsv } from '../../adapters/files/datasets/generic-csv.js';
import { formatReport } from '../../adapters/files/datasets/report.js';
import { loadUciOnlineRetail } from '../../adapters/files/datasets/uci-online-retail.js';
import { customerRows, cutoffsBetween, type DatasetRow } from '../../core/dataset/build.js';
import { fitFeatureSpec } from '../../core/dataset/fit-spec.js';
import { rulesChurnScore } from '../../core/decisions/rules.js';
import type { OrderEvent } from '../../core/events/order-event.js';
import { groupByCustomer } from '../../core/features/batch.js';
import { withMemberships } from '../../core/features/extract.js';
import { FEATURE_NAMES } from '../../core/features/names.js';
import { DEFAULT_FEATURE_SPEC } from '../../core/features/spec.js';
import { DAY_MS } from '../../core/time.js';
import { formatNumber } from './score.js';

export type DatasetSource = 'uci' | 'cdnow' | 'csv';

export interface DatasetCommandOptions {
  readonly source: DatasetSource;
  readonly input: string;
  readonly out: string;
  readonly specOut: string;
  readonly specVersion: string;
  readonly first?: string | undefined;
  readonly everyDays: number;
  readonly churnDays: number;
  readonly ltvDays: number;
  readonly fitUntil?: string | undefined;
  readonly progress: boolean;
}

export interface DatasetSummary {
  readonly rows: number;
  readonly customers: number;
  readonly cutoffs: readonly string[];
  readonly churnRate: number;
  readonly loadReport: string;
  readonly dataEnd: string;
}

const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);
/** Empty for missing, otherwise the score CLI's number form (inf, -inf, shortest round trip). */
const cell = (v: number) => (Number.isNaN(v) ? '' : formatNumber(v));

async function load(source: DatasetSource, input: string) {
  switch (source) {
    case 'uci':
      return loadUciOnlineRetail(input);
    case 'cdnow':
      return loadCdnow(input);
    case 'csv':
      return loadGenericCsv(input);
  }
}

export async function buildDatasetFile(
  options: DatasetCommandOptions,
  log: (line: string) => void,
): Promise<DatasetSummary> {
  const { events, report } = await load(options.source, options.input);
  log(formatReport(report));
  if (events.length === 0) throw new Error('no events loaded: nothing to build');
  const times = events.map((e: OrderEvent) => e.eventTime);
  const dataStart = Math.min(...times);
  const dataEnd = Math.max(...times);
  const firstDefault = Math.floor(dataStart / DAY_MS) * DAY_MS + 90 * DAY_MS;
  const first = options.first === undefined ? firstDefault : Date.parse(`${options.first}T00:00:00Z`);
  if (Number.isNaN(first)) throw new Error(`--first '${options.first}' is not a date (YYYY-MM-DD)`);
  const cutoffs = cutoffsBetween(first, dataEnd, options.everyDays, Math.max(options.churnDays, options.ltvDays));
  if (cutoffs.length === 0) throw new Error('no cutoff leaves a full label horizon before the end of the data');

  const customers = groupByCustomer(events);
  const bar = options.progress
    ? new cliProgress.SingleBar(
        { format: 'dataset [{bar}] {value}/{total} customers | {rows} rows', stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(customers.size, 0, { rows: 0 });
  const rows: DatasetRow[] = [];
  let done = 0;
  for (const [customerId, history] of customers) {
    rows.push(
      ...customerRows(customerId, history, {
        cutoffs,
        churnHorizonDays: options.churnDays,
        ltvHorizonDays: options.ltvDays,
        spec: DEFAULT_FEATURE_SPEC,
      }),
    );
    done += 1;
    if (done % 200 === 0) bar?.update(done, { rows: rows.length });
  }
  bar?.update(done, { rows: rows.length });
  bar?.stop();

  const fitUntil =
    options.fitUntil === undefined
      ? (cutoffs.at(-2) ?? cutoffs[0] ?? first)
      : Date.parse(`${options.fitUntil}T00:00:00Z`);
  const spec = fitFeatureSpec(
    rows.filter((row) => row.cutoff <= fitUntil).map((row) => row.raw),
    DEFAULT_FEATURE_SPEC,
    options.specVersion,
  );
  writeFileSync(
    options.specOut,
    `${JSON.stringify({ ...spec, fitted_on_cutoffs_until: isoDay(fitUntil) }, null, 2)}\n`,
  );

  const header = [
    'customer_id',
    'cutoff',
    ...FEATURE_NAMES,
    `churn_${options.churnDays}d`,
    `future_spend_${options.ltvDays}d`,
    'rules_churn_probability',
    'bgnbd_frequency',
    'bgnbd_recency',
    'bgnbd_age',
    'gg_monetary',
  ];
  const output = stringify({ header: true, columns: header });
  const file = createWriteStream(options.out);
  output.pipe(file);
  for (const row of rows) {
    const features = withMemberships(row.raw, spec);
    output.write([
      row.customerId,
      isoDay(row.cutoff),
      ...Array.from(features, cell),
      String(row.labels.churned),
      String(row.labels.futureSpend),
      String(rulesChurnScore(features).probability),
      String(row.rfm.frequency),
      String(row.rfm.recency),
      String(row.rfm.age),
      String(row.rfm.monetary),
    ]);
  }
  output.end();
  await new Promise<void>((resolve, reject) => {
    file.on('finish', resolve);
    file.on('error', reject);
  });
  return {
    rows: rows.length,
    customers: new Set(rows.map((row) => row.customerId)).size,
    cutoffs: cutoffs.map(isoDay),
    churnRate: rows.reduce((sum, row) => sum + row.labels.churned, 0) / Math.max(rows.length, 1),
    loadReport: formatReport(report),
    dataEnd: new Date(dataEnd).toISOString(),
  };
}
