// Gamma GLM (log link) as exported by training/glm_artifact.py: a plain JSON artifact
// with the preprocessing, coefficients and dispersion. Parsing validates everything.
import { z } from 'zod';

const finite = z.number().refine(Number.isFinite, 'must be finite');

export const glmArtifactSchema = z
  .object({
    kind: z.literal('gamma_glm'),
    link: z.literal('log'),
    version: z.string().min(1),
    feature_names: z.array(z.string().min(1)).min(1),
    preprocessing: z.object({
      impute: z.array(finite),
      log1p: z.array(z.boolean()),
      center: z.array(finite),
      scale: z.array(finite.refine((v) => v > 0, 'scale must be positive')),
    }),
    coef: z.array(finite),
    intercept: finite,
    dispersion: finite.refine((v) => v > 0, 'dispersion must be positive'),
    interval_level: z.number().gt(0).lt(1),
  })
  .refine((a) => {
    const n = a.feature_names.length;
    const p = a.preprocessing;
    return [p.impute, p.log1p, p.center, p.scale, a.coef].every((list) => list.length === n);
  }, 'preprocessing and coef must have one entry per feature');

export interface GammaGlm {
  readonly version: string;
  readonly featureNames: readonly string[];
  readonly impute: Float64Array;
  readonly log1p: readonly boolean[];
  readonly center: Float64Array;
  readonly scale: Float64Array;
  readonly coef: Float64Array;
  readonly intercept: number;
  readonly dispersion: number;
  readonly intervalLevel: number;
}

export class GlmArtifactError extends Error {
  override readonly name = 'GlmArtifactError';
}

export function parseGammaGlm(document: unknown): GammaGlm {
  const parsed = glmArtifactSchema.safeParse(document);
  if (!parsed.success) {
    throw new GlmArtifactError(
      `invalid Gamma GLM artifact: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  const a = parsed.data;
  return {
    version: a.version,
    featureNames: a.feature_names,
    impute: Float64Array.from(a.preprocessing.impute),
    log1p: a.preprocessing.log1p,
    center: Float64Array.from(a.preprocessing.center),
    scale: Float64Array.from(a.preprocessing.scale),
    coef: Float64Array.from(a.coef),
    intercept: a.intercept,
    dispersion: a.dispersion,
    intervalLevel: a.interval_level,
  };
}
