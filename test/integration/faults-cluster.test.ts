// The fault suite (short) on the Redis Cluster (3 primaries + 3 replicas, REDIS_WAIT_REPLICAS=1):
// three scorer processes, SIGKILLed at random points, a member joining and one leaving,
// hostile records (three of ~1 MB), and the cluster's own faults: a primary frozen (SIGSTOP)
// past the node timeout (its replica is promoted, it rejoins as a replica), a primary killed and
// started again, and every node stopped and started again from its data (the scorers pause,
// keep answering /healthz and /metrics, and resume by themselves). Kafka, the registry and the
// single Redis are shared with other users of the stack and are not touched. The invariants of
// docs/RELIABILITY.md must hold as on the single Redis.
import { describe, expect, it } from 'vitest';
import { runFaultSuite } from '../helpers/faults.js';
import { expectStreamEqualsCore } from '../helpers/scorer.js';

describe('fault suite on Redis Cluster (short)', () => {
  it('keeps state exact, loses no risk change or dead letter, and catches up through kills, failovers and a whole-cluster outage', async () => {
    const report = await runFaultSuite({
      customers: Number(process.env['FAULT_CUSTOMERS'] ?? 2500),
      days: 500,
      kills: Number(process.env['FAULT_KILLS'] ?? 4),
      hostile: 300,
      seed: Number(process.env['FAULT_SEED'] ?? 7),
      redis: 'cluster',
      members: 3,
      restartStack: true,
      dependencyFaults: true,
      log: (line) => console.log(`faults-cluster: ${line}`),
    });
    console.log(`faults-cluster: ${JSON.stringify(report)}`);
    expect(report.kills).toBeGreaterThanOrEqual(Math.min(4, Number(process.env['FAULT_KILLS'] ?? 4)));
    expect({
      joins: report.joins,
      leaves: report.leaves,
      primaryHangs: report.primaryHangs,
      primaryRestarts: report.primaryRestarts,
      clusterOutages: report.clusterOutages,
    }).toEqual({ joins: 1, leaves: 1, primaryHangs: 1, primaryRestarts: 1, clusterOutages: 1 });
    // Whole-cluster outage: alive and scrapeable throughout, not ready, nothing applied, back
    // by itself; a member started during it waits for Redis and joins (no member exits on its
    // own in this suite: no exit at all).
    const outage = report.outage;
    if (outage === null) throw new Error('no whole-cluster outage ran');
    expect(outage.rounds).toBeGreaterThanOrEqual(3);
    expect(outage.healthz[1]).toBeGreaterThanOrEqual(2 * outage.rounds);
    expect(outage.healthz[0]).toBe(outage.healthz[1]);
    expect(outage.metrics[0]).toBe(outage.metrics[1]);
    expect(outage.notReady[0]).toBe(outage.notReady[1]);
    expect(outage.waitingForRedis).toBeGreaterThan(0);
    expect(outage.redisDown).toBeGreaterThan(0);
    expect(outage.staleRedis).toBe(outage.metrics[1]);
    expect(Number.isFinite(outage.appliedDuring[0])).toBe(true);
    expect(outage.appliedDuring[1]).toBe(outage.appliedDuring[0]);
    expect(outage.resumeSeconds).toBeLessThan(30);
    expect(outage.replacementReadySeconds).toBeLessThan(30);
    expect(report.unplannedRestarts).toBe(0);
    expectStreamEqualsCore(report.outcome);
    expect(report.deadLetters).toMatchObject({ missing: 0, wrongClass: 0, validEvents: 0, truncated: 3 });
    expect(report.committed).toBe(report.topicEnd);
  }, 900_000);
});
