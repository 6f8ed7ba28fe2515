// Gamma GLM against scikit-learn's GammaRegressor.predict and scipy's Gamma quantiles
// (fixtures from training/golden/make_glm_fixtures.py).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { predictGlm } from '../../../../src/core/models/glm/evaluate.js';
import { GlmArtifactError, parseGammaGlm } from '../../../../src/core/models/glm/model.js';

const dir = new URL('../../../fixtures/glm/', import.meta.url);
const artifact = JSON.parse(readFileSync(new URL('model.json', dir), 'utf8')) as Record<string, unknown>;
const [header = '', ...lines] = readFileSync(new URL('rows.csv', dir), 'utf8').trim().split('\n');
const rows = lines.map((line) => line.split(',').map((f) => (f === '' ? Number.NaN : Number(f))));
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as Record<
  'mean' | 'lower' | 'upper',
  number[]
>;
const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('Gamma GLM (scikit-learn golden)', () => {
  const glm = parseGammaGlm(artifact);

  it('reads the feature names in order', () => {
    expect(glm.featureNames.join(',')).toBe(header);
  });

  it('matches GammaRegressor.predict to 1e-12 relative, including missing and extreme rows', () => {
    const worst = Math.max(
      ...rows.map((row, i) => relative(predictGlm(glm, row).mean, expected.mean[i] ?? Number.NaN)),
    );
    expect(worst).toBeLessThan(1e-12);
  });

  it('matches scipy Gamma quantiles for the 80% interval to 1e-9 relative', () => {
    rows.forEach((row, i) => {
      const { lower, upper, mean } = predictGlm(glm, row);
      expect(relative(lower, expected.lower[i] ?? Number.NaN)).toBeLessThan(1e-9);
      expect(relative(upper, expected.upper[i] ?? Number.NaN)).toBeLessThan(1e-9);
      expect(lower).toBeLessThan(mean);
      expect(upper).toBeGreaterThan(mean);
    });
  });

  it('contributions add up to log(mean) exactly in log space', () => {
    for (const row of rows) {
      const p = predictGlm(glm, row);
      const sum = p.contributions.reduce((s, c) => s + c, p.bias);
      expect(Math.abs(sum - Math.log(p.mean))).toBeLessThan(1e-12);
    }
  });

  it('rejects malformed artifacts with the offending field named', () => {
    expect(() => parseGammaGlm({ ...artifact, dispersion: -1 })).toThrow(GlmArtifactError);
    expect(() => parseGammaGlm({ ...artifact, coef: [1] })).toThrow(/one entry per feature/);
    expect(() => parseGammaGlm({ ...artifact, link: 'identity' })).toThrow(/link/);
  });
});
