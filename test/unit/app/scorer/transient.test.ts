// Transient failures: a dependency failing a few times makes the unit wait (capped
// exponential backoff, heartbeating) and retry; it ends exactly as without the fault and
// never dead-letters a valid event. Fake timers: the backoff waits cost no real time.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DependencyError } from '../../../../src/adapters/dependency-error.js';
import { ConflictsPersist, classify, SchemaIdPending } from '../../../../src/app/scorer/failures.js';
import type { DeadLetterValue } from '../../../../src/app/scorer/ports.js';
import { BACKOFF, backoffMs, retryTransient, UnitAbandoned } from '../../../../src/app/scorer/transient-retry.js';
import { createUnitHandler } from '../../../../src/app/scorer/unit.js';
import { UserError } from '../../../../src/app/user-error.js';
import {
  batchOf,
  CallLog,
  createWorld,
  eventsOf,
  expectMatchesCore,
  fakeControl,
  settle,
  unitDeps,
  type World,
} from '../../../helpers/fakes.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Two partitions with good events (tier changes, labels) and two bad records. */
function scenario(world: World) {
  const f = world.feed;
  const p0 = [
    f.order(0, 'a', 0),
    f.order(0, 'b', 0),
    f.decoded(0, { kind: 'unreadable', errorClass: 'undecodable_avro', reason: 'garbage' }),
    f.order(0, 'a', 10),
    f.order(0, 'a', 20),
    f.order(0, 'b', 100),
    f.order(0, 'a', 30),
    f.order(0, 'a', 40),
  ];
  const p1 = [f.order(1, 'c', 5), f.order(1, 'c', 50), f.order(1, 'd', 7, { itemCount: -2 }), f.order(1, 'd', 8)];
  return { p0, p1, batches: [batchOf(0, p0), batchOf(1, p1)], badOffsets: new Set(['0/2', '1/2']) };
}

/** What a run leaves behind, for comparing a faulty run with a clean one. */
function outcome(world: World) {
  const letter = ({ failed_at: _, ...rest }: DeadLetterValue) => rest;
  return {
    state: world.state.snapshot(),
    timers: world.timers.snapshot(),
    riskChanges: world.publisher.distinctRiskChanges(),
    deadLetters: world.publisher.distinctDeadLetters().map(letter),
    watermarks: [...world.watermarks.marks],
  };
}

async function cleanRun() {
  const world = createWorld();
  const { batches } = scenario(world);
  await createUnitHandler(unitDeps(world))(batches, world.control);
  return world;
}

const FAULTS = [
  { port: 'publisher.publish', dependency: 'kafka', inject: (w: World) => w.publisher.faults.failNext('publish', 3) },
  { port: 'state.read', dependency: 'redis', inject: (w: World) => w.state.faults.failNext('read', 3) },
  { port: 'state.write', dependency: 'redis', inject: (w: World) => w.state.faults.failNext('write', 3) },
  { port: 'timers.schedule', dependency: 'redis', inject: (w: World) => w.timers.faults.failNext('schedule', 3) },
  { port: 'health.addLabels', dependency: 'redis', inject: (w: World) => w.health.faults.failNext('addLabels', 3) },
  { port: 'watermarks.save', dependency: 'redis', inject: (w: World) => w.watermarks.faults.failNext('save', 3) },
  { port: 'decoder.decode', dependency: 'registry', inject: (w: World) => w.decoder.faults.failNext('decode', 3) },
] as const;

