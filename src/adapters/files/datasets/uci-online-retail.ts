// Loader for UCI Online Retail (invoice lines, 2010-12..2011-12, GBP). Lines are
// grouped into one order per invoice (amount = sum of quantity x unit price, items =
// sum of quantities). Lines without a customer id are skipped and counted. Invoices
// starting with `C` are returns/cancellations; they rarely name the invoice they
// reverse, so each returned line is attributed to the customer's latest earlier
// purchase invoice holding the same stock code, and one refund event is emitted per
// attributed invoice (id `<C invoice>/<original invoice>`). Lines with no such
// purchase are skipped and counted. `A` invoices (bad-debt adjustments) are skipped.
// InvoiceDate is UK wall-clock time without a zone; it is read as UTC, consistently.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import type { OrderEvent } from '../../../core/events/order-event.js';
import { type LoadReport, newReport, skip } from './report.js';

interface Line {
  readonly invoice: string;
  readonly stockCode: string;
  readonly quantity: number;
  readonly time: number;
  readonly price: number;
  readonly customer: string;
}

interface Invoice {
  readonly id: string;
  readonly customer: string;
  readonly time: number;
  readonly lines: Line[];
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/;

function parseTime(text: string): number {
  const m = DATE.exec(text.trim());
  if (m === null) return Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
}

/** Money of a line in thousandths, exact for prices with up to 3 decimals. */
const lineMills = (line: Line): number => line.quantity * Math.round(line.price * 1000);

export function invoicesToEvents(invoices: readonly Invoice[], report: LoadReport): OrderEvent[] {
  const events: OrderEvent[] = [];
  const sorted = [...invoices].sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // Per customer and stock code, the purchase invoices seen so far (latest last).
  const purchasesByStock = new Map<string, string[]>();
  for (const invoice of sorted) {
    if (invoice.id.startsWith('A')) {
      skip(report, 'adjustment_invoice', invoice.lines.length);
      continue;
    }
    if (invoice.id.startsWith('C')) {
      const byOriginal = new Map<string, { mills: number; items: number }>();
      for (const line of invoice.lines) {
        const original = purchasesByStock.get(`${invoice.customer}|${line.stockCode}`)?.at(-1);
        if (original === undefined) {
          skip(report, 'return_without_earlier_purchase');
          continue;
        }
        const entry = byOriginal.get(original) ?? { mills: 0, items: 0 };
        entry.mills -= lineMills(line);
        entry.items -= line.quantity;
        byOriginal.set(original, entry);
      }
      for (const [original, { mills, items }] of byOriginal) {
        if (mills <= 0) {
          skip(report, 'return_with_non_positive_value');
          continue;
        }
        events.push({
          customerId: invoice.customer,
          orderId: `${invoice.id}/${original}`,
          eventTime: invoice.time,
          type: 'refund',
          amount: mills / 1000,
          currency: 'GBP',
          itemCount: Math.max(0, items),
          originalOrderId: original,
        });
      }
      continue;
    }
    const mills = invoice.lines.reduce((sum, line) => sum + lineMills(line), 0);
    const items = invoice.lines.reduce((sum, line) => sum + line.quantity, 0);
    if (mills < 0 || items < 0) {
      skip(report, 'purchase_with_negative_total', invoice.lines.length);
      continue;
    }
    for (const line of invoice.lines) {
      const key = `${invoice.customer}|${line.stockCode}`;
      const list = purchasesByStock.get(key) ?? [];
      if (list.at(-1) !== invoice.id) list.push(invoice.id);
      purchasesByStock.set(key, list);
    }
    events.push({
      customerId: invoice.customer,
      orderId: invoice.id,
      eventTime: invoice.time,
      type: 'order',
      amount: mills / 1000,
      currency: 'GBP',
      itemCount: items,
      originalOrderId: null,
    });
  }
  report.eventsProduced = events.length;
  return events;
}

/** Reads the CSV (optionally gzipped) and returns order and refund events sorted by time. */
export async function loadUciOnlineRetail(path: string): Promise<{ events: OrderEvent[]; report: LoadReport }> {
  const report = newReport(path);
  const invoices = new Map<string, Invoice>();
  const input = createReadStream(path);
  const parser = (path.endsWith('.gz') ? input.pipe(createGunzip()) : input).pipe(
    parse({ columns: true, skip_empty_lines: true, relax_column_count: true }),
  );
  for await (const record of parser as AsyncIterable<Record<string, string | undefined>>) {
    report.rowsRead += 1;
    const customer = (record['CustomerID'] ?? '').trim();
    if (customer === '') {
      skip(report, 'missing_customer_id');
      continue;
    }
    const line: Line = {
      invoice: (record['InvoiceNo'] ?? '').trim(),
      stockCode: (record['StockCode'] ?? '').trim(),
      quantity: Number(record['Quantity']),
      time: parseTime(record['InvoiceDate'] ?? ''),
      price: Number(record['UnitPrice']),
      customer,
    };
    if (line.invoice === '') {
      skip(report, 'missing_invoice');
      continue;
    }
    if (!Number.isInteger(line.quantity) || !Number.isFinite(line.price) || line.price < 0 || Number.isNaN(line.time)) {
      skip(report, 'unparseable_line');
      continue;
    }
    let invoice = invoices.get(line.invoice);
    if (invoice === undefined) {
      invoice = { id: line.invoice, customer, time: line.time, lines: [] };
      invoices.set(line.invoice, invoice);
    }
    if (invoice.customer !== customer) {
      skip(report, 'invoice_customer_conflict');
      continue;
    }
    invoice.lines.push(line);
  }
  const events = invoicesToEvents([...invoices.values()], report);
  return { events, report };
}
