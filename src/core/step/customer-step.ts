// One customer's step of the streaming scorer, pure: stored state and new events in;
// new state, tier, risk-change events, refused events and the next timer out.
//
// For each event in offset order: timers that fell due before it are evaluated first
// (as of their due time, trigger "timer"), so the result does not depend on whether
// the timer loop or the event got there first; then the event is folded in and the
// customer is rescored as of the newest event time known for them (the event's own
// time unless it arrived late). A risk-change event is produced only on
// a tier transition (with hysteresis). Everything is a function of the input, so a
// replay produces the same events with the same ids.

import {
  blockedUntil,
  type HysteresisPolicy,
  NO_HYSTERESIS,
  nextTier,
  type TierState,
} from '../decisions/hysteresis.js';
import { churnResult, type LtvScore, ltvResult } from '../decisions/results.js';
import type { RiskLevel } from '../decisions/risk.js';
import type { OrderEvent } from '../events/order-event.js';
import { type RiskChangeRecord, type RiskChangeTrigger, riskChangeRecord } from '../events/risk-change.js';
import type { Experiment, Variant } from '../experiments/assignment.js';
import { featuresAt } from '../features/extract.js';
import { nextChangeTime } from '../features/next-change.js';
import type { FeatureSpec } from '../features/spec.js';
import {
  type ChurnModel,
  type LtvModel,
  labelHorizonMs,
  ltvLabelHorizonMs,
  scoreChurn,
  scoreLtv,
} from '../models/scoring.js';
import type { ResolvedPair } from '../monitoring/comparison.js';
import {
  type CustomerState,
  cloneState,
  emptyState,
  type FoldOutcome,
  foldEvent,
  netSpendMillsBetween,
} from '../state/customer-state.js';
import type {
  OpenLtvPrediction,
  OpenPrediction,
  ResolvedLabel,
  ResolvedLtvLabel,
  StoredCustomer,
} from '../state/stored-customer.js';
import { nextRelevantChange, timeSensitivity } from './relevant-change.js';
import {
  type ChallengerModels,
  decidingModels,
  openChurnPrediction,
  openLtvPrediction,
  resolveChurn,
  resolveLtvPrediction,
  shadowsLtv,
  variantFor,
} from './shadow.js';

export interface SourcedEvent {
  readonly event: OrderEvent;
  /** Kafka offset, kept as text (int64). */
  readonly offset: string;
}

export interface ScoringContext {
  readonly churn: ChurnModel | null;
  readonly ltv: LtvModel | null;
  readonly spec: FeatureSpec;
  readonly hysteresis: HysteresisPolicy;
  /** Upper bound on the gap between timer rescorings of a customer with retained orders. */
  readonly maxStalenessMs: number;
  /** Label horizon of churn predictions (the churn model's prediction window). */
  readonly labelHorizonMs: number;
  /** Label window of LTV predictions (the LTV model's window). */
  readonly ltvHorizonMs: number;
  /**
   * Timers at the next change of a feature the churn model's splits can see (true), or at
   * the next change of any feature (false: many more rescorings, the same risk changes).
   */
  readonly modelAwareTimers: boolean;
  /** A challenger scored beside the champion on every rescoring (shadow), or none. */
  readonly challenger?: ChallengerModels | null;
  /** Which customers the challenger decides (their tier and risk changes); none: shadow only. */
  readonly experiment?: Experiment | null;
}

/** The context for the models in force; label horizons come from the models' configs. */
export function scoringContextFor(
  churn: ChurnModel | null,
  ltv: LtvModel | null,
  spec: FeatureSpec,
  options: Pick<ScoringContext, 'hysteresis' | 'maxStalenessMs' | 'modelAwareTimers' | 'challenger' | 'experiment'>,
): ScoringContext {
  return { churn, ltv, spec, ...options, labelHorizonMs: labelHorizonMs(churn), ltvHorizonMs: ltvLabelHorizonMs(ltv) };
}

export interface RefusedEvent {
  readonly offset: string;
  readonly errorClass: 'event_too_late';
  readonly reason: string;
}