describe.each(FAULTS)('$port failing 3 times', ({ port, dependency, inject }) => {
  async function faultyRun() {
    const world = createWorld();
    const { batches } = scenario(world);
    inject(world);
    await settle(createUnitHandler(unitDeps(world))(batches, world.control));
    return world;
  }

  it('the unit is retried and ends exactly as without the fault', async () => {
    const world = await faultyRun();
    expect(world.log.calls.filter((c) => c.name === port && c.outcome === 'failed')).toHaveLength(3);
    expect(outcome(world)).toEqual(outcome(await cleanRun()));
    const { p0, p1 } = scenario(createWorld());
    for (const c of ['a', 'b']) expectMatchesCore(world, c, 0, eventsOf(c, p0));
    expectMatchesCore(world, 'c', 1, eventsOf('c', p1));
    expectMatchesCore(world, 'd', 1, eventsOf('d', p1).slice(1));
  });

  it('no valid event is dead-lettered', async () => {
    const world = await faultyRun();
    const { badOffsets } = scenario(createWorld());
    const lettered = new Set(world.publisher.deadLetters().map((l) => `${l.source_partition}/${l.source_offset}`));
    expect(lettered).toEqual(badOffsets);
  });

  it(`the observer saw the wait for ${dependency}, with growing backoff`, async () => {
    const world = await faultyRun();
    expect(world.observer.of('waiting').map(([d]) => d)).toEqual([dependency, dependency, dependency]);
    const seconds = world.observer.of('waiting').map(([, s]) => s);
    seconds.forEach((s, i) => {
      const cap = Math.min(BACKOFF.maxMs, BACKOFF.firstMs * 2 ** i) / 1000;
      expect(s).toBeGreaterThanOrEqual(cap / 2);
      expect(s).toBeLessThanOrEqual(cap);
    });
    expect(world.retry.waits.every((w) => w.error instanceof DependencyError)).toBe(true);
    expect(world.retry.recovered).toEqual([{ waitingFor: dependency, attempts: 4 }]);
  });

  it('the consumer heartbeat is called during each wait, before the next attempt', async () => {
    const world = await faultyRun();
    const calls = world.log.calls;
    const waits = calls.flatMap((c, i) => (c.name === 'observer.waiting' ? [i] : []));
    expect(waits).toHaveLength(3);
    for (const at of waits) {
      const next = calls.slice(at + 1).find((c) => !c.name.startsWith('observer.'));
      expect(next?.name).toBe('control.heartbeat');
    }
  });
});

describe('transient failures: other cases', () => {
  it('labels are never counted twice when a failure after the state write retries the unit', async () => {
    const clean = await cleanRun();
    for (const inject of [
      (w: World) => w.timers.faults.failNext('schedule', 1),
      (w: World) => w.health.faults.failNext('addLtvLabels', 1),
      (w: World) => w.watermarks.faults.failNext('save', 1),
    ]) {
      const world = createWorld();
      const { batches } = scenario(world);
      inject(world);
      await settle(createUnitHandler(unitDeps(world))(batches, world.control));
      const key = (l: { modelVersion: string; probability: number; churned: boolean }) =>
        `${l.modelVersion}/${l.probability}/${l.churned}`;
      const remaining = clean.health.labels.map(key);
      for (const label of world.health.labels.map(key)) {
        const at = remaining.indexOf(label);
        expect(at, `label ${label} counted more often than in a clean run`).toBeGreaterThanOrEqual(0);
        remaining.splice(at, 1);
      }
    }
    expect(clean.health.labels.length).toBeGreaterThan(0);
  });

  it('a heartbeat that ends the membership lets the unit go at once: no retry, no state written, outcome let_go', async () => {
    const world = createWorld();
    const { batches } = scenario(world);
    let active = true;
    let beats = 0;
    // What the Kafka adapter's control does when the broker answers "the group is rebalancing".
    const control = {
      heartbeat: async () => {
        beats += 1;
        active = false;
        throw Object.assign(new Error('The group is rebalancing, so a rejoin is needed'), {
          type: 'REBALANCE_IN_PROGRESS',
        });
      },
      isActive: () => active,
    };
    const outcome = await settle(createUnitHandler(unitDeps(world))(batches, control));
    expect(outcome).toBe('let_go');
    expect(beats).toBe(1);
    expect(world.state.writes).toHaveLength(0);
    expect(world.observer.of('waiting')).toHaveLength(0);
    expect(world.observer.of('batchDone')).toHaveLength(0);
  });

  it('an applied unit says so (its offsets may be committed)', async () => {
    const world = createWorld();
    const { batches } = scenario(world);
    expect(await settle(createUnitHandler(unitDeps(world))(batches, world.control))).toBe('applied');
  });

  it('a long outage is waited out with the backoff capped at 5 s and a heartbeat at least every second', async () => {
    const world = createWorld();
    const { batches } = scenario(world);
    world.state.faults.failNext('read', 12);
    const run = createUnitHandler(unitDeps(world))(batches, world.control);
    const beats: number[] = [];
    const started = Date.now();
    let last = world.control.heartbeats;
    for (let t = 0; t < 120_000 && world.state.writes.length === 0; t += 100) {
      await vi.advanceTimersByTimeAsync(100);
      if (world.control.heartbeats !== last) beats.push(Date.now() - started);
      last = world.control.heartbeats;
    }
    await settle(run);
    const seconds = world.observer.of('waiting').map(([, s]) => s);
    expect(seconds).toHaveLength(12);
    expect(Math.max(...seconds)).toBeLessThanOrEqual(BACKOFF.maxMs / 1000);
    expect(seconds.slice(-4).every((s) => s >= BACKOFF.maxMs / 2000)).toBe(true);
    const gaps = beats.slice(1).map((t, i) => t - (beats[i] as number));
    expect(Math.max(...gaps)).toBeLessThanOrEqual(BACKOFF.heartbeatMs + 100);
  });
});

