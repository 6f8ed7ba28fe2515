// Helpers for the dependency-fault and start-up tests: controlling the native stack
// (scripts/stack.sh down/up, the Redis pid for SIGSTOP), running `churnstream run` as a
// child process with a known HTTP port and its stderr captured, polling HTTP and
// Prometheus text, producing records whose partitions and offsets are known, and reading
// dead letters with every field of schemas/dead-letter.avsc.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { IHeaders, Kafka } from 'kafkajs';
import { createIdempotentProducer } from '../../src/adapters/kafka/client.js';
import type { Provisioned } from '../../src/app/setup.js';

const root = new URL('../../', import.meta.url).pathname;
const stackScript = `${root}scripts/stack.sh`;
const cli = `${root}src/app/cli/main.ts`;
const stackDir = process.env['CHURNSTREAM_STACK_DIR'] ?? `${root}.stack`;

/** `scripts/stack.sh <command> <services>`; throws with the script's output if it fails. */
export function stack(command: 'up' | 'down' | 'restart' | 'status', ...services: string[]): string {
  return execFileSync('bash', [stackScript, command, ...services], { encoding: 'utf8', stdio: 'pipe' });
}

/** The pid of the redis-server the stack started (.stack/run/redis.pid). */
export function redisPid(): number {
  return Number(readFileSync(`${stackDir}/run/redis.pid`, 'utf8').trim());
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP port nothing listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ScorerChild {
  readonly proc: ChildProcess;
  readonly port: number;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Resolves when the process exits, with how long after the spawn. */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** Whether the process has exited (for any reason). */
  exited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** `churnstream run` as its own process (as scorer-process.ts starts it), with the environment given (on top of ours). */
export function spawnScorer(env: Record<string, string>): ScorerChild {
  const started = performance.now();
  const proc = spawn(process.execPath, ['--unhandled-rejections=strict', '--import', 'tsx', cli, 'run'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let text = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (chunk: string) => {
    text += chunk;
    if (process.env['TEST_LOG'] !== undefined) process.stderr.write(chunk);
  });
  let done = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) => {
    proc.once('exit', (code, signal) => {
      done = true;
      // Let the last stderr chunk arrive.
      proc.stderr?.once('close', () => resolve({ code, signal, ms: performance.now() - started }));
      if (proc.stderr === null || proc.stderr.closed) resolve({ code, signal, ms: performance.now() - started });
    });
  });
  return {
    proc,
    port: Number(env['CHURNSTREAM_HTTP_PORT'] ?? 0),
    stderr: () => text,
    exit,
    exited: () => done,
    async stop(graceMs = 15_000) {
      if (done) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
  readonly contentType: string;
  readonly ms: number;
}

/** GET with a deadline; a request that does not answer in time rejects. */
export async function httpGet(port: number, path: string, timeoutMs = 5000): Promise<HttpAnswer> {
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  return {
    status: response.status,
    text,
    contentType: response.headers.get('content-type') ?? '',
    ms: performance.now() - started,
  };
}

/** Polls `probe` until it returns something other than undefined/false, or the timeout. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) return undefined;
    await sleep(intervalMs);
  }
}

/** Waits until the child's HTTP API answers /readyz with 200 (partitions assigned, nothing waited for). */
export async function waitUntilReady(child: ScorerChild, timeoutMs = 60_000): Promise<boolean> {
  const ok = await waitFor(async () => {
    if (child.exited()) throw new Error('exited');
    return (await httpGet(child.port, '/readyz', 2000)).status === 200;
  }, timeoutMs);
  return ok === true;
}

/**
 * Values of the samples of a metric in Prometheus text format whose labels include
 * `labels` (exact name match, so `x_total` does not match `x_total_foo`).
 */
export function metricSamples(text: string, name: string, labels: Record<string, string> = {}): number[] {
  const values: number[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      found[pair[1] as string] = pair[2] as string;
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) values.push(Number(match[4]));
  }
  return values;
}

/** Sum of the high watermarks of a topic's partitions (records ever written to it). */
export async function topicEnd(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Creates a topic with the given configs (before provisioning, which leaves existing topics alone). */
export async function createTopic(
  kafka: Kafka,
  topic: string,
  partitions: number,
  configs: Record<string, string>,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: partitions,
          replicationFactor: -1,
          configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
        },
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

export interface TrackedMessage {
  readonly key: string | Buffer | null;
  readonly value: Buffer | null;
  readonly partition: number;
  readonly headers?: IHeaders;
}

/**
 * Produces messages in order (explicit partitions) with the idempotent producer and
 * returns the offset each one got: within one request, a partition's messages are
 * contiguous from the base offset the broker returns.
 */
export async function produceTracked(
  kafka: Kafka,
  topic: string,
  messages: readonly TrackedMessage[],
  requestRecords = 500,
  requestBytes = 512 * 1024,
): Promise<{ partition: number; offset: number }[]> {
  const producer = createIdempotentProducer(kafka);
  await producer.connect();
  const placed: { partition: number; offset: number }[] = [];
  try {
    let start = 0;
    while (start < messages.length) {
      let end = start;
      let bytes = 0;
      while (end < messages.length && end - start < requestRecords) {
        const m = messages[end] as TrackedMessage;
        let size = (m.value?.length ?? 0) + (m.key?.length ?? 0) + 64;
        for (const [name, value] of Object.entries(m.headers ?? {}))
          for (const v of Array.isArray(value) ? value : [value]) size += name.length + (v?.length ?? 0) + 8;
        if (end > start && bytes + size > requestBytes) break;
        bytes += size;
        end += 1;
      }
      const slice = messages.slice(start, end);
      const metadata = await producer.send({
        topic,
        acks: -1,
        messages: slice.map((m) => ({
          key: m.key,
          value: m.value,
          partition: m.partition,
          ...(m.headers ? { headers: m.headers } : {}),
        })),
      });
      const base = new Map(metadata.map((r) => [r.partition, Number(r.baseOffset)]));
      const next = new Map<number, number>();
      for (const m of slice) {
        const offset = (base.get(m.partition) ?? Number.NaN) + (next.get(m.partition) ?? 0);
        next.set(m.partition, (next.get(m.partition) ?? 0) + 1);
        placed.push({ partition: m.partition, offset });
      }
      start = end;
    }
  } finally {
    await producer.disconnect();
  }
  return placed;
}

/** A dead letter with every field of schemas/dead-letter.avsc. */
export interface FullDeadLetter {
  readonly dead_letter_id: string;
  readonly source_topic: string;
  readonly source_partition: number;
  readonly source_offset: number;
  readonly source_timestamp: number | Date;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: { key: string; value: Buffer | null }[];
  readonly error_class: string;
  readonly reason: string;
  readonly failed_at: number | Date;
  readonly consumer_group: string;
  readonly churnstream_version: string;
  readonly truncated: boolean;
  readonly original_value_size: number;
  readonly original_value_sha256: string;
  /** Size of the dead-letter record's value as stored in the topic. */
  readonly storedBytes: number;
}

export const millis = (t: number | Date): number => (t instanceof Date ? t.getTime() : t);

/** Reads the dead-letter topic from the beginning until it holds `count` records (or the timeout). */
export async function readFullDeadLetters(
  kafka: Kafka,
  provisioned: Provisioned,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<FullDeadLetter[]> {
  const { registry, schemas } = provisioned;
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}-${Math.random()}` });
  const items: FullDeadLetter[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let resolveDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  if (count <= 0) resolveDone();
  await consumer.run({
    eachMessage: async ({ message }) => {
      const decoded = await registry.decode<Omit<FullDeadLetter, 'storedBytes'>>(message.value, schemas.deadLetters);
      if (!decoded.ok) throw new Error(decoded.reason);
      items.push({ ...decoded.value, storedBytes: message.value?.length ?? 0 });
      if (items.length >= count) resolveDone();
    },
  });
  await Promise.race([finished, sleep(timeoutMs)]);
  await consumer.disconnect();
  return items;
}

/** Plain REST calls to the schema registry (Confluent API). */
export async function registryCall<T>(url: string, path: string, method: 'GET' | 'POST' | 'PUT', body?: unknown) {
  const contentType = 'application/vnd.schemaregistry.v1+json';
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': contentType, accept: contentType },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
  return JSON.parse(text) as T;
}
