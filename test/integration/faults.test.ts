// The fault suite, short version for CI (the long one: bench/faults.ts): scorer
// processes killed with SIGKILL at random points, a member joining and one leaving,
// Redis and the Kafka broker restarted, hostile records mixed in. The invariants of
// docs/RELIABILITY.md must hold at the end.
import { describe, expect, it } from 'vitest';
import { runFaultSuite } from '../helpers/faults.js';

describe('fault suite (short)', () => {
  it('keeps state exact, loses no risk change or dead letter, and catches up through kills, rebalances and stack restarts', async () => {
    const report = await runFaultSuite({
      customers: Number(process.env['FAULT_CUSTOMERS'] ?? 2500),
      days: 500,
      kills: Number(process.env['FAULT_KILLS'] ?? 4),
      hostile: 300,
      seed: 7,
      restartStack: true,
      log: (line) => console.log(`faults: ${line}`),
    });
    console.log(`faults: ${JSON.stringify(report)}`);
    expect(report.kills).toBeGreaterThanOrEqual(4);
    expect({
      joins: report.joins,
      leaves: report.leaves,
      redis: report.redisRestarts,
      kafka: report.kafkaRestarts,
    }).toEqual({ joins: 1, leaves: 1, redis: 1, kafka: 1 });
    expect(report.outcome).toMatchObject({ missing: 0, unexpected: 0, inconsistentDuplicates: 0, stateDifferences: 0 });
    expect(report.deadLetters).toMatchObject({ missing: 0, wrongClass: 0 });
    expect(report.committed).toBe(report.topicEnd);
  }, 900_000);
});
