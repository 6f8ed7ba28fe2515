// Wiring of the streaming scorer: the only place clients are constructed. Starts the
// consumer group, the timer loop and the HTTP API; stops them in order on shutdown.
import type { Server } from 'node:http';
import { fromPackageRoot } from '../adapters/files/package-root.js';
import { createMetrics, type Metrics } from '../adapters/http/metrics.js';
import { type RouteTable, startHttpServer } from '../adapters/http/server.js';
import { createKafka } from '../adapters/kafka/client.js';
import { type Batch, type RunningConsumer, startConsumer } from '../adapters/kafka/consumer.js';
import { groupLag } from '../adapters/kafka/group-lag.js';
import { Publisher } from '../adapters/kafka/publisher.js';
import { openRedis } from '../adapters/redis/connect.js';
import { CustomerStore } from '../adapters/redis/customer-store.js';
import { redisKeys } from '../adapters/redis/keys.js';
import { defineScripts } from '../adapters/redis/scripts.js';
import { churnResult, ltvResult } from '../core/decisions/results.js';
import { validateOrderEvent } from '../core/events/validate.js';
import { featuresAt } from '../core/features/extract.js';
import { FEATURE_NAMES } from '../core/features/names.js';
import { scoreChurn, scoreLtv } from '../core/models/scoring.js';
import { DriftMonitor } from '../core/monitoring/drift.js';
import { type Clock, wallClock, watermarkClock } from './clock.js';
import { createCoalescer } from './coalescer.js';
import { type Config, describeConnections } from './config.js';
import type { Logger } from './logger.js';
import { activeSpec, ModelRegistry } from './model-registry.js';
import {
  createBatchesHandler,
  type PipelineDeps,
  type PipelineEvents,
  rescoreForModelChange,
  runDueTimers,
} from './pipeline.js';
import { provision } from './setup.js';

export interface Service {
  readonly metrics: Metrics;
  /**
   * Loads the wanted (default: configured or newest) model versions and, if they differ
   * from the active ones, rescores every customer of the owned partitions with trigger
   * "model_change". A model that fails validation leaves the active one in place.
   */
  reloadModels(wanted?: { churn?: string; ltv?: string }): Promise<{ changed: boolean; rescored: number }>;
  readonly models: ModelRegistry;
  readonly clock: Clock;
  readonly http: Server;
  readonly consumer: RunningConsumer;
  stop(): Promise<void>;
}

function pipelineEvents(
  metrics: Metrics,
  drift: () => DriftMonitor | null,
  versionsWithLabels: Set<string>,
  ltvVersionsWithLabels: Set<string>,
): PipelineEvents {
  return {
    ltvLabelsResolved: (labels) => {
      for (const label of labels) {
        ltvVersionsWithLabels.add(label.modelVersion);
        metrics.ltvLabelsResolved.inc({ model_version: label.modelVersion });
      }
    },
    labelsResolved: (labels) => {
      for (const label of labels) {
        versionsWithLabels.add(label.modelVersion);
        metrics.labelsResolved.inc({
          model_version: label.modelVersion,
          label: label.churned ? 'churned' : 'retained',
        });
      }
    },
    scored: (features, probability) => {
      metrics.churnProbability.observe(probability);
      drift()?.add(features, probability);
    },
    consumed: (partition, count) => metrics.consumed.inc({ partition: String(partition) }, count),
    deadLettered: (reason) => metrics.deadLetters.inc({ reason }),
    applied: (outcome, count) => metrics.applied.inc({ outcome }, count),
    riskChanges: (records) => {
      const counts = new Map<string, { from: string; to: string; trigger: string; count: number }>();
      for (const r of records) {
        const from = r.previous_risk_level ?? 'none';
        const key = `${from}>${r.risk_level}>${r.trigger}`;
        const entry = counts.get(key);
        if (entry === undefined) counts.set(key, { from, to: r.risk_level, trigger: r.trigger, count: 1 });
        else entry.count += 1;
      }
      for (const { from, to, trigger, count } of counts.values()) metrics.riskChanges.inc({ from, to, trigger }, count);
    },
    stateConflict: () => metrics.conflicts.inc(),
    timerFired: (count) => metrics.timerEvaluations.inc(count),
    batchDone: (partition, _messages, seconds) =>
      metrics.batchSeconds.observe({ partition: String(partition) }, seconds),
    eventProcessed: (eventTime) => metrics.endToEndSeconds.observe(Math.max(0, (Date.now() - eventTime) / 1000)),
    redisCall: (operation, seconds) => metrics.redisSeconds.observe({ operation }, seconds),
  };
}

