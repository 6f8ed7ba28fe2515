// The long fault suite (docs/RELIABILITY.md): a replay of ~112,000 events of 15,000
// customers with 1,000 hostile records mixed in, through scorer processes that are
// killed with SIGKILL 10 times at random points, joined by a second member and left by
// one, while Redis (AOF) and the Kafka broker are each restarted once, the schema registry
// is stopped for 4 s and Redis frozen (SIGSTOP) for 8 s; three ~1 MB poison records. Prints and
// writes the invariants. The CI runs the same scenario shorter
// (test/integration/faults.test.ts).
//
// With --redis-cluster the same on the stack's Redis Cluster (REDIS_WAIT_REPLICAS=1), three
// members from the start, and the cluster's own faults instead of the broker, registry and
// single-Redis ones: a primary frozen past the node timeout, a primary killed and restarted,
// every node stopped and started again (test/integration/faults-cluster.test.ts, shorter).
//
//   scripts/stack.sh up && npx tsx bench/faults.ts [--customers 15000] [--kills 10] [--seed 11] [--redis-cluster] [--write]
import { writeFileSync } from 'node:fs';
import { runFaultSuite } from '../test/helpers/faults.js';
import { benchArgs, numberOption, redisClusterOption, resultFile } from './args.js';
import { machineSummary } from './machine.js';

const USAGE = 'npx tsx bench/faults.ts [--customers N] [--kills N] [--seed N] [--redis-cluster] [--write]';
const args = benchArgs(
  {
    customers: { type: 'string', default: '15000' },
    kills: { type: 'string', default: '10' },
    seed: { type: 'string', default: '11' },
    write: { type: 'boolean', default: false },
    ...redisClusterOption,
  },
  USAGE,
);
// The cluster's faults act on the stack's nodes (their pid files): REDIS_CLUSTER_NODES is not enough.
const cluster = args['redis-cluster'];
const command = `npx tsx bench/faults.ts ${process.argv.slice(2).join(' ')}`.trim();
const machine = machineSummary();
const log: string[] = [];
const report = await runFaultSuite({
  customers: numberOption('customers', args.customers, { integer: true, min: 1 }, USAGE),
  days: 500,
  kills: numberOption('kills', args.kills, { integer: true, min: 0 }, USAGE),
  hostile: 1000,
  seed: numberOption('seed', args.seed, { integer: true, min: 0 }, USAGE),
  ...(cluster ? { redis: 'cluster' as const, members: 3 } : {}),
  restartStack: true,
  dependencyFaults: true,
  log: (line) => {
    log.push(line);
    console.log(line);
  },
});
const o = report.outcome;
const outage = report.outage;
/** The whole-cluster outage: alive, scrapeable and not ready throughout, nothing applied, back by itself. */
const outageHolds = () =>
  outage !== null &&
  outage.healthz[0] === outage.healthz[1] &&
  outage.metrics[0] === outage.metrics[1] &&
  outage.notReady[0] === outage.notReady[1] &&
  outage.appliedDuring[0] === outage.appliedDuring[1] &&
  Number.isFinite(outage.resumeSeconds) &&
  Number.isFinite(outage.replacementReadySeconds);
const dependencyRows = cluster
  ? `| primaries killed and started again / frozen with SIGSTOP past the node timeout (replica promoted) | ${report.primaryRestarts} / ${report.primaryHangs} |
| whole-cluster outages (all 6 nodes stopped, started again from their data) | ${report.clusterOutages} |
| in the outage: /healthz, /metrics answered; /readyz 503 (of asked) | ${outage === null ? 'none' : `${outage.healthz[0]}, ${outage.metrics[0]}; ${outage.notReady[0]} (of ${outage.healthz[1]})`} |
| in the outage: valid events applied; after it: first event applied, member started in it ready (s) | ${outage === null ? 'none' : `${outage.appliedDuring[1] - outage.appliedDuring[0]}; ${outage.resumeSeconds.toFixed(1)}, ${outage.replacementReadySeconds.toFixed(1)}`} |`
  : `| Redis restarts (AOF) / Kafka broker restarts | ${report.redisRestarts} / ${report.kafkaRestarts} |
| schema registry outages / Redis frozen with SIGSTOP (8 s, over the 5 s command timeout) | ${report.registryOutages} / ${report.redisHangs} |`;
const holds =
  o.missing === 0 &&
  o.unexpected === 0 &&
  o.inconsistentDuplicates === 0 &&
  o.stateDifferences === 0 &&
  report.deadLetters.missing === 0 &&
  report.deadLetters.wrongClass === 0 &&
  report.deadLetters.validEvents === 0 &&
  report.crashExits === 0 &&
  (!cluster || (report.startRefusals === 0 && outageHolds())) &&
  report.committed === report.topicEnd;
const text = `# Fault suite (long${cluster ? ', Redis Cluster' : ''})

Command: \`${command}\` (stack from \`scripts/stack.sh up${cluster ? ' --redis-cluster' : ''}\`; scorer processes \`churnstream run\`
with the shipped models, 6 partitions, watermark clock${cluster ? '; state on the Redis Cluster (3 primaries + 3 replicas), REDIS_WAIT_REPLICAS=1, three members from the start' : ''}). Scenario and invariants: docs/RELIABILITY.md.

| | |
|---|---|
| events (seeded demo generator) | ${report.events} |
| hostile records mixed in | ${report.hostile} |
| SIGKILLs of a member | ${report.kills} |
| members joined / left (rebalances) | ${report.joins} / ${report.leaves} |
${dependencyRows}
| members that exited on their own and were restarted | ${report.unplannedRestarts} |
| of which crash exits / refused starts (exit 2, a dependency down at start) | ${report.crashExits} / ${report.startRefusals} |
| valid events dead-lettered | ${report.deadLetters.validEvents} |
| dead letters cut to fit the topic (records of ~1 MB) | ${report.deadLetters.truncated} |
| expected risk-change events | ${o.expectedRecords} |
| missing / unexpected | ${o.missing} / ${o.unexpected} |
| duplicates (all identical: ${o.inconsistentDuplicates === 0 ? 'yes' : 'NO'}) | ${o.duplicates} |
| customers whose Redis state differs from the recomputation | ${o.stateDifferences} |
| dead letters: missing / wrong class / duplicates | ${report.deadLetters.missing} / ${report.deadLetters.wrongClass} / ${report.deadLetters.duplicates} |
| committed offsets / records in the topic | ${report.committed} / ${report.topicEnd} |
| wall time | ${report.seconds.toFixed(0)} s |

Invariants: **${holds ? 'all hold' : 'VIOLATED'}**.

<details><summary>sequence</summary>

\`\`\`
${log.join('\n')}
\`\`\`
</details>

Machine:
\`\`\`
${machine}
\`\`\`
`;
console.log(text);
if (args.write) writeFileSync(resultFile('faults', cluster), text);
process.exit(holds ? 0 : 1);
