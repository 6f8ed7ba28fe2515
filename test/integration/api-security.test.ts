// The customer API protects itself, tested against the running scorer on the real stack:
//  - bearer tokens from a file: none → 401, wrong → 401 (WWW-Authenticate), right → the
//    customer; no timing difference between near-miss tokens at this test's resolution;
//    a rotated file takes effect on SIGHUP;
//  - the operational endpoints on their own port, open; /metrics carries no customer id;
//  - a rate limit per client address (429 + Retry-After) and 500 slow clients that do not
//    stop a normal request from being answered (and are closed by the headers timeout);
//  - TLS with a private CA (and a certificate renewed on SIGHUP).
// Start-up refusals (0.0.0.0 without tokens, an unreadable token file) are in startup.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/adapters/kafka/client.js';
import type { Config } from '../../src/app/config.js';
import { createLogger } from '../../src/app/logger.js';
import { type Service, startService } from '../../src/app/service.js';
import { type Provisioned, provision } from '../../src/app/setup.js';
import { generateDemoHistory } from '../../src/core/demo/generator.js';
import { produceEvents, scorerConfig } from '../helpers/scorer.js';
import { freePort, sleep, waitFor } from '../helpers/stack-control.js';

const dir = mkdtempSync(join(tmpdir(), 'api-security-'));
const tokenFile = join(dir, 'tokens');
const TOKEN = 'crm-reader-7f3a9c2e41b8d605';
const ROTATED = 'crm-reader-rotated-0a1b2c3d4e';
const log = createLogger(process.env['TEST_LOG'] ?? 'silent');
const history = generateDemoHistory({ seed: 5, customers: 40, start: Date.UTC(2025, 0, 1), days: 120 });
const customerIds = [...new Set(history.map((e) => e.customerId))];

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: keepAlive }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path}: no answer in 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const portOf = (service: Service) => {
  const address = service.http.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
};

