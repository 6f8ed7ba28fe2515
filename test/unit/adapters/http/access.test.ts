// The customer API's access guard with fake requests: 401 (with WWW-Authenticate) for a
// missing or wrong token, 429 per client address once its rate is spent (another address
// unaffected; refused tokens count too), 503 once the requests in flight reach the bound
// (and a release frees a place), open access when no token file is configured.

import { mkdtempSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Admission, clientKey, createAccessGuard } from '../../../../src/adapters/http/access.js';
import { TokenFile } from '../../../../src/adapters/http/token-file.js';

const TOKEN = 'crm-token-0123456789abcdef';

function tokens(): TokenFile {
  const path = join(mkdtempSync(join(tmpdir(), 'tokens-')), 'tokens');
  writeFileSync(path, `${TOKEN}\nsecond-token-0123456789\n`);
  return new TokenFile(path);
}

const request = (authorization?: string, address = '10.0.0.1') =>
  ({
    headers: authorization === undefined ? {} : { authorization },
    socket: { remoteAddress: address },
  }) as unknown as IncomingMessage;

function admitted(admission: Admission): () => void {
  if (admission.refused !== null) throw new Error(`refused: ${JSON.stringify(admission.refused)}`);
  return () => admission.release();
}

describe('access guard', () => {
  const open = { ratePerSecond: 0, maxConcurrent: 100 };

  it('401 with a Bearer challenge when the token is missing, not a bearer, or wrong', async () => {
    const guard = createAccessGuard({ ...open, tokens: tokens() });
    for (const header of [
      undefined,
      `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`,
      'Bearer',
      `Bearer ${TOKEN}x`,
      `Bearer x${TOKEN}`,
    ]) {
      const { refused } = await guard.admit(request(header));
      expect(refused?.status, String(header)).toBe(401);
      expect(refused?.reason).toBe('unauthorized');
      expect(refused?.headers['www-authenticate']).toMatch(/^Bearer realm="churnstream"/);
      expect(JSON.stringify(refused?.body)).not.toContain(TOKEN);
    }
    const wrong = await guard.admit(request('Bearer not-the-token-0000000000'));
    expect(wrong.refused?.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('admits either token of the file, the scheme in any case', async () => {
    const guard = createAccessGuard({ ...open, tokens: tokens() });
    admitted(await guard.admit(request(`Bearer ${TOKEN}`)))();
    admitted(await guard.admit(request(`bearer ${TOKEN}`)))();
    admitted(await guard.admit(request('Bearer second-token-0123456789')))();
  });

  it('without a token file every request is admitted', async () => {
    const guard = createAccessGuard({ ...open, tokens: null });
    admitted(await guard.admit(request()))();
  });

  it('429 with Retry-After once an address has spent its rate; another address is not affected', async () => {
    const guard = createAccessGuard({ ratePerSecond: 5, maxConcurrent: 100, tokens: tokens() });
    const answers: (number | null)[] = [];
    for (let i = 0; i < 8; i += 1) {
      const admission = await guard.admit(request(i % 2 === 0 ? `Bearer ${TOKEN}` : 'Bearer wrong-token-0000000000'));
      answers.push(admission.refused?.status ?? null);
      if (admission.refused === null) admission.release();
    }
    // Refused tokens spend the rate too: guessing is throttled.
    expect(answers).toEqual([null, 401, null, 401, null, 429, 429, 429]);
    const limited = await guard.admit(request(`Bearer ${TOKEN}`));
    expect(limited.refused?.headers['retry-after']).toBe('1');
    admitted(await guard.admit(request(`Bearer ${TOKEN}`, '10.0.0.2')))();
  });

  it('503 once maxConcurrent requests are in flight; a release frees one place, a second release is a no-op', async () => {
    const guard = createAccessGuard({ ratePerSecond: 0, maxConcurrent: 3, tokens: null });
    const releases = [
      admitted(await guard.admit(request())),
      admitted(await guard.admit(request())),
      admitted(await guard.admit(request())),
    ];
    const over = await guard.admit(request());
    expect(over.refused?.status).toBe(503);
    expect(over.refused?.reason).toBe('overloaded');
    releases[0]?.();
    releases[0]?.();
    const next = admitted(await guard.admit(request()));
    expect((await guard.admit(request())).refused?.status).toBe(503);
    next();
    releases[1]?.();
    releases[2]?.();
  });

  it('counts an IPv6 client by its /64 and an IPv4-mapped address as the IPv4 one', () => {
    expect(clientKey('10.1.2.3')).toBe('10.1.2.3');
    expect(clientKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0db8:0001:0002:ffff:eeee:dddd:cccc')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey(undefined)).toBe('unknown');
  });

  it('one IPv6 client rotating through its /64 shares one rate', async () => {
    const guard = createAccessGuard({ ratePerSecond: 3, maxConcurrent: 100, tokens: null });
    const statuses = [];
    for (let i = 1; i <= 5; i += 1)
      statuses.push((await guard.admit(request(undefined, `2001:db8:1:2::${i}`))).refused?.status ?? null);
    expect(statuses).toEqual([null, null, null, 429, 429]);
  });
});
