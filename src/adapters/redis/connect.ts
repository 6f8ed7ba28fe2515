// The Redis connection: credentials and TLS come from the URL (redis://user:password@host,
// rediss:// for TLS); a private CA bundle is read here when given.
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';

export function connectRedis(url: string, tlsCaFile: string | null): Redis {
  return new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 5,
    // A Redis that hangs (stopped, swapping) must fail a command rather than block the
    // scorer forever: the caller retries it as a transient failure.
    commandTimeout: 5000,
    enableAutoPipelining: true,
    ...(tlsCaFile === null ? {} : { tls: { ca: readFileSync(tlsCaFile, 'utf8') } }),
  });
}

/** The URL without its password, for messages. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable url)';
  }
}

/**
 * Connects, or fails with the server's reason (ioredis rejects connect() with only
 * "Connection is closed." when, say, the password is wrong; the reason comes as an event).
 */
export async function openRedis(url: string, tlsCaFile: string | null): Promise<Redis> {
  const redis = connectRedis(url, tlsCaFile);
  let reason: string | null = null;
  const remember = (error: Error) => {
    reason ??= error.message;
  };
  redis.on('error', remember);
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new Error(
      `cannot connect to Redis at ${redactedUrl(url)}: ${reason ?? (error instanceof Error ? error.message : String(error))}`,
    );
  }
  redis.off('error', remember);
  // A cluster node answers every key of other nodes' slots with MOVED: half the writes would
  // fail (transient, retried without end) while the other half land. A setting to fix.
  const info = await redis.info('cluster').catch(() => '');
  if (/^cluster_enabled:1/m.test(info)) {
    redis.disconnect();
    throw new RedisIsClusterNode(
      `${redactedUrl(url)} is a Redis Cluster node: name the cluster's nodes in REDIS_CLUSTER_NODES instead of REDIS_URL`,
    );
  }
  return redis;
}

/** The single-endpoint setting names a node of a Redis Cluster. */
export class RedisIsClusterNode extends Error {
  override readonly name = 'RedisIsClusterNode';
}
