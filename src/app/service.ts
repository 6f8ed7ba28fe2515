// Wiring of the streaming scorer, and nothing else: builds the adapters, hands them to the
// app modules through their ports, starts the consumer last (after the port is bound and
// every dependency answered) and stops everything in order.
import type { Server } from 'node:http';
import { packageVersion } from '../adapters/files/package-root.js';
import type { HttpServer } from '../adapters/http/server.js';
import { KafkaConnection } from '../adapters/kafka/connection.js';
import { createMetrics, type Metrics } from '../adapters/metrics/definitions.js';
import { OrderEventDecoder } from '../adapters/registry/order-event-decoder.js';
import { wallClock, watermarkClock } from './clock.js';
import type { Config } from './config.js';
import { describeConnections } from './config-connections.js';
import { startConsuming } from './consume.js';
import { driftWindow } from './drift-window.js';
import { hangupHandler } from './hangup.js';
import { healthReaders } from './health-readers.js';
import { bindListeners } from './http-listeners.js';
import { scorerRoutes, startingRoutes } from './http-routes.js';
import { startLagLoop } from './lag-loop.js';
import type { Logger } from './logger.js';
import { DependencyStatus, metricsObserver } from './metrics-observer.js';
import { type ModelRegistry, versionsOf } from './model-registry.js';
import type { WantedModels } from './model-reload.js';
import { createPartitionLocks } from './partition-locks.js';
import { createRolloutWiring } from './rollout-wiring.js';
import { createDeadLetterFactory } from './scorer/dead-letters.js';
import { SchemaIdGrace } from './scorer/decode.js';
import { type PassDeps, rescoreForModelChange, runDueTimers } from './scorer/passes.js';
import { loggingHooks } from './scorer/transient-retry.js';
import { createUnitHandler } from './scorer/unit.js';
import { loadServingModels } from './serving-models.js';
import { connectDependencies } from './startup.js';
import { startTimerLoop } from './timer-loop.js';

export interface Service {
  readonly metrics: Metrics;
  reloadModels(wanted?: WantedModels): Promise<{ changed: boolean; rescored: number }>;
  readonly models: ModelRegistry;
  /** The customer API's server (and the operational endpoints', unless they have their own). */
  readonly http: Server;
  /** The operational endpoints' own server (CHURNSTREAM_OPS_HTTP_PORT), or null. */
  readonly opsHttp: HttpServer | null;
  stop(): Promise<void>;
}

