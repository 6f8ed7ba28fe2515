// Series read from Redis at scrape time (model health, timer backlog) must never make
// /metrics fail or hang: each read gets a short deadline, and a read that fails or runs
// out leaves its series out of this scrape and sets churnstream_series_stale{source} to 1,
// so lag, throughput and dead-letter series stay scrapeable during a Redis outage.
import type { Metrics } from '../adapters/metrics/definitions.js';

export const SCRAPE_READ_TIMEOUT_MS = 1000;

interface ScrapeState {
  readonly inFlight: Set<Promise<unknown>>;
  readonly stale: Map<string, number>;
}
const states = new WeakMap<Metrics, ScrapeState>();

/** The metrics' scrape state; the first use makes the stale gauge wait for this scrape's reads. */
function stateOf(metrics: Metrics): ScrapeState {
  let state = states.get(metrics);
  if (state === undefined) {
    const created: ScrapeState = { inFlight: new Set(), stale: new Map() };
    states.set(metrics, created);
    metrics.staleSeries(async () => {
      // Every collector of this scrape starts its reads before this turn is over.
      await new Promise((resolve) => setImmediate(resolve));
      await Promise.allSettled([...created.inFlight]);
      return created.stale;
    });
    state = created;
  }
  return state;
}

export function guardedRead<K, T>(
  metrics: Metrics,
  source: string,
  read: () => Promise<ReadonlyMap<K, T>>,
  timeoutMs = SCRAPE_READ_TIMEOUT_MS,
): () => Promise<ReadonlyMap<K, T>> {
  const state = stateOf(metrics);
  const guarded = async (): Promise<ReadonlyMap<K, T>> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${source} read timed out`)), timeoutMs);
    });
    try {
      const value = await Promise.race([read(), deadline]);
      state.stale.set(source, 0);
      return value;
    } catch {
      state.stale.set(source, 1);
      return new Map();
    } finally {
      clearTimeout(timer);
    }
  };
  return () => {
    const run = guarded();
    state.inFlight.add(run);
    void run.finally(() => state.inFlight.delete(run));
    return run;
  };
}
