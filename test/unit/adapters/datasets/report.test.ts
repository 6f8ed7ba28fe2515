// The load report: bounded tallies of unknown values, and one line that shows only what has
// something to say (a loader with nothing ignored or defaulted prints what it always did).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  countDefaulted,
  formatReport,
  MAX_DISTINCT_VALUES,
  MAX_VALUE_CHARS,
  newReport,
  noteUnknownValue,
  skip,
} from '../../../../src/adapters/files/datasets/report.js';

describe('load report', () => {
  it('prints rows, events and skips alone when nothing was ignored, defaulted or unknown', () => {
    const report = newReport('cdnow.txt');
    report.rowsRead = 5;
    report.eventsProduced = 3;
    skip(report, 'bad_date');
    skip(report, 'bad_amount', 2);
    expect(formatReport(report)).toBe('cdnow.txt: 5 rows read, 3 events; skipped: bad_amount=2, bad_date=1');
  });

  it('adds unknown values, defaulted fields and ignored columns on the same line', () => {
    const report = newReport('shop.csv');
    report.rowsRead = 6;
    report.eventsProduced = 3;
    skip(report, 'unknown_type', 3);
    noteUnknownValue(report, 'type', 'GIFT');
    noteUnknownValue(report, 'type', 'a,b');
    noteUnknownValue(report, 'type', 'GIFT');
    for (let i = 0; i < 3; i += 1) countDefaulted(report, 'currency');
    countDefaulted(report, 'item_count');
    report.ignoredColumns.push('notes', 'sku');
    expect(formatReport(report)).toBe(
      'shop.csv: 6 rows read, 3 events; skipped: unknown_type=3; unknown type values: "GIFT"=2, "a,b"=1; ' +
        'defaulted: currency=3, item_count=1; ignored columns: "notes", "sku"',
    );
  });

  it('names ignored columns up to ten and counts the rest', () => {
    const report = newReport('wide.csv');
    report.ignoredColumns.push(...Array.from({ length: 13 }, (_, i) => `c${i}`));
    expect(formatReport(report)).toContain(
      'ignored columns: "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9" (+3 more)',
    );
  });

  it('keeps the first distinct unknown values with exact counts, counts every row, and cuts long values', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 60 }), { maxLength: 80 }), (values) => {
        const report = newReport('f');
        for (const value of values) noteUnknownValue(report, 'type', value);
        const tally = report.unknownValues['type'];
        if (values.length === 0) {
          expect(tally).toBeUndefined();
          return;
        }
        const cut = (v: string) =>
          [...v].length > MAX_VALUE_CHARS ? `${[...v].slice(0, MAX_VALUE_CHARS - 1).join('')}…` : v;
        const firstDistinct = [...new Set(values.map(cut))].slice(0, MAX_DISTINCT_VALUES);
        expect([...(tally?.counts.keys() ?? [])]).toEqual(firstDistinct);
        for (const key of firstDistinct) {
          expect(tally?.counts.get(key)).toBe(values.filter((v) => cut(v) === key).length);
        }
        const kept = [...(tally?.counts.values() ?? [])].reduce((a, b) => a + b, 0);
        expect(kept + (tally?.otherRows ?? 0)).toBe(values.length);
        for (const key of tally?.counts.keys() ?? []) expect([...key].length).toBeLessThanOrEqual(MAX_VALUE_CHARS);
      }),
    );
  });

  it('says how many rows had values beyond the ones it names', () => {
    const report = newReport('f');
    for (let i = 0; i < 12; i += 1) noteUnknownValue(report, 'type', `t${i}`);
    noteUnknownValue(report, 'type', 't11');
    expect(formatReport(report)).toContain('"t9"=1 (+3 rows with other values)');
  });
});
