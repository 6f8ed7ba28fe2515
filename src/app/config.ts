// One validated configuration for every churnstream process, read from the
// environment (CHURNSTREAM_* and the connection variables that `scripts/stack.sh env`
// prints). Defaults point at the native stack in scripts/stack/stack.env, so a fresh
// clone runs against `scripts/stack.sh up` with no settings at all.
import { z } from 'zod';
import { DAY_MS as DAY } from '../core/time.js';
import { checkConnections, checkRedis } from './config-checks.js';
import { type ConnectionsConfig, connectionsConfig, connectionsSchema, csv } from './config-connections.js';
import { checkHttp, type HttpConfig, httpConfig, httpSchema } from './config-http.js';
import {
  checkRollout,
  type ModelsConfig,
  modelsConfig,
  type RolloutConfig,
  rolloutConfig,
  rolloutSchema,
} from './config-rollout.js';
import { UserError } from './user-error.js';

export const configSchema = z.object({
  ...connectionsSchema.shape,
  CHURNSTREAM_ORDERS_TOPIC: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name: letters, digits, . _ - (at most 249)')
    .default('churnstream.orders'),
  CHURNSTREAM_RISK_TOPIC: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name: letters, digits, . _ - (at most 249)')
    .default('churnstream.risk-changes'),
  CHURNSTREAM_DEAD_LETTER_TOPIC: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name: letters, digits, . _ - (at most 249)')
    .default('churnstream.dead-letters'),
  CHURNSTREAM_GROUP_ID: z.string().min(1).default('churnstream-scorer'),
  CHURNSTREAM_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(6),
  ...httpSchema.shape,
  CHURNSTREAM_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CHURNSTREAM_REDIS_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only')
    .default('default'),
  ...rolloutSchema.shape,
  CHURNSTREAM_CLOCK: z.enum(['wall', 'watermark']).default('wall'),
  CHURNSTREAM_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).max(300_000).default(30_000),
  CHURNSTREAM_MAX_BATCH_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  CHURNSTREAM_CONCURRENT_PARTITIONS: z.coerce.number().int().min(1).max(64).default(16),
  CHURNSTREAM_FROM_BEGINNING: z.enum(['true', 'false']).default('true'),
  CHURNSTREAM_TIMER_INTERVAL_MS: z.coerce.number().int().min(10).default(1000),
  CHURNSTREAM_TIMER_BATCH: z.coerce.number().int().min(1).default(500),
  CHURNSTREAM_MAX_STALENESS_DAYS: z.coerce.number().positive().default(30),
  CHURNSTREAM_LAG_CHECK_INTERVAL_MS: z.coerce.number().int().min(1000).default(15_000),
  CHURNSTREAM_COMMIT_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  CHURNSTREAM_STARTUP_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  CHURNSTREAM_SCHEMA_ID_GRACE_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
  CHURNSTREAM_STATE_TTL_DAYS: z.coerce.number().int().min(0).default(730),
  CHURNSTREAM_EVENT_FLOOR: z.iso.date().default('1990-01-01'),
  CHURNSTREAM_MAX_FUTURE_HOURS: z.coerce.number().min(0).default(24),
  CHURNSTREAM_CURRENCIES: csv
    .refine(
      (codes) => codes.length > 0 && codes.every((c) => /^[A-Za-z]{3}$/.test(c)),
      'must be 3-letter ISO 4217 codes, e.g. EUR,USD',
    )
    .optional(),
  CHURNSTREAM_HYSTERESIS_BAND: z.coerce.number().min(0).max(0.2).default(0.03),
  CHURNSTREAM_MIN_DWELL_DAYS: z.coerce.number().min(0).default(7),
});

/** Settings that only make sense together. */
const checkedSchema = configSchema.superRefine((raw, context) => {
  const need = (when: boolean, path: string, message: string) => {
    if (when) context.addIssue({ code: 'custom', path: [path], message });
  };
  checkConnections(raw, need);
  checkRedis(raw, need);
  checkHttp(raw, need);
  checkRollout(raw, need);
});

export type RawConfig = z.infer<typeof configSchema>;

