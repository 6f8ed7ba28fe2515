// The Redis Cluster connection (REDIS_CLUSTER_NODES): seed nodes as host:port, or as URLs
// when the cluster needs TLS (rediss://) or an ACL user (redis://user:password@host:port),
// the same forms as REDIS_URL. ioredis discovers the other nodes from CLUSTER SLOTS.
import { readFileSync } from 'node:fs';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { redactedUrl } from './connect.js';

export interface ClusterTarget {
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  readonly tls: boolean;
  readonly username: string | null;
  readonly password: string | null;
}

const HOST_PORT = /^([^:\s/@[\]]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

/** Parses the seed list; throws one message naming the bad entry (config turns it into exit 2). */
export function parseClusterNodes(entries: readonly string[]): ClusterTarget {
  const parsed = entries.map((entry) => {
    if (/^rediss?:\/\//.test(entry)) {
      const url = new URL(entry);
      if (url.port === '' || (url.pathname !== '' && url.pathname !== '/'))
        throw new Error(`'${redactedUrl(entry)}' is not redis[s]://[user:password@]host:port`);
      return {
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: Number(url.port),
        tls: url.protocol === 'rediss:',
        username: url.username === '' ? null : decodeURIComponent(url.username),
        password: url.password === '' ? null : decodeURIComponent(url.password),
      };
    }
    const match = HOST_PORT.exec(entry);
    if (match === null) throw new Error(`'${entry}' is not host:port`);
    const port = Number(match[2]);
    return { host: (match[1] ?? '').replace(/^\[|\]$/g, ''), port, tls: false, username: null, password: null };
  });
  for (const node of parsed)
    if (node.port < 1 || node.port > 65_535) throw new Error(`port ${node.port} is out of range`);
  const [first] = parsed;
  if (first === undefined) throw new Error('no node given');
  // One cluster, one way in: every seed with the same scheme and credentials.
  if (parsed.some((n) => n.tls !== first.tls || n.username !== first.username || n.password !== first.password))
    throw new Error('every node needs the same scheme and credentials');
  return {
    nodes: parsed.map(({ host, port }) => ({ host, port })),
    tls: first.tls,
    username: first.username,
    password: first.password,
  };
}

/** Seed nodes for messages, without passwords. */
export const describeCluster = (target: ClusterTarget): string =>
  `${target.tls ? 'rediss' : 'redis'}://${target.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;

/** Per-node connection options: credentials and TLS as REDIS_URL gives them for one endpoint. */
function nodeOptions(target: ClusterTarget, tlsCaFile: string | null): RedisOptions {
  const tls = target.tls ? (tlsCaFile === null ? {} : { ca: readFileSync(tlsCaFile, 'utf8') }) : null;
  return {
    ...(target.username === null ? {} : { username: target.username }),
    ...(target.password === null ? {} : { password: target.password }),
    ...(tls === null ? {} : { tls }),
  };
}

export function connectCluster(target: ClusterTarget, tlsCaFile: string | null): Cluster {
  return new Cluster(
    target.nodes.map((n) => ({ host: n.host, port: n.port })),
    {
      lazyConnect: true,
      // With every node gone ioredis would queue commands until the cluster is back, with no
      // timeout: units would hang unseen (no `waiting_for`, `churnstream_dependency_up` still 1).
      // Refused at once instead, they are transient failures, retried with backoff and reported.
      enableOfflineQueue: false,
      // Reads and writes on primaries: a replica may lag, and the fence needs the latest version.
      scaleReads: 'master',
      enableAutoPipelining: true,
      // Its first argument is the key count, not a key: auto-pipelining would route it by "500".
      autoPipeliningIgnoredCommands: ['applyStates'],
      // MOVED/ASK are followed and CLUSTERDOWN/TRYAGAIN waited out by ioredis a few times;
      // what still fails reaches the stores as a DependencyError and the unit is retried.
      maxRedirections: 16,
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 300,
      retryDelayOnTryAgain: 200,
      slotsRefreshTimeout: 2000,
      // Also re-read the slot map periodically: a failover is noticed even by a client
      // whose commands all went to nodes that still answer.
      slotsRefreshInterval: 5000,
      clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
      // TLS certificates name hosts: keep the seed's name rather than a resolved address.
      dnsLookup: (address, callback) => callback(null, address),
      redisOptions: { maxRetriesPerRequest: 5, commandTimeout: 5000, ...nodeOptions(target, tlsCaFile) },
    },
  );
}

/**
 * How long one connect attempt may take before it fails and the caller tries again (start-up
 * does until CHURNSTREAM_STARTUP_TIMEOUT_MS): a backstop, should the client never get ready.
 */
const CONNECT_ATTEMPT_MS = 10_000;

/** Connects (slots loaded, cluster state ok), or fails with the first node error's reason. */
export async function openCluster(target: ClusterTarget, tlsCaFile: string | null): Promise<Cluster> {
  const cluster = connectCluster(target, tlsCaFile);
  let reason: string | null = null;
  const remember = (error: Error) => {
    reason ??= error.message;
  };
  cluster.on('node error', remember);
  cluster.on('error', remember);
  let timer: NodeJS.Timeout | undefined;
  try {
    const connecting = cluster.connect();
    // Settles after we gave up on it too (or never): nobody else waits for it.
    connecting.catch(() => undefined);
    // connect() never settles when its ready check finds `cluster_state:fail` (nodes up but not
    // yet agreed, e.g. a whole cluster starting again): ioredis then reconnects on its own and
    // gets ready later, but leaves the first promise pending. So its `ready` counts as well.
    const ready = new Promise<void>((resolve) => cluster.once('ready', () => resolve()));
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`cluster not ready within ${CONNECT_ATTEMPT_MS} ms`)),
        CONNECT_ATTEMPT_MS,
      );
    });
    await Promise.race([connecting, ready, late]);
  } catch (error) {
    cluster.disconnect();
    // ioredis reads the slots over a connection of its own whose socket errors (a refused TLS
    // certificate) it drops, leaving "Connection is closed.": ask the first seed directly.
    const why =
      (await seedError(target, tlsCaFile)) ?? reason ?? (error instanceof Error ? error.message : String(error));
    throw new Error(`cannot connect to Redis Cluster at ${describeCluster(target)}: ${why}`);
  } finally {
    clearTimeout(timer);
    cluster.off('node error', remember);
    cluster.off('error', remember);
  }
  return cluster;
}

async function seedError(target: ClusterTarget, tlsCaFile: string | null): Promise<string | null> {
  const [seed] = target.nodes;
  if (seed === undefined) return null;
  const probe = new Redis({ ...seed, ...nodeOptions(target, tlsCaFile), lazyConnect: true, retryStrategy: () => null });
  let reason: string | null = null;
  probe.on('error', (error: Error) => {
    reason ??= error.message;
  });
  await probe.connect().catch((error: Error) => {
    reason ??= error.message;
  });
  probe.disconnect();
  return reason;
}
