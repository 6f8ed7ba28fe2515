import { mkdtempSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CSV_FIELDS,
  CsvColumnsError,
  parseColumnMapping,
} from '../../../../src/adapters/files/datasets/csv-columns.js';
import { EVENT_TYPE_WORDS, eventTypeOfWord } from '../../../../src/adapters/files/datasets/event-type-words.js';
import { loadGenericCsv, parseEventTime, readGenericCsv } from '../../../../src/adapters/files/datasets/generic-csv.js';
import { formatReport, newReport } from '../../../../src/adapters/files/datasets/report.js';
import { ORDER_EVENT_TYPES, type OrderEvent } from '../../../../src/core/events/order-event.js';

const dir = mkdtempSync(join(tmpdir(), 'csv-'));
let files = 0;
function csvFile(lines: readonly string[]): string {
  files += 1;
  const path = join(dir, `orders-${files}.csv`);
  writeFileSync(path, lines.join('\n'));
  return path;
}
/** Every cell quoted: generated cells may hold commas, quotes, newlines and padding. */
const csvLine = (cells: readonly string[]) => cells.map((c) => `"${c.replaceAll('"', '""')}"`).join(',');

/** A CsvColumnsError from the promise, failing the test if it resolves or rejects otherwise. */
async function refusal(promise: Promise<unknown>): Promise<CsvColumnsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CsvColumnsError);
  return error as CsvColumnsError;
}