export interface Config extends ConnectionsConfig {
  /** Key namespace: deployments (or test runs) sharing a Redis keep apart. */
  readonly redisNamespace: string;
  readonly topics: { readonly orders: string; readonly riskChanges: string; readonly deadLetters: string };
  readonly groupId: string;
  readonly partitions: number;
  readonly http: HttpConfig;
  readonly logLevel: RawConfig['CHURNSTREAM_LOG_LEVEL'];
  readonly models: ModelsConfig;
  readonly rollout: RolloutConfig;
  /** wall: live traffic; watermark: event time (replays, deterministic). */
  readonly clock: 'wall' | 'watermark';
  readonly fromBeginning: boolean;
  /** Consumer group session timeout: how long a dead member holds its partitions. */
  readonly sessionTimeoutMs: number;
  /** Bytes fetched per partition per batch (kafkajs maxBytesPerPartition). */
  readonly maxBatchBytes: number;
  /** Partitions whose batches are processed at the same time (each partition stays in order). */
  readonly concurrentPartitions: number;
  /** 0: commit input offsets after every batch; else at most this often (see consumer.ts). */
  readonly commitIntervalMs: number;
  /** How often the consumer group's committed lag is read from the broker. */
  readonly lagCheckIntervalMs: number;
  /** How long start-up waits for each dependency (Kafka and its coordinator, registry, Redis). */
  readonly startupTimeoutMs: number;
  /** How long a writer schema id the registry does not serve is waited for before its records are poison. */
  readonly schemaIdGraceMs: number;
  readonly timers: {
    readonly intervalMs: number;
    readonly batch: number;
    readonly maxStalenessMs: number;
  };
  readonly stateTtlSeconds: number;
  readonly validation: {
    readonly floor: number;
    readonly maxFutureMs: number;
    readonly maxIdLength: number;
    /** CHURNSTREAM_CURRENCIES upper-cased, or null: any currency. */
    readonly currencies: readonly string[] | null;
  };
  readonly hysteresis: { readonly band: number; readonly minDwellMs: number };
}

export class ConfigError extends UserError {
  override readonly name = 'ConfigError';
}

/** Validates the environment; throws ConfigError listing every bad variable at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.fromEntries(
    Object.keys(configSchema.shape).flatMap((key) => {
      const value = env[key];
      return value === undefined || value === '' ? [] : [[key, value]];
    }),
  );
  const parsed = checkedSchema.safeParse(known);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    // One problem, one line (what an operator greps a crash-looping pod's log for).
    throw new ConfigError(
      lines.length === 1 ? `invalid configuration: ${lines[0]}` : `invalid configuration:\n  ${lines.join('\n  ')}`,
    );
  }
  const raw = parsed.data;
  return Object.freeze({
    ...connectionsConfig(raw),
    redisNamespace: raw.CHURNSTREAM_REDIS_NAMESPACE,
    topics: Object.freeze({
      orders: raw.CHURNSTREAM_ORDERS_TOPIC,
      riskChanges: raw.CHURNSTREAM_RISK_TOPIC,
      deadLetters: raw.CHURNSTREAM_DEAD_LETTER_TOPIC,
    }),
    groupId: raw.CHURNSTREAM_GROUP_ID,
    partitions: raw.CHURNSTREAM_PARTITIONS,
    http: httpConfig(raw),
    logLevel: raw.CHURNSTREAM_LOG_LEVEL,
    models: modelsConfig(raw),
    rollout: rolloutConfig(raw),
    clock: raw.CHURNSTREAM_CLOCK,
    fromBeginning: raw.CHURNSTREAM_FROM_BEGINNING === 'true',
    sessionTimeoutMs: raw.CHURNSTREAM_SESSION_TIMEOUT_MS,
    maxBatchBytes: raw.CHURNSTREAM_MAX_BATCH_BYTES,
    concurrentPartitions: raw.CHURNSTREAM_CONCURRENT_PARTITIONS,
    commitIntervalMs: raw.CHURNSTREAM_COMMIT_INTERVAL_MS,
    lagCheckIntervalMs: raw.CHURNSTREAM_LAG_CHECK_INTERVAL_MS,
    startupTimeoutMs: raw.CHURNSTREAM_STARTUP_TIMEOUT_MS,
    schemaIdGraceMs: raw.CHURNSTREAM_SCHEMA_ID_GRACE_MS,
    timers: Object.freeze({
      intervalMs: raw.CHURNSTREAM_TIMER_INTERVAL_MS,
      batch: raw.CHURNSTREAM_TIMER_BATCH,
      maxStalenessMs: raw.CHURNSTREAM_MAX_STALENESS_DAYS * DAY,
    }),
    stateTtlSeconds: raw.CHURNSTREAM_STATE_TTL_DAYS * 86_400,
    validation: Object.freeze({
      floor: Date.parse(`${raw.CHURNSTREAM_EVENT_FLOOR}T00:00:00Z`),
      maxFutureMs: raw.CHURNSTREAM_MAX_FUTURE_HOURS * 3_600_000,
      currencies: raw.CHURNSTREAM_CURRENCIES?.map((c) => c.toUpperCase()) ?? null,
      maxIdLength: 256,
    }),
    hysteresis: Object.freeze({
      band: raw.CHURNSTREAM_HYSTERESIS_BAND,
      minDwellMs: raw.CHURNSTREAM_MIN_DWELL_DAYS * DAY,
    }),
  });
}
