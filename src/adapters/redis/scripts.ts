// Loads the Lua scripts in ./scripts (one per file, KEYS count in the file name, n for any,
// the contract in each file's header) and registers them with ioredis defineCommand, which
// runs EVALSHA and falls back to EVAL when Redis answers NOSCRIPT. The TypeScript
// wrappers only build KEYS/ARGV and map the status codes.
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import { fromPackageRoot } from '../files/package-root.js';
import type { ScriptedRedis } from './client.js';
import { slotGroups } from './slots.js';

export type { ScriptedRedis } from './client.js';

const SCRIPT_DIR = ['src', 'adapters', 'redis', 'scripts'] as const;

/** keys: the KEYS count, or null when the caller passes it first (any number of keys). */
const SCRIPTS = {
  applyStates: { file: 'apply-state-n.lua', keys: null },
} as const satisfies Record<string, { readonly file: string; readonly keys: number | null }>;

export type ScriptName = keyof typeof SCRIPTS;

/** One customer's fenced write (apply-state-n.lua). */
export interface StateWrite {
  readonly key: string;
  readonly expected: number;
  /** Source partition and offset of the last event folded in; '' for timer writes. */
  readonly partition: number | '';
  readonly offset: string;
  readonly state: string | Buffer;
  /** Scoring metadata JSON, '' for none. */
  readonly meta: string;
  readonly ttlSeconds: number;
}

export function readScript(name: ScriptName): string {
  return readFileSync(fromPackageRoot(...SCRIPT_DIR, SCRIPTS[name].file), 'utf8');
}

/** Registers every script on the connection; call once per connection at startup. */
export function defineScripts(redis: Redis | Cluster): ScriptedRedis {
  for (const [name, spec] of Object.entries(SCRIPTS)) {
    redis.defineCommand(name, {
      ...(spec.keys === null ? {} : { numberOfKeys: spec.keys }),
      lua: readScript(name as ScriptName),
    });
  }
  return redis as ScriptedRedis;
}

export type ApplyStateOutcome =
  | { readonly kind: 'applied'; readonly version: number }
  | { readonly kind: 'already_applied'; readonly version: number }
  | { readonly kind: 'version_conflict'; readonly version: number };

/**
 * Customers per script call: a call holds Redis for its duration (tens of microseconds per
 * customer), so a large write is split rather than blocking other clients for long.
 */
const WRITES_PER_CALL = 500;

/**
 * Writes the customers in few script calls and returns each customer's outcome, in order.
 * On a cluster every key of a call must share a slot: one call per slot (and chunk).
 */
export async function applyStates(redis: ScriptedRedis, writes: readonly StateWrite[]): Promise<ApplyStateOutcome[]> {
  if (!redis.isCluster) return applyInCalls(redis, writes);
  const groups = slotGroups(writes.map((w) => w.key));
  const outcomes = await Promise.all(
    groups.map((group) =>
      applyInCalls(
        redis,
        group.map((i) => writes[i] as StateWrite),
      ),
    ),
  );
  const ordered = new Array<ApplyStateOutcome>(writes.length);
  groups.forEach((group, g) => {
    group.forEach((index, k) => {
      ordered[index] = outcomes[g]?.[k] as ApplyStateOutcome;
    });
  });
  return ordered;
}

async function applyInCalls(redis: ScriptedRedis, writes: readonly StateWrite[]): Promise<ApplyStateOutcome[]> {
  const calls: Promise<ApplyStateOutcome[]>[] = [];
  for (let at = 0; at < writes.length; at += WRITES_PER_CALL) {
    const part = writes.slice(at, at + WRITES_PER_CALL);
    const keys: string[] = [];
    const args: (string | number | Buffer)[] = [];
    for (const w of part) {
      keys.push(w.key);
      args.push(w.expected, w.partition, w.offset, w.state, w.meta, w.ttlSeconds);
    }
    calls.push(
      redis.applyStates(keys.length, ...keys, ...args).then((reply) => {
        if (reply.length !== 2 * part.length)
          throw new Error(`apply-state returned ${reply.length / 2} outcomes for ${part.length} writes`);
        return part.map((_, i) => toApplyStateOutcome([reply[2 * i] as number, reply[2 * i + 1] as number]));
      }),
    );
  }
  return (await Promise.all(calls)).flat();
}

export function toApplyStateOutcome([code, version]: readonly [number, number]): ApplyStateOutcome {
  switch (code) {
    case 1:
      return { kind: 'applied', version };
    case -1:
      return { kind: 'already_applied', version };
    case -2:
      return { kind: 'version_conflict', version };
    default:
      throw new Error(`apply-state returned unknown code ${code}`);
  }
}
