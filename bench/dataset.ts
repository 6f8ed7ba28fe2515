// Dataset builder at scale: `churnstream dataset --source csv` on synthetic order histories
// of 1M and 10M orders (the demo generator's customers, written as the generic CSV), run as
// its own process as a user runs it. Measures wall time, orders/s and the process's peak
// RSS (VmHWM from /proc, polled). Goal (issue 18): peak RSS under 1.5 GB at 10M orders and
// cost linear in orders.
//
//   npx tsx bench/dataset.ts [--orders 1000000,10000000] [--write]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDemoHistory } from '../src/core/demo/generator.js';
import { benchArgs, usageError } from './args.js';
import { machineSummary } from './machine.js';

const USAGE = 'npx tsx bench/dataset.ts [--orders 1000000,10000000] [--write]';
const args = benchArgs(
  { orders: { type: 'string', default: '1000000,10000000' }, write: { type: 'boolean', default: false } },
  USAGE,
);
const sizes = (args.orders ?? '').split(',').map((text) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1000) usageError(`--orders: '${text}' is not an integer of at least 1000`, USAGE);
  return n;
});

const START = Date.UTC(2022, 0, 1);
const DAYS = 730;

/** Writes `orders` synthetic orders as a generic CSV, 5,000 customers at a time (bounded memory). */
async function writeHistory(path: string, orders: number): Promise<number> {
  const out = createWriteStream(path);
  out.write('customer_id,order_id,event_time,amount,type,original_order_id,item_count,currency\n');
  let written = 0;
  let customers = 0;
  for (let chunk = 0; written < orders; chunk += 1) {
    const events = generateDemoHistory({ seed: 1000 + chunk, customers: 5000, start: START, days: DAYS });
    const ids = new Set<string>();
    const lines: string[] = [];
    for (const e of events) {
      if (written >= orders) break;
      const customer = `K${chunk}-${e.customerId}`;
      ids.add(customer);
      lines.push(
        `${customer},${e.orderId},${e.eventTime},${e.amount},${e.type},${e.originalOrderId ?? ''},${e.itemCount},${e.currency}`,
      );
      written += 1;
    }
    customers += ids.size;
    if (!out.write(`${lines.join('\n')}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return customers;
}

/** Runs the dataset command; resolves with its wall time and peak RSS (VmHWM, polled every 100 ms). */
async function runDataset(input: string, dir: string): Promise<{ seconds: number; peakMb: number; summary: string }> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('../src/app/cli/main.ts', import.meta.url).pathname,
      'dataset',
      '--source',
      'csv',
      '--input',
      input,
      '--out',
      join(dir, 'table.csv'),
      '--spec-out',
      join(dir, 'spec.json'),
      '--no-progress',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  let peakKb = 0;
  const poll = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
    } catch {
      // The process has just exited.
    }
  }, 100);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(poll);
  if (code !== 0) throw new Error(`dataset exited with ${code}`);
  return {
    seconds: (performance.now() - started) / 1000,
    peakMb: peakKb / 1024,
    summary: stdout.trim().split('\n').at(-1) ?? '',
  };
}

const rows: string[] = [];
for (const orders of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-dataset-'));
  try {
    const input = join(dir, 'orders.csv');
    const customers = await writeHistory(input, orders);
    const inputMb = statSync(input).size / 2 ** 20;
    const run = await runDataset(input, dir);
    const tableMb = statSync(join(dir, 'table.csv')).size / 2 ** 20;
    const line = `| ${orders} | ${customers} | ${inputMb.toFixed(0)} | ${run.seconds.toFixed(1)} | ${Math.round(orders / run.seconds)} | ${run.peakMb.toFixed(0)} | ${tableMb.toFixed(0)} | ${run.summary} |`;
    console.log(line);
    rows.push(line);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const report = `# Dataset builder at scale

Command: \`${['npx tsx bench/dataset.ts', ...process.argv.slice(2)].join(' ')}\`
(synthetic histories from the demo generator, ${DAYS} days from 2022-01-01, 5,000 customers per seed, written as the
generic CSV; \`churnstream dataset --source csv\` with its defaults: cutoffs every 30 days from 90 days after the
first event, 90-day horizons; its own process; peak RSS = VmHWM polled every 100 ms).

| orders | customers | input MiB | seconds | orders/s | peak RSS MiB | table MiB | summary |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Machine:
\`\`\`
${machineSummary()}
\`\`\`
`;
console.log(report);
if (args.write) writeFileSync(new URL('results/dataset.md', import.meta.url), report);
