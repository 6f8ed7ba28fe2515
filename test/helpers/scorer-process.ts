// Running `churnstream run` as separate processes (as in production), for the crash
// and rebalance tests, with one shared environment the test also reads.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Kafka } from 'kafkajs';
import { type Config, loadConfig } from '../../src/app/config.js';
import { uniqueSuffix } from './stack.js';

const cli = new URL('../../src/app/cli/main.ts', import.meta.url).pathname;
const modelsDir = new URL('../../models/', import.meta.url).pathname;

export function processEnv(label: string): Record<string, string> {
  const suffix = `${label}-${uniqueSuffix()}`;
  return {
    CHURNSTREAM_ORDERS_TOPIC: `test.${suffix}.orders`,
    CHURNSTREAM_RISK_TOPIC: `test.${suffix}.risk-changes`,
    CHURNSTREAM_DEAD_LETTER_TOPIC: `test.${suffix}.dead-letters`,
    CHURNSTREAM_GROUP_ID: `test.${suffix}`,
    CHURNSTREAM_REDIS_NAMESPACE: `test-${suffix}`,
    CHURNSTREAM_PARTITIONS: '6',
    CHURNSTREAM_CLOCK: 'watermark',
    CHURNSTREAM_TIMER_INTERVAL_MS: '50',
    CHURNSTREAM_HTTP_PORT: '0',
    CHURNSTREAM_LOG_LEVEL: process.env['TEST_LOG'] ?? 'warn',
    CHURNSTREAM_MODELS_DIR: modelsDir,
    // Short enough that a killed member's partitions move on quickly; small batches so
    // that kills and joins land in the middle of the stream.
    CHURNSTREAM_SESSION_TIMEOUT_MS: '6000',
    CHURNSTREAM_MAX_BATCH_BYTES: '8192',
    // Committed offsets follow processing closely (tests wait on them to place kills), and
    // the periodic commit path (not the per-batch one) is the one under test.
    CHURNSTREAM_COMMIT_INTERVAL_MS: '200',
    // Unknown schema ids in these tests are garbage: wait one second for them, not ten.
    CHURNSTREAM_SCHEMA_ID_GRACE_MS: '1000',
  };
}

export const configOf = (env: Record<string, string>): Config => loadConfig({ ...process.env, ...env });

export const startScorer = (env: Record<string, string>): ChildProcess =>
  spawn(process.execPath, ['--unhandled-rejections=strict', '--import', 'tsx', cli, 'run'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });

export const exited = (proc: ChildProcess): Promise<void> =>
  new Promise((resolve) =>
    proc.exitCode !== null || proc.signalCode !== null ? resolve() : proc.once('exit', () => resolve()),
  );

/** Sum of the group's committed offsets on the orders topic. */
export async function committedOffsets(kafka: Kafka, config: Config): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchOffsets({ groupId: config.groupId, topics: [config.topics.orders] });
    return offsets[0]?.partitions.reduce((sum, p) => sum + Math.max(Number(p.offset), 0), 0) ?? 0;
  } finally {
    await admin.disconnect();
  }
}

export async function waitForProgress(
  kafka: Kafka,
  config: Config,
  target: number,
  timeoutMs = 90_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  // While a broker restarts, the group coordinator answers with errors for a while: keep asking.
  const read = (last: number) => committedOffsets(kafka, config).catch(() => last);
  let done = await read(0);
  while (done < target && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    done = await read(done);
  }
  return done;
}
