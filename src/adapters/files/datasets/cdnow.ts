// Loader for the CDNOW master file (Fader & Hardie): whitespace-separated
// `customer_id date(YYYYMMDD) number_of_cds dollar_value`, optional header line,
// CRLF line ends. Each line is one purchase; it has no order id, so the id is
// `<customer>-<date>-<n>` with n counting that customer's lines of that day. Dates
// carry no time of day: events are placed at 00:00 UTC of the date.
import { readFileSync } from 'node:fs';
import type { OrderEvent } from '../../../core/events/order-event.js';
import { type LoadReport, newReport, skip } from './report.js';

export function parseCdnow(text: string, source = 'cdnow'): { events: OrderEvent[]; report: LoadReport } {
  const report = newReport(source);
  const events: OrderEvent[] = [];
  const perDay = new Map<string, number>();
  for (const line of text.split(/\r?\n/)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length === 1 && fields[0] === '') continue;
    if (fields[0] === 'customer_id') continue;
    report.rowsRead += 1;
    if (fields.length !== 4) {
      skip(report, 'wrong_field_count');
      continue;
    }
    const [customer = '', date = '', cds = '', dollars = ''] = fields;
    const match = /^(\d{4})(\d{2})(\d{2})$/.exec(date);
    const amount = Number(dollars);
    const items = Number(cds);
    if (match === null) {
      skip(report, 'bad_date');
      continue;
    }
    if (!Number.isFinite(amount) || amount < 0) {
      skip(report, 'bad_amount');
      continue;
    }
    if (!Number.isInteger(items) || items < 0) {
      skip(report, 'bad_item_count');
      continue;
    }
    const time = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
    const dayKey = `${customer}-${date}`;
    const n = (perDay.get(dayKey) ?? 0) + 1;
    perDay.set(dayKey, n);
    events.push({
      customerId: customer,
      orderId: `${dayKey}-${n}`,
      eventTime: time,
      type: 'order',
      amount,
      currency: 'USD',
      itemCount: items,
      originalOrderId: null,
    });
  }
  report.eventsProduced = events.length;
  return { events, report };
}

export function loadCdnow(path: string): { events: OrderEvent[]; report: LoadReport } {
  return parseCdnow(readFileSync(path, 'utf8'), path);
}
