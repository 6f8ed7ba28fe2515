// The marks that keep each owned partition decided by the models in force, on in-memory
// ports: what a mark says changed is what gets rescored, the mark moves only once the
// rescoring finished, and a partition whose clock is unknown waits.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { partitionDecisions } from '../../../src/app/partition-decisions.js';
import { createPartitionLocks } from '../../../src/app/partition-locks.js';
import type { DecidedBy } from '../../../src/core/experiments/decided-by.js';
import { FakeDecidedByStore } from '../../helpers/rollout-fakes.js';

const A: DecidedBy = { models: 'v1/v1', experiment: null };
const B: DecidedBy = { models: 'v2/v1', experiment: null };
const ab = (challengerWeight: number): DecidedBy => ({
  models: 'v1/v1+v2/v1',
  experiment: { name: 'ab', salt: 's', challengerWeight },
});

function setUp(now: DecidedBy, options: { ready?: boolean; failures?: number } = {}) {
  const store = new FakeDecidedByStore();
  const calls: { partition: number; cause: string; only: boolean }[] = [];
  let failures = options.failures ?? 0;
  const state = { now };
  const decisions = partitionDecisions({
    store,
    locks: createPartitionLocks(),
    assigned: () => [0, 1],
    now: () => state.now,
    clockReady: () => options.ready ?? true,
    rescore: async (partition, cause, only) => {
      if (failures > 0) {
        failures -= 1;
        throw new Error('redis down');
      }
      calls.push({ partition, cause, only: only !== undefined });
      return 3;
    },
    log: pino({ level: 'silent' }),
  });
  return { store, calls, decisions, state };
}

describe('partition decisions', () => {
  it('an unmarked partition is marked without a rescoring (state from before the marks existed)', async () => {
    const { store, calls, decisions } = setUp(A);
    expect(await decisions.reconcileAll()).toBe(0);
    expect(calls).toEqual([]);
    expect(store.marks.get(0)).toEqual(A);
    expect(store.marks.get(1)).toEqual(A);
  });

  it('other models: every customer of each partition, then the new mark; a second call rescores nothing', async () => {
    const { store, calls, decisions } = setUp(B);
    store.marks.set(0, A);
    store.marks.set(1, A);
    expect(await decisions.reconcileAll()).toBe(6);
    expect(calls).toEqual([
      { partition: 0, cause: 'v2/v1', only: false },
      { partition: 1, cause: 'v2/v1', only: false },
    ]);
    expect(store.marks.get(0)).toEqual(B);
    expect(await decisions.reconcileAll()).toBe(0);
    expect(calls).toHaveLength(2);
  });

  it('the same models with another weight: only the moved customers (a filter), cause with the weight', async () => {
    const { store, calls, decisions } = setUp(ab(0.5));
    store.marks.set(0, ab(0.2));
    store.marks.set(1, ab(0.5));
    await decisions.reconcileAll();
    expect(calls).toEqual([{ partition: 0, cause: 'v1/v1+v2/v1@0.5', only: true }]);
  });

  it('a partition whose clock is unknown waits, unmarked', async () => {
    const { store, calls, decisions } = setUp(B, { ready: false });
    store.marks.set(0, A);
    expect(await decisions.reconcileAll()).toBe(0);
    expect(calls).toEqual([]);
    expect(store.marks.get(0)).toEqual(A);
  });

  it('a failed rescoring leaves the mark, and the next call does it again', async () => {
    const { store, calls, decisions } = setUp(B, { failures: 1 });
    store.marks.set(0, A);
    store.marks.set(1, A);
    await decisions.reconcileAll();
    expect(store.marks.get(0)).toEqual(A);
    expect(store.marks.get(1)).toEqual(B);
    await decisions.reconcileAll();
    expect(calls.map((c) => c.partition)).toEqual([1, 0]);
    expect(store.marks.get(0)).toEqual(B);
  });
});
