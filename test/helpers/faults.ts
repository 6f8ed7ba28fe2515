// The fault suite's scenario, shared by its CI test (short) and bench/faults.ts (long):
// scorer processes replay a history with hostile records mixed in while the suite kills
// them with SIGKILL at random points, adds and removes members (rebalances), restarts
// Redis (AOF) and the Kafka broker. The suite supervises its processes like a process
// manager would: a member that exits on its own (e.g. it gave up while a peer was down)
// is started again. At the end it checks the invariants of docs/RELIABILITY.md.

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
import { compareStreamWithCore, produceRaw, readDeadLetters, type StreamOutcome } from './scorer.js';
import { committedOffsets, configOf, exited, processEnv, startScorer, waitForProgress } from './scorer-process.js';

export interface FaultPlan {
  readonly customers: number;
  readonly days: number;
  readonly kills: number;
  readonly hostile: number;
  readonly seed: number;
  /** Restart Redis and the Kafka broker once each (scripts/stack.sh restart). */
  readonly restartStack: boolean;
  /**
   * Dependency outages that must not cost a record: the schema registry stopped for a few
   * seconds, Redis frozen with SIGSTOP for longer than the client's command timeout (a hang,
   * not a refusal). Records of ~1 MB random bytes (over the dead-letter topic's limit once
   * wrapped) are mixed in too.
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
const restart = (service: 'redis' | 'kafka') =>
  execFileSync('bash', [stackScript, 'restart', service], { stdio: 'ignore' });
const stack = (action: 'up' | 'down', service: string) =>
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

type Step =
  | { readonly kind: 'registry' }
  | { readonly kind: 'redis-hang' }
  | { readonly kind: 'kill' }
  | { readonly kind: 'join' }
  | { readonly kind: 'leave' }
  | { readonly kind: 'redis' }
  | { readonly kind: 'kafka' };

export async function runFaultSuite(plan: FaultPlan): Promise<FaultReport> {
  const started = performance.now();
  // Members log only fatal errors: the faults make them log connection errors by design.
  const env: Record<string, string> = {
    ...processEnv('faults'),
    CHURNSTREAM_PARTITIONS: '6',
    CHURNSTREAM_LOG_LEVEL: process.env['TEST_LOG'] ?? 'fatal',
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
  for (let i = 0; i < messages.length; ) {
    const part: typeof messages = [];
    let bytes = 0;
    for (; i < messages.length && part.length < 2000 && bytes < 512_000; i += 1) {
      const message = messages[i] as (typeof messages)[number];
      part.push(message);
      bytes += message.value?.length ?? 0;
    }
    await produceRaw(kafka, config.topics.orders, part);
  }
  plan.log(`produced ${history.length} events and ${hostile.length} hostile records`);

  // Supervision: members that exit without being told to are started again.
  const members = new Set<ChildProcess>();
  let unplannedRestarts = 0;
  let crashExits = 0;
  let startRefusals = 0;
  let stopping = false;
  const spawnMember = (): ChildProcess => {
    const child = startScorer(env);
    members.add(child);
    child.once('exit', (code) => {
      members.delete(child);
      if ((child as ChildProcess & { planned?: boolean }).planned || stopping) return;
      unplannedRestarts += 1;
      if (code === 2) startRefusals += 1;
      else crashExits += 1;
      plan.log(`a member exited on its own (code ${code}); restarting it`);
      // As a process manager would: not in a tight loop.
      setTimeout(() => {
        if (!stopping) spawnMember();
      }, 500);
    });
    return child;
  };
  const stopMember = async (child: ChildProcess, signal: 'SIGKILL' | 'SIGTERM') => {
    (child as ChildProcess & { planned?: boolean }).planned = true;
    child.kill(signal);
    await exited(child);
  };

  // The plan: kills spread over the run, a join and a leave, a Redis and a Kafka restart.
  const steps: Step[] = Array.from({ length: plan.kills }, () => ({ kind: 'kill' }) as Step);
  steps.splice(Math.floor(steps.length / 4), 0, { kind: 'join' });
  steps.splice(Math.floor((steps.length * 3) / 4), 0, { kind: 'leave' });
  if (plan.restartStack) {
    steps.splice(Math.floor(steps.length / 3), 0, { kind: 'redis' });
    steps.splice(Math.floor((steps.length * 2) / 3), 0, { kind: 'kafka' });
  }
  if (plan.dependencyFaults) {
    steps.splice(Math.floor(steps.length / 5), 0, { kind: 'registry' });
    steps.splice(Math.floor((steps.length * 4) / 5), 0, { kind: 'redis-hang' });
  }
  try {
    spawnMember();
    let kills = 0;
    let joins = 0;
    let leaves = 0;
    let redisRestarts = 0;
    let kafkaRestarts = 0;
    let registryOutages = 0;
    let redisHangs = 0;
    for (const [index, step] of steps.entries()) {
      const mark = ((index + 1) / (steps.length + 1)) * 0.95 * messages.length;
      const reached = await waitForProgress(kafka, config, mark, 300_000);
      await new Promise((resolve) => setTimeout(resolve, uniformInt(rng, 0, 150)));
      const victims = [...members];
      if (step.kind === 'kill' && victims.length > 0) {
        await stopMember(victims[uniformInt(rng, 0, victims.length - 1)] as ChildProcess, 'SIGKILL');
        spawnMember();
        kills += 1;
      } else if (step.kind === 'join') {
        spawnMember();
        joins += 1;
      } else if (step.kind === 'leave' && victims.length > 1) {
        await stopMember(victims[0] as ChildProcess, 'SIGTERM');
        leaves += 1;
      } else if (step.kind === 'redis') {
        restart('redis');
        redisRestarts += 1;
      } else if (step.kind === 'kafka') {
        restart('kafka');
        kafkaRestarts += 1;
      } else if (step.kind === 'registry') {
        stack('down', 'schema-registry');
        await sleep(4000);
        stack('up', 'schema-registry');
        registryOutages += 1;
      } else if (step.kind === 'redis-hang') {
        await freezeRedis(8000);
        redisHangs += 1;
      }
      plan.log(`${step.kind} at committed offset ${reached} of ${messages.length} (${members.size} members)`);
    }

    const redis = new Redis(config.redisUrl);
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
    await Promise.all([...members].map((child) => stopMember(child, 'SIGTERM')));
    await redis.quit();
    return {
      events: history.length,
      hostile: hostile.length,
      kills,
      joins,
      leaves,
      unplannedRestarts,
      redisRestarts,
      kafkaRestarts,
      registryOutages,
      redisHangs,
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
    for (const child of members) child.kill('SIGKILL');
    if (plan.dependencyFaults) stack('up', 'schema-registry');
  }
}
