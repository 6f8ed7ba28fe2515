// `churnstream dataset` in bounded memory: the table and spec it writes are the ones the
// in-memory build (every customer's rows at once, spec fitted on all of them) gives, rows
// in (cutoff, customer) order, however many spill buckets it used; a shuffled copy of the
// history with duplicated rows gives byte-identical files (generated); an input with no
// valid event is a user error naming the file.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildDatasetFile, DatasetError } from '../../../../src/app/commands/dataset.js';
import { compareRows, tableHeader } from '../../../../src/app/commands/dataset-table.js';
import { UserError } from '../../../../src/app/user-error.js';
import { customerRows, cutoffsBetween } from '../../../../src/core/dataset/build.js';
import { fitFeatureSpec } from '../../../../src/core/dataset/fit-spec.js';
import { generateDemoHistory } from '../../../../src/core/demo/generator.js';
import type { OrderEvent } from '../../../../src/core/events/order-event.js';
import { groupByCustomer } from '../../../../src/core/features/batch.js';
import { DEFAULT_FEATURE_SPEC } from '../../../../src/core/features/spec.js';
import { DAY_MS } from '../../../../src/core/time.js';

const START = Date.UTC(2023, 0, 1);
const history = generateDemoHistory({ seed: 7, customers: 150, start: START, days: 500 });

const csvLine = (e: OrderEvent) =>
  [
    e.customerId,
    e.orderId,
    String(e.eventTime),
    String(e.amount),
    e.type,
    e.originalOrderId ?? '',
    String(e.itemCount),
    e.currency,
  ].join(',');

function writeCsv(dir: string, name: string, events: readonly OrderEvent[]): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    `customer_id,order_id,event_time,amount,type,original_order_id,item_count,currency\n${events.map(csvLine).join('\n')}\n`,
  );
  return path;
}

async function build(dir: string, input: string, tag: string, bucketBytes?: number) {
  const out = join(dir, `${tag}.csv`);
  const specOut = join(dir, `${tag}-spec.json`);
  const summary = await buildDatasetFile(
    {
      source: 'csv',
      input,
      out,
      specOut,
      specVersion: 'fitted-test',
      everyDays: 30,
      churnDays: 90,
      ltvDays: [90],
      progress: false,
      bucketBytes,
    },
    () => {},
  );
  return { summary, table: readFileSync(out, 'utf8'), spec: readFileSync(specOut, 'utf8') };
}

