// Joins the consumer group and feeds the unit handler: the batches kafkajs hands over
// together become one unit (coalescer.ts), run under the locks of their partitions, with
// a control that heartbeats through the first batch and is active only while every batch
// of the unit is still owned.
import type { KafkaConnection } from '../adapters/kafka/connection.js';
import type { RunningConsumer } from '../adapters/kafka/consumer.js';
import type { Metrics } from '../adapters/metrics/definitions.js';
import type { Clock } from './clock.js';
import { createCoalescer } from './coalescer.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { PartitionLocks } from './partition-locks.js';
import type { InputBatch, UnitControl, UnitOutcome, WatermarkStore } from './scorer/ports.js';

export interface ConsumeOptions {
  readonly config: Config;
  readonly kafka: KafkaConnection;
  readonly handleUnit: (batches: readonly InputBatch[], control: UnitControl) => Promise<UnitOutcome>;
  readonly locks: PartitionLocks;
  readonly metrics: Metrics;
  readonly watermarks: WatermarkStore;
  readonly clock: Clock;
  readonly log: Logger;
  /** The consumer died for good (kafkajs will not restart it). */
  readonly onFatal: (error: Error) => void;
}

export function startConsuming(options: ConsumeOptions): Promise<RunningConsumer> {
  const { config, metrics, clock, log } = options;
  const submit = createCoalescer<{ readonly batch: InputBatch; readonly control: UnitControl }, UnitOutcome>((items) =>
    options.locks(
      items.map(({ batch }) => batch.partition),
      () =>
        options.handleUnit(
          items.map(({ batch }) => batch),
          {
            heartbeat: () => items[0]?.control.heartbeat() ?? Promise.resolve(),
            isActive: () => items.every(({ control }) => control.isActive()),
          },
        ),
    ),
  );
  return options.kafka.consume({
    groupId: config.groupId,
    topic: config.topics.orders,
    fromBeginning: config.fromBeginning,
    sessionTimeoutMs: config.sessionTimeoutMs,
    maxBytesPerPartition: config.maxBatchBytes,
    partitionsConcurrently: config.concurrentPartitions,
    commitIntervalMs: config.commitIntervalMs,
    onCommitError: (error) => log.debug({ err: error }, 'offset commit failed; the next owner skips applied events'),
    handle: async (batch, control) => {
      const outcome = await submit({ batch, control });
      if (outcome === 'applied') {
        const lastOffset = BigInt(batch.records.at(-1)?.offset ?? '0');
        metrics.lag.set({ partition: String(batch.partition) }, Number(BigInt(batch.highWatermark) - lastOffset - 1n));
      }
      return outcome;
    },
    onAssignment: (partitions) => {
      metrics.rebalances.inc();
      log.info({ partitions }, 'partitions assigned');
      // Replays: resume each partition's event-time watermark where the last owner left it.
      if (clock.kind !== 'watermark') return;
      options.watermarks.load(partitions).then(
        (marks) => {
          for (const [partition, mark] of marks) clock.observe(partition, mark);
        },
        (error: unknown) => log.warn({ err: error }, 'watermarks not read; timers wait for the next events'),
      );
    },
    onCrash: (error, restarting) => {
      log.error({ err: error, restarting }, 'consumer crashed');
      // Offsets were committed only for finished batches: a restart by the supervisor loses nothing.
      if (!restarting) options.onFatal(error);
    },
  });
}
