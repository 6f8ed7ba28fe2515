// A change of the challenger's weight through the model reload, on the in-memory ports:
// only the customers whose variant moves are read and rescored (trigger model_change), each
// as the pure core's processModelChange computes it; everyone else is left untouched.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/adapters/metrics/definitions.js';
import { loadConfig } from '../../../src/app/config.js';
import { activeSpec, ModelRegistry } from '../../../src/app/model-registry.js';
import {
  configuredModels,
  createModelReload,
  type ExperimentHolder,
  modelsLabel,
} from '../../../src/app/model-reload.js';
import { partitionDecisions } from '../../../src/app/partition-decisions.js';
import { createPartitionLocks } from '../../../src/app/partition-locks.js';
import { rescoreForModelChange, runDueTimers } from '../../../src/app/scorer/passes.js';
import { createUnitHandler } from '../../../src/app/scorer/unit.js';
import { DEFAULT_HYSTERESIS } from '../../../src/core/decisions/hysteresis.js';
import { variantMoved, variantOf } from '../../../src/core/experiments/assignment.js';
import type { StoredCustomer } from '../../../src/core/state/stored-customer.js';
import { processModelChange, scoringContextFor } from '../../../src/core/step/customer-step.js';
import { DAY_MS } from '../../../src/core/time.js';
import { batchOf, createWorld, passDeps, storedOfStep, T0, unitDeps } from '../../helpers/fakes.js';
import { FakeDecidedByStore } from '../../helpers/rollout-fakes.js';

const fixtures = new URL('../../fixtures/models/', import.meta.url).pathname;

/** The fixtures plus churn/t3: t1 whose probabilities are shifted up (so tiers differ from t1's). */
function modelsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'reload-'));
  cpSync(fixtures, dir, { recursive: true });
  cpSync(join(dir, 'churn', 't1'), join(dir, 'churn', 't3'), { recursive: true });
  const config = JSON.parse(readFileSync(join(dir, 'churn', 't3', 'config.json'), 'utf8'));
  writeFileSync(
    join(dir, 'churn', 't3', 'config.json'),
    JSON.stringify({ ...config, version: 't3', calibration: { method: 'platt', a: 1, b: 2 } }),
  );
  return dir;
}
const CUSTOMERS = Array.from({ length: 60 }, (_, i) => `C${String(i).padStart(3, '0')}`);

function setUp() {
  const dir = modelsDir();
  const config = loadConfig({
    CHURNSTREAM_MODELS_DIR: dir,
    CHURNSTREAM_CHURN_MODEL_VERSION: 't1',
    CHURNSTREAM_CHALLENGER_CHURN_MODEL: 't3',
    CHURNSTREAM_EXPERIMENT: 'ab:salt-7',
    CHURNSTREAM_EXPERIMENT_WEIGHT: '0.2',
  });
  const models = new ModelRegistry(dir);
  models.loadDefaults(configuredModels(config));
  const experiment: ExperimentHolder = { current: { name: 'ab', salt: 'salt-7', challengerWeight: 0.2 } };
  const context = () => {
    const active = models.current;
    return scoringContextFor(active.churn, active.ltv, activeSpec(active), {
      hysteresis: DEFAULT_HYSTERESIS,
      maxStalenessMs: 30 * DAY_MS,
      modelAwareTimers: true,
      challenger: active.challenger ?? null,
      experiment: experiment.current,
    });
  };
  const world = createWorld();
  const marks = new FakeDecidedByStore();
  // Partition 0 was decided by the models and experiment configured (as a running scorer marks it).
  marks.marks.set(0, { models: modelsLabel(models), experiment: structuredClone(experiment.current) });
  const decisions = partitionDecisions({
    store: marks,
    locks: createPartitionLocks(),
    assigned: () => [0],
    now: () => ({ models: modelsLabel(models), experiment: experiment.current }),
    clockReady: () => true,
    rescore: (partition, cause, only) => rescoreForModelChange(passDeps(world, context), partition, 7, cause, only),
    log: pino({ level: 'silent' }),
  });
  const reload = createModelReload({
    config,
    models,
    metrics: createMetrics(),
    log: pino({ level: 'silent' }),
    experiment,
    reconcileAll: () => decisions.reconcileAll(),
  });
  return { config, world, context, experiment, reload, decisions, marks };
}