describe('retryTransient', () => {
  const hooks = () => {
    const waits: string[] = [];
    return { waits, hooks: { waiting: (w: string) => waits.push(w), recovered: () => {} } };
  };

  it('rethrows a fatal error at once, without waiting', async () => {
    const control = fakeControl(new CallLog());
    const { waits, hooks: h } = hooks();
    let calls = 0;
    const work = async () => {
      calls += 1;
      throw new UserError('bad config');
    };
    await expect(retryTransient(work, control, h)).rejects.toBeInstanceOf(UserError);
    expect(calls).toBe(1);
    expect(waits).toEqual([]);
  });

  it('gives up with UnitAbandoned when a failure comes after the consumer let go', async () => {
    const control = fakeControl(new CallLog());
    control.revoke();
    const { hooks: h } = hooks();
    await expect(
      retryTransient(
        async () => {
          throw new DependencyError('redis', 'down');
        },
        control,
        h,
      ),
    ).rejects.toBeInstanceOf(UnitAbandoned);
  });

  it('returns the result of the first attempt that succeeds', async () => {
    const control = fakeControl(new CallLog());
    const { waits, hooks: h } = hooks();
    let calls = 0;
    const work = async () => {
      calls += 1;
      if (calls < 3) throw new SchemaIdPending('id 7');
      return 'done';
    };
    expect(await settle(retryTransient(work, control, h))).toBe('done');
    expect(waits).toEqual(['registry', 'registry']);
  });

  it('backoff doubles from 100 ms to a 5 s cap, jittered down to half', () => {
    expect(backoffMs(1, () => 1)).toBe(100);
    expect(backoffMs(1, () => 0)).toBe(50);
    expect(backoffMs(4, () => 1)).toBe(800);
    expect(backoffMs(7, () => 1)).toBe(5000);
    expect(backoffMs(1000, () => 0)).toBe(2500);
  });

  it('classifies failures: dependency, pending schema id and persisting conflicts are transient', () => {
    expect(classify(new DependencyError('kafka', 'x'))).toEqual({ kind: 'transient', waitingFor: 'kafka' });
    expect(classify(new SchemaIdPending('x'))).toEqual({ kind: 'transient', waitingFor: 'registry' });
    expect(classify(new ConflictsPersist('x'))).toEqual({ kind: 'transient', waitingFor: 'redis' });
    expect(classify(new TypeError('x'))).toEqual({ kind: 'transient', waitingFor: 'internal' });
    expect(classify(new UserError('x'))).toEqual({ kind: 'fatal', waitingFor: null });
  });
});