describe('customer API with tokens, its own operational port and limits', () => {
  let config: Config;
  let kafka: Kafka;
  let provisioned: Provisioned;
  let service: Service;
  let api = 0;
  let ops = 0;

  beforeAll(async () => {
    writeFileSync(tokenFile, `# readers\n${TOKEN}\n`);
    ops = await freePort();
    config = scorerConfig('api-auth', {
      CHURNSTREAM_MODELS_DIR: new URL('../../models/', import.meta.url).pathname,
      CHURNSTREAM_HTTP_TOKEN_FILE: tokenFile,
      CHURNSTREAM_OPS_HTTP_PORT: String(ops),
      CHURNSTREAM_HTTP_RATE_LIMIT: '0',
      CHURNSTREAM_HTTP_HEADERS_TIMEOUT_MS: '2000',
      CHURNSTREAM_HTTP_REQUEST_TIMEOUT_MS: '5000',
    });
    kafka = createKafka(config.kafka);
    provisioned = await provision(config);
    service = await startService(config, log);
    api = portOf(service);
    await produceEvents(kafka, config.topics.orders, provisioned.registry, provisioned.schemas.orders, history);
    const last = customerIds.at(-1) ?? '';
    await waitFor(async () => (await get(api, `/customers/${last}`, bearer(TOKEN))).status === 200, 60_000);
  }, 120_000);

  afterAll(async () => {
    keepAlive.destroy();
    await service?.stop();
  });

  it('no token: 401 with a Bearer challenge and a JSON error; the customer is not in the answer', async () => {
    const id = customerIds[0] ?? '';
    const answer = await get(api, `/customers/${id}`);
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe('Bearer realm="churnstream"');
    expect(JSON.parse(answer.text)).toEqual({ error: expect.stringContaining('Authorization: Bearer') });
    expect(answer.text).not.toContain(id);
    // The challenger view is the same personal data, behind the same guard.
    const challenger = await get(api, `/customers/${id}/challenger`);
    expect(challenger.status).toBe(401);
    expect(challenger.text).not.toContain(id);
  });

  it('wrong token (and a token sent as Basic auth): 401 invalid_token', async () => {
    const id = customerIds[0] ?? '';
    const wrong = await get(api, `/customers/${id}`, bearer(`${TOKEN.slice(0, -1)}X`));
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"');
    const basic = await get(api, `/customers/${id}`, {
      authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`,
    });
    expect(basic.status).toBe(401);
  });

  it('right token: the customer view', async () => {
    const id = customerIds[0] ?? '';
    const answer = await get(api, `/customers/${id}`, bearer(TOKEN));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ customer_id: id, churn: { risk_level: expect.any(String) } });
    const challenger = await get(api, `/customers/${id}/challenger`, bearer(TOKEN));
    expect(challenger.status).toBe(200);
    expect(JSON.parse(challenger.text)).toMatchObject({ customer_id: id, challenger: null });
  });

  it('near-miss tokens (first or last character wrong) take the same time to refuse at this resolution', async () => {
    // The guarantee is in the code (SHA-256 digests compared with timingSafeEqual against
    // every token); this checks that nothing on the HTTP path leaks a difference we can see.
    const first = `X${TOKEN.slice(1)}`;
    const last = `${TOKEN.slice(0, -1)}X`;
    const times = { first: [] as number[], last: [] as number[] };
    for (let i = 0; i < 300; i += 1)
      for (const [kind, token] of [
        ['first', first],
        ['last', last],
      ] as const) {
        const started = process.hrtime.bigint();
        const answer = await get(api, '/customers/x', bearer(token));
        times[kind].push(Number(process.hrtime.bigint() - started) / 1e6);
        expect(answer.status).toBe(401);
      }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    const difference = Math.abs(median(times.first) - median(times.last));
    console.log(
      `401 medians: first-char miss ${median(times.first).toFixed(3)} ms, last-char miss ${median(times.last).toFixed(3)} ms`,
    );
    expect(difference).toBeLessThan(0.25);
  }, 60_000);

  it('a rotated token file takes effect on SIGHUP (old token 401, new token 200); a broken file keeps the tokens', async () => {
    const id = customerIds[1] ?? '';
    writeFileSync(tokenFile, `${ROTATED}\n`);
    expect((await get(api, `/customers/${id}`, bearer(TOKEN))).status).toBe(200);
    process.emit('SIGHUP', 'SIGHUP');
    const rotated = await waitFor(
      async () => (await get(api, `/customers/${id}`, bearer(ROTATED))).status === 200,
      5000,
    );
    expect(rotated).toBe(true);
    expect((await get(api, `/customers/${id}`, bearer(TOKEN))).status).toBe(401);
    writeFileSync(tokenFile, 'too-short\n');
    process.emit('SIGHUP', 'SIGHUP');
    await sleep(300);
    expect((await get(api, `/customers/${id}`, bearer(ROTATED))).status).toBe(200);
    writeFileSync(tokenFile, `${TOKEN}\n`);
    process.emit('SIGHUP', 'SIGHUP');
    await waitFor(async () => (await get(api, `/customers/${id}`, bearer(TOKEN))).status === 200, 5000);
  });

  it('operational endpoints answer on their own port without a token; the API port keeps only /healthz', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await get(ops, path)).status, path).toBe(200);
    expect((await get(ops, `/customers/${customerIds[0]}`, bearer(TOKEN))).status).toBe(404);
    expect((await get(api, '/healthz')).status).toBe(200);
    expect((await get(api, '/metrics')).status).toBe(404);
  });

  it('/metrics carries no customer id, and counts the refusals by reason', async () => {
    const text = (await get(ops, '/metrics')).text;
    expect(customerIds.length).toBeGreaterThan(30);
    for (const id of customerIds) expect(text).not.toContain(id);
    expect(text).toMatch(/churnstream_http_refused_total\{reason="unauthorized"\} [1-9]/);
  });

  it('500 slow clients (headers sent a line a second) do not stop a normal request; the headers timeout closes them', async () => {
    const slow: Socket[] = [];
    const closed = new Set<Socket>();
    const got408 = new Set<Socket>();
    const drips: NodeJS.Timeout[] = [];
    for (let i = 0; i < 500; i += 1) {
      const socket = connect(api, '127.0.0.1');
      socket.on('error', () => closed.add(socket));
      socket.on('close', () => closed.add(socket));
      socket.on('data', (data) => {
        if (data.toString('latin1').startsWith('HTTP/1.1 408')) got408.add(socket);
      });
      socket.write(`GET /customers/${customerIds[0]} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
      drips.push(setInterval(() => socket.writable && socket.write(`X-Slow-${i}: 1\r\n`), 1000));
      slow.push(socket);
    }
    await sleep(500);
    const started = performance.now();
    const answer = await get(api, `/customers/${customerIds[0]}`, bearer(TOKEN));
    const ms = performance.now() - started;
    console.log(`normal request among 500 slow clients: ${answer.status} in ${ms.toFixed(0)} ms`);
    expect(answer.status).toBe(200);
    expect(ms).toBeLessThan(2000);
    const allClosed = await waitFor(async () => closed.size === slow.length, 10_000);
    for (const drip of drips) clearInterval(drip);
    for (const socket of slow) socket.destroy();
    console.log(`slow clients closed by the server: ${closed.size} of 500, ${got408.size} with 408`);
    expect(allClosed).toBe(true);
    expect(got408.size).toBeGreaterThan(0);
  }, 30_000);
});

describe('rate limit per client address', () => {
  let service: Service;

  beforeAll(async () => {
    const config = scorerConfig('api-rate', {
      CHURNSTREAM_MODELS_DIR: new URL('../../models/', import.meta.url).pathname,
      CHURNSTREAM_HTTP_RATE_LIMIT: '20',
    });
    await provision(config);
    service = await startService(config, log);
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
  });

  it('answers 429 with Retry-After past 20 requests a second; /metrics is never limited', async () => {
    const port = portOf(service);
    const statuses = await Promise.all(Array.from({ length: 40 }, () => get(port, '/customers/nobody')));
    const limited = statuses.filter((answer) => answer.status === 429);
    console.log(`40 requests at once: ${statuses.length - limited.length} answered, ${limited.length} limited`);
    expect(statuses.filter((answer) => answer.status === 404)).toHaveLength(20);
    expect(limited).toHaveLength(20);
    expect(limited[0]?.headers['retry-after']).toBe('1');
    expect(JSON.parse(limited[0]?.text ?? '{}')).toEqual({ error: expect.stringContaining('too many requests') });
    for (let i = 0; i < 30; i += 1) expect((await get(port, '/metrics')).status).toBe(200);
    await sleep(1100);
    expect((await get(port, '/customers/nobody')).status).toBe(404);
  });
});

describe('TLS with a private CA', () => {
  const ca = join(dir, 'ca.pem');
  const cert = join(dir, 'server.pem');
  const key = join(dir, 'server-key.pem');
  let service: Service;

  /** A CA, and a server certificate for 127.0.0.1 it signs (a new serial each call). */
  function issue(withCa: boolean) {
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    if (withCa)
      openssl(
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'ca-key.pem',
        '-out',
        ca,
        '-days',
        '2',
        '-subj',
        '/CN=churnstream test CA',
      );
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      ca,
      '-CAkey',
      'ca-key.pem',
      '-CAcreateserial',
      '-out',
      cert,
      '-days',
      '2',
      '-extfile',
      'san.ext',
    );
  }

  function tlsGet(port: number, path: string, trust: string | null): Promise<{ status: number; serial: string }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port, path, ...(trust === null ? {} : { ca: readFileSync(trust) }), agent: false },
        (res) => {
          const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, serial }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  beforeAll(async () => {
    issue(true);
    const config = scorerConfig('api-tls', {
      CHURNSTREAM_MODELS_DIR: new URL('../../models/', import.meta.url).pathname,
      CHURNSTREAM_HTTP_TLS_CERT_FILE: cert,
      CHURNSTREAM_HTTP_TLS_KEY_FILE: key,
    });
    await provision(config);
    service = await startService(config, log);
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
  });

  it('round trip with the private CA; refused by a client that does not trust it', async () => {
    const port = portOf(service);
    expect((await tlsGet(port, '/healthz', ca)).status).toBe(200);
    expect((await tlsGet(port, '/customers/nobody', ca)).status).toBe(404);
    await expect(tlsGet(port, '/healthz', null)).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });

  it('a renewed certificate is served after SIGHUP', async () => {
    const port = portOf(service);
    const before = (await tlsGet(port, '/healthz', ca)).serial;
    issue(false);
    process.emit('SIGHUP', 'SIGHUP');
    const after = await waitFor(async () => {
      const serial = (await tlsGet(port, '/healthz', ca)).serial;
      return serial !== before ? serial : undefined;
    }, 5000);
    expect(after).toBeDefined();
  });
});
