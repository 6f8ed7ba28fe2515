// Settings of the model versions a process serves: the champion (pinned or newest), and the
// rollout's starting point (a challenger, an experiment and its weight). A rollout stored in
// Redis by `churnstream models` overrides the rollout part while the processes run.
import { z } from 'zod';
import type { Need } from './config-checks.js';

/**
 * A share written as a plain decimal, 0 or 1 before the point and at most 6 decimal places after
 * it (one customer in a million):
 * what the operator types is what is stored and shown. Checked before coercion: Number() also
 * takes 0x1, 1e-1, ' 1 ' and Infinity, and rounds 0.50000000000000001 to 0.5 without a word.
 */
export const SHARE_DECIMAL = /^[01](?:\.\d{0,6})?$/;

export const SHARE = 'a plain decimal from 0 to 1 with at most 6 decimal places, e.g. 0.1';

export const rolloutSchema = z.object({
  CHURNSTREAM_MODELS_DIR: z.string().min(1).optional(),
  CHURNSTREAM_CHURN_MODEL_VERSION: z.string().min(1).optional(),
  CHURNSTREAM_LTV_MODEL_VERSION: z.string().min(1).optional(),
  CHURNSTREAM_CHALLENGER_CHURN_MODEL: z.string().min(1).optional(),
  CHURNSTREAM_CHALLENGER_LTV_MODEL: z.string().min(1).optional(),
  CHURNSTREAM_EXPERIMENT: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}:.{1,256}$/, 'name:salt (name: letters, digits, _ . -)')
    .optional(),
  CHURNSTREAM_EXPERIMENT_WEIGHT: z
    .string()
    .regex(SHARE_DECIMAL, SHARE)
    .transform(Number)
    .pipe(z.number().min(0, SHARE).max(1, SHARE))
    .default(0),
  CHURNSTREAM_ROLLOUT_CHECK_INTERVAL_MS: z.coerce.number().int().min(100).default(5000),
});

type RawRollout = z.infer<typeof rolloutSchema>;

export interface ModelsConfig {
  readonly dir: string | null;
  readonly churnVersion: string | null;
  readonly ltvVersion: string | null;
}

/** Champion/challenger: the settings a rollout in Redis (`churnstream models`) overrides. */
export interface RolloutConfig {
  readonly challengerChurn: string | null;
  readonly challengerLtv: string | null;
  readonly experiment: { readonly name: string; readonly salt: string } | null;
  readonly weight: number;
  readonly checkIntervalMs: number;
}

export function modelsConfig(raw: RawRollout): ModelsConfig {
  return Object.freeze({
    dir: raw.CHURNSTREAM_MODELS_DIR ?? null,
    churnVersion: raw.CHURNSTREAM_CHURN_MODEL_VERSION ?? null,
    ltvVersion: raw.CHURNSTREAM_LTV_MODEL_VERSION ?? null,
  });
}

export function rolloutConfig(raw: RawRollout): RolloutConfig {
  return Object.freeze({
    challengerChurn: raw.CHURNSTREAM_CHALLENGER_CHURN_MODEL ?? null,
    challengerLtv: raw.CHURNSTREAM_CHALLENGER_LTV_MODEL ?? null,
    experiment: experimentOf(raw.CHURNSTREAM_EXPERIMENT),
    weight: raw.CHURNSTREAM_EXPERIMENT_WEIGHT,
    checkIntervalMs: raw.CHURNSTREAM_ROLLOUT_CHECK_INTERVAL_MS,
  });
}

/** A weight sends customers to a challenger: both the assignment and the challenger must exist. */
export function checkRollout(raw: RawRollout, need: Need): void {
  need(
    raw.CHURNSTREAM_EXPERIMENT_WEIGHT > 0 && raw.CHURNSTREAM_EXPERIMENT === undefined,
    'CHURNSTREAM_EXPERIMENT',
    'required with CHURNSTREAM_EXPERIMENT_WEIGHT > 0 (name:salt of the assignment)',
  );
  need(
    raw.CHURNSTREAM_EXPERIMENT_WEIGHT > 0 &&
      raw.CHURNSTREAM_CHALLENGER_CHURN_MODEL === undefined &&
      raw.CHURNSTREAM_CHALLENGER_LTV_MODEL === undefined,
    'CHURNSTREAM_EXPERIMENT_WEIGHT',
    'a weight above 0 needs a challenger (CHURNSTREAM_CHALLENGER_CHURN_MODEL or _LTV_MODEL)',
  );
  // The champion against itself compares nothing and shadows nothing: a copy-paste slip.
  for (const kind of ['CHURN', 'LTV'] as const) {
    const champion = raw[`CHURNSTREAM_${kind}_MODEL_VERSION`];
    need(
      champion !== undefined && raw[`CHURNSTREAM_CHALLENGER_${kind}_MODEL`] === champion,
      `CHURNSTREAM_CHALLENGER_${kind}_MODEL`,
      `is the champion (CHURNSTREAM_${kind}_MODEL_VERSION=${champion}); a challenger is another version`,
    );
  }
}

/** `name:salt` (the salt may itself contain colons). */
function experimentOf(value: string | undefined): { name: string; salt: string } | null {
  if (value === undefined) return null;
  const colon = value.indexOf(':');
  return { name: value.slice(0, colon), salt: value.slice(colon + 1) };
}
