import { describe, expect, it } from 'vitest';
import type { OrderEvent } from '../../../src/core/events/order-event.js';
import { decodeState, encodeState } from '../../../src/core/state/codec.js';
import { DEFAULT_RETENTION, emptyState, foldEvent } from '../../../src/core/state/customer-state.js';
import { DAY_MS } from '../../../src/core/time.js';

const T = Date.UTC(2025, 0, 1);
const order = (id: string, day: number, amount = 10): OrderEvent => ({
  customerId: 'c',
  orderId: id,
  eventTime: T + day * DAY_MS,
  type: 'order',
  amount,
  currency: 'GBP',
  itemCount: 1,
  originalOrderId: null,
});
const refund = (id: string, of: string, day: number): OrderEvent => ({
  ...order(id, day, 1),
  type: 'refund',
  originalOrderId: of,
});

describe('customer state reducer', () => {
  it('ignores duplicate orders and refunds, counting them', () => {
    const state = emptyState();
    expect(foldEvent(state, order('a', 0), DEFAULT_RETENTION)).toBe('applied');
    expect(foldEvent(state, order('a', 0), DEFAULT_RETENTION)).toBe('duplicate');
    expect(foldEvent(state, refund('r', 'a', 1), DEFAULT_RETENTION)).toBe('applied');
    expect(foldEvent(state, refund('r', 'a', 1), DEFAULT_RETENTION)).toBe('duplicate');
    expect(state.counters.duplicates).toBe(2);
    expect(state.orders).toHaveLength(1);
  });

  it('tells a duplicate with other content from an exact one; both are ignored (first wins) and counted', () => {
    const state = emptyState();
    foldEvent(state, order('a', 0, 10), DEFAULT_RETENTION);
    foldEvent(state, refund('r', 'a', 1), DEFAULT_RETENTION);
    foldEvent(state, refund('p', 'unseen', 2), DEFAULT_RETENTION);
    const before = encodeState(state);
    const conflicting: [string, OrderEvent][] = [
      ['order: other amount', order('a', 0, 11)],
      ['order: other time', order('a', 3, 10)],
      ['order: other item count', { ...order('a', 0, 10), itemCount: 2 }],
      ['refund: other amount', { ...refund('r', 'a', 1), amount: 2 }],
      ['refund: other order', refund('r', 'b', 1)],
      ['refund: a cancellation now', { ...refund('r', 'a', 1), type: 'cancellation' }],
      ['pending refund: other time', refund('p', 'unseen', 4)],
    ];
    for (const [what, event] of conflicting)
      expect(foldEvent(state, event, DEFAULT_RETENTION), what).toBe('conflicting_duplicate');
    // Amounts are kept in thousandths: a difference below that is no difference to the state.
    for (const event of [order('a', 0, 10), order('a', 0, 10.0001), refund('r', 'a', 1), refund('p', 'unseen', 2)])
      expect(foldEvent(state, event, DEFAULT_RETENTION)).toBe('duplicate');
    // The first one won every time: only the counter moved, as for any duplicate.
    expect(state.counters.duplicates).toBe(conflicting.length + 4);
    expect(encodeState({ ...state, counters: { ...state.counters, duplicates: 0 } })).toEqual(before);
  });

  it('keeps a refund of an unknown order pending, applies it when the order arrives', () => {
    const state = emptyState();
    expect(foldEvent(state, refund('r', 'a', 5), DEFAULT_RETENTION)).toBe('refund_pending');
    expect(state.pending).toHaveLength(1);
    expect(foldEvent(state, order('a', 0), DEFAULT_RETENTION)).toBe('applied');
    expect(state.pending).toHaveLength(0);
    expect(state.orders[0]?.refunds.map((r) => r.id)).toEqual(['r']);
  });

  it('counts refunds that never find their order once they pass the horizon', () => {
    const state = emptyState();
    foldEvent(state, refund('r', 'ghost', 0), DEFAULT_RETENTION);
    foldEvent(state, order('late', 300), DEFAULT_RETENTION);
    expect(state.pending).toHaveLength(0);
    expect(state.counters.orphanRefunds).toBe(1);
  });

  it('refuses events older than window + lateness, archives old orders', () => {
    const state = emptyState();
    foldEvent(state, order('old', 0, 7), DEFAULT_RETENTION);
    foldEvent(state, order('new', 400), DEFAULT_RETENTION);
    expect(state.orders.map((o) => o.id)).toEqual(['new']);
    expect(state.archive).toMatchObject({ orders: 1, spendMills: 7000, firstOrderTime: T, lastOrderTime: T });
    expect(foldEvent(state, order('older', 100), DEFAULT_RETENTION)).toBe('too_late');
    expect(state.counters.tooLate).toBe(1);
    // 400 - 210 = 190: an event at day 190 is still accepted
    expect(foldEvent(state, order('edge', 190), DEFAULT_RETENTION)).toBe('applied');
  });

  it('caps the retained orders, archiving the oldest and counting them', () => {
    const state = emptyState();
    const policy = { ...DEFAULT_RETENTION, maxRetainedOrders: 3 };
    for (let i = 0; i < 5; i += 1) foldEvent(state, order(`o${i}`, i), policy);
    expect(state.orders.map((o) => o.id)).toEqual(['o2', 'o3', 'o4']);
    expect(state.archive.orders).toBe(2);
    expect(state.counters.truncated).toBe(2);
  });

  it('serialises compactly and refuses unknown layouts', () => {
    const state = emptyState();
    for (let i = 0; i < 5; i += 1) foldEvent(state, order(`536${i}65`, i * 20, 12.5 * i), DEFAULT_RETENTION);
    const bytes = encodeState(state);
    expect(bytes.length).toBeLessThan(200);
    expect(decodeState(bytes)).toEqual(state);
    const foreign = Buffer.from(bytes);
    foreign[0] = 99;
    expect(() => decodeState(foreign)).toThrow(/layout version 99/);
  });
});