export async function startService(config: Config, log: Logger, onFatal: (error: Error) => void = () => {}) {
  const metrics = createMetrics();
  const withPartitions = createPartitionLocks();
  const { models, experiment, context } = loadServingModels(config, metrics, log);

  // The port first: a member that cannot serve must not take partitions.
  let routes = startingRoutes(metrics);
  const listeners = await bindListeners(config, metrics, log, () => routes);
  log.info(
    { host: config.http.host, port: config.http.port, tls: config.http.tls !== null, ops: config.http.ops },
    'http api listening',
  );
  log.info(describeConnections(config), 'connecting');
  const { cluster, provisioned, redis } = await connectDependencies(config, (operation, seconds, ok) =>
    metrics.registrySeconds.observe({ operation, outcome: ok ? 'ok' : 'error' }, seconds),
  ).catch(async (error: unknown) => {
    await listeners.close();
    throw error;
  });
  const { registry, schemas } = provisioned;
  redis.onError((error) => log.debug({ err: error }, 'redis connection error (ioredis reconnects)'));
  const { state, timers, health, watermarks, comparisons, rollout, decidedBy } = redis.stores(
    config.redisNamespace,
    config.stateTtlSeconds,
  );
  const kafka = new KafkaConnection(config.kafka, (level, message, fields) => log[level](fields, message));
  const publisher = kafka.publisher();
  await publisher.connect();
  const deadLetterLimit = await cluster.maxMessageBytes(config.topics.deadLetters);
  publisher.limitTopic(config.topics.deadLetters, deadLetterLimit);
  publisher.limitTopic(config.topics.riskChanges, await cluster.maxMessageBytes(config.topics.riskChanges));
  const clock = config.clock === 'wall' ? wallClock() : watermarkClock();

  const status = new DependencyStatus(metrics);
  const seen = { churn: new Set<string>(), ltv: new Set<string>() };
  const observer = metricsObserver(metrics, driftWindow(metrics, models), seen, status);
  const riskRecord: PassDeps['riskRecord'] = (change) => ({
    topic: config.topics.riskChanges,
    key: change.customer_id,
    value: registry.encode(schemas.riskChanges, change),
    headers: { event_id: change.event_id },
  });
  const passDeps: PassDeps = { state, timers, health, comparisons, publisher, riskRecord, context, observer, clock };
  const handleUnit = createUnitHandler({
    ...passDeps,
    decoder: new OrderEventDecoder(registry, schemas.orders),
    schemaIdGrace: new SchemaIdGrace(config.schemaIdGraceMs),
    validation: config.validation,
    watermarks,
    deadLetter: createDeadLetterFactory({
      topic: config.topics.deadLetters,
      groupId: config.groupId,
      version: packageVersion(),
      maxRecordBytes: deadLetterLimit,
      encode: (value) => registry.encode(schemas.deadLetters, value),
    }),
    stepFailed: (customerId, error) =>
      log.error({ err: error, customerId }, "a customer's step failed; its events are dead-lettered as internal_error"),
    retry: loggingHooks(
      log,
      (waitingFor, seconds) => observer.waiting(waitingFor, seconds),
      (waitingFor) => status.recovered(waitingFor),
    ),
  });
  healthReaders(metrics, { health, comparisons, timers, clock, models, seen, assigned: () => consumer.assigned() });

  const rolloutWiring = createRolloutWiring({
    config,
    models,
    experiment,
    metrics,
    log,
    clock,
    locks: withPartitions,
    rollout,
    decidedBy,
    rescore: (partition, cause, only) => rescoreForModelChange(passDeps, partition, config.timers.batch, cause, only),
  });
  const { reloadModels } = rolloutWiring;
  // The rollout written by `churnstream models` overrides the settings; applied before joining.
  // One it cannot load stops the start: what was opened is closed (an embedding caller goes on).
  await rolloutWiring.applyStored().catch(async (error: unknown) => {
    await publisher.disconnect();
    await cluster.disconnect();
    await listeners.close();
    await redis.close();
    throw error;
  });

  const consumer = await startConsuming({
    config,
    kafka,
    handleUnit,
    locks: withPartitions,
    metrics,
    watermarks,
    clock,
    log,
    onFatal,
  });

  const timerLoop = startTimerLoop({
    intervalMs: config.timers.intervalMs,
    pageSize: config.timers.batch,
    assigned: () => consumer.assigned(),
    runPage: (partition) => withPartitions([partition], () => runDueTimers(passDeps, partition, config.timers.batch)),
    log,
  });
  const lagLoop = startLagLoop(
    config.lagCheckIntervalMs,
    () => cluster.groupLag(config.groupId, config.topics.orders),
    (partition, lag) => metrics.groupLag.set({ partition: String(partition) }, lag),
    log,
  );
  routes = scorerRoutes({
    config,
    metrics,
    state,
    watermarks,
    clock,
    context,
    status,
    pingRedis: () => redis.ping(),
    assigned: () => consumer.assigned(),
    churnVersion: () => versionsOf(models.current).churn,
  });
  rolloutWiring.follow(() => consumer.assigned());
  const onHangup = hangupHandler({ reloadListeners: () => listeners.reload(), rolloutWiring, models, log });
  process.on('SIGHUP', onHangup);

  const service: Service = {
    metrics,
    reloadModels,
    models,
    http: listeners.api.server,
    opsHttp: listeners.ops,
    async stop() {
      process.off('SIGHUP', onHangup);
      // First: a unit waiting out an outage holds partition locks the rollout check and the
      // timer loop wait for; let go, it frees them within a heartbeat (redelivered later).
      consumer.release();
      // A lag read in flight is not waited for: the admin client it uses is closed below.
      void lagLoop.stop();
      await Promise.all([rolloutWiring.stop(), timerLoop.stop()]);
      await consumer.stop();
      await publisher.disconnect();
      await cluster.disconnect();
      await listeners.close();
      await redis.close();
    },
  };
  return service;
}
