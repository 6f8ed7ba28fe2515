// Redis Cluster vs a single Redis for the streaming scorer, in one run on one machine:
//
//   for each backend (a dedicated single Redis; the stack's Redis Cluster, 3 primaries +
//   3 replicas; the cluster with REDIS_WAIT_REPLICAS=1) and each number of scorer processes
//   (default 1 and 3), a fresh topic of --events orders over --customers customers is
//   drained by that many `churnstream run` processes (compiled: run `npm run build` first);
//   reported: events/s (produced once every process is ready; from the first record consumed to
//   the group's committed offsets covering every event), Redis operations per
//   event (INFO commandstats deltas over the primaries; a script's inner calls count) and
//   Redis bytes per customer on the primaries (used_memory delta; replicas hold as much again).
//
//   Scenarios alternate within each of --rounds rounds (a shared machine drifts); the report
//   gives each scenario's median and every round's rate.
//
//   npx tsx bench/cluster.ts [--customers 20000] [--events 100000] [--processes 1,3] [--rounds 3] [--write]
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createIdempotentProducer, createKafka } from '../src/adapters/kafka/client.js';
import { toOrderEventRecord } from '../src/adapters/registry/order-event-codec.js';
import { type Config, loadConfig } from '../src/app/config.js';
import { provision } from '../src/app/setup.js';
import { committedOffsets } from '../test/helpers/scorer-process.js';
import { stackEnv } from '../test/helpers/stack.js';
import { freePort, httpGet, metricSamples } from '../test/helpers/stack-control.js';
import { benchArgs, numberListOption, numberOption } from './args.js';
import { dedicatedRedis, type RedisSide, stackCluster } from './cluster-redis.js';
import { isolatedEnv, machineSummary, syntheticOrder } from './machine.js';
import { dropRun } from './stack.js';

const USAGE = 'npx tsx bench/cluster.ts [--customers N] [--events N] [--processes N,N] [--rounds N] [--write]';
const args = benchArgs(
  {
    customers: { type: 'string', default: '20000' },
    events: { type: 'string', default: '100000' },
    processes: { type: 'string', default: '1,3' },
    rounds: { type: 'string', default: '3' },
    write: { type: 'boolean', default: false },
  },
  USAGE,
);
const customers = numberOption('customers', args.customers, { integer: true, min: 1 }, USAGE);
const events = numberOption('events', args.events, { integer: true, min: 1 }, USAGE);
const processCounts = numberListOption('processes', args.processes, { integer: true, min: 1 }, USAGE);
const rounds = numberOption('rounds', args.rounds, { integer: true, min: 1 }, USAGE);
const command = `npx tsx bench/cluster.ts ${process.argv.slice(2).join(' ')}`.trim();
const machine = machineSummary();
const cli = new URL('../dist/app/cli/main.js', import.meta.url).pathname;
if (!existsSync(cli)) throw new Error('run `npm run build` first: the scorers run compiled, as in production');
const clusterPorts = (stackEnv['REDIS_CLUSTER_PORTS'] ?? '').split(' ').map(Number);

const backends: { name: string; open: () => Promise<RedisSide> }[] = [
  { name: 'single Redis', open: () => dedicatedRedis(17010) },
  { name: 'Redis Cluster', open: () => stackCluster(clusterPorts) },
  { name: 'Redis Cluster, WAIT 1', open: () => stackCluster(clusterPorts, { REDIS_WAIT_REPLICAS: '1' }) },
];

async function produce(config: Config): Promise<void> {
  const { registry, schemas } = await provision(config);
  const producer = createIdempotentProducer(createKafka(config.kafka));
  await producer.connect();
  const now = Date.now();
  for (let i = 0; i < events; i += 5000) {
    const messages = [];
    for (let k = i; k < Math.min(events, i + 5000); k += 1) {
      const event = syntheticOrder(`K${k % customers}`, `K-${k}`, now - (events - k) * 10, k);
      messages.push({ key: event.customerId, value: registry.encode(schemas.orders, toOrderEventRecord(event)) });
    }
    await producer.send({ topic: config.topics.orders, acks: -1, messages });
  }
  await producer.disconnect();
}

const exited = (proc: ChildProcess) =>
  new Promise<void>((resolve) => (proc.exitCode !== null ? resolve() : proc.once('exit', () => resolve())));

interface Result {
  readonly backend: string;
  readonly processes: number;
  readonly rate: number;
  readonly opsPerEvent: number;
  readonly topOps: string;
  readonly bytesPerCustomer: number;
  /** The producer must finish well before the drain, or it is what was measured. */
  readonly produceSeconds: number;
  readonly drainSeconds: number;
}

