// The fault suite's scenario, shared by its CI tests (short) and bench/faults.ts (long):
// scorer processes replay a history with hostile records mixed in while the suite kills
// them with SIGKILL at random points, adds and removes members (rebalances) and makes its
// dependencies fail: on the single Redis, Redis (AOF) and the Kafka broker restarted, the
// registry stopped, Redis frozen; on the Redis Cluster, only the cluster's nodes (the broker,
// registry and single Redis are shared with other users of the stack): a primary frozen past
// the node timeout, a primary killed and started again, every node stopped and started again.
// The suite supervises its processes like a process manager would: a member that exits on its
// own is started again. At the end it checks the invariants of docs/RELIABILITY.md.

import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { createKafka, ensureTopics } from '../../src/adapters/kafka/client.js';
import { toOrderEventRecord } from '../../src/adapters/registry/order-event-codec.js';
import { ModelRegistry } from '../../src/app/model-registry.js';
import { provision } from '../../src/app/setup.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import type { OrderEvent } from '../../src/core/events/order-event.js';
import { hostilePayloads } from './hostile.js';
import {
  type ClusterOutage,
  clusterClient,
  clusterNodes,
  clusterNodesEnv,
  ensureCluster,
  freezePrimary,
  killAndRestartPrimary,
  wholeClusterOutage,
} from './redis-cluster.js';
import { compareStreamWithCore, produceRaw, readDeadLetters, type StreamOutcome } from './scorer.js';
import { committedOffsets, configOf, exited, processEnv, startScorer, waitForProgress } from './scorer-process.js';
import { freePort } from './stack-control.js';

export interface FaultPlan {
  readonly customers: number;
  readonly days: number;
  readonly kills: number;
  readonly hostile: number;
  readonly seed: number;
  /**
   * Where the scorers keep state: the stack's single Redis (default), or its Redis Cluster
   * with REDIS_WAIT_REPLICAS=1 (a failover then loses no acknowledged write, so the same
   * invariants hold; docs/OPERATIONS.md, Redis Cluster).
   */
  readonly redis?: 'single' | 'cluster';
  /** Members at the start (default 1); the join adds one, the leave removes one. */
  readonly members?: number;
  /**
   * Single Redis: restart Redis and the Kafka broker once each (scripts/stack.sh restart).
   * Cluster: a primary SIGKILLed and started again, and every node stopped and started again
   * (the broker is left alone).
   */
  readonly restartStack: boolean;
  /**
   * Dependency outages that must not cost a record. Single Redis: the schema registry stopped
   * for a few seconds, Redis frozen with SIGSTOP past the client's command timeout (a hang, not
   * a refusal). Cluster: a primary frozen past the node timeout (its replica is promoted). Both:
   * records of ~1 MB random bytes (over the dead-letter topic's limit once wrapped).
   */
  readonly dependencyFaults: boolean;
  readonly log: (line: string) => void;
}

export interface FaultReport {
  readonly events: number;
  readonly hostile: number;
  readonly kills: number;
  readonly joins: number;
  readonly leaves: number;
  readonly unplannedRestarts: number;
  readonly redisRestarts: number;
  readonly kafkaRestarts: number;
  readonly registryOutages: number;
  readonly redisHangs: number;
  /** Cluster: primaries frozen past the node timeout / killed and restarted / whole-cluster outages. */
  readonly primaryHangs: number;
  readonly primaryRestarts: number;
  readonly clusterOutages: number;
  /** The whole-cluster outage as the members saw it (cluster plans with restartStack). */
  readonly outage: ClusterOutage | null;
  /** Members that exited on their own other than by refusing to start (exit 2 while a dependency was down). */
  readonly crashExits: number;
  /** Members that refused to start (exit 2), e.g. started while the registry was down. */
  readonly startRefusals: number;
  readonly outcome: StreamOutcome;
  readonly deadLetters: {
    readonly missing: number;
    readonly wrongClass: number;
    readonly duplicates: number;
    /** Dead letters of good events: must be 0 (no fault turns a valid event into a dead letter). */
    readonly validEvents: number;
    /** Records (not letters: a redelivery repeats a letter) whose dead letter was cut to fit. */
    readonly truncated: number;
  };
  readonly committed: number;
  readonly topicEnd: number;
  readonly seconds: number;
}

