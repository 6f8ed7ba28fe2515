// Scaling and timer catch-up of the streaming scorer on the real stack, one process:
//
//   for each customer count N (default 10k, 100k, 1M):
//     1. warm-up: one order per customer, dated --age-days ago (default 60), drained by the
//        scorer (the events/s of this phase is the first cost-per-event figure);
//        Redis memory per customer = used_memory delta / N;
//     2. catch-up: the orders are weeks old, so every customer's timers are overdue;
//        the time until the timer backlog is empty, and customers rescored per second;
//     3. steady: --events more orders, dated now, spread evenly over --steady-customers
//        distinct customers chosen at random among the N, drained after a restart;
//        the events/s of this phase is the cost per event with N customers resident.
//
//   npx tsx bench/scaling.ts [--customers 10000,100000,1000000] [--events 100000]
//        [--age-days 60] [--steady-customers 10000] [--redis-cluster] [--write]
//   (--redis-cluster: state on the stack's Redis Cluster; --write: bench/results/scaling-cluster.md)
import { writeFileSync } from 'node:fs';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { createIdempotentProducer, createKafka } from '../src/adapters/kafka/client.js';
import { redisKeys } from '../src/adapters/redis/keys.js';
import { toOrderEventRecord } from '../src/adapters/registry/order-event-codec.js';
import { type Config, loadConfig } from '../src/app/config.js';
import { tuneGarbageCollection } from '../src/app/gc-tuning.js';
import { createLogger } from '../src/app/logger.js';
import { type Service, startService } from '../src/app/service.js';
import { provision } from '../src/app/setup.js';
import type { OrderEvent } from '../src/core/events/order-event.js';
import { DAY_MS } from '../src/core/time.js';
import { benchArgs, numberListOption, numberOption, redisClusterOption, resultFile } from './args.js';
import { describeRedis, redisTarget, sideFor } from './cluster-redis.js';
import { isolatedEnv, machineSummary, syntheticOrder } from './machine.js';
import { dropRun } from './stack.js';

// The scorers started in this process run with the CLI's garbage-collector settings.
tuneGarbageCollection();

const USAGE =
  'npx tsx bench/scaling.ts [--customers N,N,...] [--events N] [--age-days D] [--steady-customers N] [--redis-cluster] [--write]';
const args = benchArgs(
  {
    customers: { type: 'string', default: '10000,100000,1000000' },
    events: { type: 'string', default: '100000' },
    'age-days': { type: 'string', default: '60' },
    'steady-customers': { type: 'string', default: '10000' },
    write: { type: 'boolean', default: false },
    ...redisClusterOption,
  },
  USAGE,
);
const counts = numberListOption('customers', args.customers, { integer: true, min: 1 }, USAGE);
const steadyEvents = numberOption('events', args.events, { integer: true, min: 1 }, USAGE);
const ageDays = numberOption('age-days', args['age-days'], { min: 0 }, USAGE);
const steadyCustomers = numberOption('steady-customers', args['steady-customers'], { integer: true, min: 1 }, USAGE);
const command = `npx tsx bench/scaling.ts ${process.argv.slice(2).join(' ')}`.trim();
const machine = machineSummary();
const redisEnv = redisTarget(args['redis-cluster']);

function configFor(n: number): Config {
  return loadConfig({
    ...process.env,
    ...isolatedEnv(`scale${n}`, {
      CHURNSTREAM_CLOCK: 'wall',
      CHURNSTREAM_TIMER_BATCH: '2000',
      CHURNSTREAM_TIMER_INTERVAL_MS: '200',
      ...redisEnv,
    }),
  });
}

const order = (customer: number, id: string, eventTime: number): OrderEvent =>
  syntheticOrder(`S${customer}`, id, eventTime, customer);

async function produce(config: Config, events: (i: number) => OrderEvent, count: number): Promise<void> {
  const { registry, schemas } = await provision(config);
  const producer = createIdempotentProducer(createKafka(config.kafka));
  await producer.connect();
  for (let i = 0; i < count; i += 5000) {
    const messages = [];
    for (let k = i; k < Math.min(count, i + 5000); k += 1) {
      const event = events(k);
      messages.push({ key: event.customerId, value: registry.encode(schemas.orders, toOrderEventRecord(event)) });
    }
    await producer.send({ topic: config.topics.orders, acks: -1, messages });
  }
  await producer.disconnect();
}

async function total(service: Service, name: string): Promise<number> {
  const values = (await service.metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.reduce((s, v) => s + v.value, 0);
}

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 200));
}

/**
 * Events/s while the scorer drains `count` more events: from the first poll that sees
 * records handed to it (start-up and group join excluded) until they are applied.
 */
