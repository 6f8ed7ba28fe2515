// Soak: `churnstream run` as its own process under a fixed offered load for --minutes,
// sampled every --sample seconds: events produced and processed, committed group lag,
// the scorer's RSS and heap (from its /metrics), Redis used_memory, batch p99.
//
// Event time runs faster than the wall clock (--sim-days-per-second, watermark clock),
// so orders leave the 180-day window during the run and state reaches its steady size:
// flat memory is then a real claim, not an artefact of a run too short to fill it.
// Timers fire as event time passes, as they would over the simulated months.
//
//   npx tsx bench/soak.ts [--minutes 10] [--rate 1500] [--customers 20000]
//        [--sim-days-per-second 1.5] [--sample 30] [--port 18099] [--redis-cluster] [--write]
//   (--redis-cluster: state on the stack's Redis Cluster, memory summed over its primaries;
//   --write: bench/results/soak-cluster.md)
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import pLimit from 'p-limit';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { createIdempotentProducer, createKafka } from '../src/adapters/kafka/client.js';
import { groupLag } from '../src/adapters/kafka/group-lag.js';
import { toOrderEventRecord } from '../src/adapters/registry/order-event-codec.js';
import { loadConfig } from '../src/app/config.js';
import { provision } from '../src/app/setup.js';
import { DAY_MS } from '../src/core/time.js';
import { benchArgs, numberOption, redisClusterOption, resultFile } from './args.js';
import { describeRedis, redisTarget, sideFor } from './cluster-redis.js';
import { isolatedEnv, machineSummary } from './machine.js';
import { dropRun } from './stack.js';

const USAGE =
  'npx tsx bench/soak.ts [--minutes M] [--rate R] [--customers N] [--sim-days-per-second D] [--sample S] [--port P] [--redis-cluster] [--write]';
const args = benchArgs(
  {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '1500' },
    customers: { type: 'string', default: '20000' },
    'sim-days-per-second': { type: 'string', default: '1.5' },
    sample: { type: 'string', default: '30' },
    port: { type: 'string', default: '18099' },
    write: { type: 'boolean', default: false },
    ...redisClusterOption,
  },
  USAGE,
);
const minutes = numberOption('minutes', args.minutes, { positive: true }, USAGE);
const rate = numberOption('rate', args.rate, { positive: true }, USAGE);
const customers = numberOption('customers', args.customers, { integer: true, min: 1 }, USAGE);
const simDaysPerSecond = numberOption('sim-days-per-second', args['sim-days-per-second'], { positive: true }, USAGE);
const sampleSeconds = numberOption('sample', args.sample, { positive: true }, USAGE);
const port = numberOption('port', args.port, { integer: true, min: 1 }, USAGE);
const command = `npx tsx bench/soak.ts ${process.argv.slice(2).join(' ')}`.trim();
const machine = machineSummary();

const env = isolatedEnv('soak', {
  CHURNSTREAM_HTTP_PORT: String(port),
  CHURNSTREAM_CLOCK: 'watermark',
  CHURNSTREAM_LAG_CHECK_INTERVAL_MS: '5000',
  ...redisTarget(args['redis-cluster']),
});
const config = loadConfig({ ...process.env, ...env });
const { registry, schemas } = await provision(config);
const kafka = createKafka(config.kafka);
const redis = await sideFor(config);
const cli = new URL('../src/app/cli/main.ts', import.meta.url).pathname;
const scorer = spawn(process.execPath, ['--import', 'tsx', cli, 'run'], {
  env: { ...process.env, ...env },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const admin = kafka.admin();
await admin.connect();
// Redis may hold other data (earlier runs): report this run's growth above the start.
const redisBaseline = await redis.memory();

const metric = (text: string, name: string): number => {
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(name) && !line.startsWith('#')) sum += Number(line.split(' ').at(-1));
  return sum;
};
const histogramP99 = (text: string, name: string): number => {
  const buckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m = line.match(new RegExp(`^${name}_bucket\\{le="([^"]+)"[^}]*\\} (\\S+)`));
    if (m)
      buckets.set(
        Number(m[1] === '+Inf' ? Number.POSITIVE_INFINITY : m[1]),
        (buckets.get(Number(m[1] === '+Inf' ? Number.POSITIVE_INFINITY : m[1])) ?? 0) + Number(m[2]),
      );
  }
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const count = sorted.at(-1)?.[1] ?? 0;
  return sorted.find(([, c]) => c >= 0.99 * count)?.[0] ?? Number.NaN;
};

interface Sample {
  readonly seconds: number;
  readonly produced: number;
  readonly processed: number;
  readonly lag: number;
  readonly rssMb: number;
  readonly heapMb: number;
  readonly redisMb: number;
  readonly batchP99: number;
  readonly timerRescorings: number;
}
const samples: Sample[] = [];

