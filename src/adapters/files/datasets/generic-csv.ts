// Loader for the documented generic order CSV (docs/DATASETS.md): a header with
//   customer_id, order_id, event_time, amount, type, original_order_id, item_count, currency
// (the last four optional; type defaults to order, item_count to 1, currency to XXX).
// event_time is ISO-8601 (a zone-less time is read as UTC) or epoch milliseconds.
// Rows that cannot become a valid event are skipped and counted by reason.
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { ORDER_EVENT_TYPES, type OrderEvent, type OrderEventType } from '../../../core/events/order-event.js';
import { type LoadReport, newReport, skip } from './report.js';

export function parseEventTime(text: string): number {
  const trimmed = text.trim();
  if (/^\d{10,}$/.test(trimmed)) return Number(trimmed);
  const iso = /[zZ]|[+-]\d{2}:?\d{2}$/.test(trimmed) ? trimmed : `${trimmed.replace(' ', 'T')}Z`;
  return Date.parse(iso);
}

export function recordToEvent(record: Record<string, string | undefined>, report: LoadReport): OrderEvent | null {
  const customerId = (record['customer_id'] ?? '').trim();
  const orderId = (record['order_id'] ?? '').trim();
  const type = ((record['type'] ?? '').trim() || 'order') as OrderEventType;
  const amount = Number(record['amount']);
  const itemText = (record['item_count'] ?? '').trim();
  const itemCount = itemText === '' ? 1 : Number(itemText);
  const eventTime = parseEventTime(record['event_time'] ?? '');
  const original = (record['original_order_id'] ?? '').trim();
  const fail = (reason: string) => {
    skip(report, reason);
    return null;
  };
  if (customerId === '') return fail('missing_customer_id');
  if (orderId === '') return fail('missing_order_id');
  if (!ORDER_EVENT_TYPES.includes(type)) return fail('unknown_type');
  if (!Number.isFinite(eventTime)) return fail('bad_event_time');
  if (!Number.isFinite(amount) || amount < 0) return fail('bad_amount');
  if (!Number.isInteger(itemCount) || itemCount < 0) return fail('bad_item_count');
  if (type !== 'order' && original === '') return fail('refund_without_original_order');
  return {
    customerId,
    orderId,
    eventTime,
    type,
    amount,
    currency: (record['currency'] ?? '').trim() || 'XXX',
    itemCount,
    originalOrderId: type === 'order' ? null : original,
  };
}

export async function loadGenericCsv(path: string): Promise<{ events: OrderEvent[]; report: LoadReport }> {
  const report = newReport(path);
  const events: OrderEvent[] = [];
  const parser = createReadStream(path).pipe(parse({ columns: true, skip_empty_lines: true, trim: true }));
  for await (const record of parser as AsyncIterable<Record<string, string | undefined>>) {
    report.rowsRead += 1;
    const event = recordToEvent(record, report);
    if (event !== null) events.push(event);
  }
  report.eventsProduced = events.length;
  return { events, report };
}
