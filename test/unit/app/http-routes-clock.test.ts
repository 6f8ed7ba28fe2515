// The query API's clock in a replay: a customer is scored at the event-time watermark of the
// partition its events arrive on (where the stream's timers decide it), not at the newest
// watermark of any partition, which would score it at a time the stream has not reached.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/adapters/metrics/definitions.js';
import { type Clock, wallClock } from '../../../src/app/clock.js';
import { loadConfig } from '../../../src/app/config.js';
import { scorerRoutes } from '../../../src/app/http-routes.js';
import { DependencyStatus } from '../../../src/app/metrics-observer.js';
import { createUnitHandler } from '../../../src/app/scorer/unit.js';
import { DAY_MS } from '../../../src/core/time.js';
import { batchOf, CONTEXT, createWorld, T0, unitDeps, type World } from '../../helpers/fakes.js';

function routes(world: World, clock: Clock = world.clock) {
  const metrics = createMetrics();
  return scorerRoutes({
    config: loadConfig({}),
    metrics,
    state: world.state,
    watermarks: world.watermarks,
    clock,
    context: () => CONTEXT,
    status: new DependencyStatus(metrics),
    pingRedis: async () => true,
    assigned: () => [0, 1],
    churnVersion: () => 'rules',
  }).customer['/customers/:id'];
}

async function asOf(world: World, id: string, clock?: Clock): Promise<number> {
  const route = routes(world, clock);
  if (route === undefined) throw new Error('no /customers/:id route');
  const view = await route({ id });
  expect(view.status).toBe(200);
  return Date.parse((view.body as { as_of: string }).as_of);
}

describe('GET /customers/{id} in a replay (watermark clock)', () => {
  it("scores each customer at its own partition's watermark", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 0, max: 400 }),
        async (slowDay, fastDay, lastOrderDay) => {
          const world = createWorld({ clock: 'watermark' });
          const handle = createUnitHandler(unitDeps(world));
          // Customer "slow" on partition 0 (its watermark: slowDay), "fast" on partition 1.
          const slow = [world.feed.order(0, 'slow', 0), world.feed.order(0, 'other-0', slowDay)];
          const fast = [world.feed.order(1, 'fast', 0), world.feed.order(1, 'other-1', fastDay)];
          await handle([batchOf(0, slow), batchOf(1, fast)], world.control);
          expect(await asOf(world, 'slow')).toBe(T0 + slowDay * DAY_MS);
          expect(await asOf(world, 'fast')).toBe(T0 + fastDay * DAY_MS);
          // A timer rescoring keeps the partition; a newer order of the customer itself wins.
          await handle([batchOf(0, [world.feed.order(0, 'slow', lastOrderDay)])], world.control);
          expect(await asOf(world, 'slow')).toBe(T0 + Math.max(slowDay, lastOrderDay) * DAY_MS);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('live (wall clock): now, whatever the watermarks say', async () => {
    const world = createWorld({ clock: 'watermark' });
    await createUnitHandler(unitDeps(world))([batchOf(0, [world.feed.order(0, 'c', 0)])], world.control);
    const before = Date.now();
    const at = await asOf(world, 'c', wallClock());
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
  });
});
