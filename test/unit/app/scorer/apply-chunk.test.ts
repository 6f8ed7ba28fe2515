// applyChunk against the fenced state store: a write that loses the version fence (another
// writer got there first) is read and stepped again; conflicts that persist beyond
// MAX_CONFLICT_RETRIES fail the attempt with ConflictsPersist, which the unit waits out.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyChunk, MAX_CONFLICT_RETRIES } from '../../../../src/app/scorer/apply-chunk.js';
import { decodeUnit, SchemaIdGrace } from '../../../../src/app/scorer/decode.js';
import { ConflictsPersist } from '../../../../src/app/scorer/failures.js';
import type { InputBatch } from '../../../../src/app/scorer/ports.js';
import { createUnitHandler } from '../../../../src/app/scorer/unit.js';
import { DEFAULT_VALIDATION } from '../../../../src/core/events/validate.js';
import {
  batchOf,
  createWorld,
  eventsOf,
  expectMatchesCore,
  settle,
  unitDeps,
  type World,
} from '../../../helpers/fakes.js';

afterEach(() => {
  vi.useRealTimers();
});

function threeCustomers(world: World) {
  const f = world.feed;
  const p0 = [
    f.order(0, 'a', 0),
    f.order(0, 'b', 1),
    f.order(0, 'c', 2),
    f.order(0, 'a', 10),
    f.order(0, 'b', 11),
    f.order(0, 'a', 20),
  ];
  return { p0, batch: batchOf(0, p0) };
}

async function groupsOf(world: World, batch: InputBatch) {
  const decoded = await decodeUnit([batch], world.decoder, new SchemaIdGrace(0), DEFAULT_VALIDATION, Date.now());
  return decoded.groups;
}

describe('applyChunk: version conflicts', () => {
  it('a customer whose write lost the fence is re-read alone, re-stepped, and ends as the core computes', async () => {
    const world = createWorld();
    const { p0, batch } = threeCustomers(world);
    world.state.interfere('a', 2);
    await applyChunk(unitDeps(world), await groupsOf(world, batch), world.control);

    expect(world.state.reads.map((r) => r.map((q) => q.customerId))).toEqual([['a', 'b', 'c'], ['a'], ['a']]);
    expect(world.state.writes.filter((w) => w.write.customerId === 'a').map((w) => w.outcome.kind)).toEqual([
      'version_conflict',
      'version_conflict',
      'applied',
    ]);
    // The retry expects the version the other writer left, not the one read first.
    expect(world.state.writes.filter((w) => w.write.customerId === 'a').map((w) => w.write.expectedVersion)).toEqual([
      0, 1, 2,
    ]);
    expect(world.observer.of('stateConflict')).toHaveLength(2);
    for (const c of ['a', 'b', 'c']) expectMatchesCore(world, c, 0, eventsOf(c, p0));
    expect(world.state.get('a')?.version).toBe(3);
  });

  it('applied steps are reported once: a conflicted attempt counts nothing', async () => {
    const world = createWorld();
    const { batch } = threeCustomers(world);
    world.state.interfere('a', 1);
    await applyChunk(unitDeps(world), await groupsOf(world, batch), world.control);
    expect(world.observer.counts('applied')).toEqual({ applied: 6 });
  });

  it(`conflicts on more than ${MAX_CONFLICT_RETRIES} retries fail the chunk with ConflictsPersist`, async () => {
    const world = createWorld();
    const { p0, batch } = threeCustomers(world);
    world.state.interfere('a', MAX_CONFLICT_RETRIES + 1);
    await expect(applyChunk(unitDeps(world), await groupsOf(world, batch), world.control)).rejects.toBeInstanceOf(
      ConflictsPersist,
    );
    const writesOfA = world.state.writes.filter((w) => w.write.customerId === 'a');
    expect(writesOfA).toHaveLength(MAX_CONFLICT_RETRIES + 1);
    expect(writesOfA.every((w) => w.outcome.kind === 'version_conflict')).toBe(true);
    expect(world.state.get('a')?.stored).toBeNull();
    // The other customers were applied on the first attempt.
    for (const c of ['b', 'c']) expectMatchesCore(world, c, 0, eventsOf(c, p0));
  });

  it('exactly MAX_CONFLICT_RETRIES conflicts still succeed', async () => {
    const world = createWorld();
    const { p0, batch } = threeCustomers(world);
    world.state.interfere('a', MAX_CONFLICT_RETRIES);
    await applyChunk(unitDeps(world), await groupsOf(world, batch), world.control);
    expectMatchesCore(world, 'a', 0, eventsOf('a', p0));
  });

  it('the unit waits out persisting conflicts (transient) and succeeds once the other writer stops', async () => {
    vi.useFakeTimers();
    const world = createWorld();
    const { p0, batch } = threeCustomers(world);
    world.state.interfere('a', 2 * (MAX_CONFLICT_RETRIES + 1) + 2);
    await settle(createUnitHandler(unitDeps(world))([batch], world.control));

    expect(world.retry.waits.map((w) => w.waitingFor)).toEqual(['redis', 'redis']);
    expect(world.retry.waits.every((w) => w.error instanceof ConflictsPersist)).toBe(true);
    expect(world.observer.of('waiting').map(([d]) => d)).toEqual(['redis', 'redis']);
    expect(world.observer.of('stateConflict')).toHaveLength(2 * (MAX_CONFLICT_RETRIES + 1) + 2);
    for (const c of ['a', 'b', 'c']) expectMatchesCore(world, c, 0, eventsOf(c, p0));
    expect(world.publisher.deadLetters()).toEqual([]);
  });

  it('a write refused as already applied (another writer applied the same offsets) is not retried', async () => {
    const world = createWorld();
    const { batch } = threeCustomers(world);
    const groups = await groupsOf(world, batch);
    // Another owner applied a's events between this writer's read and its write.
    const read = world.state.read.bind(world.state);
    world.state.read = async (requests) => {
      const loaded = await read(requests);
      world.state.seed('a', null, 5, { 0: 5n });
      return loaded;
    };
    await applyChunk(unitDeps(world), groups, world.control);
    const writesOfA = world.state.writes.filter((w) => w.write.customerId === 'a');
    expect(writesOfA.map((w) => w.outcome.kind)).toEqual(['already_applied']);
    expect(world.state.reads).toHaveLength(1);
    expect(world.observer.of('stateConflict')).toEqual([]);
  });
});