export interface CustomerStep {
  readonly state: CustomerState;
  readonly tier: TierState | null;
  readonly nextDue: number;
  readonly riskChanges: RiskChangeRecord[];
  readonly refused: RefusedEvent[];
  readonly outcomes: Record<FoldOutcome, number>;
  /** Timer evaluations performed (due before an event, or by the timer loop). */
  readonly timerEvaluations: number;
  /** Features and churn probability of each event-triggered scoring (drift monitoring). */
  readonly scored: { readonly features: Float64Array; readonly probability: number }[];
  readonly prediction: OpenPrediction | null;
  readonly resolved: ResolvedLabel[];
  readonly ltvPrediction: OpenLtvPrediction | null;
  readonly resolvedLtv: ResolvedLtvLabel[];
  /** Resolved labels with both the champion's and the challenger's score (shadow comparison). */
  readonly resolvedPairs: ResolvedPair[];
}

/** Work state while a step runs; copied into the immutable result at the end. */
interface Draft {
  state: CustomerState;
  tier: TierState | null;
  nextDue: number;
  riskChanges: RiskChangeRecord[];
  timerEvaluations: number;
  scored: { features: Float64Array; probability: number }[];
  prediction: OpenPrediction | null;
  resolved: ResolvedLabel[];
  ltvPrediction: OpenLtvPrediction | null;
  resolvedLtv: ResolvedLtvLabel[];
  resolvedPairs: ResolvedPair[];
  /** The customer's variant: whose scores decide the tier. */
  readonly variant: Variant;
  /** Churn probability of the latest scoring (what a blocked downgrade waits on). */
  probability: number;
  /** Features of the latest scoring and their time, so scheduling does not read them again. */
  features: { readonly at: number; readonly values: Float64Array } | null;
}

/**
 * Label resolution: an order inside the open prediction's window resolves it as retained;
 * reaching the end of the window without one resolves it as churned. Either way the
 * scoring that follows opens the next window.
 */
function resolveLabel(customerId: string, draft: Draft, asOf: number, ordered: boolean, ctx: ScoringContext): void {
  const open = draft.prediction;
  if (open === null) return;
  const closes = open.at + ctx.labelHorizonMs;
  if (ordered && asOf > open.at && asOf <= closes) {
    resolveChurn(customerId, open, false, draft.resolved, draft.resolvedPairs);
    draft.prediction = null;
  } else if (asOf >= closes) {
    resolveChurn(customerId, open, true, draft.resolved, draft.resolvedPairs);
    draft.prediction = null;
  }
}

/** LTV label resolution: when the window closes, the realised value is the net spend in it. */
function resolveLtv(draft: Draft, asOf: number, ctx: ScoringContext): void {
  const open = draft.ltvPrediction;
  if (open === null || asOf < open.at + ctx.ltvHorizonMs) return;
  const realised = netSpendMillsBetween(draft.state, open.at, open.at + ctx.ltvHorizonMs) / 1000;
  resolveLtvPrediction(open, realised, draft.resolvedLtv);
  draft.ltvPrediction = null;
}

/** What a full assessment of a customer carries: churn with reasons, LTV with its interval. */
export interface Assessment {
  readonly features: Float64Array;
  readonly churn: ReturnType<typeof churnResult>;
  readonly ltv: ReturnType<typeof ltvResult>;
}

/** Full assessment from features by the given models (an LTV score already computed for them may be passed). */
function assessFeatures(
  features: Float64Array,
  models: { readonly churn: ChurnModel | null; readonly ltv: LtvModel | null },
  windowDays: number,
  ltvScore: LtvScore | null = null,
  tier: RiskLevel | undefined = undefined,
): Assessment {
  const churn = churnResult(scoreChurn(models.churn, features, true), tier);
  const ltv = ltvResult(ltvScore ?? scoreLtv(models.ltv, features, churn.churn_probability, windowDays));
  return { features, churn, ltv };
}

/**
 * A customer's assessment as of `asOf`, as a risk change would carry it (the query API's
 * view): by the models of the customer's variant, or by the given variant's models.
 */
export function assessCustomer(
  state: CustomerState,
  asOf: number,
  ctx: ScoringContext,
  customerId = '',
  variant: Variant = variantFor(ctx, customerId),
): Assessment {
  return assessFeatures(featuresAt(state, asOf, ctx.spec), decidingModels(ctx, variant), ctx.spec.retention.windowDays);
}