const stackScript = new URL('../../scripts/stack.sh', import.meta.url).pathname;
const stack = (action: 'up' | 'down' | 'restart', service: string) =>
  execFileSync('bash', [stackScript, action, service], { stdio: 'ignore' });
const stackDir = process.env['CHURNSTREAM_STACK_DIR'] ?? new URL('../../.stack', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Freezes Redis (SIGSTOP) for `ms`, then lets it go on: clients see a hang, not a refusal. */
async function freezeRedis(ms: number): Promise<void> {
  const pid = Number(readFileSync(`${stackDir}/run/redis.pid`, 'utf8').trim());
  process.kill(pid, 'SIGSTOP');
  try {
    await sleep(ms);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

/** Records of random bytes around 1 MB: poison whose dead letter must be cut to fit. */
function oversized(count: number, seed: number): { key: string; value: Buffer; expected: string }[] {
  const rng = xoroshiro128plus(seed ^ 0x5eed);
  return Array.from({ length: count }, (_, n) => {
    const value = Buffer.alloc(1_000_000);
    for (let i = 0; i < value.length; i += 1) value[i] = uniformInt(rng, 0, 255);
    value[0] = 0x09;
    return { key: `oversized-${n}`, value, expected: 'bad_magic_byte' };
  });
}

type Fault = 'registry' | 'redis-hang' | 'redis' | 'kafka' | 'primary-hang' | 'primary-restart' | 'cluster-outage';
type Step = 'kill' | 'join' | 'leave' | Fault;

/** Kills spread over the run, a join and a leave, and the plan's dependency faults between them. */
function stepsOf(plan: FaultPlan): Step[] {
  const steps: Step[] = Array.from({ length: plan.kills }, () => 'kill');
  const at = (parts: number, of: number, step: Step) => steps.splice(Math.floor((steps.length * parts) / of), 0, step);
  at(1, 4, 'join');
  at(3, 4, 'leave');
  if (plan.redis === 'cluster') {
    if (plan.restartStack) at(1, 3, 'primary-restart');
    if (plan.dependencyFaults) at(1, 2, 'primary-hang');
    if (plan.restartStack) steps.push('cluster-outage');
    return steps;
  }
  if (plan.restartStack) {
    at(1, 3, 'redis');
    at(2, 3, 'kafka');
  }
  if (plan.dependencyFaults) {
    at(1, 5, 'registry');
    at(4, 5, 'redis-hang');
  }
  return steps;
}

export async function runFaultSuite(plan: FaultPlan): Promise<FaultReport> {
  const started = performance.now();
  const cluster = plan.redis === 'cluster';
  if (cluster) ensureCluster();
  // Members log only fatal errors: the faults make them log connection errors by design.
  const env: Record<string, string> = {
    ...processEnv(cluster ? 'faults-cluster' : 'faults'),
    CHURNSTREAM_PARTITIONS: '6',
    CHURNSTREAM_LOG_LEVEL: process.env['TEST_LOG'] ?? 'fatal',
    ...(cluster ? { REDIS_URL: '', REDIS_CLUSTER_NODES: clusterNodesEnv, REDIS_WAIT_REPLICAS: '1' } : {}),
  };
  const config = configOf(env);
  const rng = xoroshiro128plus(plan.seed);
  const history = generateDemoHistory({
    seed: plan.seed,
    customers: plan.customers,
    start: Date.UTC(2024, 0, 1),
    days: plan.days,
  });
  const kafka = createKafka(config.kafka);
  // A dead-letter topic with half Kafka's default record limit: the ~1 MB poison records
  // fit the orders topic but their dead letters must be cut to fit this one.
  if (plan.dependencyFaults)
    await ensureTopics(kafka, [
      { topic: config.topics.deadLetters, partitions: 1, config: { 'max.message.bytes': String(512 * 1024) } },
    ]);
  const provisioned = await provision(config);
  const { registry, schemas } = provisioned;
  const encode = (event: OrderEvent) => registry.encode(schemas.orders, toOrderEventRecord(event));
  const hostile = [
    ...hostilePayloads(plan.hostile, plan.seed, encode, 5_000_000),
    ...(plan.dependencyFaults ? oversized(3, plan.seed) : []),
  ];
  // Hostile records spread evenly through the good ones; good events keep their order.
  const messages: { key: string; value: Buffer | null }[] = [];
  const every = Math.max(1, Math.floor(history.length / Math.max(1, hostile.length)));
  let h = 0;
  history.forEach((event, i) => {
    messages.push({ key: event.customerId, value: encode(event) });
    if (i % every === 0 && h < hostile.length) messages.push(hostile[h++] as (typeof hostile)[number]);
  });
  for (; h < hostile.length; h += 1) messages.push(hostile[h] as (typeof hostile)[number]);
  // Requests stay under the broker's limit with the ~1 MB records among them.
  const produce = async (list: readonly (typeof messages)[number][]) => {
    for (let i = 0; i < list.length; ) {
      const part: typeof messages = [];
      let bytes = 0;
      for (; i < list.length && part.length < 2000 && bytes < 512_000; i += 1) {
        const message = list[i] as (typeof messages)[number];
        part.push(message);
        bytes += message.value?.length ?? 0;
      }
      await produceRaw(kafka, config.topics.orders, part);
    }
  };
  // Cluster: the last records arrive during the whole-cluster outage (the last step), so the
  // scorers have work when it ends and must show that they resume by themselves.
  const outageLast = cluster && plan.restartStack;
  const tail = messages.slice(outageLast ? Math.floor(messages.length * 0.88) : messages.length);
  const early = messages.length - tail.length;
  await produce(messages.slice(0, early));
  plan.log(
    `${history.length} events and ${hostile.length} hostile records, ${tail.length} of them produced in the outage`,
  );

  // Supervision: members that exit without being told to are started again. Each member
  // has an HTTP port of its own, so the suite can ask it /healthz and /metrics.
  const members = new Map<ChildProcess, number>();
  let unplannedRestarts = 0;
  let crashExits = 0;
  let startRefusals = 0;
  let stopping = false;
  const spawnMember = async (): Promise<number> => {
    const port = await freePort();
    const child = startScorer({ ...env, CHURNSTREAM_HTTP_PORT: String(port) });
    members.set(child, port);
    child.once('exit', (code) => {
      members.delete(child);
      if ((child as ChildProcess & { planned?: boolean }).planned || stopping) return;
      unplannedRestarts += 1;
      if (code === 2) startRefusals += 1;
      else crashExits += 1;
      plan.log(`a member exited on its own (code ${code}); restarting it`);
      // As a process manager would: not in a tight loop.
      setTimeout(() => {
        if (!stopping) void spawnMember();
      }, 500);
    });
    return port;
  };
  const stopMember = async (child: ChildProcess, signal: 'SIGKILL' | 'SIGTERM') => {
    (child as ChildProcess & { planned?: boolean }).planned = true;
    child.kill(signal);
    await exited(child);
  };

  const steps = stepsOf(plan);
  const done = new Map<Step, number>();
  let outage: ClusterOutage | null = null;
  /** A primary chosen by the suite's seed, so a run can be repeated. */
  const somePrimary = () => {
    const primaries = clusterNodes().filter((n) => n.primary && !n.failed);
    return primaries[uniformInt(rng, 0, primaries.length - 1)] as (typeof primaries)[number];
  };
  const run = async (step: Step): Promise<string> => {
    const victims = [...members.keys()];
    /** SIGKILLs a member and starts another in its place (as a process manager would); its port. */
    const replace = async () => {
      await stopMember(victims[uniformInt(rng, 0, victims.length - 1)] as ChildProcess, 'SIGKILL');
      return spawnMember();
    };
    if (step === 'kill' && victims.length > 0) await replace();
    else if (step === 'join') await spawnMember();
    else if (step === 'leave' && victims.length > 1) await stopMember(victims[0] as ChildProcess, 'SIGTERM');
    else if (step === 'redis' || step === 'kafka') stack('restart', step);
    else if (step === 'registry') {
      stack('down', 'schema-registry');
      await sleep(4000);
      stack('up', 'schema-registry');
    } else if (step === 'redis-hang') await freezeRedis(8000);
    else if (step === 'primary-hang') {
      // Past the node timeout (2 s: the replica is promoted) and the 5 s command timeout.
      const { frozen, promoted, frozenMs } = await freezePrimary(somePrimary(), 7000);
      return `primary ${frozen} frozen ${frozenMs} ms, replica ${promoted} promoted, ${frozen} rejoined as its replica`;
    } else if (step === 'primary-restart') {
      const { killed, promoted } = await killAndRestartPrimary(somePrimary());
      return `primary ${killed} killed, replica ${promoted} promoted, ${killed} restarted as its replica`;
    } else if (step === 'cluster-outage') {
      outage = await wholeClusterOutage(
        () => [...members.values()],
        10_000,
        async () => {
          await produce(tail);
          return replace();
        },
      );
      return `whole cluster down ${outage.downSeconds.toFixed(1)} s: ${JSON.stringify(outage)}`;
    } else return 'skipped';
    return '';
  };

  try {
    for (let i = 0; i < (plan.members ?? 1); i += 1) await spawnMember();
    for (const [index, step] of steps.entries()) {
      const mark = ((index + 1) / (steps.length + 1)) * 0.95 * early;
      const reached = await waitForProgress(kafka, config, mark, 300_000);
      await sleep(uniformInt(rng, 0, 150));
      const note = await run(step);
      if (note !== 'skipped') done.set(step, (done.get(step) ?? 0) + 1);
      plan.log(`${step} at committed offset ${reached} of ${messages.length} (${members.size} members) ${note}`);
    }

    // The helper reads each customer's hash (HGET): the cluster client routes it by slot.
    const redis = cluster ? (clusterClient() as unknown as Redis) : new Redis(config.redisUrl);
    const outcome = await compareStreamWithCore({
      kafka,
      config,
      registry,
      riskSchema: schemas.riskChanges,
      redis,
      history,
      models: new ModelRegistry(env['CHURNSTREAM_MODELS_DIR'] ?? '').loadDefaults(),
      timeoutMs: 600_000,
    });
    const letters = await readDeadLetters(kafka, provisioned, config.topics.deadLetters, hostile.length, 120_000);
    const byKey = new Map<string, number>();
    let wrongClass = 0;
    let validEvents = 0;
    // Per record, not per letter: a kill may redeliver a record that was dead-lettered already.
    const truncatedKeys = new Set<string>();
    const expected = new Map(hostile.map((p) => [p.key, p.expected]));
    for (const letter of letters) {
      const key = letter.key?.toString() ?? '';
      byKey.set(key, (byKey.get(key) ?? 0) + 1);
      if (!expected.has(key)) validEvents += 1;
      else if (expected.get(key) !== letter.error_class) wrongClass += 1;
      if (letter.truncated) truncatedKeys.add(key);
    }
    const missing = hostile.filter((p) => !byKey.has(p.key)).length;
    const committed = await waitForProgress(kafka, config, messages.length, 120_000);
    const topicEnd = messages.length;
    stopping = true;
    await Promise.all([...members.keys()].map((child) => stopMember(child, 'SIGTERM')));
    await redis.quit();
    const count = (step: Step) => done.get(step) ?? 0;
    return {
      events: history.length,
      hostile: hostile.length,
      kills: count('kill'),
      joins: count('join'),
      leaves: count('leave'),
      unplannedRestarts,
      redisRestarts: count('redis'),
      kafkaRestarts: count('kafka'),
      registryOutages: count('registry'),
      redisHangs: count('redis-hang'),
      primaryHangs: count('primary-hang'),
      primaryRestarts: count('primary-restart'),
      clusterOutages: count('cluster-outage'),
      outage,
      crashExits,
      startRefusals,
      outcome,
      deadLetters: {
        missing,
        wrongClass,
        duplicates: letters.length - byKey.size,
        validEvents,
        truncated: truncatedKeys.size,
      },
      committed: Math.min(committed, await committedOffsets(kafka, config)),
      topicEnd,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    // Whatever happened, no member outlives the suite, and the stack is left whole.
    stopping = true;
    for (const child of members.keys()) child.kill('SIGKILL');
    if (cluster) ensureCluster();
    else if (plan.dependencyFaults) stack('up', 'schema-registry');
  }
}