export async function startService(
  config: Config,
  log: Logger,
  onFatal: (error: Error) => void = () => {},
): Promise<Service> {
  const metrics = createMetrics();
  const models = new ModelRegistry(config.models.dir ?? fromPackageRoot('models'));
  const active = models.loadDefaults({
    churn: config.models.churnVersion ?? undefined,
    ltv: config.models.ltvVersion ?? undefined,
  });
  const describeModel = (kind: string, version: string | undefined) => {
    metrics.modelInfo.reset();
    metrics.modelInfo.set({ kind, version: version ?? 'rules_v1' }, 1);
  };
  describeModel('churn', active.churn?.config.version);
  log.info(
    {
      churn: active.churn?.config.version ?? 'rules_v1',
      ltv: active.ltv?.config.version ?? 'rules_v1',
      featureSpec: activeSpec(active).version,
    },
    'models loaded',
  );

  // Drift against the active churn model's training reference; a new model starts a new window.
  const newDrift = () => {
    const reference = models.current.churn?.reference;
    return reference == null ? null : new DriftMonitor(reference, FEATURE_NAMES);
  };
  let drift = newDrift();
  models.onChange(() => {
    drift = newDrift();
  });
  metrics.drift(() =>
    drift === null ? null : { features: drift.featurePsi(), score: drift.scorePsi(), window: drift.size },
  );

  log.info(describeConnections(config), 'connecting');
  const { registry, schemas } = await provision(config, (operation, seconds, ok) =>
    metrics.registrySeconds.observe({ operation, outcome: ok ? 'ok' : 'error' }, seconds),
  );
  const kafka = createKafka(config.kafka, {}, (level, message, fields) => log[level](fields, message));
  const redis = defineScripts(await openRedis(config.redisUrl, config.redisTlsCaFile));
  redis.on('error', (error: Error) => log.warn({ err: error }, 'redis connection error (ioredis reconnects)'));
  const store = new CustomerStore(redis, redisKeys(config.redisNamespace), config.stateTtlSeconds);
  // Model health from the labels the stream resolves (stats live in Redis, shared by all processes).
  const versionsWithLabels = new Set<string>();
  metrics.modelHealth(async () => {
    const versions = new Set([...versionsWithLabels, models.current.churn?.config.version ?? 'rules_v1']);
    const entries = await Promise.all([...versions].map(async (v) => [v, await store.labelStats(v)] as const));
    return new Map(
      entries.filter(([, stats]) => stats.positives.some((c) => c > 0) || stats.negatives.some((c) => c > 0)),
    );
  });
  const ltvVersionsWithLabels = new Set<string>();
  metrics.ltvHealth(async () => {
    const versions = new Set([...ltvVersionsWithLabels, models.current.ltv?.config.version ?? 'rules_v1']);
    const entries = await Promise.all([...versions].map(async (v) => [v, await store.ltvLabels(v)] as const));
    return new Map(entries.filter(([, pairs]) => pairs.length > 0));
  });
  const publisher = new Publisher(kafka);
  await publisher.connect();
  const clock = config.clock === 'wall' ? wallClock() : watermarkClock();

  const deps: PipelineDeps = {
    registry,
    schemas,
    store,
    publisher,
    models,
    clock,
    topics: { riskChanges: config.topics.riskChanges, deadLetters: config.topics.deadLetters },
    groupId: config.groupId,
    validation: config.validation,
    hysteresis: config.hysteresis,
    maxStalenessMs: config.timers.maxStalenessMs,
    modelAwareTimers: config.timers.modelAware,
    events: pipelineEvents(metrics, () => drift, versionsWithLabels, ltvVersionsWithLabels),
  };
  const handleBatches = createBatchesHandler(deps);
  // Batches and timer passes of one partition never interleave: a timer pass sees a
  // partition between batches, never half-way through one.
  const locks = new Map<number, Promise<unknown>>();
  const withPartitions = <T>(partitions: readonly number[], work: () => Promise<T>): Promise<T> => {
    const run = Promise.all(partitions.map((p) => locks.get(p))).then(work, work);
    for (const partition of partitions)
      locks.set(
        partition,
        run.catch(() => undefined),
      );
    return run;
  };
  const withPartition = <T>(partition: number, work: () => Promise<T>): Promise<T> => withPartitions([partition], work);
  // The batches kafkajs hands over together are applied as one unit (see coalescer.ts).
  const submit = createCoalescer<{ readonly batch: Batch; readonly heartbeat: () => Promise<void> }>((items) =>
    withPartitions(
      items.map(({ batch }) => batch.partition),
      () =>
        handleBatches(
          items.map(({ batch }) => batch),
          items[0]?.heartbeat ?? (async () => undefined),
        ),
    ),
  );
  const consumer = await startConsumer(kafka, {
    groupId: config.groupId,
    topic: config.topics.orders,
    fromBeginning: config.fromBeginning,
    sessionTimeoutMs: config.sessionTimeoutMs,
    maxBytesPerPartition: config.maxBatchBytes,
    partitionsConcurrently: config.concurrentPartitions,
    commitIntervalMs: config.commitIntervalMs,
    onCommitError: (error) => log.debug({ err: error }, 'offset commit failed; the next owner skips applied events'),
    handle: async (batch, heartbeat) => {
      await submit({ batch, heartbeat });
      const lastOffset = BigInt(batch.messages.at(-1)?.offset ?? '0');
      metrics.lag.set({ partition: String(batch.partition) }, Number(BigInt(batch.highWatermark) - lastOffset - 1n));
    },
    onAssignment: (partitions) => {
      metrics.rebalances.inc();
      log.info({ partitions }, 'partitions assigned');
      // Replays: resume each partition's event-time watermark where the last owner left it.
      if (clock.kind === 'watermark') {
        void store.watermarks(partitions).then((marks) => {
          for (const [partition, mark] of marks) clock.observe(partition, mark);
        });
      }
    },
    onCrash: (error, restarting) => {
      log.error({ err: error, restarting }, 'consumer crashed');
      // A consumer kafkajs will not restart is dead: stop the process so a supervisor restarts it
      // (offsets were committed only for finished batches, so nothing is lost).
      if (!restarting) onFatal(error);
    },
  });

  // Timer loop: rescore customers of the owned partitions whose timers are due.
  let stopping = false;
  let timerPass: Promise<void> = Promise.resolve();
  const timerLoop = setInterval(() => {
    timerPass = timerPass.then(async () => {
      if (stopping) return;
      for (const partition of consumer.assigned()) {
        try {
          while (
            !stopping &&
            (await withPartition(partition, () => runDueTimers(deps, partition, config.timers.batch))) >=
              config.timers.batch
          ) {
            // a full page: keep draining this partition's backlog
          }
        } catch (error) {
          log.warn({ err: error, partition }, 'timer pass failed; retrying next interval');
        }
      }
    });
  }, config.timers.intervalMs);

  // Group lag from the broker's view, every lagCheckIntervalMs (Kafka admin requests).
  const admin = kafka.admin();
  await admin.connect();
  const checkLag = async () => {
    try {
      for (const [partition, lag] of await groupLag(admin, config.groupId, config.topics.orders))
        metrics.groupLag.set({ partition: String(partition) }, lag);
    } catch (error) {
      log.warn({ err: error }, 'consumer group lag check failed');
    }
  };
  void checkLag();
  const lagLoop = setInterval(() => void checkLag(), config.lagCheckIntervalMs);

  metrics.timerBacklog(async () => {
    const partitions = consumer.assigned();
    const counts = await Promise.all(partitions.map((p) => store.timerBacklog(p, clock.now(p))));
    return new Map(partitions.map((p, i) => [p, counts[i] ?? 0]));
  });

  const routes: RouteTable = {
    '/healthz': async () => ({ status: 200, body: { status: 'ok' } }),
    '/readyz': async () => {
      const checks = {
        redis: await redis.ping().then(
          () => true,
          () => false,
        ),
        kafka: consumer.assigned().length > 0,
        models: models.current.churn !== null,
      };
      return {
        status: checks.redis && checks.kafka ? 200 : 503,
        body: { ...checks, churn_model: models.current.churn?.config.version ?? 'rules_v1' },
      };
    },
    '/metrics': async () => ({
      status: 200,
      body: await metrics.registry.metrics(),
      contentType: metrics.registry.contentType,
    }),
    '/customers/:id': async ({ id = '' }) => {
      const invalid = validateOrderEvent(
        {
          customerId: id,
          orderId: 'x',
          eventTime: Date.now(),
          type: 'order',
          amount: 0,
          currency: 'XXX',
          itemCount: 0,
          originalOrderId: null,
        },
        Date.now(),
        config.validation,
      );
      if (invalid !== null) return { status: 400, body: { error: invalid.reason } };
      const loaded = (await store.read([{ customerId: id, partition: null }])).get(id);
      if (loaded?.stored == null)
        return { status: 404, body: { error: `no state for customer ${JSON.stringify(id)}` } };
      const current = models.current;
      const spec = activeSpec(current);
      const asOf = Math.max(clock.nowGlobal(), loaded.stored.state.maxEventTime);
      const features = featuresAt(loaded.stored.state, asOf, spec);
      const churn = churnResult(scoreChurn(current.churn, features, true));
      const ltv = ltvResult(scoreLtv(current.ltv, features, churn.churn_probability, spec.retention.windowDays));
      return {
        status: 200,
        body: {
          customer_id: id,
          as_of: new Date(asOf).toISOString(),
          last_event_time: new Date(loaded.stored.state.maxEventTime).toISOString(),
          state_updated_at: loaded.updatedAt === null ? null : new Date(loaded.updatedAt).toISOString(),
          state_version: loaded.version,
          risk_tier: loaded.stored.tier,
          next_rescore_at: Number.isNaN(loaded.stored.nextDue) ? null : new Date(loaded.stored.nextDue).toISOString(),
          churn,
          ltv,
          features: Object.fromEntries(
            FEATURE_NAMES.map((name, i) => [name, Number.isNaN(features[i] ?? Number.NaN) ? null : features[i]]),
          ),
          feature_spec_version: spec.version,
          counters: loaded.stored.state.counters,
        },
      };
    },
  };
  const http = await startHttpServer(config.http.host, config.http.port, routes);
  log.info({ host: config.http.host, port: config.http.port }, 'http api listening');

  const versionsOf = () =>
    `${models.current.churn?.config.version ?? 'rules_v1'}/${models.current.ltv?.config.version ?? 'rules_v1'}`;
  const reloadModels = async (wanted: { churn?: string; ltv?: string } = {}) => {
    const before = versionsOf();
    models.loadDefaults({
      churn: wanted.churn ?? config.models.churnVersion ?? undefined,
      ltv: wanted.ltv ?? config.models.ltvVersion ?? undefined,
    });
    const after = versionsOf();
    describeModel('churn', models.current.churn?.config.version);
    if (after === before) return { changed: false, rescored: 0 };
    log.info({ before, after }, 'models swapped; rescoring customers with trigger model_change');
    let rescored = 0;
    for (const partition of consumer.assigned()) {
      rescored += await withPartition(partition, () => rescoreForModelChange(deps, partition, config.timers.batch));
    }
    return { changed: true, rescored };
  };
  const onHangup = () => {
    reloadModels().catch((error: unknown) =>
      log.error({ err: error }, 'model reload failed; keeping the active models'),
    );
  };
  process.on('SIGHUP', onHangup);

  return {
    metrics,
    reloadModels,
    models,
    clock,
    http,
    consumer,
    async stop() {
      stopping = true;
      process.off('SIGHUP', onHangup);
      clearInterval(timerLoop);
      clearInterval(lagLoop);
      await timerPass;
      await consumer.stop();
      await publisher.disconnect();
      await admin.disconnect();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await redis.quit();
    },
  };
}
