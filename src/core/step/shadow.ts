// The challenger beside the champion inside the step: which model decides a customer's
// tier (the experiment's variant), the open predictions that carry both models' scores for
// the same features at the same moment, and what resolving them yields per version and as
// a pair (core/monitoring/comparison.ts). A challenger's scores never reach a risk change
// unless the experiment gives it the customer.
import type { ChurnScore, LtvScore } from '../decisions/results.js';
import { type Experiment, type Variant, variantOf } from '../experiments/assignment.js';
import type { ChurnModel, LtvModel } from '../models/scoring.js';
import type { ResolvedPair } from '../monitoring/comparison.js';
import type { OpenLtvPrediction, OpenPrediction, ResolvedLabel, ResolvedLtvLabel } from '../state/stored-customer.js';

/** The challenger's models; a kind without its own challenger is the champion's model. */
export interface ChallengerModels {
  readonly churn: ChurnModel | null;
  readonly ltv: LtvModel | null;
}

export interface ShadowContext {
  readonly churn: ChurnModel | null;
  readonly ltv: LtvModel | null;
  readonly challenger?: ChallengerModels | null;
  readonly experiment?: Experiment | null;
}

/** The variant deciding this customer's tier; 'champion' whenever no challenger runs. */
export const variantFor = (ctx: ShadowContext, customerId: string): Variant =>
  ctx.challenger == null ? 'champion' : variantOf(ctx.experiment, customerId);

/** The models that decide a customer of this variant. */
export function decidingModels(
  ctx: ShadowContext,
  variant: Variant,
): { churn: ChurnModel | null; ltv: LtvModel | null } {
  return variant === 'challenger' && ctx.challenger != null ? ctx.challenger : { churn: ctx.churn, ltv: ctx.ltv };
}

/** A version's name for either kind (the rules fallback has its own). */
const versionOf = (model: { readonly config: { readonly version: string } } | null): string | null =>
  model?.config.version ?? null;

/** True when the challenger's LTV model is another version than the champion's (worth a shadow LTV). */
export const shadowsLtv = (ctx: ShadowContext): boolean =>
  ctx.challenger != null && versionOf(ctx.challenger.ltv) !== versionOf(ctx.ltv);

export function openChurnPrediction(champion: ChurnScore, shadow: ChurnScore | null, at: number): OpenPrediction {
  const open = { probability: champion.probability, rank: champion.rank, at, modelVersion: champion.modelVersion };
  return shadow === null
    ? open
    : {
        ...open,
        challenger: { probability: shadow.probability, rank: shadow.rank, modelVersion: shadow.modelVersion },
      };
}

export function openLtvPrediction(champion: LtvScore, shadow: LtvScore | null, at: number): OpenLtvPrediction {
  const { value, low, high, modelVersion } = champion;
  const open = { value, low, high, at, modelVersion };
  if (shadow === null) return open;
  return {
    ...open,
    challenger: { value: shadow.value, low: shadow.low, high: shadow.high, modelVersion: shadow.modelVersion },
  };
}

/** A churn prediction resolved: a label per version, and the pair when a challenger scored it. */
export function resolveChurn(
  customerId: string,
  open: OpenPrediction,
  churned: boolean,
  labels: ResolvedLabel[],
  pairs: ResolvedPair[],
): void {
  // A prediction stored before ranking scores were kept ranks by its probability.
  const rank = open.rank ?? open.probability;
  labels.push({ modelVersion: open.modelVersion, probability: open.probability, rank, churned });
  const shadow = open.challenger;
  // Same version on both sides (a challenger equal to the champion) adds nothing.
  if (shadow == null || shadow.modelVersion === open.modelVersion) return;
  const shadowRank = shadow.rank ?? shadow.probability;
  labels.push({ modelVersion: shadow.modelVersion, probability: shadow.probability, rank: shadowRank, churned });
  pairs.push({
    customerId,
    champion: open.modelVersion,
    challenger: shadow.modelVersion,
    championRank: rank,
    challengerRank: shadowRank,
    churned,
  });
}

/** An LTV prediction resolved with the realised value: a label per version. */
export function resolveLtvPrediction(open: OpenLtvPrediction, realised: number, labels: ResolvedLtvLabel[]): void {
  labels.push({ modelVersion: open.modelVersion, predicted: open.value, low: open.low, high: open.high, realised });
  const shadow = open.challenger;
  if (shadow != null && shadow.modelVersion !== open.modelVersion)
    labels.push({
      modelVersion: shadow.modelVersion,
      predicted: shadow.value,
      low: shadow.low,
      high: shadow.high,
      realised,
    });
}
