import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGenericCsv, parseEventTime } from '../../../../src/adapters/files/datasets/generic-csv.js';

describe('generic order CSV loader', () => {
  it('reads ISO and epoch times, defaults, refunds; skips bad rows by reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'csv-'));
    const path = join(dir, 'orders.csv');
    writeFileSync(
      path,
      [
        'customer_id,order_id,event_time,amount,type,original_order_id,item_count,currency',
        'c1,o1,2024-01-02T03:04:05Z,10.5,order,,2,EUR',
        'c1,o2,2024-01-03 10:00,4,,,,',
        'c1,r1,1704326400000,3,refund,o1,1,EUR',
        ',o3,2024-01-02,1,order,,1,EUR',
        'c2,o4,yesterday,1,order,,1,EUR',
        'c2,o5,2024-01-02,-1,order,,1,EUR',
        'c2,r2,2024-01-02,1,refund,,1,EUR',
        'c2,o6,2024-01-02,1,gift,,1,EUR',
      ].join('\n'),
    );
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

  it('treats zone-less times as UTC', () => {
    expect(parseEventTime('2024-05-06 07:08:09')).toBe(Date.UTC(2024, 4, 6, 7, 8, 9));
    expect(parseEventTime('2024-05-06T07:08:09+02:00')).toBe(Date.UTC(2024, 4, 6, 5, 8, 9));
  });
});
