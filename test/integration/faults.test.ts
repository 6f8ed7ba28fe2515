// The fault suite, short version for CI (the long one: bench/faults.ts): scorer
// processes killed with SIGKILL at random points, a member joining and one leaving,
// Redis and the Kafka broker restarted, the schema registry stopped, Redis frozen (SIGSTOP),
// hostile records (three of ~1 MB, over the dead-letter topic's limit) mixed in. The invariants of
// docs/RELIABILITY.md must hold at the end.
import { describe, expect, it } from 'vitest';
import { runFaultSuite } from '../helpers/faults.js';
import { expectStreamEqualsCore } from '../helpers/scorer.js';

describe('fault suite (short)', () => {
  it('keeps state exact, loses no risk change or dead letter, and catches up through kills, rebalances and stack restarts', async () => {
    const report = await runFaultSuite({
      customers: Number(process.env['FAULT_CUSTOMERS'] ?? 2500),
      days: 500,
      kills: Number(process.env['FAULT_KILLS'] ?? 4),
      hostile: 300,
      seed: 7,
      restartStack: true,
      dependencyFaults: true,
      log: (line) => console.log(`faults: ${line}`),
    });
    console.log(`faults: ${JSON.stringify(report)}`);
    expect(report.kills).toBeGreaterThanOrEqual(4);
    expect({
      joins: report.joins,
      leaves: report.leaves,
      redis: report.redisRestarts,
      kafka: report.kafkaRestarts,
      registryOutages: report.registryOutages,
      redisHangs: report.redisHangs,
    }).toEqual({ joins: 1, leaves: 1, redis: 1, kafka: 1, registryOutages: 1, redisHangs: 1 });
    expect(report.crashExits).toBe(0);
    expectStreamEqualsCore(report.outcome);
    expect(report.deadLetters).toMatchObject({ missing: 0, wrongClass: 0, validEvents: 0, truncated: 3 });
    expect(report.committed).toBe(report.topicEnd);
  }, 900_000);
});
