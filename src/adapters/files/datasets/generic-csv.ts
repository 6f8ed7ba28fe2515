// Loader for the generic order CSV (docs/DATASETS.md): a header naming
//   customer_id, order_id, event_time, amount, type, original_order_id, item_count, currency
// (the last four optional; type defaults to order, item_count to 1, currency to XXX), in any
// order, any case, among other columns; csv-columns.ts finds them, or takes them from a
// column mapping. Types are matched by word (event-type-words.ts). event_time is ISO-8601
// (a zone-less time is read as UTC) or epoch milliseconds.
// Rows that cannot become a valid event are skipped and counted by reason. Rows are read as
// a stream and events yielded one by one, so a caller can build with bounded memory.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { parse } from 'csv-parse';
import type { OrderEvent } from '../../../core/events/order-event.js';
import { DEFAULT_VALIDATION, validateOrderEvent } from '../../../core/events/validate.js';
import { type ColumnMapping, CSV_FIELDS, CsvColumnsError, type CsvField, resolveColumns } from './csv-columns.js';
import { eventTypeOfWord } from './event-type-words.js';
import { countDefaulted, type LoadReport, newReport, noteUnknownValue, skip } from './report.js';

export interface GenericCsvOptions {
  /** Field → source column, for headers that do not use our names (parseColumnMapping reads `items=item_count`). */
  readonly columns?: ColumnMapping;
}

/** One row's values by field; a field the file has no column for is absent. */
export type CsvRecord = Readonly<Partial<Record<CsvField, string>>>;

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?\s*(Z|z|([+-])(\d{2}):?(\d{2}))?$/;

/**
 * An event time: ISO 8601 (a date, or date and time; no zone = UTC) or epoch digits, seconds
 * when 9-11 digits (1973-5138), milliseconds when 12-13. Anything else, and impossible dates
 * (2023-02-30, 24:00), is NaN: JavaScript's Date.parse would roll 02-30 into March and read
 * 01/02/2023 by the US convention, silently.
 */
export function parseEventTime(text: string): number {
  const trimmed = text.trim();
  if (/^\d{9,11}$/.test(trimmed)) return Number(trimmed) * 1000;
  if (/^\d{12,13}$/.test(trimmed)) return Number(trimmed);
  const m = ISO_TIME.exec(trimmed);
  if (m === null) return Number.NaN;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as number[];
  const millis = Math.floor(Number(m[7] ?? 0) * 1000);
  const t = Date.UTC(year ?? 0, (month ?? 0) - 1, day, hour, minute, second, millis);
  const back = new Date(t);
  if (back.getUTCDate() !== day || back.getUTCMonth() !== (month ?? 0) - 1 || back.getUTCHours() !== hour)
    return Number.NaN;
  if ((minute ?? 0) > 59 || (second ?? 0) > 59) return Number.NaN;
  const offset = m[9] === undefined ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11])) * 60_000;
  return t - offset;
}

/** Event times a shop's history can hold: the stream's own floor, and not past tomorrow. */
const EARLIEST = DEFAULT_VALIDATION.floor;
const latest = () => Date.now() + DEFAULT_VALIDATION.maxFutureMs;