function rescore(
  customerId: string,
  draft: Draft,
  asOf: number,
  trigger: RiskChangeTrigger,
  cause: string,
  ctx: ScoringContext,
): void {
  const features = featuresAt(draft.state, asOf, ctx.spec);
  const quick = scoreChurn(ctx.churn, features, false);
  // The challenger sees the same features at the same moment; its result is kept apart.
  const shadow = ctx.challenger == null ? null : scoreChurn(ctx.challenger.churn, features, false);
  const deciding = draft.variant === 'challenger' && shadow !== null ? shadow : quick;
  draft.probability = deciding.probability;
  draft.features = { at: asOf, values: features };
  // Drift is measured against the champion's training reference.
  if (trigger !== 'timer' && trigger !== 'model_change')
    draft.scored.push({ features, probability: quick.probability });
  resolveLabel(customerId, draft, asOf, trigger === 'order', ctx);
  if (draft.prediction === null) draft.prediction = openChurnPrediction(quick, shadow, asOf);
  resolveLtv(draft, asOf, ctx);
  const windowDays = ctx.spec.retention.windowDays;
  const models = decidingModels(ctx, draft.variant);
  // Same features and churn probability give the same LTV score: computed at most once here.
  let ltvScore: LtvScore | null = null;
  if (draft.ltvPrediction === null) {
    const champion = scoreLtv(ctx.ltv, features, quick.probability, windowDays);
    const challenger =
      shadow !== null && ctx.challenger != null && shadowsLtv(ctx)
        ? scoreLtv(ctx.challenger.ltv, features, shadow.probability, windowDays)
        : null;
    draft.ltvPrediction = openLtvPrediction(champion, challenger, asOf);
    // Reusable for a risk change only when it is the deciding models' own score.
    ltvScore = models.churn === ctx.churn && models.ltv === ctx.ltv ? champion : null;
  }
  // Hysteresis smooths one model's scores over time. A change of model (or of the variant
  // deciding) is no such noise: the tier becomes what the deciding model says, so a rollback
  // takes back every tier the rolled-back model moved, downgrades included.
  const policy = trigger === 'model_change' ? NO_HYSTERESIS : ctx.hysteresis;
  const next = nextTier(draft.tier, deciding.probability, asOf, policy);
  if (next === null) return;
  // A transition is published: now compute what it carries (reasons, LTV). Its level is the
  // tier entered, which hysteresis can set apart from the probability's own level (entering
  // upwards past cut-off + band, landing a downgrade with the cut-offs lowered by band): the
  // next event's previous level is this tier, so the topic chains.
  const { churn, ltv } = assessFeatures(features, models, windowDays, ltvScore, next.level);
  const previous = draft.tier === null ? null : { level: draft.tier.level, probability: draft.tier.probability };
  const arm = ctx.experiment == null ? null : { experiment: ctx.experiment.name, variant: draft.variant };
  draft.riskChanges.push(
    riskChangeRecord({ customerId, asOf, trigger, cause, previous }, churn, ltv, ctx.spec.version, arm),
  );
  draft.tier = next;
}

/**
 * The next timer: the earliest of the next time the score can change (see
 * relevant-change.ts), the close of the open prediction's label window, and the end of
 * the dwell that holds back a downgrade.
 */
function schedule(draft: Draft, asOf: number, ctx: ScoringContext): void {
  let due = Number.POSITIVE_INFINITY;
  // A customer with no retained orders has nothing left that time can change in a way
  // the models care about beyond recency; they are archived and no longer timed.
  if (draft.state.orders.length > 0) {
    // The deciding model's splits: a challenger-decided customer moves tier on its thresholds.
    const deciding = decidingModels(ctx, draft.variant).churn;
    const sensitivity = ctx.modelAwareTimers && deciding !== null ? timeSensitivity(deciding) : null;
    due =
      sensitivity === null
        ? nextChangeTime(draft.state, asOf, ctx.spec, ctx.maxStalenessMs).at
        : nextRelevantChange(
            draft.state,
            asOf,
            ctx.spec,
            ctx.maxStalenessMs,
            sensitivity,
            draft.features?.at === asOf ? draft.features.values : featuresAt(draft.state, asOf, ctx.spec),
          ).at;
  }
  if (draft.prediction !== null) due = Math.min(due, draft.prediction.at + ctx.labelHorizonMs);
  if (draft.ltvPrediction !== null) due = Math.min(due, draft.ltvPrediction.at + ctx.ltvHorizonMs);
  const released = blockedUntil(draft.tier, draft.probability, asOf, ctx.hysteresis);
  if (released > asOf) due = Math.min(due, released);
  draft.nextDue = Number.isFinite(due) ? due : Number.NaN;
}

