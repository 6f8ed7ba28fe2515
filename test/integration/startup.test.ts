// Start-up refusals of `churnstream run` (its own process): each is exit code 2 with one
// stderr line naming the setting (or file) to look at, no stack trace, and none of them
// joins the consumer group.
//  - the HTTP port is already taken: exits quickly, before the group ever has a member;
//  - Kafka unreachable (KAFKA_BROKERS=127.0.0.1:1) within CHURNSTREAM_STARTUP_TIMEOUT_MS=3000;
//  - CHURNSTREAM_MODELS_DIR that does not exist;
//  - a models dir whose churn/v9/model.txt is garbage;
//  - the customer API on 0.0.0.0 without a token file, a token file that cannot be read or
//    holds a too-short token, TLS files that do not exist.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import { configOf, processEnv } from '../helpers/scorer-process.js';
import { freePort, type ScorerChild, spawnScorer } from '../helpers/stack-control.js';

const modelsDir = new URL('../../models/', import.meta.url).pathname;
const children: ScorerChild[] = [];

/** Runs `churnstream run` to its exit; the child must exit on its own within `timeoutMs`. */
async function runToExit(env: Record<string, string>, timeoutMs: number) {
  const child = spawnScorer({ ...env, CHURNSTREAM_LOG_LEVEL: 'warn' });
  children.push(child);
  const result = await Promise.race([
    child.exit,
    new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs)),
  ]);
  if (result === null) {
    await child.stop(1000);
    throw new Error(`churnstream run did not exit within ${timeoutMs} ms; stderr:\n${child.stderr()}`);
  }
  const lines = child
    .stderr()
    .split('\n')
    .filter((line) => line.trim() !== '');
  return { ...result, stderr: child.stderr(), lines };
}

/** One line, no stack frames, no JSON log record: the message the operator reads. */
function expectOneLine(lines: readonly string[], stderr: string) {
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(lines[0]?.startsWith('{')).toBe(false);
}

afterAll(async () => {
  await Promise.all(children.map((child) => child.stop(1000)));
});