export function recordToEvent(record: CsvRecord, report: LoadReport): OrderEvent | null {
  const customerId = (record.customer_id ?? '').trim();
  const orderId = (record.order_id ?? '').trim();
  const typeText = (record.type ?? '').trim();
  const type = typeText === '' ? 'order' : eventTypeOfWord(typeText);
  const amountText = (record.amount ?? '').trim();
  // Decimal only: Number() would also read 0x10 as 16 and '' as 0.
  const amount = /^\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(amountText) ? Number(amountText) : Number.NaN;
  const itemText = (record.item_count ?? '').trim();
  const itemCount = itemText === '' ? 1 : Number(itemText);
  const eventTime = parseEventTime(record.event_time ?? '');
  const original = (record.original_order_id ?? '').trim();
  const currencyText = (record.currency ?? '').trim();
  const fail = (reason: string) => {
    skip(report, reason);
    return null;
  };
  if (customerId === '') return fail('missing_customer_id');
  if (orderId === '') return fail('missing_order_id');
  if (type === undefined) {
    noteUnknownValue(report, 'type', typeText);
    return fail('unknown_type');
  }
  if (!Number.isFinite(eventTime)) return fail('bad_event_time');
  // A typo'd year (2099) or seconds read as a date would move the data's end or start and so
  // every cutoff: such a row is skipped and counted, as the stream dead-letters it.
  if (eventTime < EARLIEST || eventTime > latest()) return fail('event_time_out_of_range');
  if (!Number.isFinite(amount) || amount < 0) return fail('bad_amount');
  if (!Number.isInteger(itemCount) || itemCount < 0) return fail('bad_item_count');
  if (type !== 'order' && original === '') return fail('refund_without_original_order');
  const event: OrderEvent = {
    customerId,
    orderId,
    eventTime,
    type,
    amount,
    currency: currencyText || 'XXX',
    itemCount,
    originalOrderId: type === 'order' ? null : original,
  };
  // Whatever else the stream would dead-let (an amount over 1e12, `euro` for a currency, control
  // characters in ids) is skipped here under the stream's own reason: the same history, the same events.
  const invalid = validateOrderEvent(event, Date.now(), DEFAULT_VALIDATION);
  if (invalid !== null) return fail(invalid.errorClass);
  // Counted for produced events only: a skipped row's defaults changed nothing.
  if (typeText === '') countDefaulted(report, 'type');
  if (itemText === '') countDefaulted(report, 'item_count');
  if (currencyText === '') countDefaulted(report, 'currency');
  return event;
}

/**
 * The file's events in file order, parsed as they are yielded; `report` is kept up to date
 * as rows are read (also if the caller stops early). The header is checked before any row:
 * a bad mapping or a missing required column throws CsvColumnsError on the first next().
 */
export async function* readGenericCsv(
  path: string,
  options: GenericCsvOptions,
  report: LoadReport,
): AsyncGenerator<OrderEvent, void, undefined> {
  // pipeline, not pipe: a read error (no such file) destroys the parser with it, so the loop
  // below throws instead of waiting forever, and stopping early closes the file.
  const rows = pipeline(
    createReadStream(path),
    // Field counts are checked here, per row, so a short row is a counted skip, not the end of the load.
    // relax_quotes: a quote inside an unquoted field (5" screen) is text, not the end of the load.
    parse({ bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, relax_quotes: true }),
    () => {}, // errors reach the loop through the destroyed parser
  );
  let columns: ReturnType<typeof resolveColumns> | undefined;
  try {
    yield* rowsToEvents(rows as AsyncIterable<string[]>);
  } catch (error) {
    // csv-parse's own errors (an unclosed quote, a binary file) are the file's: a user error.
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('CSV_'))
      throw new CsvColumnsError(`${path}: not a CSV file we can read (${(error as Error).message})`);
    throw error;
  }
  if (columns === undefined) throw new CsvColumnsError(`${path}: no header row (the file is empty)`);

  async function* rowsToEvents(rows: AsyncIterable<string[]>): AsyncGenerator<OrderEvent, void, undefined> {
    for await (const fields of rows) {
      if (columns === undefined) {
        columns = resolveColumns(fields, options.columns ?? {}, path);
        report.ignoredColumns.push(...columns.ignored);
        continue;
      }
      report.rowsRead += 1;
      if (fields.length !== columns.width) {
        skip(report, 'wrong_field_count');
        continue;
      }
      const record: Partial<Record<CsvField, string>> = {};
      for (const field of CSV_FIELDS) {
        const at = columns.indexOf[field];
        if (at !== undefined) record[field] = fields[at] ?? '';
      }
      const event = recordToEvent(record, report);
      if (event === null) continue;
      report.eventsProduced += 1;
      yield event;
    }
  }
}

/** All events in memory; readGenericCsv streams them. */
export async function loadGenericCsv(
  path: string,
  options: GenericCsvOptions = {},
): Promise<{ events: OrderEvent[]; report: LoadReport }> {
  const report = newReport(path);
  const events: OrderEvent[] = [];
  for await (const event of readGenericCsv(path, options, report)) events.push(event);
  return { events, report };
}
