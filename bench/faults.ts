// The long fault suite (docs/RELIABILITY.md): a replay of ~112,000 events of 15,000
// customers with 1,000 hostile records mixed in, through scorer processes that are
// killed with SIGKILL 10 times at random points, joined by a second member and left by
// one, while Redis (AOF) and the Kafka broker are each restarted once, the schema registry
// is stopped for 4 s and Redis frozen (SIGSTOP) for 8 s; three ~1 MB poison records. Prints and
// writes the invariants. The CI runs the same scenario shorter
// (test/integration/faults.test.ts).
//
//   scripts/stack.sh up && npx tsx bench/faults.ts [--customers 15000] [--kills 10] [--seed 11] [--write]
import { writeFileSync } from 'node:fs';
import { runFaultSuite } from '../test/helpers/faults.js';
import { benchArgs, numberOption } from './args.js';
import { machineSummary } from './machine.js';

const USAGE = 'npx tsx bench/faults.ts [--customers N] [--kills N] [--seed N] [--write]';
const args = benchArgs(
  {
    customers: { type: 'string', default: '15000' },
    kills: { type: 'string', default: '10' },
    seed: { type: 'string', default: '11' },
    write: { type: 'boolean', default: false },
  },
  USAGE,
);
const command = `npx tsx bench/faults.ts ${process.argv.slice(2).join(' ')}`.trim();
const machine = machineSummary();
const log: string[] = [];
const report = await runFaultSuite({
  customers: numberOption('customers', args.customers, { integer: true, min: 1 }, USAGE),
  days: 500,
  kills: numberOption('kills', args.kills, { integer: true, min: 0 }, USAGE),
  hostile: 1000,
  seed: numberOption('seed', args.seed, { integer: true, min: 0 }, USAGE),
  restartStack: true,
  dependencyFaults: true,
  log: (line) => {
    log.push(line);
    console.log(line);
  },
});
const o = report.outcome;
const holds =
  o.missing === 0 &&
  o.unexpected === 0 &&
  o.inconsistentDuplicates === 0 &&
  o.stateDifferences === 0 &&
  report.deadLetters.missing === 0 &&
  report.deadLetters.wrongClass === 0 &&
  report.deadLetters.validEvents === 0 &&
  report.crashExits === 0 &&
  report.committed === report.topicEnd;
const text = `# Fault suite (long)

Command: \`${command}\` (stack from \`scripts/stack.sh up\`; scorer processes \`churnstream run\`
with the shipped models, 6 partitions, watermark clock). Scenario and invariants: docs/RELIABILITY.md.

| | |
|---|---|
| events (seeded demo generator) | ${report.events} |
| hostile records mixed in | ${report.hostile} |
| SIGKILLs of a member | ${report.kills} |
| members joined / left (rebalances) | ${report.joins} / ${report.leaves} |
| Redis restarts (AOF) / Kafka broker restarts | ${report.redisRestarts} / ${report.kafkaRestarts} |
| schema registry outages / Redis frozen with SIGSTOP (8 s, over the 5 s command timeout) | ${report.registryOutages} / ${report.redisHangs} |
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
if (args.write) writeFileSync(new URL('./results/faults.md', import.meta.url), text);
process.exit(holds ? 0 : 1);
