// The routing memo: reuse is exact (a row that shares another's routing gets what a fresh
// computation gives it), keys are exact, and the two generations keep recent routings.
import { describe, expect, it } from 'vitest';
import { parseLightGbmModel } from '../../../../src/core/models/lightgbm/parse.js';
import { RoutingMemo } from '../../../../src/core/models/lightgbm/routing-memo.js';
import { createShapExplainer } from '../../../../src/core/models/lightgbm/shap.js';
import { goldenCases } from '../../../helpers/lightgbm-fixtures.js';

describe('routing memo', () => {
  it.each(
    goldenCases()
      // single_leaf has no decisions to key on (no memo); linear trees have no contributions.
      .filter((c) => c.contrib !== undefined && c.name !== 'single_leaf')
      .map((c) => [c.name, c] as const),
  )('%s: rows nudged within their routing reuse contributions identical to a fresh computation', (_, golden) => {
    const model = parseLightGbmModel(golden.modelText);
    const memoized = createShapExplainer(model);
    const fresh = createShapExplainer(model, { memoEntries: 0 });
    let reused = 0;
    for (const row of golden.rows) {
      memoized.contributions(row);
      // Many nudged rows keep every decision (a reuse); the rest cross a threshold (the
      // fixtures put many values on thresholds) and miss.
      const nudged = row.map((v) => (v === 0 ? v : v * (1 + 1e-9)));
      const hitsBefore = memoized.memo?.hits ?? 0;
      const got = memoized.contributions(nudged);
      if ((memoized.memo?.hits ?? 0) > hitsBefore) reused += 1;
      expect([...got]).toEqual([...fresh.contributions(nudged)]);
    }
    expect(reused).toBeGreaterThan(golden.rows.length / 4);
  });

  it('keys every decision exactly (first, last, word edges)', () => {
    const nodes = 15 * 4096 + 5;
    const memo = new RoutingMemo(nodes, 4);
    const routing = new Uint8Array(nodes);
    const keys = new Set<string>();
    for (const node of [0, 14, 15, 15 * 4096 - 1, 15 * 4096, nodes - 1]) {
      routing.fill(0);
      routing[node] = 1;
      keys.add(memo.keyOf(routing));
    }
    routing.fill(0);
    keys.add(memo.keyOf(routing));
    expect(keys.size).toBe(7);
  });

  it('keeps recently used routings across a generation change and drops the oldest', () => {
    const memo = new RoutingMemo(1, 4); // two per generation
    const value = (v: number) => Float64Array.of(v);
    memo.remember('a', value(1));
    memo.remember('b', value(2));
    memo.remember('c', value(3)); // a, b become the previous generation
    expect(memo.get('a')?.[0]).toBe(1); // moved back to the current one
    memo.remember('d', value(4)); // c, a become the previous generation; b is dropped
    expect(memo.get('b')).toBeUndefined();
    expect(memo.get('c')?.[0]).toBe(3);
    expect(memo.get('a')?.[0]).toBe(1);
    expect(memo.stats).toEqual({ hits: 3, misses: 1 });
  });
});