async function drainRate(service: Service, count: number): Promise<number> {
  const consumedBefore = await total(service, 'churnstream_events_consumed_total');
  const processedBefore = await total(service, 'churnstream_events_processed_total');
  let first: number | undefined;
  for (;;) {
    if (first === undefined && (await total(service, 'churnstream_events_consumed_total')) > consumedBefore)
      first = performance.now();
    if ((await total(service, 'churnstream_events_processed_total')) >= processedBefore + count) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return first === undefined ? Number.NaN : (count * 1000) / (performance.now() - first);
}

interface Result {
  readonly customers: number;
  readonly warmRate: number;
  readonly bytesPerCustomer: number;
  readonly catchUpSeconds: number;
  readonly timerRescorings: number;
  readonly steadyRate: number;
}

const results: Result[] = [];
for (const n of counts) {
  const config = configFor(n);
  const redis = await sideFor(config);
  const now = Date.now();
  const spread = (i: number) => now - ageDays * DAY_MS - (i % 1000) * 1000;
  await produce(config, (i) => order(i, `S${i}-w`, spread(i)), n);
  const memoryBefore = await redis.memory();
  let service = await startService(config, createLogger('warn'));
  const warmRate = await drainRate(service, n);
  const bytesPerCustomer = ((await redis.memory()) - memoryBefore) / n;

  // Catch-up: the timer loop drains the overdue timers of all customers.
  const catchStart = performance.now();
  const timerBefore = await total(service, 'churnstream_timer_evaluations_total');
  const backlog = async () => {
    let due = 0;
    for (let p = 0; p < config.partitions; p += 1) {
      due += await redis.client.zcount(redisKeys(config.redisNamespace).timers(p), '-inf', Date.now());
    }
    return due;
  };
  await until(async () => (await backlog()) === 0);
  const catchUpSeconds = (performance.now() - catchStart) / 1000;
  const timerRescorings = (await total(service, 'churnstream_timer_evaluations_total')) - timerBefore;

  // Steady: new orders dated now for the same number of distinct resident customers
  // whatever N (chosen at random among the N), in random order, so that the work per event
  // is the same and only the number of resident customers differs. Produced while the
  // scorer is stopped; it then drains them from its committed offsets.
  await service.stop();
  const rng = xoroshiro128plus(n);
  const chosen = new Set<number>();
  while (chosen.size < Math.min(n, steadyCustomers)) chosen.add(uniformInt(rng, 0, n - 1));
  const pool = [...chosen];
  const customersOf = Array.from({ length: steadyEvents }, (_, i) => pool[i % pool.length] ?? 0);
  for (let i = customersOf.length - 1; i > 0; i -= 1) {
    const j = uniformInt(rng, 0, i);
    [customersOf[i], customersOf[j]] = [customersOf[j] ?? 0, customersOf[i] ?? 0];
  }
  const steadyNow = Date.now();
  await produce(config, (i) => order(customersOf[i] ?? 0, `S-steady-${i}`, steadyNow + i), steadyEvents);
  service = await startService(config, createLogger('warn'));
  const steadyRate = await drainRate(service, steadyEvents);
  await service.stop();
  await redis.close();
  // The next N starts from a Redis without this one's customers (1M of them are ~1 GB).
  await dropRun(config, createKafka(config.kafka));
  const result = {
    customers: n,
    warmRate,
    bytesPerCustomer,
    catchUpSeconds,
    timerRescorings,
    steadyRate,
  };
  console.log(JSON.stringify(result));
  results.push(result);
}

const report = `# Scaling and timer catch-up (one scorer process)

Command: \`${command}\` (stack from \`scripts/stack.sh up\`; state on ${describeRedis(configFor(0))};
shipped models; 6 partitions; wall clock; timer pages of 2,000 customers every 200 ms). Per customer count N: a warm-up order per
customer dated ${ageDays} days ago; the overdue timers that leaves (catch-up); then ${steadyEvents}
orders dated now, ${steadyCustomers} distinct customers chosen at random among the N with the same number
of orders each, in random order, produced while the scorer is stopped and drained after its restart
(steady: the same work per event for every N, only the resident customers differ). Rates are drain
rates from the first records handed to the scorer to the last event applied (start-up excluded).

| customers | warm-up events/s | Redis bytes per customer | catch-up: seconds to an empty timer backlog | timer rescorings | rescorings/s | steady events/s |
|---|---|---|---|---|---|---|
${results
  .map(
    (r) =>
      `| ${r.customers} | ${Math.round(r.warmRate)} | ${Math.round(r.bytesPerCustomer)} | ${r.catchUpSeconds.toFixed(1)} | ${r.timerRescorings} | ${Math.round(r.timerRescorings / Math.max(r.catchUpSeconds, 1e-9))} | ${Math.round(r.steadyRate)} |`,
  )
  .join('\n')}

Cost per event is flat when the steady events/s stay level as N grows.

Machine (Kafka, Redis, the registry, the producer and the scorer share its cores):
\`\`\`
${machine}
\`\`\`
`;
console.log(report);
if (args.write) writeFileSync(resultFile('scaling', configFor(0).redisCluster !== null), report);
process.exit(0);
