// The rescoring passes outside the event path (timers due, model change) through the ports:
// each customer ends as the pure core's processTimers / processModelChange computes.
import { describe, expect, it } from 'vitest';
import { rescoreForModelChange, runDueTimers } from '../../../../src/app/scorer/passes.js';
import { createUnitHandler } from '../../../../src/app/scorer/unit.js';
import type { StoredCustomer } from '../../../../src/core/state/stored-customer.js';
import { type CustomerStep, processModelChange, processTimers } from '../../../../src/core/step/customer-step.js';
import { DAY_MS } from '../../../../src/core/time.js';
import {
  batchOf,
  CONTEXT,
  createWorld,
  passDeps,
  storedOfStep,
  T0,
  testClock,
  unitDeps,
  type World,
} from '../../../helpers/fakes.js';

const CUSTOMERS = ['a', 'b', 'c', 'd', 'e'];

/** Five customers of partition 0 applied by a unit, so they have states and timers. */
async function seeded(): Promise<World> {
  const world = createWorld();
  const f = world.feed;
  const p0 = [
    ...[0, 10, 20, 30, 40].map((day) => f.order(0, 'a', day)),
    f.order(0, 'b', 3),
    f.order(0, 'c', 6),
    f.order(0, 'c', 9),
    f.order(0, 'd', 45),
    f.order(0, 'e', 1),
  ];
  await createUnitHandler(unitDeps(world))([batchOf(0, p0)], world.control);
  return world;
}

const storedOf = (world: World, customerId: string): StoredCustomer => {
  const stored = world.state.get(customerId)?.stored;
  if (stored == null) throw new Error(`no state for ${customerId}`);
  return stored;
};

/** Asserts that the customer ends as `expected` (state, timer) after a pass. */
function expectStep(world: World, customerId: string, expected: CustomerStep) {
  expect(world.state.get(customerId)?.stored, customerId).toEqual(structuredClone(storedOfStep(expected)));
  const due = world.timers.get(0, customerId);
  if (Number.isNaN(expected.nextDue)) expect(due).toBeUndefined();
  else expect(due, customerId).toBe(expected.nextDue);
}

