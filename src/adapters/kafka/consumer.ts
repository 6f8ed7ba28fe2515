// The consumer loop: one kafkajs consumer in a group, batches (of several partitions at
// once) handed to a handler that wiring passes in, offsets committed only after the handler
// resolved, so state is durable before the input is marked done: after each batch, or
// periodically. Heartbeats continue during long batches (and long waits for a dependency)
// through the control given to the handler.
import type { EachBatchPayload, Kafka } from 'kafkajs';
import type { InputBatch } from './records.js';

/** What the handler can do while it works on a batch. */
export interface BatchControl {
  heartbeat(): Promise<void>;
  /** False once the batch's partition was revoked, the membership lost, or the consumer is stopping. */
  isActive(): boolean;
}

/** applied: the batch's offsets may be committed; let_go: never (the next owner redelivers it). */
export type BatchOutcome = 'applied' | 'let_go';

/**
 * Heartbeat answers that mean this member's generation is over: whatever it still works on
 * belongs to the next owner, so waiting and retrying it would only hold up the rebalance.
 */
const GENERATION_OVER = new Set([
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'FENCED_INSTANCE_ID',
]);

export const generationOver = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && GENERATION_OVER.has(String((error as { type?: unknown }).type));

export interface ConsumerOptions {
  readonly groupId: string;
  readonly topic: string;
  readonly fromBeginning: boolean;
  readonly sessionTimeoutMs?: number;
  readonly maxBytesPerPartition?: number;
  /**
   * Batches of different partitions handled at once (the handler's Redis and Kafka round
   * trips overlap); batches of one partition stay strictly in order.
   */
  readonly partitionsConcurrently?: number;
  /**
   * 0: commit after every batch. Above 0: commit the finished batches' offsets at most
   * this often (and on stop), all partitions in one request.
   * Only offsets of batches whose handler resolved are ever committed, so this trades
   * how much a crash redelivers (and the handler skips) for a round trip per batch.
   */
  readonly commitIntervalMs?: number;
  /** A periodic commit failed (e.g. the partition moved to another member meanwhile). */
  readonly onCommitError?: (error: Error) => void;
  readonly handle: (batch: InputBatch, control: BatchControl) => Promise<BatchOutcome>;
  readonly onAssignment?: (partitions: readonly number[]) => void;
  /** `restarting` is false when kafkajs gives up (a non-retriable error): the consumer is dead. */
  readonly onCrash?: (error: Error, restarting: boolean) => void;
}

export interface RunningConsumer {
  assigned(): readonly number[];
  /**
   * Lets go of the unit in hand and every later one (they turn inactive): the first step of a
   * shutdown, so a unit waiting out an outage does not hold its partitions' locks (and the
   * shutdown) forever. Nothing let go is committed; the next owner redelivers it.
   */
  release(): void;
  stop(): Promise<void>;
}

export async function startConsumer(kafka: Kafka, options: ConsumerOptions): Promise<RunningConsumer> {
  const consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: 3000,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 1_048_576,
  });
  const commitIntervalMs = options.commitIntervalMs ?? 0;
  // Offsets of finished batches not committed yet (partition -> next offset to read).
  const uncommitted = new Map<number, string>();
  let lastCommit = 0;
  // Commits run one after the other (an older offset never lands after a newer one).
  let committing: Promise<void> = Promise.resolve();
  const commitFinished = (force: boolean): Promise<void> => {
    if (uncommitted.size === 0 || (!force && performance.now() - lastCommit < commitIntervalMs)) return committing;
    const offsets = [...uncommitted].map(([partition, offset]) => ({ topic: options.topic, partition, offset }));
    uncommitted.clear();
    lastCommit = performance.now();
    committing = committing.then(async () => {
      try {
        await consumer.commitOffsets(offsets);
      } catch (error) {
        // Harmless: the state holds its own offsets, so the next owner skips what was applied.
        options.onCommitError?.(error as Error);
      }
    });
    return committing;
  };
  let assigned: number[] = [];
  // Set by a heartbeat whose answer ends this generation; cleared when the member joins again.
  let generationLost: unknown = null;
  let released = false;
  const heartbeatOf = (heartbeat: () => Promise<void>) => async () => {
    try {
      await heartbeat();
    } catch (error) {
      if (generationOver(error)) generationLost = error;
      throw error;
    }
  };
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    generationLost = null;
    assigned = [...(event.payload.memberAssignment[options.topic] ?? [])].sort((a, b) => a - b);
    for (const partition of uncommitted.keys()) if (!assigned.includes(partition)) uncommitted.delete(partition);
    options.onAssignment?.(assigned);
  });
  consumer.on(consumer.events.CRASH, (event) => {
    options.onCrash?.(event.payload.error, event.payload.restart);
  });
  await consumer.connect();
  await consumer.subscribe({ topic: options.topic, fromBeginning: options.fromBeginning });
  // kafkajs's own auto-commit commits after every batch of eachBatch; committing here
  // instead lets a commit cover all partitions and come at most every commitIntervalMs.
  const flush = commitIntervalMs > 0 ? setInterval(() => void commitFinished(false), commitIntervalMs) : undefined;
  flush?.unref();
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConcurrently ?? 1,
    eachBatch: async ({ batch, heartbeat, resolveOffset, isRunning, isStale }: EachBatchPayload) => {
      const active = () => !released && isRunning() && !isStale() && generationLost === null;
      if (!active() || batch.messages.length === 0) return;
      const outcome = await options.handle(
        {
          topic: batch.topic,
          partition: batch.partition,
          highWatermark: batch.highWatermark,
          records: batch.messages.map((m) => ({
            key: m.key ?? null,
            value: m.value ?? null,
            offset: m.offset,
            timestamp: m.timestamp,
            headers: m.headers ?? {},
          })),
        },
        { heartbeat: heartbeatOf(heartbeat), isActive: active },
      );
      // kafkajs rejoins when a batch ends with the rebalance error: sooner than its next heartbeat.
      if (outcome === 'let_go' && generationLost !== null) throw generationLost;
      const last = batch.messages.at(-1);
      if (outcome === 'let_go' || last === undefined || !isRunning() || isStale()) return;
      resolveOffset(last.offset);
      uncommitted.set(batch.partition, String(BigInt(last.offset) + 1n));
      // Per-batch commits are awaited; periodic ones run beside the next fetch.
      if (commitIntervalMs === 0) await commitFinished(true);
      else void commitFinished(false);
      await heartbeat();
    },
  });
  return {
    // Released: nothing is ours to act on any more (timer passes, rescorings).
    assigned: () => (released ? [] : assigned),
    release: () => {
      released = true;
    },
    stop: async () => {
      released = true;
      clearInterval(flush);
      // kafkajs ignores commits once stopping begins: commit what has finished now. A batch
      // still in flight is redelivered to the next owner, which skips it by the state offsets.
      await commitFinished(true);
      await consumer.disconnect();
    },
  };
}