describe('weight change through the model reload', () => {
  it('rescores exactly the customers whose variant moves, with trigger model_change, as the core does', async () => {
    const { config, world, context, experiment, reload } = setUp();
    // Every customer orders a few times (partition 0), so each has a state, a tier and a timer.
    const fed = CUSTOMERS.flatMap((id, i) =>
      Array.from({ length: 1 + (i % 4) }, (_, k) =>
        world.feed.order(0, id, (i % 5) + k * (1 + (i % 3)), { amount: 10 + i }),
      ),
    );
    await createUnitHandler(unitDeps(world, { context }))([batchOf(0, fed)], world.control);
    // The timers due by the clock fire first, so the rescoring's changes are its own.
    // (the timer pass fires those due strictly before its clock; the rescoring, those at it too).
    const asOf = T0 + 60 * DAY_MS;
    world.clock.set(0, asOf + 1);
    while ((await runDueTimers(passDeps(world, context), 0, 100)) > 0);
    world.clock.set(0, asOf);
    const before = new Map(CUSTOMERS.map((c) => [c, world.state.get(c)?.stored as StoredCustomer]));
    const experimentBefore = experiment.current;
    const reads = world.state.reads.length;
    const published = world.publisher.records.length;

    const result = await reload({ ...configuredModels(config), weight: 0.6 });

    const moved = CUSTOMERS.filter((c) => variantMoved(experimentBefore, experiment.current, c));
    // The fixture's ids move some customers and keep some (else the test proves nothing).
    expect(moved.length).toBeGreaterThan(5);
    expect(moved.length).toBeLessThan(CUSTOMERS.length - 5);
    expect(result).toEqual({ changed: true, rescored: moved.length });
    const read = world.state.reads
      .slice(reads)
      .flat()
      .map((r) => r.customerId);
    expect(read.sort()).toEqual(moved);
    for (const c of moved) expect(variantOf(experiment.current, c)).toBe('challenger');

    const ctx = context();
    const expected = new Map(
      moved.map((c) => [c, processModelChange(c, before.get(c) as StoredCustomer, asOf, 't1/t1+t3/t1@0.6', ctx)]),
    );
    const changes = world.publisher.records
      .slice(published)
      .map((r) => JSON.parse(r.value.toString()) as ReturnType<typeof world.publisher.riskChanges>[number]);
    // What the core publishes for the moved customers, and nothing else, all model_change.
    expect(changes).toEqual(JSON.parse(JSON.stringify([...expected.values()].flatMap((s) => s.riskChanges))));
    expect(changes.length).toBeGreaterThan(0);
    for (const change of changes) {
      expect(moved).toContain(change.customer_id);
      expect(change).toMatchObject({ trigger: 'model_change', experiment: 'ab', variant: 'challenger' });
    }
    for (const c of CUSTOMERS) {
      const stored = world.state.get(c)?.stored;
      const step = expected.get(c);
      if (step !== undefined) expect(stored, c).toEqual(structuredClone(storedOfStep(step)));
      else expect(stored, c).toEqual(before.get(c));
    }
  });

  it('for any two weights, reads and rescores exactly the customers the change moves', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (first, second) => {
          const { config, world, context, experiment, reload } = setUp();
          const fed = CUSTOMERS.map((id, i) => world.feed.order(0, id, i % 7));
          await createUnitHandler(unitDeps(world, { context }))([batchOf(0, fed)], world.control);
          world.clock.set(0, T0 + 10 * DAY_MS);
          await reload({ ...configuredModels(config), weight: first });
          const before = experiment.current;
          const reads = world.state.reads.length;
          const result = await reload({ ...configuredModels(config), weight: second });
          const moved = CUSTOMERS.filter((c) => variantMoved(before, experiment.current, c));
          const read = world.state.reads
            .slice(reads)
            .flat()
            .map((r) => r.customerId);
          expect(read.sort()).toEqual(moved);
          expect(result.rescored).toBe(moved.length);
          // Weight-monotone: raising it moves customers only to the challenger, lowering only back.
          const to = second >= first ? 'challenger' : 'champion';
          for (const c of moved) expect(variantOf(experiment.current, c)).toBe(to);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('the same weight again changes nothing and reads no customer', async () => {
    const { config, world, reload } = setUp();
    const reads = world.state.reads.length;
    expect(await reload({ ...configuredModels(config), weight: 0.2 })).toEqual({ changed: false, rescored: 0 });
    expect(world.state.reads).toHaveLength(reads);
  });
});

describe('a rollout weight where this process runs no experiment', () => {
  it('is said at every reload that carries it: the champion decides all of this process', async () => {
    const dir = modelsDir();
    const config = loadConfig({
      CHURNSTREAM_MODELS_DIR: dir,
      CHURNSTREAM_CHURN_MODEL_VERSION: 't1',
      CHURNSTREAM_CHALLENGER_CHURN_MODEL: 't3',
    });
    const models = new ModelRegistry(dir);
    models.loadDefaults(configuredModels(config));
    const warned: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => warned.push(JSON.parse(line).msg) });
    const experiment: ExperimentHolder = { current: null };
    const reload = createModelReload({
      config,
      models,
      metrics: createMetrics(),
      log,
      experiment,
      reconcileAll: async () => 0,
    });
    await reload({ ...configuredModels(config), weight: 0 });
    expect(warned).toEqual([]);
    await reload({ ...configuredModels(config), weight: 0.5 });
    expect(experiment.current).toBeNull();
    expect(warned).toEqual([expect.stringContaining('CHURNSTREAM_EXPERIMENT is not set here')]);
  });
});