describe('runDueTimers', () => {
  it('rescores every customer due strictly before the clock as processTimers does, and publishes its changes', async () => {
    const world = await seeded();
    const before = new Map(CUSTOMERS.map((c) => [c, storedOf(world, c)]));
    const clock = T0 + 300 * DAY_MS;
    world.clock.set(0, clock);
    const published = world.publisher.records.length;
    const due = await runDueTimers(passDeps(world), 0, 100);

    expect(due).toBe(CUSTOMERS.length);
    const expected = CUSTOMERS.map((c) => processTimers(c, before.get(c) as StoredCustomer, clock - 1, CONTEXT));
    CUSTOMERS.forEach((c, i) => {
      expectStep(world, c, expected[i] as CustomerStep);
    });
    const fresh = world.publisher.records.slice(published).map((r) => JSON.parse(r.value.toString()));
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh.every((r: { trigger: string }) => r.trigger === 'timer')).toBe(true);
    expect(new Set(fresh.map((r: { event_id: string }) => r.event_id))).toEqual(
      new Set(expected.flatMap((s) => s.riskChanges.map((r) => r.event_id))),
    );
    // Timer writes carry no source offset: only the version fences them.
    const writes = world.state.writes.slice(-CUSTOMERS.length);
    expect(writes.every((w) => w.write.source === null && w.outcome.kind === 'applied')).toBe(true);
    expect(world.observer.of('timerFired').at(-1)?.[0]).toBe(expected.reduce((sum, s) => sum + s.timerEvaluations, 0));
  });

  it('a customer due exactly at the clock is left for later (an event at that time may still come)', async () => {
    const world = await seeded();
    const dues = CUSTOMERS.map((c) => [c, world.timers.get(0, c) as number] as const).sort((x, y) => x[1] - y[1]);
    const [first, second] = dues;
    if (first === undefined || second === undefined || first[1] === second[1]) throw new Error('scenario');
    world.clock.set(0, second[1]);
    const versions = new Map(CUSTOMERS.map((c) => [c, world.state.get(c)?.version]));
    const due = await runDueTimers(passDeps(world), 0, 100);
    const dueBefore = dues.filter(([, t]) => t < second[1]).map(([c]) => c);
    expect(due).toBe(dueBefore.length);
    for (const c of CUSTOMERS)
      expect(world.state.get(c)?.version, c).toBe((versions.get(c) ?? 0) + (dueBefore.includes(c) ? 1 : 0));
  });

  it('rescores at most `limit` customers, the earliest due first', async () => {
    const world = await seeded();
    const dues = CUSTOMERS.map((c) => [c, world.timers.get(0, c) as number] as const).sort((x, y) => x[1] - y[1]);
    world.clock.set(0, T0 + 300 * DAY_MS);
    expect(await runDueTimers(passDeps(world), 0, 2)).toBe(2);
    const rescored = world.state.writes.filter((w) => w.write.source === null).map((w) => w.write.customerId);
    expect(rescored).toEqual(dues.slice(0, 2).map(([c]) => c));
  });

  it('with no clock yet (watermark not seen) nothing is due', async () => {
    const world = await seeded();
    const writes = world.state.writes.length;
    expect(await runDueTimers({ ...passDeps(world), clock: testClock() }, 0, 100)).toBe(0);
    expect(world.state.writes).toHaveLength(writes);
  });

  it('a customer whose write loses the fence is left to the other writer: no retry, its timer unchanged', async () => {
    const world = await seeded();
    world.clock.set(0, T0 + 300 * DAY_MS);
    const timerOfB = world.timers.get(0, 'b');
    const stateOfB = world.state.get('b')?.stored;
    world.state.interfere('b', 1);
    await runDueTimers(passDeps(world), 0, 100);
    expect(world.state.writes.filter((w) => w.write.customerId === 'b').at(-1)?.outcome.kind).toBe('version_conflict');
    expect(world.state.writes.filter((w) => w.write.customerId === 'b' && w.write.source === null)).toHaveLength(1);
    expect(world.state.get('b')?.stored).toEqual(stateOfB);
    expect(world.timers.get(0, 'b')).toBe(timerOfB);
    expect(world.observer.of('stateConflict')).toHaveLength(1);
    // The others were applied.
    expect(
      world.state.writes
        .filter((w) => w.write.source === null && w.outcome.kind === 'applied')
        .map((w) => w.write.customerId)
        .sort(),
    ).toEqual(['a', 'c', 'd', 'e']);
  });

  it('a due customer whose state is gone gets nothing written, and its timer is removed (else it is due forever)', async () => {
    const world = await seeded();
    await world.timers.schedule([{ customerId: 'ghost', partition: 0, due: T0 }]);
    world.clock.set(0, T0 + 300 * DAY_MS);
    await runDueTimers(passDeps(world), 0, 100);
    expect(world.state.writes.map((w) => w.write.customerId)).not.toContain('ghost');
    expect(world.state.get('ghost')).toBeUndefined();
    expect(await world.timers.due(0, T0 + 300 * DAY_MS, 100)).not.toContain('ghost');
  });
});

describe('rescoreForModelChange', () => {
  it('rescores every timed customer of the partition once, page by page, as processModelChange does', async () => {
    const world = await seeded();
    const before = new Map(CUSTOMERS.map((c) => [c, storedOf(world, c)]));
    const asOf = T0 + 200 * DAY_MS;
    world.clock.set(0, asOf);
    const reads = world.state.reads.length;
    const published = world.publisher.records.length;

    const rescored = await rescoreForModelChange(passDeps(world), 0, 2, 'churn-2+ltv-2');

    expect(rescored).toBe(CUSTOMERS.length);
    const pages = world.state.reads.slice(reads);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(
      pages
        .flat()
        .map((r) => r.customerId)
        .sort(),
    ).toEqual(CUSTOMERS);
    const expected = new Map(
      CUSTOMERS.map((c) => [c, processModelChange(c, before.get(c) as StoredCustomer, asOf, 'churn-2+ltv-2', CONTEXT)]),
    );
    for (const c of CUSTOMERS) expectStep(world, c, expected.get(c) as CustomerStep);
    const fresh = world.publisher.records.slice(published).map((r) => JSON.parse(r.value.toString()).event_id);
    expect(fresh.length).toBeGreaterThan(0);
    expect(new Set(fresh)).toEqual(
      new Set([...expected.values()].flatMap((s) => s.riskChanges.map((r) => r.event_id))),
    );
  });

  it('rescores nothing before the partition has a clock', async () => {
    const world = await seeded();
    const reads = world.state.reads.length;
    expect(await rescoreForModelChange({ ...passDeps(world), clock: testClock() }, 0, 2, 'v')).toBe(0);
    expect(world.state.reads).toHaveLength(reads);
  });
});
