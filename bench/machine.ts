// Shared by the benchmarks: the machine facts printed with every result (results mean little
// without them), percentiles, settings that keep each run isolated, and synthetic orders.
import { cpus, loadavg, totalmem } from 'node:os';
import type { OrderEvent } from '../src/core/events/order-event.js';

export function machineSummary(): string {
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  const [one, five] = loadavg();
  return [
    `date: ${new Date().toISOString()}`,
    `node: ${process.version}`,
    `cpu: ${cpu} x ${cpus().length}`,
    `memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `load average (1m, 5m) at start: ${one?.toFixed(2)}, ${five?.toFixed(2)}`,
  ].join('\n');
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

/**
 * Settings for one benchmark run of its own: topics, group and Redis namespace carry a
 * fresh suffix so runs never share state; `overrides` adds or replaces settings.
 */
export function isolatedEnv(label: string, overrides: Record<string, string> = {}): Record<string, string> {
  const suffix = `${label}.${Date.now().toString(36)}`;
  return {
    CHURNSTREAM_ORDERS_TOPIC: `bench.${suffix}.orders`,
    CHURNSTREAM_RISK_TOPIC: `bench.${suffix}.risk-changes`,
    CHURNSTREAM_DEAD_LETTER_TOPIC: `bench.${suffix}.dead-letters`,
    CHURNSTREAM_GROUP_ID: `bench.${suffix}`,
    CHURNSTREAM_REDIS_NAMESPACE: `bench-${suffix}`,
    CHURNSTREAM_PARTITIONS: '6',
    CHURNSTREAM_HTTP_PORT: '0',
    CHURNSTREAM_LOG_LEVEL: 'warn',
    ...overrides,
  };
}

/** A synthetic order; `seed` varies the amount and item count deterministically. */
export function syntheticOrder(customerId: string, orderId: string, eventTime: number, seed: number): OrderEvent {
  return {
    customerId,
    orderId,
    eventTime,
    type: 'order',
    amount: 10 + (seed % 90),
    currency: 'GBP',
    itemCount: 1 + (seed % 4),
    originalOrderId: null,
  };
}
