// The native stack's Redis Cluster (scripts/stack.sh up redis-cluster) for the cluster
// tests: started on demand, its seed list, a verification client, and faults: a primary
// killed (its replica promoted after the node timeout) or a graceful CLUSTER FAILOVER.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis } from 'ioredis';
import { stackEnv } from './stack.js';
import { sleep, stack } from './stack-control.js';

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

const cli = (port: number, ...args: string[]) =>
  execFileSync('redis-cli', ['-h', host, '-p', String(port), ...args], { encoding: 'utf8' });

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
