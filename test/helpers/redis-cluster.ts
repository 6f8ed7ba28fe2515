// The native stack's Redis Cluster (scripts/stack.sh up redis-cluster) for the cluster
// tests: started on demand, its seed list, a verification client, and faults: a primary
// killed (its replica promoted after the node timeout), frozen with SIGSTOP past the node
// timeout, a graceful CLUSTER FAILOVER, or every node stopped and started again from its data.
// Only the cluster's own nodes are touched: Kafka, the registry and the single Redis are shared.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis } from 'ioredis';
import { stackEnv } from './stack.js';
import { httpGet, metricSamples, sleep, stack, waitFor } from './stack-control.js';

const root = new URL('../../', import.meta.url).pathname;
const stackDir = process.env['CHURNSTREAM_STACK_DIR'] ?? `${root}.stack`;
const host = stackEnv['STACK_HOST'] ?? '127.0.0.1';
export const clusterPorts = (stackEnv['REDIS_CLUSTER_PORTS'] ?? '').split(' ').map(Number);
export const clusterNodesEnv = clusterPorts.map((port) => `${host}:${port}`).join(',');

/** Starts the cluster (or the nodes of it that are down) and waits until every slot is served. */
export function ensureCluster(): void {
  stack('up', 'redis-cluster');
}

export const clusterClient = (): Cluster =>
  new Cluster(
    clusterPorts.map((port) => ({ host, port })),
    { scaleReads: 'master', retryDelayOnClusterDown: 300, redisOptions: { maxRetriesPerRequest: 20 } },
  );

// With a deadline: a frozen node (SIGSTOP) would hold redis-cli, and the test, forever.
const cli = (port: number, ...args: string[]) =>
  execFileSync('redis-cli', ['-h', host, '-p', String(port), ...args], {
    encoding: 'utf8',
    timeout: 3000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

interface NodeLine {
  readonly id: string;
  readonly port: number;
  readonly primary: boolean;
  readonly primaryId: string;
  readonly slots: readonly [number, number][];
  readonly failed: boolean;
}

/** CLUSTER NODES as one answering node sees it. */
export function clusterNodes(): NodeLine[] {
  for (const port of clusterPorts) {
    let text: string;
    try {
      text = cli(port, 'cluster', 'nodes');
    } catch {
      continue;
    }
    return text
      .trim()
      .split('\n')
      .map((line) => {
        const [id = '', address = '', flags = '', primaryId = '', , , , , ...ranges] = line.split(' ');
        return {
          id,
          port: Number(address.split('@')[0]?.split(':')[1]),
          primary: flags.includes('master'),
          primaryId,
          failed: flags.includes('fail'),
          slots: ranges
            .filter((r) => !r.startsWith('['))
            .map((r) => {
              const [from = 0, to = from] = r.split('-').map(Number);
              return [from, to] as [number, number];
            }),
        };
      });
  }
  throw new Error('no cluster node answers');
}

/** The primary serving a key's slot (`nodes`: a CLUSTER NODES already read, for many keys). */
export function primaryOf(key: string, nodes: readonly NodeLine[] = clusterNodes()): NodeLine {
  const slot = calculateSlot(key);
  const found = nodes.find((n) => n.primary && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b));
  if (found === undefined) throw new Error(`no primary serves slot ${slot}`);
  return found;
}

const nodePid = (port: number) => Number(readFileSync(`${stackDir}/run/redis-cluster-${port}.pid`, 'utf8').trim());

/**
 * SIGKILLs a primary and resolves once one of its replicas serves its slots (the cluster
 * detects the failure after the node timeout and promotes the replica). Returns the ports.
 */
export async function killPrimary(
  primary: NodeLine,
  timeoutMs = 30_000,
): Promise<{ killed: number; promoted: number }> {
  process.kill(nodePid(primary.port), 'SIGKILL');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await sleep(200);
    const promoted = clusterNodes().find(
      (n) => n.primary && !n.failed && n.port !== primary.port && n.slots.some(([a]) => a === primary.slots[0]?.[0]),
    );
    if (promoted !== undefined) return { killed: primary.port, promoted: promoted.port };
  }
  throw new Error(`no replica of ${primary.port} promoted within ${timeoutMs} ms`);
}

/** A graceful failover: the replica of `primary` takes over after catching up (no write lost). */
export async function failoverTo(primary: NodeLine, timeoutMs = 15_000): Promise<number> {
  const replica = clusterNodes().find((n) => !n.primary && n.primaryId === primary.id && !n.failed);
  if (replica === undefined) throw new Error(`primary ${primary.port} has no replica`);
  cli(replica.port, 'cluster', 'failover');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await sleep(100);
    const single = new Redis({ host, port: replica.port, lazyConnect: true });
    const role = await single.role().finally(() => single.disconnect());
    if (role[0] === 'master') return replica.port;
  }
  throw new Error(`replica ${replica.port} did not take over within ${timeoutMs} ms`);
}

