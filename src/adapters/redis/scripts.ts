// Loads the Lua scripts in ./scripts (one per file, KEYS count in the file name, the
// contract in each file's header) and registers them with ioredis defineCommand, which
// runs EVALSHA and falls back to EVAL when Redis answers NOSCRIPT. The TypeScript
// wrappers only build KEYS/ARGV and map the status codes.
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { fromPackageRoot } from '../files/package-root.js';

const SCRIPT_DIR = ['src', 'adapters', 'redis', 'scripts'] as const;

const SCRIPTS = {
  applyState: { file: 'apply-state-1.lua', keys: 1 },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

type ScriptReply = [number, number];

export interface ScriptedRedis extends Redis {
  applyState(
    key: string,
    expected: number,
    partition: number | '',
    offset: string,
    state: string | Buffer,
    meta: string,
    ttlSeconds: number,
  ): Promise<ScriptReply>;
}

export function readScript(name: ScriptName): string {
  return readFileSync(fromPackageRoot(...SCRIPT_DIR, SCRIPTS[name].file), 'utf8');
}

/** Registers every script on the connection; call once per connection at startup. */
export function defineScripts(redis: Redis): ScriptedRedis {
  for (const [name, spec] of Object.entries(SCRIPTS)) {
    redis.defineCommand(name, { numberOfKeys: spec.keys, lua: readScript(name as ScriptName) });
  }
  return redis as ScriptedRedis;
}

export type ApplyStateOutcome =
  | { readonly kind: 'applied'; readonly version: number }
  | { readonly kind: 'already_applied'; readonly version: number }
  | { readonly kind: 'version_conflict'; readonly version: number };

export function toApplyStateOutcome([code, version]: ScriptReply): ApplyStateOutcome {
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