/** Evaluates every timer due at or before `until` (strictly before when `exclusive`). */
function fireDueTimers(customerId: string, draft: Draft, until: number, exclusive: boolean, ctx: ScoringContext): void {
  while (!Number.isNaN(draft.nextDue) && (exclusive ? draft.nextDue < until : draft.nextDue <= until)) {
    const due = draft.nextDue;
    rescore(customerId, draft, due, 'timer', `timer:${due}`, ctx);
    draft.timerEvaluations += 1;
    schedule(draft, due, ctx);
  }
}

const noOutcomes = (): Record<FoldOutcome, number> => ({
  applied: 0,
  duplicate: 0,
  conflicting_duplicate: 0,
  too_late: 0,
  refund_pending: 0,
});

// The stored state is copied: a step never changes its input.
const start = (stored: StoredCustomer | null, variant: Variant): Draft => ({
  state: stored === null ? emptyState() : cloneState(stored.state),
  tier: stored?.tier ?? null,
  nextDue: stored?.nextDue ?? Number.NaN,
  riskChanges: [],
  timerEvaluations: 0,
  scored: [],
  prediction: stored?.prediction ?? null,
  resolved: [],
  ltvPrediction: stored?.ltvPrediction ?? null,
  resolvedLtv: [],
  resolvedPairs: [],
  variant,
  probability: Number.NaN,
  features: null,
});

export function processEvents(
  customerId: string,
  stored: StoredCustomer | null,
  events: readonly SourcedEvent[],
  ctx: ScoringContext,
): CustomerStep {
  const draft = start(stored, variantFor(ctx, customerId));
  const refused: RefusedEvent[] = [];
  const outcomes = noOutcomes();
  for (const { event, offset } of events) {
    fireDueTimers(customerId, draft, event.eventTime, true, ctx);
    const outcome = foldEvent(draft.state, event, ctx.spec.retention);
    outcomes[outcome] += 1;
    if (outcome === 'too_late') {
      refused.push({
        offset,
        errorClass: 'event_too_late',
        reason: `event_time ${new Date(event.eventTime).toISOString()} is more than ${ctx.spec.retention.windowDays + ctx.spec.retention.allowedLatenessDays} days before the customer's newest event`,
      });
      continue;
    }
    if (outcome !== 'applied') continue;
    // As of the newest event known: a late event updates the customer's current view
    // rather than scoring a past one.
    const asOf = draft.state.maxEventTime;
    rescore(customerId, draft, asOf, event.type, event.orderId, ctx);
    schedule(draft, asOf, ctx);
  }
  return { ...draft, refused, outcomes };
}

/** The timer loop's step: evaluate every timer due up to `now`. */
export function processTimers(
  customerId: string,
  stored: StoredCustomer,
  now: number,
  ctx: ScoringContext,
): CustomerStep {
  const draft = start(stored, variantFor(ctx, customerId));
  fireDueTimers(customerId, draft, now, false, ctx);
  return { ...draft, refused: [], outcomes: noOutcomes() };
}

/**
 * Rescoring after a model (or feature spec) change, as of `asOf`: timers due by then are
 * evaluated first with the models now active, then the customer is rescored with
 * trigger "model_change", so a changed tier is published with the new models' reasons.
 */
export function processModelChange(
  customerId: string,
  stored: StoredCustomer,
  asOf: number,
  modelVersions: string,
  ctx: ScoringContext,
): CustomerStep {
  const draft = start(stored, variantFor(ctx, customerId));
  fireDueTimers(customerId, draft, asOf, false, ctx);
  const when = Math.max(asOf, draft.state.maxEventTime);
  rescore(customerId, draft, when, 'model_change', `model:${modelVersions}`, ctx);
  schedule(draft, when, ctx);
  return { ...draft, refused: [], outcomes: noOutcomes() };
}
