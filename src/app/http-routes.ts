// The HTTP routes of the scorer: health, readiness, metrics and the customer query. The
// customer view is assessed by the same core function the stream uses for a risk change.
// A Redis outage answers 503 with a JSON reason, never a raw client message.
import { DependencyError } from '../adapters/dependency-error.js';
import type { RouteTable } from '../adapters/http/server.js';
import type { Metrics } from '../adapters/metrics/definitions.js';
import { validateOrderEvent } from '../core/events/validate.js';
import { FEATURE_NAMES } from '../core/features/names.js';
import { assessCustomer, type ScoringContext } from '../core/step/customer-step.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { DependencyStatus } from './metrics-observer.js';
import type { StateStore } from './scorer/ports.js';

export interface RouteDeps {
  readonly config: Config;
  readonly metrics: Metrics;
  readonly state: StateStore;
  readonly clock: Clock;
  readonly context: () => ScoringContext;
  readonly status: DependencyStatus;
  readonly pingRedis: () => Promise<boolean>;
  readonly assigned: () => readonly number[];
  readonly churnVersion: () => string;
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

export function scorerRoutes(deps: RouteDeps): RouteTable {
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
    '/metrics': async () => ({
      status: 200,
      body: await deps.metrics.registry.metrics(),
      contentType: deps.metrics.registry.contentType,
    }),
    '/customers/:id': async ({ id = '' }) => {
      const invalid = validId(id, deps.config);
      if (invalid !== null) return { status: 400, body: { error: invalid } };
      let loaded: Awaited<ReturnType<StateStore['read']>>;
      try {
        loaded = await deps.state.read([{ customerId: id, partition: null }]);
      } catch (error) {
        if (error instanceof DependencyError)
          return { status: 503, body: { error: 'customer state is unavailable: Redis does not answer; retry later' } };
        throw error;
      }
      const customer = loaded.get(id);
      if (customer?.stored == null)
        return { status: 404, body: { error: `no state for customer ${JSON.stringify(id)}` } };
      const { stored } = customer;
      const ctx = deps.context();
      const asOf = Math.max(deps.clock.nowGlobal(), stored.state.maxEventTime);
      const { features, churn, ltv } = assessCustomer(stored.state, asOf, ctx);
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
          churn,
          ltv,
          features: Object.fromEntries(
            FEATURE_NAMES.map((name, i) => [name, Number.isNaN(features[i] ?? Number.NaN) ? null : features[i]]),
          ),
          feature_spec_version: ctx.spec.version,
          counters: stored.state.counters,
        },
      };
    },
  };
}
