// A rollout change made while no scorer runs still reaches the CRM: the scorer replays a
// history with a challenger in shadow and stops; the challenger is given every customer
// (`models weight 1`) while nothing runs; the next start rescores exactly the customers the
// change moves, as the pure core's processModelChange does from the state they were left
// in. Then a promotion and its rollback: after the rollback every customer's tier is the
// level the restored champion gives (no downgrade held back by the dwell). Last, a stored
// rollout naming a version the process cannot load stops its start with a line that says so.
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { RedisConnection } from '../../src/adapters/redis/connection.js';
import { changeRollout, currentRollout } from '../../src/app/commands/models-rollout.js';
import { createLogger } from '../../src/app/logger.js';
import { activeSpec, ModelRegistry } from '../../src/app/model-registry.js';
import { type Service, startService } from '../../src/app/service.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import { UserError } from '../../src/app/user-error.js';
import { DEFAULT_HYSTERESIS } from '../../src/core/decisions/hysteresis.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import type { RiskChangeRecord } from '../../src/core/events/risk-change.js';
import { variantMoved } from '../../src/core/experiments/assignment.js';
import { promote, rollback, withWeight } from '../../src/core/experiments/rollout.js';
import { processModelChange, scoringContextFor } from '../../src/core/step/customer-step.js';
import {
  compareStreamWithCore,
  expectStreamEqualsCore,
  partitionOf,
  produceEvents,
  readTopic,
  scorerConfig,
} from '../helpers/scorer.js';

const modelsDir = new URL('../fixtures/challenger/', import.meta.url).pathname;
const env = {
  CHURNSTREAM_MODELS_DIR: modelsDir,
  CHURNSTREAM_CHURN_MODEL_VERSION: 'v1',
  CHURNSTREAM_LTV_MODEL_VERSION: 'v1',
  CHURNSTREAM_CHALLENGER_CHURN_MODEL: 'v1-shuffled',
  CHURNSTREAM_EXPERIMENT: 'down:salt-3',
  CHURNSTREAM_ROLLOUT_CHECK_INTERVAL_MS: '300',
};
const config = scorerConfig('rollout-down', env);
const history = generateDemoHistory({ seed: 23, customers: 400, start: Date.UTC(2024, 0, 1), days: 400 });
const customers = [...new Set(history.map((e) => e.customerId))];
const note = (why: string) => ({ by: 'test', why, at: new Date() });

let kafka: Kafka;
let provisioned: Provisioned;
let connection: RedisConnection;
let redis: Redis;
let service: Service | null = null;
let stores: ReturnType<RedisConnection['stores']>;

async function riskChanges(): Promise<RiskChangeRecord[]> {
  return readTopic(
    kafka,
    config.topics.riskChanges,
    async (value) => {
      const decoded = await provisioned.registry.decode<RiskChangeRecord>(value, provisioned.schemas.riskChanges);
      if (!decoded.ok) throw new Error(decoded.reason);
      return decoded.value;
    },
    () => false,
    3000,
  );
}

/**
 * Polls until `count()` reached `atLeast` and then stopped changing for `quietMs` (the rescoring
 * after a change is over, and anything published beyond what is expected has had time to show).
 */
