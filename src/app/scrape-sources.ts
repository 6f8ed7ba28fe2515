// Series read from Redis at scrape time (model health, timer backlog) must never make
// /metrics fail or hang: each read gets a short deadline, and a read that fails or runs
// out leaves its series out of this scrape and sets churnstream_series_stale{source} to 1,
// so lag, throughput and dead-letter series stay scrapeable during a Redis outage.
import type { Metrics } from '../adapters/metrics/definitions.js';

export const SCRAPE_READ_TIMEOUT_MS = 1000;

export function guardedRead<K, T>(
  metrics: Metrics,
  source: string,
  read: () => Promise<ReadonlyMap<K, T>>,
  timeoutMs = SCRAPE_READ_TIMEOUT_MS,
): () => Promise<ReadonlyMap<K, T>> {
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${source} read timed out`)), timeoutMs);
    });
    try {
      const value = await Promise.race([read(), deadline]);
      metrics.seriesStale.set({ source }, 0);
      return value;
    } catch {
      metrics.seriesStale.set({ source }, 1);
      return new Map();
    } finally {
      clearTimeout(timer);
    }
  };
}
