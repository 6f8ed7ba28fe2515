// The listeners while the scorer starts (before Kafka, the registry and Redis answered):
// alive, not ready, metrics served, and a customer request answered like any other
// (401 without a token; 503 with Retry-After and no-store with one), never "not found".
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/adapters/metrics/definitions.js';
import { loadConfig } from '../../../src/app/config.js';
import { bindListeners, type Listeners } from '../../../src/app/http-listeners.js';
import { startingRoutes } from '../../../src/app/http-routes.js';
import { createLogger } from '../../../src/app/logger.js';

const TOKEN = 'starting-token-7Qm2xR9v';
let listeners: Listeners;
let base = '';

beforeAll(async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'tokens-')), 'tokens');
  writeFileSync(file, `${TOKEN}\n`);
  const config = loadConfig({ CHURNSTREAM_HTTP_PORT: '0', CHURNSTREAM_HTTP_TOKEN_FILE: file });
  const metrics = createMetrics();
  listeners = await bindListeners(config, metrics, createLogger('silent'), () => startingRoutes(metrics));
  const address = listeners.api.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
});

afterAll(async () => {
  await listeners?.close();
});

describe('listeners while the scorer starts', () => {
  it('/healthz 200 starting, /readyz 503, /metrics served', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'starting' });
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('churnstream_http_refused_total');
  });

  it('a customer request without a token is 401, with one 503 + Retry-After + no-store', async () => {
    expect((await fetch(`${base}/customers/C1`)).status).toBe(401);
    const answer = await fetch(`${base}/customers/C1`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('5');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(await answer.json()).toEqual({ error: expect.stringContaining('starting') });
  });
});
