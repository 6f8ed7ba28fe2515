// What the scorer keeps per customer between steps (the state plus its scoring
// metadata), and the prediction records whose labels the stream resolves. Stored by the
// state adapter, produced and consumed by the per-customer step (core/step).
import type { TierState } from '../decisions/hysteresis.js';
import type { CustomerState } from './customer-state.js';

/** The open prediction whose label the stream resolves when its window closes. */
export interface OpenPrediction {
  readonly probability: number;
  /** The ranking score (before calibration); absent in predictions stored before it was kept. */
  readonly rank?: number;
  /** Event time the prediction was made; its label window is (at, at + horizon]. */
  readonly at: number;
  readonly modelVersion: string;
  /** The challenger's probability for the same features at the same time (shadow), if one ran. */
  readonly challenger?: { readonly probability: number; readonly rank?: number; readonly modelVersion: string } | null;
}

/** An open LTV prediction: resolved with the customer's net spend when its window closes. */
export interface OpenLtvPrediction {
  readonly value: number;
  readonly low: number;
  readonly high: number;
  /** Event time the prediction was made; its window is (at, at + LTV horizon]. */
  readonly at: number;
  readonly modelVersion: string;
  /** The challenger LTV model's prediction for the same window (shadow), if one ran. */
  readonly challenger?: {
    readonly value: number;
    readonly low: number;
    readonly high: number;
    readonly modelVersion: string;
  } | null;
}

/** An LTV prediction with its realised value: net spend inside its window. */
export interface ResolvedLtvLabel {
  readonly modelVersion: string;
  readonly predicted: number;
  readonly low: number;
  readonly high: number;
  readonly realised: number;
}

/** A prediction whose outcome is now known: churned = no order within the horizon. */
export interface ResolvedLabel {
  readonly modelVersion: string;
  readonly probability: number;
  /** The ranking score AUC is measured on (the probability for predictions stored without one). */
  readonly rank: number;
  readonly churned: boolean;
}

export interface StoredCustomer {
  readonly state: CustomerState;
  readonly tier: TierState | null;
  /** Next time the customer is due for a timer rescoring (NaN: none). */
  readonly nextDue: number;
  readonly prediction?: OpenPrediction | null;
  readonly ltvPrediction?: OpenLtvPrediction | null;
}
