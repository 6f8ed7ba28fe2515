// Dataset loaders on small inline samples (the real files live in ../shared/data,
// which tests must not need).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseCdnow } from '../../../../src/adapters/files/datasets/cdnow.js';
import { loadUciOnlineRetail } from '../../../../src/adapters/files/datasets/uci-online-retail.js';

describe('CDNOW loader', () => {
  it('reads the master format with header and CRLF, numbering same-day lines', () => {
    const text =
      ' customer_id  date number_of_cds  dollar_value\r\n 00001 19970101  1   11.77\r\n 00002 19970112  1   12.00\r\n 00002 19970112  5   77.00\r\n\r\n';
    const { events, report } = parseCdnow(text);
    expect(events.map((e) => e.orderId)).toEqual(['00001-19970101-1', '00002-19970112-1', '00002-19970112-2']);
    expect(events[2]).toMatchObject({
      customerId: '00002',
      amount: 77,
      itemCount: 5,
      eventTime: Date.UTC(1997, 0, 12),
      currency: 'USD',
    });
    expect(report).toMatchObject({ rowsRead: 3, eventsProduced: 3, skipped: {} });
  });

  it('skips and counts malformed lines', () => {
    const { events, report } = parseCdnow(
      '00001 1997010 1 1.00\n00001 19970101 1 -3\n00001 19970101 x 1\n00001 19970101 1\n',
    );
    expect(events).toHaveLength(0);
    expect(report.skipped).toEqual({ bad_date: 1, bad_amount: 1, bad_item_count: 1, wrong_field_count: 1 });
  });
});

describe('UCI Online Retail loader', () => {
  const csv = [
    'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country',
    '536365,85123A,HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom',
    '536365,71053,"LANTERN, WHITE",6,2010-12-01 08:26:00,3.39,17850,United Kingdom',
    '536366,22633,HAND WARMER,6,2010-12-01 08:28:00,1.85,,United Kingdom',
    '536367,71053,LANTERN,2,2010-12-02 10:00:00,3.39,17850,United Kingdom',
    'C536379,71053,LANTERN,-3,2010-12-03 09:41:00,3.39,17850,United Kingdom',
    'C536380,D,Discount,-1,2010-12-03 09:45:00,27.5,14527,United Kingdom',
    'A563185,B,Adjust bad debt,1,2011-08-12 14:50:00,11062.06,12345,United Kingdom',
  ].join('\n');

  it('groups lines into invoices, attributes returns, counts every skip', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uci-'));
    const path = join(dir, 'sample.csv.gz');
    writeFileSync(path, gzipSync(csv));
    const { events, report } = await loadUciOnlineRetail(path);
    expect(events.map((e) => [e.type, e.orderId, e.amount, e.itemCount])).toEqual([
      ['order', '536365', 35.64, 12], // 6 x 2.55 + 6 x 3.39
      ['order', '536367', 6.78, 2],
      ['refund', 'C536379/536367', 10.17, 3], // latest earlier purchase of stock 71053
    ]);
    expect(events[2]?.originalOrderId).toBe('536367');
    expect(events[0]?.eventTime).toBe(Date.UTC(2010, 11, 1, 8, 26));
    expect(report.rowsRead).toBe(7);
    expect(report.skipped).toEqual({
      missing_customer_id: 1,
      return_without_earlier_purchase: 1,
      adjustment_invoice: 1,
    });
  });
});
