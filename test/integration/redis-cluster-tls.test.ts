// Redis Cluster over TLS (rediss:// seeds, REDIS_TLS_CA_FILE for a private CA): three TLS-only
// primaries from the Debian redis-server with a CA made here by openssl, the cluster bus on TLS
// too. The stores write and read through it; without the CA the start fails naming the reason.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseClusterNodes } from '../../src/adapters/redis/connect-cluster.js';
import { RedisConnection } from '../../src/adapters/redis/connection.js';
import { emptyState } from '../../src/core/state/customer-state.js';
import { sleep } from '../helpers/stack-control.js';

const ports = [17021, 17022, 17023];
const dir = mkdtempSync(join(tmpdir(), 'cs-tls-cluster-'));
const file = (name: string) => join(dir, name);
const nodes: ChildProcess[] = [];
const tlsCli = ['--tls', '--cacert', file('ca.crt'), '-h', '127.0.0.1'];

function makeCertificates(): void {
  const run = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
  );
  writeFileSync(file('san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    file('node.key'),
    '-out',
    file('node.csr'),
  );
  run(
    'x509',
    '-req',
    '-in',
    file('node.csr'),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    file('san.cnf'),
    '-out',
    file('node.crt'),
  );
}

beforeAll(async () => {
  makeCertificates();
  for (const port of ports) {
    const data = file(String(port));
    execFileSync('mkdir', ['-p', data]);
    const args = ['--bind', '127.0.0.1', '--port', '0', '--tls-port', String(port), '--dir', data];
    const tls = [
      '--tls-cert-file',
      file('node.crt'),
      '--tls-key-file',
      file('node.key'),
      '--tls-ca-cert-file',
      file('ca.crt'),
    ];
    const cluster = [
      '--tls-auth-clients',
      'no',
      '--tls-cluster',
      'yes',
      '--cluster-enabled',
      'yes',
      '--cluster-port',
      String(port + 10_000),
    ];
    nodes.push(
      spawn('redis-server', [...args, ...tls, ...cluster, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }),
    );
  }
  for (const port of ports)
    for (let tries = 0; ; tries += 1) {
      try {
        execFileSync('redis-cli', [...tlsCli, '-p', String(port), 'ping'], { stdio: 'ignore' });
        break;
      } catch (error) {
        if (tries > 100) throw error;
        await sleep(100);
      }
    }
  const addresses = ports.map((port) => `127.0.0.1:${port}`);
  execFileSync(
    'redis-cli',
    [...tlsCli, '--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
    { stdio: 'ignore' },
  );
  for (
    let tries = 0;
    !execFileSync('redis-cli', [...tlsCli, '-p', String(ports[0]), 'cluster', 'info'], { encoding: 'utf8' }).includes(
      'cluster_state:ok',
    );
    tries += 1
  ) {
    if (tries > 100) throw new Error('TLS cluster not ok');
    await sleep(100);
  }
}, 60_000);

afterAll(() => {
  for (const node of nodes) node.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis Cluster over TLS', () => {
  it('writes and reads with rediss:// seeds and a private CA; refuses the server certificate without it', async () => {
    const target = parseClusterNodes([`rediss://127.0.0.1:${ports[0]}`]);
    expect(target.tls).toBe(true);
    const connection = await RedisConnection.openCluster(target, file('ca.crt'));
    try {
      const { state } = connection.stores('tls-test', 60);
      const customers = Array.from({ length: 50 }, (_, i) => `tls-${i}`);
      const writes = customers.map((customerId) => ({
        customerId,
        expectedVersion: 0,
        partition: 0,
        source: { partition: 0, offset: '7' },
        next: { state: { ...emptyState(), maxEventTime: 7 }, tier: null, nextDue: Number.NaN },
      }));
      expect((await state.write(writes)).every((o) => o.kind === 'applied')).toBe(true);
      const read = await state.read(customers.map((customerId) => ({ customerId, partition: 0 })));
      expect([...read.values()].every((c) => c.version === 1 && c.lastOffset === 7n && c.partition === 0)).toBe(true);
    } finally {
      await connection.close();
    }
    const refused = await RedisConnection.openCluster(target, null).then(
      () => 'opened',
      (error: Error) => error.message,
    );
    expect(refused, refused).toMatch(
      /^cannot connect to Redis Cluster at rediss:\/\/127\.0\.0\.1:17021: .*certificate/i,
    );
  });
});