describe('churnstream dataset', () => {
  it('writes what the in-memory build gives, rows in (cutoff, customer) order, with one bucket or many', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataset-'));
    const input = writeCsv(dir, 'orders.csv', history);
    const one = await build(dir, input, 'one');
    const many = await build(dir, input, 'many', 512);
    expect(many.table).toBe(one.table);
    expect(many.spec).toBe(one.spec);

    // The oracle: every customer's rows in memory, the spec fitted on the rows up to the
    // second-to-last cutoff, as the builder did before it spilled.
    const times = history.map((e) => e.eventTime);
    const dataStart = times.reduce((a, b) => Math.min(a, b));
    const dataEnd = times.reduce((a, b) => Math.max(a, b));
    const cutoffs = cutoffsBetween(Math.floor(dataStart / DAY_MS) * DAY_MS + 90 * DAY_MS, dataEnd, 30, 90);
    const rows = [...groupByCustomer(history)].flatMap(([id, events]) =>
      customerRows(id, events, { cutoffs, churnHorizonDays: 90, ltvHorizonDays: [90], spec: DEFAULT_FEATURE_SPEC }),
    );
    const fitUntil = cutoffs.at(-2) ?? 0;
    const spec = fitFeatureSpec(
      rows.filter((r) => r.cutoff <= fitUntil).map((r) => r.raw),
      DEFAULT_FEATURE_SPEC,
      'fitted-test',
    );
    expect(JSON.parse(one.spec)).toEqual({
      ...JSON.parse(JSON.stringify(spec)),
      fitted_on_cutoffs_until: new Date(fitUntil).toISOString().slice(0, 10),
    });

    const records = parse(one.table, { columns: true }) as Record<string, string>[];
    expect(Object.keys(records[0] ?? {})).toEqual(tableHeader(90, [90]));
    expect(records).toHaveLength(rows.length);
    expect(one.summary.rows).toBe(rows.length);
    expect(one.summary.customers).toBe(new Set(rows.map((r) => r.customerId)).size);
    const ordered = [...rows].sort(compareRows);
    records.forEach((record, i) => {
      const row = ordered[i];
      expect(record['customer_id']).toBe(row?.customerId);
      expect(record['cutoff']).toBe(new Date(row?.cutoff ?? 0).toISOString().slice(0, 10));
      expect(Number(record['churn_90d'])).toBe(row?.labels.churned);
      expect(Number(record['future_spend_90d'])).toBe(row?.labels.futureSpend[0]);
      expect(Number(record['gg_monetary'])).toBe(row?.rfm.monetary);
    });
  }, 60_000);

  it('a shuffled copy with duplicated rows gives a byte-identical table and spec (generated)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataset-'));
    const clean = await build(dir, writeCsv(dir, 'clean.csv', history), 'clean');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat({ max: history.length - 1 }), { maxLength: 300 }),
        fc.integer(),
        fc.constantFrom(undefined, 700, 4096),
        async (duplicated, seed, bucketBytes) => {
          const copy = [...history, ...duplicated.map((i) => history[i] as OrderEvent)];
          // A seeded Fisher-Yates shuffle.
          let state = seed | 1;
          for (let i = copy.length - 1; i > 0; i -= 1) {
            state = Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) | 1;
            const j = (state >>> 0) % (i + 1);
            [copy[i], copy[j]] = [copy[j] as OrderEvent, copy[i] as OrderEvent];
          }
          const shuffled = await build(dir, writeCsv(dir, 'shuffled.csv', copy), 'shuffled', bucketBytes);
          expect(shuffled.table).toBe(clean.table);
          expect(shuffled.spec).toBe(clean.spec);
        },
      ),
      { numRuns: 8 },
    );
  }, 120_000);

  it('an input with no valid event is a user error naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataset-'));
    const input = join(dir, 'empty.csv');
    writeFileSync(input, 'customer_id,order_id,event_time,amount\n,o1,2024-01-01,5\n');
    const attempt = build(dir, input, 'empty');
    await expect(attempt).rejects.toThrow(DatasetError);
    await expect(attempt).rejects.toThrow(`${input}: no events loaded`);
    await expect(attempt).rejects.toBeInstanceOf(UserError);
  });

  it('a date option that is not a date is a user error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataset-'));
    const input = writeCsv(dir, 'orders.csv', history.slice(0, 50));
    await expect(
      buildDatasetFile(
        {
          source: 'csv',
          input,
          out: join(dir, 'x.csv'),
          specOut: join(dir, 'x.json'),
          specVersion: 'v',
          first: '2024-13-45',
          everyDays: 30,
          churnDays: 90,
          ltvDays: [90],
          progress: false,
        },
        () => {},
      ),
    ).rejects.toThrow("--first '2024-13-45' is not a date (YYYY-MM-DD)");
  });

  it("a shop's export (ORDER/REFUND words, an items column) builds with --columns items=item_count; a bad mapping is a user error", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataset-'));
    const input = join(dir, 'shop.csv');
    const lines = history.map(
      (e) =>
        `${e.customerId},${e.orderId},${new Date(e.eventTime).toISOString()},${e.amount},${e.type === 'order' ? 'ORDER' : e.type === 'refund' ? 'REFUND' : 'Cancelled'},${e.originalOrderId ?? ''},${e.itemCount}`,
    );
    writeFileSync(input, `Customer_ID,Order_ID,Event_Time,Amount,Type,Original_Order_ID,Items\n${lines.join('\n')}\n`);
    const reports: string[] = [];
    const options = {
      source: 'csv' as const,
      input,
      out: join(dir, 'shop-table.csv'),
      specOut: join(dir, 'shop-spec.json'),
      specVersion: 'fitted-test',
      everyDays: 30,
      churnDays: 90,
      ltvDays: [90],
      progress: false,
    };
    await buildDatasetFile({ ...options, columns: 'items=item_count' }, (line) => reports.push(line));
    expect(reports.join('\n')).toContain(`${history.length} events`);
    expect(reports.join('\n')).not.toContain('skipped');
    const reference = await build(dir, writeCsv(dir, 'reference.csv', history), 'reference');
    expect(readFileSync(join(dir, 'shop-table.csv'), 'utf8')).toBe(reference.table);
    await expect(buildDatasetFile({ ...options, columns: 'items=nothing' }, () => {})).rejects.toBeInstanceOf(
      UserError,
    );
    await expect(buildDatasetFile({ ...options, columns: 'missing=item_count' }, () => {})).rejects.toBeInstanceOf(
      UserError,
    );
  });

  it('--start-date/--end-date give the table of the history cut to those days; --observation-window sets the spec; open LTV windows stay empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataset-'));
    const input = writeCsv(dir, 'orders.csv', history);
    const from = START + 40 * DAY_MS;
    const until = START + 400 * DAY_MS; // --end-date is inclusive: events up to the day's last ms
    const cut = history.filter((e) => e.eventTime >= from && e.eventTime < until + DAY_MS);
    const common = {
      source: 'csv' as const,
      specVersion: 'fitted-test',
      everyDays: 30,
      churnDays: 90,
      ltvDays: [90, 365],
      observationDays: 120,
      progress: false,
    };
    const lines: string[] = [];
    const ranged = { ...common, input, out: join(dir, 'ranged.csv'), specOut: join(dir, 'ranged.json') };
    const day = (t: number) => new Date(t).toISOString().slice(0, 10);
    await buildDatasetFile({ ...ranged, startDate: day(from), endDate: day(until) }, (l) => lines.push(l));
    expect(lines.join('\n')).toContain(
      `${history.length - cut.length} events outside --start-date..--end-date left out`,
    );
    const reference = {
      ...common,
      input: writeCsv(dir, 'cut.csv', cut),
      out: join(dir, 'ref.csv'),
      specOut: join(dir, 'ref.json'),
    };
    await buildDatasetFile(reference, () => {});
    expect(readFileSync(ranged.out, 'utf8')).toBe(readFileSync(reference.out, 'utf8'));
    const spec = JSON.parse(readFileSync(ranged.specOut, 'utf8'));
    expect(spec.retention.windowDays).toBe(120);
    expect(spec.recentDays).toBe(60);
    // With under a year of data no 365-day window closes: that column is empty, the 90-day one never.
    const records = parse(readFileSync(ranged.out, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((r) => r['future_spend_365d'] === '' && r['future_spend_90d'] !== '')).toBe(true);
    await expect(buildDatasetFile({ ...ranged, startDate: day(until), endDate: day(from) }, () => {})).rejects.toThrow(
      'is after --end-date',
    );
    await expect(buildDatasetFile({ ...ranged, observationDays: 100 }, () => {})).rejects.toThrow(
      '--observation-window 100: must be a whole number of 30-day periods',
    );
  });
});