describe('start-up refusals (churnstream run as a process)', () => {
  let kafka: Kafka;
  let blocker: Server;
  let takenPort = 0;

  beforeAll(async () => {
    takenPort = await freePort();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(takenPort, '127.0.0.1', () => resolve()));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  });

  it('HTTP port already taken: exits 2 quickly with one line naming CHURNSTREAM_HTTP_PORT, and never joins the group', async () => {
    const env = { ...processEnv('startup-port'), CHURNSTREAM_HTTP_PORT: String(takenPort) };
    const config = configOf(env);
    const result = await runToExit(env, 20_000);
    console.log(`port taken: exit ${result.code} after ${Math.round(result.ms)} ms: ${result.lines.join(' | ')}`);
    expect(result.code).toBe(2);
    expect(result.ms).toBeLessThan(10_000);
    expectOneLine(result.lines, result.stderr);
    expect(result.lines[0]).toContain('CHURNSTREAM_HTTP_PORT');
    expect(result.lines[0]).toContain(String(takenPort));
    kafka = createKafka(config.kafka);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { groups } = await admin.describeGroups([config.groupId]);
      const group = groups.find((g) => g.groupId === config.groupId);
      console.log(`port taken: group ${config.groupId} state ${group?.state}, ${group?.members.length} members`);
      expect(group?.members ?? []).toEqual([]);
      expect(['Empty', 'Dead']).toContain(group?.state);
    } finally {
      await admin.disconnect();
    }
  }, 30_000);

  it('Kafka unreachable (KAFKA_BROKERS=127.0.0.1:1, timeout 3 s): exits 2 within 10 s with one line naming KAFKA_BROKERS, no stack trace', async () => {
    const env = {
      ...processEnv('startup-kafka'),
      CHURNSTREAM_HTTP_PORT: String(await freePort()),
      KAFKA_BROKERS: '127.0.0.1:1',
      CHURNSTREAM_STARTUP_TIMEOUT_MS: '3000',
    };
    const result = await runToExit(env, 20_000);
    console.log(
      `kafka unreachable: exit ${result.code} after ${Math.round(result.ms)} ms: ${result.lines.join(' | ')}`,
    );
    expect(result.code).toBe(2);
    expect(result.ms).toBeLessThan(10_000);
    expectOneLine(result.lines, result.stderr);
    expect(result.lines[0]).toContain('KAFKA_BROKERS');
    expect(result.lines[0]).toContain('127.0.0.1:1');
  }, 30_000);

  it('CHURNSTREAM_MODELS_DIR=/nonexistent: exits 2 with one line naming the setting and the folder', async () => {
    const env = {
      ...processEnv('startup-models'),
      CHURNSTREAM_HTTP_PORT: String(await freePort()),
      CHURNSTREAM_MODELS_DIR: '/nonexistent',
    };
    const result = await runToExit(env, 20_000);
    console.log(
      `models dir missing: exit ${result.code} after ${Math.round(result.ms)} ms: ${result.lines.join(' | ')}`,
    );
    expect(result.code).toBe(2);
    expectOneLine(result.lines, result.stderr);
    expect(result.lines[0]).toContain('CHURNSTREAM_MODELS_DIR');
    expect(result.lines[0]).toContain('/nonexistent');
  }, 30_000);

  it('customer API on 0.0.0.0 without a token file: exits 2 at once naming CHURNSTREAM_HTTP_TOKEN_FILE, never joins the group', async () => {
    const env = {
      ...processEnv('startup-open'),
      CHURNSTREAM_HTTP_HOST: '0.0.0.0',
      CHURNSTREAM_HTTP_PORT: String(await freePort()),
    };
    const result = await runToExit(env, 20_000);
    console.log(`open API: exit ${result.code} after ${Math.round(result.ms)} ms: ${result.lines.join(' | ')}`);
    expect(result.code).toBe(2);
    expectOneLine(result.lines, result.stderr);
    expect(result.lines[0]).toContain('CHURNSTREAM_HTTP_TOKEN_FILE');
    expect(result.lines[0]).toContain('CHURNSTREAM_HTTP_INSECURE=true');
    const config = configOf({ ...env, CHURNSTREAM_HTTP_HOST: '127.0.0.1' });
    const admin = createKafka(config.kafka).admin();
    await admin.connect();
    try {
      const { groups } = await admin.describeGroups([config.groupId]);
      expect(groups[0]?.members ?? []).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  }, 30_000);

  it.each([
    ['a token file that does not exist', (dir: string) => join(dir, 'missing'), 'cannot read the token file (ENOENT)'],
    [
      'a token file with a too-short token',
      (dir: string) => {
        writeFileSync(join(dir, 'tokens'), 'good-token-0123456789abc\nshort\n');
        return join(dir, 'tokens');
      },
      'tokens:2: a token needs at least 16 characters',
    ],
  ])(
    '%s: exits 2 with one line naming CHURNSTREAM_HTTP_TOKEN_FILE and the line',
    async (_, make, message) => {
      const path = make(mkdtempSync(join(tmpdir(), 'tokens-')));
      const env = {
        ...processEnv('startup-tokens'),
        CHURNSTREAM_HTTP_HOST: '0.0.0.0',
        CHURNSTREAM_HTTP_PORT: String(await freePort()),
        CHURNSTREAM_HTTP_TOKEN_FILE: path,
      };
      const result = await runToExit(env, 20_000);
      console.log(`token file: exit ${result.code} after ${Math.round(result.ms)} ms: ${result.lines.join(' | ')}`);
      expect(result.code).toBe(2);
      expectOneLine(result.lines, result.stderr);
      expect(result.lines[0]).toContain('CHURNSTREAM_HTTP_TOKEN_FILE');
      expect(result.lines[0]).toContain(message);
    },
    30_000,
  );

  it('TLS certificate file that does not exist: exits 2 with one line naming the TLS settings and the file', async () => {
    const env = {
      ...processEnv('startup-tls'),
      CHURNSTREAM_HTTP_PORT: String(await freePort()),
      CHURNSTREAM_HTTP_TLS_CERT_FILE: '/nonexistent/cert.pem',
      CHURNSTREAM_HTTP_TLS_KEY_FILE: '/nonexistent/key.pem',
    };
    const result = await runToExit(env, 20_000);
    console.log(`tls files: exit ${result.code} after ${Math.round(result.ms)} ms: ${result.lines.join(' | ')}`);
    expect(result.code).toBe(2);
    expectOneLine(result.lines, result.stderr);
    expect(result.lines[0]).toContain('CHURNSTREAM_HTTP_TLS_CERT_FILE');
    expect(result.lines[0]).toContain('/nonexistent/cert.pem');
  }, 30_000);

  describe('a models dir whose churn/v9/model.txt is garbage', () => {
    let dir = '';
    let result: Awaited<ReturnType<typeof runToExit>>;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'broken-models-'));
      cpSync(join(modelsDir, 'churn', 'v1'), join(dir, 'churn', 'v9'), { recursive: true });
      const configPath = join(dir, 'churn', 'v9', 'config.json');
      const artifact = JSON.parse(readFileSync(configPath, 'utf8')) as { version: string };
      writeFileSync(configPath, JSON.stringify({ ...artifact, version: 'v9' }));
      writeFileSync(join(dir, 'churn', 'v9', 'model.txt'), 'this is not a LightGBM model\n\x00\x01garbage\ntree=?\n');
      const env = {
        ...processEnv('startup-broken-model'),
        CHURNSTREAM_HTTP_PORT: String(await freePort()),
        CHURNSTREAM_MODELS_DIR: dir,
      };
      result = await runToExit(env, 20_000);
      console.log(`broken model: exit ${result.code} after ${Math.round(result.ms)} ms: ${result.lines.join(' | ')}`);
    }, 30_000);

    it('exits 2 with one line naming the folder churn/v9', () => {
      expect(result.code).toBe(2);
      expectOneLine(result.lines, result.stderr);
      expect(result.lines[0]).toContain(join(dir, 'churn', 'v9'));
    });

    it('names the broken file itself (model.txt)', () => {
      expect(result.lines[0]).toContain(join(dir, 'churn', 'v9', 'model.txt'));
    });
  });
});
