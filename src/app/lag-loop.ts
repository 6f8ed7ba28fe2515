// The committed consumer-group lag from the broker's view, every interval: unlike the lag
// seen in fetched batches it also shows partitions nobody consumes (a dead member's).
import type { Logger } from './logger.js';

export function startLagLoop(
  intervalMs: number,
  read: () => Promise<ReadonlyMap<number, number>>,
  report: (partition: number, lag: number) => void,
  log: Logger,
): { stop(): void } {
  let failing = false;
  const check = async () => {
    try {
      for (const [partition, lag] of await read()) report(partition, lag);
      failing = false;
    } catch (error) {
      if (!failing) log.warn({ err: error }, 'consumer group lag check failed; retrying every interval');
      failing = true;
    }
  };
  void check();
  const loop = setInterval(() => void check(), intervalMs);
  return { stop: () => clearInterval(loop) };
}
