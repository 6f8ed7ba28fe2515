// `churnstream dataset`: a point-in-time-correct training table from an order history,
// built with the same feature code the stream runs, in bounded memory at any input size:
//   1. the input is read once and its events spilled to bucket files by customer;
//   2. each bucket's customers become rows (canonical history: sorted, duplicates
//      dropped), sorted by (cutoff, customer) and spilled as a run; the values of the
//      fuzzy axes of rows up to --fit-until go to per-axis files;
//   3. the feature spec is fitted one axis at a time (exact percentiles);
//   4. the runs are merged into the table, rows in (cutoff, customer) order.
// The same history in any row order, with duplicated rows, gives the same table and spec.
import { once } from 'node:events';
import { createWriteStream, statSync, writeFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { stringify } from 'csv-stringify';
import { formatReport } from '../../adapters/files/datasets/report.js';
import { SpillDirectory } from '../../adapters/files/datasets/spill.js';
import { customerRows, cutoffsBetween } from '../../core/dataset/build.js';
import { AXIS_INDEXES, fitFeatureSpecFromAxes } from '../../core/dataset/fit-spec.js';
import { groupByCustomer } from '../../core/features/batch.js';
import { DAY_MS } from '../../core/time.js';
import type { Config } from '../config.js';
import { checkedOptions } from './dataset-options.js';
import { DatasetError, type DatasetSource, feedOf } from './dataset-sources.js';
import { compareRows, decodeRow, encodeRow, isoDay, tableHeader, tableRecord } from './dataset-table.js';

export { DatasetError, type DatasetSource } from './dataset-sources.js';

export interface DatasetCommandOptions {
  readonly source: DatasetSource;
  /** The file; none for --source kafka. */
  readonly input?: string | undefined;
  /** For --source kafka: the scorer's configuration (brokers, registry, topics, validation). */
  readonly config?: Config | undefined;
  readonly out: string;
  readonly specOut: string;
  readonly specVersion: string;
  readonly first?: string | undefined;
  readonly everyDays: number;
  readonly churnDays: number;
  /** LTV label horizons (one column each); a window still open at the data's end is left empty. */
  readonly ltvDays: readonly number[];
  /** The features' observation window (days, a multiple of 30; default 180). */
  readonly observationDays?: number | undefined;
  /** Events before / after these days (YYYY-MM-DD, inclusive) are left out. */
  readonly startDate?: string | undefined;
  readonly endDate?: string | undefined;
  readonly fitUntil?: string | undefined;
  /** For --source csv: `column=field,...` (docs/DATASETS.md). */
  readonly columns?: string | undefined;
  readonly progress: boolean;
  /** Input bytes per spill bucket (default 6 MiB); tests and benchmarks set it small. */
  readonly bucketBytes?: number | undefined;
}

export interface DatasetSummary {
  readonly rows: number;
  readonly customers: number;
  readonly cutoffs: readonly string[];
  readonly churnRate: number;
  readonly loadReport: string;
  readonly dataEnd: string;
}

/** Input bytes per bucket: a bucket's events and rows stay well under a few hundred MB. */
const BYTES_PER_BUCKET = 6 * 1024 * 1024;

function progressBar(enabled: boolean, total: number) {
  if (!enabled) return undefined;
  const bar = new cliProgress.SingleBar(
    { format: 'dataset [{bar}] {value}/{total} buckets | {rows} rows', stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { rows: 0 });
  return bar;
}

export async function buildDatasetFile(
  options: DatasetCommandOptions,
  log: (line: string) => void,
): Promise<DatasetSummary> {
  const { first, fitUntil: fitUntilOption, columns, base, from, until } = checkedOptions(options);
  const feed = feedOf({ source: options.source, input: options.input, columns, config: options.config });
  // A topic's size is not known before it is read: 64 buckets keep ~10M events in hand.
  const bucketBytes = options.bucketBytes ?? BYTES_PER_BUCKET;
  const buckets =
    options.input === undefined
      ? 64
      : Math.min(1024, Math.max(1, Math.ceil(statSync(options.input).size / bucketBytes)));
  const spill = new SpillDirectory(buckets);
  try {
    // 1. Spill the events by customer; the data's time range on the way.
    let dataStart = Number.POSITIVE_INFINITY;
    let dataEnd = Number.NEGATIVE_INFINITY;
    let outside = 0;
    await feed.run((event) => {
      if (event.eventTime < from || event.eventTime > until) {
        outside += 1;
        return;
      }
      spill.addEvent(event);
      dataStart = Math.min(dataStart, event.eventTime);
      dataEnd = Math.max(dataEnd, event.eventTime);
    });
    const report = feed.report;
    spill.sealEvents();
    log(formatReport(report));
    if (outside > 0) log(`${outside} events outside --start-date..--end-date left out`);
    if (!Number.isFinite(dataStart))
      throw new DatasetError(`${report.source}: no events loaded, nothing to build (see the report above)`);
    const firstCutoff = first ?? Math.floor(dataStart / DAY_MS) * DAY_MS + 90 * DAY_MS;
    // Rows need a closed churn window; an LTV window still open is an empty cell.
    const cutoffs = cutoffsBetween(firstCutoff, dataEnd, options.everyDays, options.churnDays);
    if (cutoffs.length === 0)
      throw new DatasetError(
        `no cutoff from ${isoDay(firstCutoff)} leaves a full churn horizon (${options.churnDays} days) before the data end on ${isoDay(dataEnd)}`,
      );
    const fitUntil = fitUntilOption ?? cutoffs.at(-2) ?? cutoffs[0] ?? firstCutoff;

    // 2. Rows per bucket, as sorted runs; axis values of the rows the spec is fitted on.
    const bar = progressBar(options.progress, buckets);
    let rows = 0;
    let churned = 0;
    let customers = 0;
    for (let bucket = 0; bucket < buckets; bucket += 1) {
      const made = [];
      for (const [customerId, history] of groupByCustomer(await spill.bucketEvents(bucket))) {
        const own = customerRows(customerId, history, {
          cutoffs,
          churnHorizonDays: options.churnDays,
          ltvHorizonDays: options.ltvDays,
          dataEnd,
          spec: base,
        });
        if (own.length > 0) customers += 1;
        made.push(...own);
      }
      made.sort(compareRows);
      for (const row of made) {
        churned += row.labels.churned;
        if (row.cutoff <= fitUntil)
          for (const [axis, index] of AXIS_INDEXES.entries()) spill.addAxisValue(axis, row.raw[index] ?? Number.NaN);
      }
      spill.writeRun(bucket, made.map(encodeRow));
      rows += made.length;
      bar?.update(bucket + 1, { rows });
    }
    bar?.stop();

    // 3. The spec, one axis in memory at a time.
    const spec = await fitFeatureSpecFromAxes((axis) => spill.axisValues(axis), base, options.specVersion);
    writeFileSync(
      options.specOut,
      `${JSON.stringify({ ...spec, fitted_on_cutoffs_until: isoDay(fitUntil) }, null, 2)}\n`,
    );

    // 4. The table: runs merged in (cutoff, customer) order, streamed to the file.
    const output = stringify({ header: true, columns: tableHeader(options.churnDays, options.ltvDays) });
    const file = createWriteStream(options.out);
    output.pipe(file);
    const written = once(file, 'finish');
    for await (const row of spill.mergedRuns(decodeRow, compareRows))
      if (!output.write(tableRecord(row, spec))) await once(output, 'drain');
    output.end();
    await written;
    return {
      rows,
      customers,
      cutoffs: cutoffs.map(isoDay),
      churnRate: churned / Math.max(rows, 1),
      loadReport: formatReport(report),
      dataEnd: new Date(dataEnd).toISOString(),
    };
  } finally {
    spill.remove();
  }
}