describe('generic order CSV loader', () => {
  it('reads ISO and epoch times, defaults, refunds; skips bad rows by reason', async () => {
    const path = csvFile([
      'customer_id,order_id,event_time,amount,type,original_order_id,item_count,currency',
      'c1,o1,2024-01-02T03:04:05Z,10.5,order,,2,EUR',
      'c1,o2,2024-01-03 10:00,4,,,,',
      'c1,r1,1704326400000,3,refund,o1,1,EUR',
      ',o3,2024-01-02,1,order,,1,EUR',
      'c2,o4,yesterday,1,order,,1,EUR',
      'c2,o5,2024-01-02,-1,order,,1,EUR',
      'c2,r2,2024-01-02,1,refund,,1,EUR',
      'c2,o6,2024-01-02,1,gift,,1,EUR',
    ]);
    const { events, report } = await loadGenericCsv(path);
    expect(events.map((e) => [e.orderId, e.type, e.eventTime, e.itemCount, e.currency])).toEqual([
      ['o1', 'order', Date.UTC(2024, 0, 2, 3, 4, 5), 2, 'EUR'],
      ['o2', 'order', Date.UTC(2024, 0, 3, 10), 1, 'XXX'],
      ['r1', 'refund', 1704326400000, 1, 'EUR'],
    ]);
    expect(report.skipped).toEqual({
      missing_customer_id: 1,
      bad_event_time: 1,
      bad_amount: 1,
      refund_without_original_order: 1,
      unknown_type: 1,
    });
  });

  it('reads ISO times and epoch seconds or milliseconds; impossible or ambiguous dates are no time', () => {
    expect(parseEventTime('2024-05-06')).toBe(Date.UTC(2024, 4, 6));
    expect(parseEventTime('2024-05-06T07:08:09.250-0130')).toBe(Date.UTC(2024, 4, 6, 8, 38, 9, 250));
    expect(parseEventTime('1672912800')).toBe(Date.UTC(2023, 0, 5, 10));
    expect(parseEventTime('1672912800000')).toBe(Date.UTC(2023, 0, 5, 10));
    for (const bad of [
      '2023-02-30',
      '2023-13-01',
      '2023-01-01 24:00',
      '2023-01-01T10:61',
      '01/02/2023',
      'yesterday',
      '12345',
    ])
      expect(parseEventTime(bad), bad).toBeNaN();
  });

  it('skips and counts rows dated before 1990 or after tomorrow; a stray quote inside a field is text', async () => {
    const path = csvFile([
      'customer_id,order_id,event_time,amount,notes',
      'c1,1,2024-03-01T10:00:00Z,10,5" screen',
      'c1,2,2099-01-05,10,typo',
      'c1,3,1970-01-20,10,seconds as ms',
      'c1,4,2024-03-02T10:00:00Z,10,"quoted, with comma"',
    ]);
    const { events, report } = await loadGenericCsv(path);
    expect(events.map((e) => e.orderId)).toEqual(['1', '4']);
    expect(report.skipped).toEqual({ event_time_out_of_range: 2 });
  });

  it("skips what the stream would dead-letter, under the stream's reason; hex amounts are not numbers", async () => {
    const path = csvFile([
      'customer_id,order_id,event_time,amount,currency',
      'c1,1,2024-03-01,10,EUR',
      'c1,2,2024-03-01,0x10,EUR',
      'c1,3,2024-03-01,1e15,EUR',
      'c1,4,2024-03-01,10,euro',
      'c1,5,2024-03-01,,EUR',
    ]);
    const { events, report } = await loadGenericCsv(path);
    expect(events.map((e) => e.orderId)).toEqual(['1']);
    expect(report.skipped).toEqual({ bad_amount: 2, invalid_amount: 1, invalid_currency: 1 });
  });

  it('a file csv-parse cannot read is a user error naming it, not a crash', async () => {
    const path = csvFile(['customer_id,order_id,event_time,amount', 'c1,"1,2024-03-01,10']);
    await expect(loadGenericCsv(path)).rejects.toThrow(/not a CSV file we can read/);
  });

  it('treats zone-less times as UTC', () => {
    expect(parseEventTime('2024-05-06 07:08:09')).toBe(Date.UTC(2024, 4, 6, 7, 8, 9));
    expect(parseEventTime('2024-05-06T07:08:09+02:00')).toBe(Date.UTC(2024, 4, 6, 5, 8, 9));
  });

  it("loads the user's export: ORDER/REFUND types and an items column mapped with --columns items=item_count", async () => {
    const path = csvFile([
      'customer_id,order_id,event_time,amount,type,original_order_id,items,currency',
      'c1,1001,2024-03-01T10:00:00Z,59.90,ORDER,,3,EUR',
      'c1,1002,2024-03-05T10:00:00Z,20.00,ORDER,,2,EUR',
      'c1,R-1,2024-03-09T10:00:00Z,19.95,REFUND,1001,1,EUR',
    ]);
    // Without the mapping the items column is ignored, and the report says so.
    const unmapped = await loadGenericCsv(path);
    expect(unmapped.events.map((e) => e.itemCount)).toEqual([1, 1, 1]);
    expect(formatReport(unmapped.report)).toContain('defaulted: item_count=3; ignored columns: "items"');

    const { events, report } = await loadGenericCsv(path, { columns: parseColumnMapping('items=item_count') });
    expect(events).toEqual([
      {
        customerId: 'c1',
        orderId: '1001',
        eventTime: Date.UTC(2024, 2, 1, 10),
        type: 'order',
        amount: 59.9,
        currency: 'EUR',
        itemCount: 3,
        originalOrderId: null,
      },
      {
        customerId: 'c1',
        orderId: '1002',
        eventTime: Date.UTC(2024, 2, 5, 10),
        type: 'order',
        amount: 20,
        currency: 'EUR',
        itemCount: 2,
        originalOrderId: null,
      },
      {
        customerId: 'c1',
        orderId: 'R-1',
        eventTime: Date.UTC(2024, 2, 9, 10),
        type: 'refund',
        amount: 19.95,
        currency: 'EUR',
        itemCount: 1,
        originalOrderId: '1001',
      },
    ]);
    expect(report).toMatchObject({ rowsRead: 3, eventsProduced: 3, skipped: {}, defaulted: {}, ignoredColumns: [] });
    expect(formatReport(report)).toBe(`${path}: 3 rows read, 3 events`);
  });

  it('matches header names ignoring case and surrounding spaces', async () => {
    const path = csvFile([' CUSTOMER_ID ,Order_Id,EVENT_time,Amount , TYPE', 'c1,o1,2024-01-01,5,Sale']);
    const { events } = await loadGenericCsv(path);
    expect(events).toMatchObject([{ customerId: 'c1', orderId: 'o1', amount: 5, type: 'order' }]);
  });

  it('reads every documented type word in any case, with spaces around it', async () => {
    const cases = ORDER_EVENT_TYPES.flatMap((type) =>
      EVENT_TYPE_WORDS[type].flatMap((word) => [
        word,
        word.toUpperCase(),
        ` ${word[0]?.toUpperCase()}${word.slice(1)} `,
      ]),
    );
    const path = csvFile([
      'customer_id,order_id,event_time,amount,type,original_order_id',
      ...cases.map((word, i) => csvLine(['c1', `d${i}`, '2024-01-01', '1', word, 'o0'])),
    ]);
    const { events, report } = await loadGenericCsv(path);
    expect(report.skipped).toEqual({});
    expect(events.map((e) => e.type)).toEqual(cases.map((word) => eventTypeOfWord(word)));
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(ORDER_EVENT_TYPES));
  });

  it('leaves words that are not types unread', () => {
    for (const word of ['paid', 'pending', 'shipped', 'orders', 'refund d', 're-fund', '']) {
      expect(eventTypeOfWord(word), word).toBeUndefined();
    }
  });

  it('skips unknown types as unknown_type and reports the first ten distinct values with counts', async () => {
    const unknown = ['GIFT', 'GIFT', 'gift', 'paid', ...Array.from({ length: 10 }, (_, i) => `x${i}`), 'x9', 'x0'];
    const path = csvFile([
      'customer_id,order_id,event_time,amount,type',
      'c1,o1,2024-01-01,5,ORDER',
      ...unknown.map((type, i) => `c1,u${i},2024-01-01,5,${type}`),
    ]);
    const { events, report } = await loadGenericCsv(path);
    expect(events).toHaveLength(1);
    expect(report.skipped).toEqual({ unknown_type: unknown.length });
    const tally = report.unknownValues['type'];
    expect(Object.fromEntries(tally?.counts ?? [])).toEqual({
      GIFT: 2,
      gift: 1,
      paid: 1,
      x0: 2,
      x1: 1,
      x2: 1,
      x3: 1,
      x4: 1,
      x5: 1,
      x6: 1,
    });
    expect(tally?.otherRows).toBe(4); // x7, x8, x9 twice
    expect(formatReport(report)).toContain(
      'skipped: unknown_type=16; unknown type values: "GIFT"=2, "x0"=2, "gift"=1, "paid"=1, "x1"=1',
    );
    expect(formatReport(report)).toContain('"x6"=1 (+4 rows with other values)');
  });

  it('counts defaulted values per field for the events produced, absent columns included', async () => {
    const path = csvFile([
      'customer_id,order_id,event_time,amount,type,item_count',
      'c1,o1,2024-01-01,5,,',
      'c1,o2,2024-01-01,5,order,2',
      'c1,o3,2024-01-01,5,,3',
      'c1,o4,2024-01-01,-5,,', // skipped: its defaults are not counted
    ]);
    const { events, report } = await loadGenericCsv(path);
    expect(events.map((e) => [e.type, e.itemCount, e.currency])).toEqual([
      ['order', 1, 'XXX'],
      ['order', 2, 'XXX'],
      ['order', 3, 'XXX'],
    ]);
    expect(report.defaulted).toEqual({ type: 2, item_count: 1, currency: 3 });
    expect(formatReport(report)).toBe(
      `${path}: 4 rows read, 3 events; skipped: bad_amount=1; defaulted: currency=3, type=2, item_count=1`,
    );
  });

  it('lists columns it ignored', async () => {
    const path = csvFile(['Notes,customer_id,order_id,event_time,amount,SKU', 'hi,c1,o1,2024-01-01,5,A-1']);
    const { events, report } = await loadGenericCsv(path);
    expect(events).toHaveLength(1);
    expect(report.ignoredColumns).toEqual(['Notes', 'SKU']);
    expect(formatReport(report)).toContain('ignored columns: "Notes", "SKU"');
  });

  it('refuses a file without a required column before reading any row, naming missing and found', async () => {
    const path = csvFile(['Kunde,order_id,Datum,amount', 'c1,o1,2024-01-01,5']);
    const report = newReport(path);
    const error = await refusal(
      (async () => {
        for await (const _ of readGenericCsv(path, {}, report));
      })(),
    );
    expect(error.message).toContain(`${path}: required columns missing: customer_id, event_time`);
    expect(error.message).toContain('columns found: "Kunde", "order_id", "Datum", "amount"');
    expect(report.rowsRead).toBe(0);
    // The mapping the message suggests loads it.
    const mapped = await loadGenericCsv(path, { columns: parseColumnMapping('Kunde=customer_id,Datum=event_time') });
    expect(mapped.events).toMatchObject([{ customerId: 'c1', eventTime: Date.UTC(2024, 0, 1) }]);
  });

  it('refuses an empty file and a mapping naming a column the file lacks', async () => {
    expect((await refusal(loadGenericCsv(csvFile([])))).message).toContain('no header row');
    const path = csvFile(['customer_id,order_id,event_time,amount', 'c1,o1,2024-01-01,5']);
    expect((await refusal(loadGenericCsv(path, { columns: { item_count: 'items' } }))).message).toContain(
      '"items", which is not in the header',
    );
  });

  it('skips rows with another field count than the header as wrong_field_count, and goes on', async () => {
    const path = csvFile([
      'customer_id,order_id,event_time,amount',
      'c1,o1,2024-01-01',
      'c1,o2,2024-01-01,5,extra',
      'c1,o3,2024-01-01,5',
    ]);
    const { events, report } = await loadGenericCsv(path);
    expect(events.map((e) => e.orderId)).toEqual(['o3']);
    expect(report).toMatchObject({ rowsRead: 3, eventsProduced: 1, skipped: { wrong_field_count: 2 } });
  });

  it('rejects with the read error for a file that does not exist', async () => {
    await expect(loadGenericCsv(join(dir, 'missing.csv'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('streaming generic CSV reader', () => {
  const rows = 20_000;
  const bigFile = () =>
    csvFile([
      'customer_id,order_id,event_time,amount',
      ...Array.from({ length: rows }, (_, i) => `c${i % 97},o${i},2024-01-01T00:00:00Z,${i % 50}`),
    ]);
  /** File descriptors of this process open on `path` (Linux: /proc/self/fd). */
  const openOn = (path: string) =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === path;
      } catch {
        return false; // closed while listing
      }
    }).length;

  it('yields the first event long before the file is read, and the report follows the rows read', async () => {
    const path = bigFile();
    const report = newReport(path);
    const iterator = readGenericCsv(path, {}, report);
    const first = await iterator.next();
    expect(first.value).toMatchObject({ orderId: 'o0' });
    // A loader that read everything first would have read all the rows by now.
    expect(report.rowsRead).toBeLessThan(rows / 4);
    expect(report.eventsProduced).toBe(1);
    let count = 1;
    for await (const _ of { [Symbol.asyncIterator]: () => iterator }) count += 1;
    expect(count).toBe(rows);
    expect(report).toMatchObject({ rowsRead: rows, eventsProduced: rows, skipped: {} });
  });

  it.skipIf(process.platform !== 'linux')('closes the file when the caller stops early', async () => {
    const path = bigFile();
    const report = newReport(path);
    for await (const event of readGenericCsv(path, {}, report)) {
      expect(openOn(path)).toBe(1);
      if (event.orderId === 'o10') break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50)); // the close is asynchronous
    expect(openOn(path)).toBe(0);
    expect(report.eventsProduced).toBe(11);
  });

  it('loadGenericCsv returns exactly what readGenericCsv yields, with the same report', async () => {
    const path = csvFile([
      'customer_id,order_id,event_time,amount,type',
      'c1,o1,2024-01-01,5,',
      'c1,o2,nope,5,',
      'c2,o3,2024-01-02,7,sold',
    ]);
    const report = newReport(path);
    const streamed: OrderEvent[] = [];
    for await (const event of readGenericCsv(path, {}, report)) streamed.push(event);
    const loaded = await loadGenericCsv(path);
    expect(loaded.events).toEqual(streamed);
    expect(loaded.report).toEqual(report);
  });
});

// A shop's export of the same history: header names in any case with spaces around them,
// columns in any order, some renamed and given by a mapping, extra columns, and type words
// drawn from the synonyms in any case. It must load to the canonical file's events.
describe('generic CSV, any shape of export', () => {
  const token = fc.stringMatching(/^[A-Za-z0-9-]{1,8}$/);
  const row = fc.record({
    customer_id: token,
    order_id: token,
    event_time: fc
      .tuple(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2030, 0, 1) }), fc.boolean())
      .map(([t, iso]) => (iso ? new Date(t).toISOString() : String(t))),
    amount: fc.integer({ min: 0, max: 1_000_000 }).map((cents) => String(cents / 100)),
    type: fc.constantFrom<string>('', ...ORDER_EVENT_TYPES, 'gift'),
    original_order_id: fc.oneof(fc.constant(''), token),
    item_count: fc.oneof(fc.constant(''), fc.nat(50).map(String)),
    currency: fc.constantFrom('', 'EUR', 'USD'),
  });
  const anyCase = (text: string) =>
    fc
      .array(fc.boolean(), { minLength: text.length, maxLength: text.length })
      .map((upper) => [...text].map((c, i) => (upper[i] ? c.toUpperCase() : c.toLowerCase())).join(''));
  const padded = (text: string) =>
    fc
      .tuple(fc.constantFrom('', ' ', '  ', '\t'), anyCase(text), fc.constantFrom('', ' ', '\t '))
      .map((p) => p.join(''));
  /** A word the export may use for a canonical type cell ('' stays blank, maybe with spaces). */
  const exportedType = (type: string) => {
    const eventType = ORDER_EVENT_TYPES.find((t) => t === type);
    return fc.constantFrom(...(eventType === undefined ? [type] : EVENT_TYPE_WORDS[eventType])).chain(padded);
  };
  const extraName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ]{0,8}$/).map((name) => `note ${name}`);
  const history = fc.array(row, { minLength: 1, maxLength: 25 }).chain((rows) =>
    fc.record({
      rows: fc.constant(rows),
      order: fc.shuffledSubarray([...CSV_FIELDS], { minLength: CSV_FIELDS.length, maxLength: CSV_FIELDS.length }),
      header: fc.tuple(...CSV_FIELDS.map(padded)),
      renamed: fc.array(fc.boolean(), { minLength: CSV_FIELDS.length, maxLength: CSV_FIELDS.length }),
      extras: fc.array(fc.tuple(extraName, fc.nat(CSV_FIELDS.length)), { maxLength: 3 }),
      extraValues: fc.array(fc.array(fc.string({ maxLength: 6 }), { minLength: 3, maxLength: 3 }), {
        minLength: rows.length,
        maxLength: rows.length,
      }),
      types: fc.tuple(...rows.map((r) => exportedType(r.type))),
    }),
  );

  it('loads to the same events and skips as the canonical form, and reports the extra columns as ignored', async () => {
    await fc.assert(
      fc.asyncProperty(history, async ({ rows, order, header, renamed, extras, extraValues, types }) => {
        const canonical = csvFile([
          CSV_FIELDS.join(','),
          ...rows.map((r) => csvLine(CSV_FIELDS.map((field) => r[field]))),
        ]);
        const expected = await loadGenericCsv(canonical);

        // Exported columns: the fields in a random order, some under another name, extras spliced in.
        const columnName = (field: (typeof CSV_FIELDS)[number]) => {
          const i = CSV_FIELDS.indexOf(field);
          return renamed[i] ? `Shop ${field} ${i}` : (header[i] ?? field);
        };
        type Column = { name: string; cell: (rowIndex: number) => string };
        const columns: Column[] = order.map((field) => ({
          name: columnName(field),
          cell: (k) => (field === 'type' ? (types[k] ?? '') : (rows[k]?.[field] ?? '')),
        }));
        extras.forEach(([name, at], e) => {
          columns.splice(Math.min(at, columns.length), 0, { name, cell: (k) => extraValues[k]?.[e] ?? '' });
        });
        const mapping = CSV_FIELDS.filter((_, i) => renamed[i])
          .map((field) => `${columnName(field).toUpperCase()}=${field}`)
          .join(',');
        const exported = csvFile([
          csvLine(columns.map((c) => c.name)),
          ...rows.map((_, k) => csvLine(columns.map((c) => c.cell(k)))),
        ]);
        const actual = await loadGenericCsv(exported, mapping === '' ? {} : { columns: parseColumnMapping(mapping) });

        expect(actual.events).toEqual(expected.events);
        expect(actual.report.skipped).toEqual(expected.report.skipped);
        expect(actual.report.defaulted).toEqual(expected.report.defaulted);
        expect(actual.report.rowsRead).toBe(rows.length);
        expect(actual.report.ignoredColumns.toSorted()).toEqual(extras.map(([name]) => name.trim()).toSorted());
      }),
      { numRuns: 60 },
    );
  });
});