async function scenario(backend: (typeof backends)[number], processes: number): Promise<Result> {
  const side = await backend.open();
  const env = {
    ...isolatedEnv(`cl${processes}`, { CHURNSTREAM_COMMIT_INTERVAL_MS: '200', CHURNSTREAM_LOG_LEVEL: 'error' }),
    ...side.env,
  };
  const config = loadConfig({ ...process.env, ...env });
  const kafka = createKafka(config.kafka);
  await provision(config);
  const before = await side.sample();
  const ports = await Promise.all(Array.from({ length: processes }, () => freePort()));
  const children = ports.map((port) =>
    spawn(process.execPath, [cli, 'run'], {
      env: { ...process.env, ...env, CHURNSTREAM_HTTP_PORT: String(port) },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const consumed = async (port: number) => {
    const text = await httpGet(port, '/metrics', 2000).then(
      (answer) => answer.text,
      () => '',
    );
    return metricSamples(text, 'churnstream_events_consumed_total').reduce((a, b) => a + b, 0);
  };
  // Every process owns its partitions before the orders arrive: no rebalance (and no record
  // handed over twice) inside the measured time.
  for (const port of ports)
    while ((await httpGet(port, '/readyz', 1000).catch(() => null))?.status !== 200)
      await new Promise((resolve) => setTimeout(resolve, 100));
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const producedAt = performance.now();
  const producing = produce(config).then(() => performance.now() - producedAt);
  let start: number | null = null;
  for (let polls = 0; ; polls += 1) {
    if (start === null && (await Promise.all(ports.map(consumed))).some((n) => n > 0)) start = performance.now();
    // Committed offsets less often: each read is a request to the broker.
    if (start !== null && polls % 5 === 0 && (await committedOffsets(kafka, config).catch(() => 0)) >= events) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (performance.now() - (start ?? producedAt)) / 1000;
  const produceSeconds = (await producing) / 1000;
  const after = await side.sample();
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map(exited));
  const deltas = [...after.calls]
    .filter(([name]) => !['info', 'ping'].includes(name) && !name.startsWith('cluster'))
    .map(([name, calls]) => [name, calls - (before.calls.get(name) ?? 0)] as const)
    .filter(([, calls]) => calls > 0)
    .sort((a, b) => b[1] - a[1]);
  await side.drop(config.redisNamespace);
  await dropRun(config, kafka);
  await side.close();
  const result = {
    backend: backend.name,
    processes,
    rate: events / seconds,
    produceSeconds,
    drainSeconds: seconds,
    opsPerEvent: deltas.reduce((s, [, calls]) => s + calls, 0) / events,
    topOps: deltas
      .slice(0, 6)
      .map(([name, calls]) => `${name} ${(calls / events).toFixed(2)}`)
      .join(', '),
    bytesPerCustomer: (after.memory - before.memory) / customers,
  };
  console.log(JSON.stringify(result));
  return result;
}

const runs: Result[] = [];
for (let round = 0; round < rounds; round += 1)
  for (const processes of processCounts) for (const backend of backends) runs.push(await scenario(backend, processes));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
/** Per scenario: the round with the median rate (its operations and memory are reported with it). */
const results = processCounts.flatMap((processes) =>
  backends.map((backend) => {
    const mine = runs.filter((r) => r.processes === processes && r.backend === backend.name);
    const rate = median(mine.map((r) => r.rate));
    const chosen = mine.find((r) => r.rate === rate) ?? (mine[0] as Result);
    return { ...chosen, rates: mine.map((r) => Math.round(r.rate)).join(' / ') };
  }),
);
const base = results[0]?.rate ?? Number.NaN;
const range = (values: number[]) => `${Math.min(...values).toFixed(1)}-${Math.max(...values).toFixed(1)}`;
const produceRange = range(runs.map((r) => r.produceSeconds));
const drainRange = range(runs.map((r) => r.drainSeconds));

const report = `# Redis Cluster vs a single Redis (the streaming scorer)

Command: \`npm run build && ${command}\` (Kafka and the registry from \`scripts/stack.sh up\`, the cluster
from \`scripts/stack.sh up redis-cluster\`: 3 primaries + 3 replicas on loopback; the single Redis is a
redis-server of its own with the stack's settings, so no other client's commands are counted).
Per row: ${events} orders over ${customers} customers (dated just before the run, 6 partitions), drained
by that many compiled \`churnstream run\` processes of a fresh group, produced once every process answers
/readyz (partitions assigned: no join or rebalance inside the measured time; the producer in this
process finished in ${produceRange} s, the drains took ${drainRange} s); events/s = events / time from
the first record any process consumed (their /metrics) until the group's committed offsets cover every
event (commits every 200 ms); Redis operations = INFO commandstats calls summed over the primaries (a script's
inner HMGET/HSET/EXPIRE count, INFO/PING/CLUSTER do not) per event; bytes per customer = used_memory
growth of the primaries / customers (each replica holds as much again).

| backend | processes | events/s (median) | each round | vs single Redis, 1 process | Redis ops per event | top commands per event | bytes per customer (primaries) |
|---|---|---|---|---|---|---|---|
${results
  .map(
    (r) =>
      `| ${r.backend} | ${r.processes} | ${Math.round(r.rate)} | ${r.rates} | ${(r.rate / base).toFixed(2)} | ${r.opsPerEvent.toFixed(2)} | ${r.topOps} | ${Math.round(r.bytesPerCustomer)} |`,
  )
  .join('\n')}

All of it shares two cores (Kafka, the registry, six or one redis-server, the scorers, the producer):
read the ratios within this run, not the absolute rates.

Machine:
\`\`\`
${machine}
\`\`\`
`;
console.log(report);
if (args.write) writeFileSync(new URL('./results/cluster.md', import.meta.url), report);
process.exit(0);
