// Feature engine benchmark: cost per event of folding an event into the customer's
// state and reading the full feature vector as of the event time, and the serialised
// state size per customer, when replaying real order histories (../shared/data when
// present, otherwise the seeded demo generator). The Avro decode of the same events
// runs side by side as a baseline, so the ratio survives a noisy machine.
//
//   npx tsx bench/features.ts [--write]      (--write updates bench/results/features.md)
import { existsSync, writeFileSync } from 'node:fs';
import avro from 'avsc';
import { loadCdnow } from '../src/adapters/files/datasets/cdnow.js';
import { formatReport } from '../src/adapters/files/datasets/report.js';
import { loadUciOnlineRetail } from '../src/adapters/files/datasets/uci-online-retail.js';
import { readSchemaText } from '../src/adapters/files/schemas.js';
import { toOrderEventRecord } from '../src/adapters/registry/order-event-codec.js';
import { generateDemoHistory } from '../src/core/demo/generator.js';
import type { OrderEvent } from '../src/core/events/order-event.js';
import { featuresAt } from '../src/core/features/extract.js';
import { nextChangeTime } from '../src/core/features/next-change.js';
import { DEFAULT_FEATURE_SPEC } from '../src/core/features/spec.js';
import { encodeState } from '../src/core/state/codec.js';
import { type CustomerState, emptyState, foldEvent } from '../src/core/state/customer-state.js';
import { DAY_MS } from '../src/core/time.js';
import { benchArgs } from './args.js';
import { machineSummary, percentile } from './machine.js';

const args = benchArgs({ write: { type: 'boolean', default: false } }, 'npx tsx bench/features.ts [--write]');

const spec = DEFAULT_FEATURE_SPEC;
const ROUNDS = 5;

interface Result {
  readonly name: string;
  readonly events: number;
  readonly customers: number;
  readonly foldAndExtractUs: number;
  readonly nextChangeUs: number;
  readonly decodeBaselineUs: number;
  readonly sizes: { median: number; p99: number; max: number };
}

function replay(events: readonly OrderEvent[]): Map<string, CustomerState> {
  const states = new Map<string, CustomerState>();
  let sink = 0;
  for (const event of events) {
    let state = states.get(event.customerId);
    if (state === undefined) {
      state = emptyState();
      states.set(event.customerId, state);
    }
    foldEvent(state, event, spec.retention);
    sink += featuresAt(state, event.eventTime, spec)[0] ?? 0;
  }
  if (sink === Number.MIN_VALUE) console.log(sink);
  return states;
}

function bestOf(rounds: number, run: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < rounds; i += 1) {
    const start = performance.now();
    run();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

function measure(name: string, events: readonly OrderEvent[]): Result {
  const orderType = avro.Type.forSchema(JSON.parse(readSchemaText('orderEvent')) as avro.Schema);
  const encoded = events.map((event) => orderType.toBuffer(toOrderEventRecord(event)));
  replay(events); // warm-up
  const foldMs = bestOf(ROUNDS, () => replay(events));
  const decodeMs = bestOf(ROUNDS, () => {
    for (const bytes of encoded) orderType.fromBuffer(bytes);
  });
  const states = replay(events);
  const lastTime = new Map(events.map((event) => [event.customerId, event.eventTime]));
  const nextMs = bestOf(ROUNDS, () => {
    for (const [customer, state] of states) nextChangeTime(state, lastTime.get(customer) ?? 0, spec, 7 * DAY_MS);
  });
  const sizes = [...states.values()].map((state) => encodeState(state).length).sort((a, b) => a - b);
  return {
    name,
    events: events.length,
    customers: states.size,
    foldAndExtractUs: (foldMs * 1000) / events.length,
    nextChangeUs: (nextMs * 1000) / states.size,
    decodeBaselineUs: (decodeMs * 1000) / events.length,
    sizes: { median: percentile(sizes, 0.5), p99: percentile(sizes, 0.99), max: sizes.at(-1) ?? 0 },
  };
}

const datasets: { name: string; load: () => Promise<OrderEvent[]> }[] = [];
const uci = '../shared/data/uci-online-retail/online_retail.csv.gz';
const cdnow = '../shared/data/cdnow/CDNOW_master.txt';
const notes: string[] = [];
if (existsSync(uci)) {
  datasets.push({
    name: 'UCI Online Retail',
    load: async () => {
      const { events, report } = await loadUciOnlineRetail(uci);
      notes.push(formatReport(report));
      return events;
    },
  });
}
if (existsSync(cdnow)) {
  datasets.push({
    name: 'CDNOW master',
    load: async () => {
      const { events, report } = loadCdnow(cdnow);
      notes.push(formatReport(report));
      return events;
    },
  });
}
datasets.push({
  name: 'demo generator (seed 42, 20k customers, 720 days)',
  load: async () => generateDemoHistory({ seed: 42, customers: 20_000, start: Date.UTC(2024, 0, 1), days: 720 }),
});

const results: Result[] = [];
for (const dataset of datasets) {
  const events = await dataset.load();
  results.push(measure(dataset.name, events));
}

const table = [
  '| data | events | customers | fold + 56 features, µs/event | Avro decode baseline, µs/event | ratio | nextChangeTime, µs/customer | state bytes median / p99 / max |',
  '|---|---|---|---|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${r.name} | ${r.events} | ${r.customers} | ${r.foldAndExtractUs.toFixed(2)} | ${r.decodeBaselineUs.toFixed(2)} | ${(r.foldAndExtractUs / r.decodeBaselineUs).toFixed(1)}x | ${r.nextChangeUs.toFixed(2)} | ${r.sizes.median} / ${r.sizes.p99} / ${r.sizes.max} |`,
  ),
].join('\n');

const report = `# Feature engine benchmark

Command: \`npx tsx bench/features.ts --write\` (best of ${ROUNDS} rounds per measurement, one process).

Each event is folded into its customer's state and the full feature vector is read as of
the event time, exactly as the streaming scorer will do per event. The baseline decodes the
same events from Avro binary (what ingest pays per event anyway). State size is the
serialised customer state (\`encodeState\`) after the whole replay.

${table}

Loaders:
${notes.map((note) => `- ${note}`).join('\n')}

Machine:
\`\`\`
${machineSummary()}
\`\`\`
`;
console.log(report);
if (args.write) writeFileSync(new URL('./results/features.md', import.meta.url), report);