async function settled(count: () => Promise<number>, quietMs: number, timeoutMs: number, atLeast = 0): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let since = Date.now();
  for (;;) {
    const now = await count();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if ((now >= atLeast && Date.now() - since >= quietMs) || Date.now() > deadline) return now;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * Waits until the running scorer reports `revision` as applied: it announces a revision only after
 * the check that applied it rescored every owned partition, so the rescoring is then published.
 * (Waiting for the topic to go quiet alone returned before a slow machine had started rescoring.)
 */
async function applied(revision: number, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await stores.rollout.serving()).some((r) => r.revision === revision)) {
    if (Date.now() > deadline) throw new Error(`no scorer reported rollout revision ${revision} applied`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const experiment = (challengerWeight: number) => ({ name: 'down', salt: 'salt-3', challengerWeight });

/** What the pure core publishes when the given champion/challenger at `weight` rescore these customers. */
function expectedRescoring(
  ids: readonly string[],
  stored: Awaited<ReturnType<typeof stores.state.read>>,
  marks: ReadonlyMap<number, number>,
  champion: string,
  challenger: string,
  weight: number,
  revision: number,
): RiskChangeRecord[] {
  const active = new ModelRegistry(modelsDir).loadDefaults({
    churn: champion,
    ltv: 'v1',
    challenger: { churn: challenger },
  });
  const ctx = scoringContextFor(active.churn, active.ltv, activeSpec(active), {
    hysteresis: DEFAULT_HYSTERESIS,
    maxStalenessMs: config.timers.maxStalenessMs,
    modelAwareTimers: true,
    challenger: active.challenger ?? null,
    experiment: experiment(weight),
  });
  const cause = `${champion}/v1+${challenger}/v1@${weight}#${revision}`;
  return ids.flatMap((id) => {
    const customer = stored.get(id)?.stored;
    const asOf = marks.get(partitionOf(id, config.partitions));
    if (customer == null || asOf === undefined) return [];
    return processModelChange(id, customer, asOf, cause, ctx).riskChanges;
  });
}

beforeAll(async () => {
  kafka = createKafka(config.kafka);
  provisioned = await provision(config);
  connection = await RedisConnection.open(config.redisUrl, null);
  redis = new Redis(config.redisUrl);
  stores = connection.stores(config.redisNamespace, config.stateTtlSeconds);
  service = await startService(config, createLogger('silent'));
  await produceEvents(kafka, config.topics.orders, provisioned.registry, provisioned.schemas.orders, history);
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await connection?.close();
  await redis?.quit();
});

describe('a rollout change made while no scorer runs', () => {
  it('is applied at the next start: exactly the moved customers rescored, as the core does', async () => {
    // Shadow only (weight 0): the CRM topic carries the champion alone, as the core says.
    const champion = new ModelRegistry(modelsDir).loadDefaults({ churn: 'v1', ltv: 'v1' });
    expectStreamEqualsCore(
      await compareStreamWithCore({
        kafka,
        config,
        registry: provisioned.registry,
        riskSchema: provisioned.schemas.riskChanges,
        redis,
        history,
        models: champion,
        timeoutMs: 120_000,
      }),
    );
    await settled(async () => (await riskChanges()).length, 3000, 30_000);
    await service?.stop();
    service = null;

    // While nothing runs: every customer to the challenger.
    const current = await currentRollout(config, stores);
    const all = await changeRollout(
      stores,
      current,
      withWeight(current, 1),
      {
        action: 'weight',
        ...note('all, while down'),
      },
      config,
    );
    const before = await stores.state.read(customers.map((customerId) => ({ customerId, partition: null })));
    const marks = await stores.watermarks.load(Array.from({ length: config.partitions }, (_, p) => p));
    const published = new Set((await riskChanges()).map((r) => r.event_id));

    service = await startService(config, createLogger('silent'));
    const moved = customers.filter((id) => variantMoved(experiment(0), experiment(1), id));
    expect(moved).toHaveLength(customers.length);
    const want = expectedRescoring(moved, before, marks, 'v1', 'v1-shuffled', 1, all.revision);
    expect(want.length).toBeGreaterThan(20);
    const fresh = async () => (await riskChanges()).filter((r) => !published.has(r.event_id));
    await settled(async () => (await fresh()).length, 4000, 90_000, want.length);
    const got = await fresh();
    expect(new Set(got.map((r) => r.event_id))).toEqual(new Set(want.map((r) => r.event_id)));
    for (const r of got)
      expect([r.trigger, r.variant, r.churn_model_version]).toEqual(['model_change', 'challenger', 'v1-shuffled']);
  }, 300_000);

  it('a rollback takes back every tier the promoted model moved, downgrades included (no dwell holds them)', async () => {
    let current = await currentRollout(config, stores);
    const count = async () => (await riskChanges()).length;
    current = await changeRollout(
      stores,
      current,
      withWeight(current, 0),
      { action: 'weight', ...note('back') },
      config,
    );
    await applied(current.revision);
    await settled(count, 4000, 60_000);
    current = await changeRollout(stores, current, promote(current), { action: 'promote', ...note('bad') }, config);
    await applied(current.revision);
    await settled(count, 4000, 60_000);
    const before = await stores.state.read(customers.map((customerId) => ({ customerId, partition: null })));
    const marks = await stores.watermarks.load(Array.from({ length: config.partitions }, (_, p) => p));
    const published = new Set((await riskChanges()).map((r) => r.event_id));

    const back = await changeRollout(
      stores,
      current,
      rollback(current, await stores.rollout.log()),
      {
        action: 'rollback',
        ...note('undo'),
      },
      config,
    );
    // Back to the models and weight of the "back" step above: the same transitions at the same
    // event time, told apart by the revision in their cause (else their ids repeat the earlier ones).
    const want = expectedRescoring(customers, before, marks, 'v1', 'v1-shuffled', 0, back.revision);
    const rank = ['low', 'medium', 'high', 'critical'];
    const downgrades = want.filter((r) => rank.indexOf(r.risk_level) < rank.indexOf(r.previous_risk_level ?? 'low'));
    // The shuffled model raised customers the champion scores lower: the rollback must bring them down.
    expect(downgrades.length).toBeGreaterThan(5);
    const fresh = async () => (await riskChanges()).filter((r) => !published.has(r.event_id));
    await applied(back.revision);
    await settled(async () => (await fresh()).length, 4000, 90_000, want.length);
    const got = await fresh();
    expect(new Set(got.map((r) => r.event_id))).toEqual(new Set(want.map((r) => r.event_id)));
  }, 400_000);

  it('a stored rollout naming a version this process cannot load stops the start, saying the rollout named it', async () => {
    await service?.stop();
    service = null;
    const current = await currentRollout(config, stores);
    const next = { ...current, revision: current.revision + 1, challenger: { churn: 'v404', ltv: null } };
    // Written as an older release or another models directory could have: past the command's checks.
    const entry = { revision: next.revision, at: new Date().toISOString(), by: 'test', action: 'challenger' as const };
    expect(
      await stores.rollout.change({ ...entry, why: 'unloadable', before: current, after: next }, current.revision),
    ).toBe(true);
    const start = startService(config, createLogger('silent'));
    await expect(start).rejects.toBeInstanceOf(UserError);
    await expect(start).rejects.toThrow(
      new RegExp(
        `^the rollout stored in Redis \\(revision ${next.revision}; churnstream models log\\) names models this process cannot load: .*v404`,
      ),
    );
    // What the failed start opened was closed: a start with the rollout fixed gets the same ports.
    await changeRollout(
      stores,
      next,
      { ...next, revision: next.revision + 1, challenger: current.challenger },
      {
        action: 'challenger',
        ...note('fixed'),
      },
      config,
    );
    service = await startService(config, createLogger('silent'));
  }, 120_000);
});
