// The committed consumer-group lag from the broker's view, every interval: unlike the lag
// seen in fetched batches it also shows partitions nobody consumes (a dead member's).
import type { Logger } from './logger.js';
import { type Repeating, repeat } from './repeat.js';

export function startLagLoop(
  intervalMs: number,
  read: () => Promise<ReadonlyMap<number, number>>,
  report: (partition: number, lag: number) => void,
  log: Logger,
): Repeating {
  return repeat(
    intervalMs,
    async () => {
      for (const [partition, lag] of await read()) report(partition, lag);
    },
    log,
    'consumer group lag check failed; retrying every interval',
  );
}
