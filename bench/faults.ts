// The long fault suite (docs/RELIABILITY.md): a replay of ~112,000 events of 15,000
// customers with 1,000 hostile records mixed in, through scorer processes that are
// killed with SIGKILL 10 times at random points, joined by a second member and left by
// one, while Redis (AOF) and the Kafka broker are each restarted once. Prints and
// writes the invariants. The CI runs the same scenario shorter
// (test/integration/faults.test.ts).
//
//   scripts/stack.sh up && npx tsx bench/faults.ts [--customers 15000] [--kills 10] [--write]
import { writeFileSync } from 'node:fs';
import { runFaultSuite } from '../test/helpers/faults.js';
import { machineSummary } from './machine.js';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
};
const command = `npx tsx bench/faults.ts ${process.argv.slice(2).join(' ')}`.trim();
const machine = machineSummary();
const log: string[] = [];
const report = await runFaultSuite({
  customers: arg('customers', 15_000),
  days: 500,
  kills: arg('kills', 10),
  hostile: 1000,
  seed: arg('seed', 11),
  restartStack: true,
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
| members that exited on their own and were restarted | ${report.unplannedRestarts} |
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
if (process.argv.includes('--write')) writeFileSync(new URL('./results/faults.md', import.meta.url), text);
process.exit(holds ? 0 : 1);