/** Sum of INFO commandstats calls over the primaries (Redis operations, scripts' inner calls included). */
export async function clusterCommandCalls(): Promise<Map<string, number>> {
  const total = new Map<string, number>();
  for (const node of clusterNodes().filter((n) => n.primary && !n.failed)) {
    for (const line of cli(node.port, 'info', 'commandstats').split('\n')) {
      const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
      if (match) total.set(match[1] as string, (total.get(match[1] as string) ?? 0) + Number(match[2]));
    }
  }
  return total;
}

/**
 * Until `pid` is gone, zombie included: stack.sh tells a running node by `kill -0`, which a
 * zombie passes (a killed node is reaped by init, here within about 2 s).
 */
async function gone(pid: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (existsSync(`/proc/${pid}`)) {
    if (Date.now() > deadline) throw new Error(`redis-server ${pid} still there after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** A node other than `primary` that serves its first slot as a primary now, if any. */
const successorOf = (primary: NodeLine): NodeLine | undefined =>
  clusterNodes().find(
    (n) => n.primary && !n.failed && n.port !== primary.port && n.slots.some(([a]) => a === primary.slots[0]?.[0]),
  );

/** Until the node on `port` is a replica whose link to its primary is up, and the cluster is whole. */
async function untilReplica(port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const role = (() => {
      try {
        return cli(port, 'role').split('\n');
      } catch {
        return [];
      }
    })();
    if (role[0] === 'slave' && role[3] === 'connected') break;
    if (Date.now() > deadline) throw new Error(`node ${port} did not rejoin as a replica within ${timeoutMs} ms`);
    await sleep(200);
  }
  ensureCluster();
}

/**
 * Freezes a primary (SIGSTOP: its clients see a hang, not a refusal) for at least `ms` and
 * until its replica is promoted (after the node timeout), then lets it go on (SIGCONT): it
 * finds a newer primary serving its slots and rejoins as its replica. Resolves once it has.
 */
export async function freezePrimary(
  primary: NodeLine,
  ms: number,
  timeoutMs = 30_000,
): Promise<{ frozen: number; promoted: number; frozenMs: number }> {
  const pid = nodePid(primary.port);
  const started = Date.now();
  let promoted: NodeLine | undefined;
  process.kill(pid, 'SIGSTOP');
  try {
    while (Date.now() - started < ms || promoted === undefined) {
      if (Date.now() - started > timeoutMs)
        throw new Error(`no replica of ${primary.port} promoted in ${timeoutMs} ms`);
      await sleep(200);
      promoted ??= successorOf(primary);
    }
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const frozenMs = Date.now() - started;
  await untilReplica(primary.port);
  return { frozen: primary.port, promoted: promoted.port, frozenMs };
}

/** SIGKILLs a primary, waits for its replica's promotion, starts the node again from its data and waits until it replicates. */
export async function killAndRestartPrimary(primary: NodeLine): Promise<{ killed: number; promoted: number }> {
  const pid = nodePid(primary.port);
  const ports = await killPrimary(primary);
  await gone(pid);
  ensureCluster();
  await untilReplica(primary.port);
  return ports;
}

/**
 * Stops every node at once with SIGTERM, as a shutdown of the whole cluster would: each one
 * writes its append-only file and nodes.conf and exits. Resolves once all are gone. Started
 * again by ensureCluster(), each from its own data, with the roles it had.
 */
export async function stopCluster(): Promise<void> {
  const pids = clusterPorts.map(nodePid).filter((pid) => existsSync(`/proc/${pid}`));
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  for (const pid of pids) await gone(pid);
}

/** What the scorer processes showed while every node of the cluster was down. */
export interface ClusterOutage {
  /** From the first SIGTERM until every node had exited, and until they were started again. */
  readonly stopSeconds: number;
  readonly downSeconds: number;
  /** Rounds of probes (about one a second) of the members running before, while the cluster was down. */
  readonly rounds: number;
  /** 200 answers / requests over those members and rounds. */
  readonly healthz: readonly [ok: number, asked: number];
  readonly metrics: readonly [ok: number, asked: number];
  /** /readyz 503 answers (not ready: Redis does not answer) / requests, and the last body. */
  readonly notReady: readonly [unready: number, asked: number];
  readonly readyz: string;
  /** /readyz answers whose `waiting_for` names Redis (a unit retrying, reported as such). */
  readonly waitingForRedis: number;
  /** /metrics answers with churnstream_series_stale{source="redis"} 1 / with churnstream_dependency_up{dependency="redis"} 0. */
  readonly staleRedis: number;
  readonly redisDown: number;
  /** Valid events applied (summed over those members) a second into the outage, and at its end. */
  readonly appliedDuring: readonly [first: number, last: number];
  /** From the cluster serving every slot again to the first valid event applied after it. */
  readonly resumeSeconds: number;
  /** From then until the member started during the outage answered /readyz with 200. */
  readonly replacementReadySeconds: number;
}

/** Valid events applied, summed over the members' /metrics (NaN if one does not answer). */
async function appliedEvents(ports: readonly number[]): Promise<number> {
  let sum = 0;
  for (const port of ports) {
    const answer = await httpGet(port, '/metrics', 2000).catch(() => null);
    if (answer?.status !== 200) return Number.NaN;
    for (const value of metricSamples(answer.text, 'churnstream_events_processed_total')) sum += value;
  }
  return sum;
}

const answer = (port: number, path: string) => httpGet(port, path, 2000).catch(() => ({ status: 0, text: '' }));
const status = async (port: number, path: string) => (await answer(port, path)).status;

/**
 * Every node stopped for `downMs`, then started again from its data. A second in, `whileDown`
 * runs: it may produce records and SIGKILL a scorer and start another in its place, whose HTTP
 * port it returns (that one must wait for Redis rather than give up). Meanwhile the others
 * (`ports`: the members' HTTP ports) are asked /healthz, /metrics and /readyz once a second:
 * they must answer the first two, say they are not ready, apply nothing, and resume by themselves.
 */
export async function wholeClusterOutage(
  ports: () => readonly number[],
  downMs: number,
  whileDown: () => Promise<number>,
): Promise<ClusterOutage> {
  const started = Date.now();
  await stopCluster();
  const stopSeconds = (Date.now() - started) / 1000;
  await sleep(1000);
  const replacement = await whileDown();
  const probed = ports().filter((port) => port !== replacement);
  const first = await appliedEvents(probed);
  const tally = { healthz: [0, 0], metrics: [0, 0], notReady: [0, 0] };
  const count = (counts: number[], hit: boolean) => {
    counts[0] = (counts[0] ?? 0) + (hit ? 1 : 0);
    counts[1] = (counts[1] ?? 0) + 1;
  };
  let readyz = '';
  let waitingForRedis = 0;
  let staleRedis = 0;
  let redisDown = 0;
  const probe = async (port: number) => {
    const [healthz, metrics, ready] = await Promise.all(
      ['/healthz', '/metrics', '/readyz'].map((path) => answer(port, path)),
    );
    count(tally.healthz, healthz?.status === 200);
    count(tally.metrics, metrics?.status === 200);
    count(tally.notReady, ready?.status === 503);
    readyz = ready?.text ?? '';
    if (/"waiting_for":\{[^}]*"redis"/.test(readyz)) waitingForRedis += 1;
    const text = metrics?.text ?? '';
    if (metricSamples(text, 'churnstream_series_stale', { source: 'redis' })[0] === 1) staleRedis += 1;
    if (metricSamples(text, 'churnstream_dependency_up', { dependency: 'redis' })[0] === 0) redisDown += 1;
  };
  let rounds = 0;
  while (Date.now() - started < downMs) {
    await Promise.all(probed.map(probe));
    rounds += 1;
    await sleep(1000);
  }
  const last = await appliedEvents(probed);
  const downSeconds = (Date.now() - started) / 1000;
  ensureCluster();
  const whole = Date.now();
  const since = (found: unknown) => (found === undefined ? Number.POSITIVE_INFINITY : (Date.now() - whole) / 1000);
  const resumeSeconds = since(await waitFor(async () => (await appliedEvents(probed)) > last, 60_000, 100));
  const replacementReadySeconds = since(
    await waitFor(async () => (await status(replacement, '/readyz')) === 200, 60_000),
  );
  const pair = (counts: number[]) => [counts[0] ?? 0, counts[1] ?? 0] as const;
  return {
    stopSeconds,
    downSeconds,
    rounds,
    healthz: pair(tally.healthz),
    metrics: pair(tally.metrics),
    notReady: pair(tally.notReady),
    readyz,
    waitingForRedis,
    staleRedis,
    redisDown,
    appliedDuring: [first, last],
    resumeSeconds,
    replacementReadySeconds,
  };
}
