// The HTTP routes of the scorer: health, readiness, metrics and the customer query. The
// customer view is assessed by the same core function the stream uses for a risk change.
// A Redis outage answers 503 with a JSON reason, never a raw client message, and within
// CUSTOMER_READ_TIMEOUT_MS: a hung Redis would otherwise hold the request (and one of the
// API's in-flight slots) for the client's whole 5 s command timeout.
import { DependencyError } from '../adapters/dependency-error.js';
import type { Metrics } from '../adapters/metrics/definitions.js';
import { validateOrderEvent } from '../core/events/validate.js';
import { FEATURE_NAMES } from '../core/features/names.js';
import { assessCustomer, type ScoringContext } from '../core/step/customer-step.js';
import { variantFor } from '../core/step/shadow.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { ScorerRoutes } from './http-listeners.js';
import type { DependencyStatus } from './metrics-observer.js';
import type { LoadedCustomer, StateStore, WatermarkStore } from './scorer/ports.js';

export interface RouteDeps {
  readonly config: Config;
  readonly metrics: Metrics;
  readonly state: StateStore;
  readonly watermarks: WatermarkStore;
  readonly clock: Clock;
  readonly context: () => ScoringContext;
  readonly status: DependencyStatus;
  readonly pingRedis: () => Promise<boolean>;
  readonly assigned: () => readonly number[];
  readonly churnVersion: () => string;
}

/** How long a customer request waits for its state read before answering 503. */
export const CUSTOMER_READ_TIMEOUT_MS = 1000;

const UNAVAILABLE = 'customer state is unavailable: Redis does not answer; retry later';

/**
 * The read, or a DependencyError once `ms` have passed. The read itself is not cancelled
 * (ioredis has no per-command abort); its late failure is swallowed here, so it can never
 * become an unhandled rejection.
 */
async function withDeadline<T>(read: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DependencyError('redis', `no answer within ${ms} ms`)), ms);
  });
  read.catch(() => {});
  try {
    return await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
  }
}

const isoOrNull = (ms: number | null) => (ms === null || Number.isNaN(ms) ? null : new Date(ms).toISOString());

function validId(id: string, config: Config): string | null {
  const probe = {
    customerId: id,
    orderId: 'x',
    eventTime: Date.now(),
    type: 'order' as const,
    amount: 0,
    currency: 'XXX',
    itemCount: 0,
    originalOrderId: null,
  };
  return validateOrderEvent(probe, Date.now(), config.validation)?.reason ?? null;
}

const metricsRoute = (metrics: Metrics) => async () => ({
  status: 200,
  body: await metrics.registry.metrics(),
  contentType: metrics.registry.contentType,
});

/**
 * Until every dependency answered: alive, not ready, metrics served, and customers asked
 * again later (behind the same guard: a client without a token still hears 401).
 */
export function startingRoutes(metrics: Metrics): ScorerRoutes {
  const starting = { status: 503, body: { status: 'starting' }, headers: { 'retry-after': '5' } };
  return {
    operational: {
      '/healthz': async () => ({ status: 200, body: { status: 'starting' } }),
      '/readyz': async () => starting,
      '/metrics': metricsRoute(metrics),
    },
    customer: { '/customers/:id': async () => ({ ...starting, body: { error: 'starting; retry in a few seconds' } }) },
  };
}

export function scorerRoutes(deps: RouteDeps): ScorerRoutes {
  return { operational: operationalRoutes(deps), customer: customerRoutes(deps) };
}

function operationalRoutes(deps: RouteDeps): ScorerRoutes['operational'] {
  return {
    '/healthz': async () => ({ status: 200, body: { status: 'ok' } }),
    '/readyz': async () => {
      const redis = await deps.pingRedis();
      const waitingFor = deps.status.waitingFor();
      const kafka = deps.assigned().length > 0;
      const ready = redis && kafka && Object.keys(waitingFor).length === 0;
      return {
        status: ready ? 200 : 503,
        body: { redis, kafka, waiting_for: waitingFor, churn_model: deps.churnVersion() },
      };
    },
    '/metrics': metricsRoute(deps.metrics),
  };
}

function customerRoutes(deps: RouteDeps): ScorerRoutes['customer'] {
  // `/challenger` adds the challenger's assessment of the customer (while one runs).
  return { '/customers/:id': customerView(deps, false), '/customers/:id/challenger': customerView(deps, true) };
}

/**
 * The customer's state and its "now". In a replay that is the event-time watermark of the
 * customer's own partition, where the stream's timers decide it; the newest of all partitions
 * would be ahead of it, and would score a customer the stream has not reached yet.
 */
async function readCustomer(
  deps: RouteDeps,
  id: string,
): Promise<{ customer: LoadedCustomer | undefined; now: number }> {
  const customer = (await deps.state.read([{ customerId: id, partition: null }])).get(id);
  const partition = customer?.partition ?? null;
  if (deps.clock.kind === 'wall' || partition === null) return { customer, now: deps.clock.nowGlobal() };
  const mark = (await deps.watermarks.load([partition])).get(partition);
  return { customer, now: mark ?? deps.clock.nowGlobal() };
}

function customerView(deps: RouteDeps, withChallenger: boolean): ScorerRoutes['customer'][string] {
  return async ({ id = '' }) => {
    const invalid = validId(id, deps.config);
    if (invalid !== null) return { status: 400, body: { error: invalid } };
    let read: Awaited<ReturnType<typeof readCustomer>>;
    try {
      read = await withDeadline(readCustomer(deps, id), CUSTOMER_READ_TIMEOUT_MS);
    } catch (error) {
      if (error instanceof DependencyError) return { status: 503, body: { error: UNAVAILABLE } };
      throw error;
    }
    const { customer } = read;
    if (customer?.stored == null)
      return { status: 404, body: { error: `no state for customer ${JSON.stringify(id)}` } };
    const { stored } = customer;
    const ctx = deps.context();
    const asOf = Math.max(read.now, stored.state.maxEventTime);
    const variant = variantFor(ctx, id);
    const { features, churn, ltv } = assessCustomer(stored.state, asOf, ctx, id, variant);
    const challenger =
      withChallenger && ctx.challenger != null ? assessCustomer(stored.state, asOf, ctx, id, 'challenger') : null;
    return {
      status: 200,
      body: {
        customer_id: id,
        as_of: new Date(asOf).toISOString(),
        last_event_time: new Date(stored.state.maxEventTime).toISOString(),
        state_updated_at: isoOrNull(customer.updatedAt),
        state_version: customer.version,
        risk_tier: stored.tier,
        next_rescore_at: isoOrNull(stored.nextDue),
        experiment: ctx.experiment?.name ?? null,
        variant: ctx.experiment == null ? null : variant,
        churn,
        ltv,
        ...(withChallenger ? { challenger: challenger && { churn: challenger.churn, ltv: challenger.ltv } } : {}),
        features: Object.fromEntries(
          FEATURE_NAMES.map((name, i) => [name, Number.isNaN(features[i] ?? Number.NaN) ? null : features[i]]),
        ),
        feature_spec_version: ctx.spec.version,
        counters: stored.state.counters,
      },
    };
  };
}