const producer = createIdempotentProducer(kafka);
await producer.connect();
const rng = xoroshiro128plus(2026);
const start = Date.UTC(2023, 0, 1);
const simMsPerEvent = (simDaysPerSecond * DAY_MS) / rate;
const total = Math.round(rate * minutes * 60);
const started = performance.now();
let sent = 0;
let nextSample = sampleSeconds;
// One request in flight, in order: an idempotent producer's sequence numbers are not raced.
const oneAtATime = pLimit(1);
let sendError: unknown;
while (sent < total) {
  if (sendError !== undefined) throw sendError;
  const elapsed = (performance.now() - started) / 1000;
  const due = Math.min(total, Math.floor(elapsed * rate));
  if (due > sent) {
    const messages: { key: string; value: Buffer }[] = [];
    for (; sent < due; sent += 1) {
      const customer = uniformInt(rng, 0, customers - 1);
      const event = {
        customerId: `K${customer}`,
        orderId: `K${sent}`,
        eventTime: start + Math.floor(sent * simMsPerEvent),
        type: 'order' as const,
        amount: 5 + uniformInt(rng, 0, 20_000) / 100,
        currency: 'GBP',
        itemCount: 1 + uniformInt(rng, 0, 5),
        originalOrderId: null,
      };
      messages.push({ key: event.customerId, value: registry.encode(schemas.orders, toOrderEventRecord(event)) });
    }
    oneAtATime(() => producer.send({ topic: config.topics.orders, acks: -1, messages })).catch((error: unknown) => {
      sendError ??= error;
    });
  }
  if (elapsed >= nextSample) {
    nextSample += sampleSeconds;
    const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    const lag = [...(await groupLag(admin, config.groupId, config.topics.orders)).values()].reduce((a, b) => a + b, 0);
    const redisBytes = await redis.memory();
    const sample = {
      seconds: Math.round(elapsed),
      produced: sent,
      processed: metric(text, 'churnstream_events_consumed_total'),
      lag,
      rssMb: metric(text, 'process_resident_memory_bytes') / 2 ** 20,
      heapMb: metric(text, 'nodejs_heap_size_used_bytes') / 2 ** 20,
      redisMb: (redisBytes - redisBaseline) / 2 ** 20,
      batchP99: histogramP99(text, 'churnstream_batch_duration_seconds'),
      timerRescorings: metric(text, 'churnstream_timer_evaluations_total'),
    };
    samples.push(sample);
    console.log(JSON.stringify(sample));
  }
  await new Promise((resolve) => setTimeout(resolve, 10));
}
// Queued last, so it settles after every send.
await oneAtATime(async () => {});
if (sendError !== undefined) throw sendError;
await producer.disconnect();
const scorerExited =
  scorer.exitCode === null ? new Promise((resolve) => scorer.once('exit', resolve)) : Promise.resolve();
scorer.kill('SIGTERM');
await scorerExited;
await admin.disconnect();
await redis.close();
// Its keys and topics go, as every benchmark's run's do (bench/stack.ts).
await dropRun(config, kafka);

// Flatness: the mean of the last third of the samples against the middle third.
const third = Math.max(1, Math.floor(samples.length / 3));
const mean = (xs: Sample[], f: (s: Sample) => number) => xs.reduce((s, x) => s + f(x), 0) / Math.max(1, xs.length);
const middle = samples.slice(third, 2 * third);
const last = samples.slice(-third);
const growth = (f: (s: Sample) => number) => `${((mean(last, f) / mean(middle, f) - 1) * 100).toFixed(1)}%`;
const table = samples
  .map(
    (s) =>
      `| ${s.seconds} | ${s.produced} | ${s.processed} | ${s.lag} | ${s.rssMb.toFixed(0)} | ${s.heapMb.toFixed(0)} | ${s.redisMb.toFixed(0)} | ${s.batchP99} | ${s.timerRescorings} |`,
  )
  .join('\n');
const report = `# Soak (${minutes} minutes at ${rate} events/s)

Command: \`${command}\` (stack from \`scripts/stack.sh up\`; \`churnstream run\` as its own
process with the shipped models; state on ${describeRedis(config)}; ${customers} customers; event time runs at ${simDaysPerSecond}
days per wall-clock second (watermark clock), so ${Math.round(minutes * 60 * simDaysPerSecond)} days
of history pass and orders leave the 180-day window: state reaches its steady size).

| s | produced | processed | committed lag | RSS MB | heap MB | Redis MB above start | batch p99 (s, bucket) | timer rescorings |
|---|---|---|---|---|---|---|---|---|
${table}

Last third vs middle third of the samples: RSS ${growth((s) => s.rssMb)}, heap ${growth((s) => s.heapMb)},
Redis ${growth((s) => s.redisMb)}, lag ${mean(middle, (s) => s.lag).toFixed(0)} -> ${mean(last, (s) => s.lag).toFixed(0)} records.

Machine (Kafka, Redis, the registry, the producer and the scorer share its cores):
\`\`\`
${machine}
\`\`\`
`;
console.log(report);
if (args.write) writeFileSync(resultFile('soak', config.redisCluster !== null), report);
process.exit(0);
