// Reads a topic once, from its beginning (or an offset) to the end offsets it had when the
// read started, for tools such as the dead-letter command. kafkajs can only consume through
// a consumer group, so a throwaway group is used: it never commits (no offsets to leave
// behind, nothing shared with the scorer's group) and is deleted afterwards. Records come
// back as plain objects so kafkajs types stay in this folder.
import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka } from 'kafkajs';

export interface RecordHeader {
  readonly key: string;
  /** Kafka allows a null header value. */
  readonly value: Buffer | null;
}

export interface TopicRecord {
  readonly partition: number;
  readonly offset: number;
  /** Record timestamp, epoch milliseconds. */
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly RecordHeader[];
}

export interface ReadRange {
  readonly topic: string;
  /** First offset to read in every partition (default: each partition's earliest). */
  readonly fromOffset?: number | undefined;
  /** Last offset to read in every partition, inclusive (default: the end at the start of the read). */
  readonly toOffset?: number | undefined;
  /** The read fails when no batch arrives for this long (default 30 s) instead of hanging. */
  readonly idleTimeoutMs?: number | undefined;
}

export class UnknownTopicError extends Error {
  override readonly name = 'UnknownTopicError';
  readonly topic: string;

  constructor(topic: string) {
    super(`topic ${topic} does not exist`);
    this.topic = topic;
  }
}

/** Partition counts of the topics that exist (missing topics are absent from the map). */
export async function partitionCounts(kafka: Kafka, topics: readonly string[]): Promise<Map<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((topic) => existing.has(topic));
    if (present.length === 0) return new Map();
    const metadata = await admin.fetchTopicMetadata({ topics: present });
    return new Map(metadata.topics.map((topic) => [topic.name, topic.partitions.length]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Hands every record of the range to `onRecords`, one fetched batch at a time and in offset
 * order per partition (the next batch waits for the callback, so memory stays bounded).
 * Returns the number of records handed over.
 */
export async function readTopic(
  kafka: Kafka,
  range: ReadRange,
  onRecords: (records: readonly TopicRecord[]) => Promise<void> | void,
): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `churnstream-reader-${randomUUID()}`;
  try {
    if (!(await admin.listTopics()).includes(range.topic)) throw new UnknownTopicError(range.topic);
    // Fixed before reading: records appended meanwhile are not waited for, so the read ends.
    const bounds = new Map<number, { start: number; end: number }>();
    for (const { partition, low, high } of await admin.fetchTopicOffsets(range.topic)) {
      const start = Math.max(Number(low), range.fromOffset ?? 0);
      const end = Math.min(Number(high), range.toOffset === undefined ? Number.POSITIVE_INFINITY : range.toOffset + 1);
      if (start < end) bounds.set(partition, { start, end });
    }
    if (bounds.size === 0) return 0;
    return await readBounded(kafka, groupId, range, bounds, onRecords);
  } finally {
    // The group never committed; deleting it only tidies the broker's group list.
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

async function readBounded(
  kafka: Kafka,
  groupId: string,
  range: ReadRange,
  bounds: ReadonlyMap<number, { start: number; end: number }>,
  onRecords: (records: readonly TopicRecord[]) => Promise<void> | void,
): Promise<number> {
  const { topic } = range;
  const idleTimeoutMs = range.idleTimeoutMs ?? 30_000;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  const pending = new Set(bounds.keys());
  let count = 0;
  let failure: Error | null = null;
  let settle: (error: Error | null) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    settle = (error) => (error === null ? resolve() : reject(error));
  });
  // Awaited only after run(): a failure before that must not count as unhandled.
  finished.catch(() => undefined);
  const fail = (error: Error) => {
    failure ??= error;
    settle(failure);
  };
  // Next offset to hand over per partition: a batch fetched before the seek applied may
  // overlap the one fetched after it, and no record is handed over twice.
  const next = new Map([...bounds].map(([partition, { start }]) => [partition, start]));
  let idle: NodeJS.Timeout | undefined;
  const armIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(() => fail(new Error(`no progress reading ${topic} for ${idleTimeoutMs} ms`)), idleTimeoutMs);
  };
  // Every fetched batch ends here, also those kafkajs hides from eachBatch (only control
  // records), so positions advance past transaction markers too.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    armIdle();
    const bound = bounds.get(payload.partition);
    if (bound === undefined || !pending.has(payload.partition)) return;
    if (Number(payload.lastOffset) + 1 >= bound.end) {
      pending.delete(payload.partition);
      consumer.pause([{ topic, partitions: [payload.partition] }]);
      if (pending.size === 0) settle(null);
    }
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => fail(payload.error));
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    armIdle();
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const bound = bounds.get(batch.partition);
        const from = next.get(batch.partition);
        if (failure !== null || bound === undefined || from === undefined) return;
        const records = batch.messages
          .filter((m) => Number(m.offset) >= from && Number(m.offset) < bound.end)
          .map((m) => ({
            partition: batch.partition,
            offset: Number(m.offset),
            timestamp: Number(m.timestamp),
            key: m.key ?? null,
            value: m.value ?? null,
            headers: headersOf(m.headers ?? {}),
          }));
        const last = records.at(-1);
        if (last === undefined) return;
        next.set(batch.partition, last.offset + 1);
        // The caller's time (a slow terminal, a replay's writes) is not a stalled read.
        clearTimeout(idle);
        try {
          await onRecords(records);
          count += records.length;
          armIdle();
        } catch (error) {
          // Not rethrown: kafkajs would retry the batch; the read stops with this error instead.
          fail(error instanceof Error ? error : new Error(String(error)));
        }
      },
    });
    for (const [partition, { start }] of bounds) consumer.seek({ topic, partition, offset: String(start) });
    await finished;
    return count;
  } finally {
    clearTimeout(idle);
    await consumer.disconnect();
  }
}

/** kafkajs groups repeated header keys into arrays; this flattens them back in order. */
function headersOf(headers: IHeaders): RecordHeader[] {
  return Object.entries(headers).flatMap(([key, value]) =>
    (Array.isArray(value) ? value : [value]).map((v) => ({
      key,
      // kafkajs decodes a null header value as null (its types do not say so).
      value: v === undefined || v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(v),
    })),
  );
}
