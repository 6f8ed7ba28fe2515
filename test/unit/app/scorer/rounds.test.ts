// roundsOf and chunksOf: how a unit's customer groups are split for applying.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunksOf, roundsOf } from '../../../../src/app/scorer/rounds.js';

interface Group {
  readonly customerId: string;
  /** Position in the unit, to follow each group through the rounds. */
  readonly at: number;
}

/** Groups of few customers (so customers repeat, as when a producer spread one over partitions). */
const groupsArb = fc
  .array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), { maxLength: 60 })
  .map((ids) => ids.map((customerId, at): Group => ({ customerId, at })));

describe('roundsOf', () => {
  it('puts every group in exactly one round', () => {
    fc.assert(
      fc.property(groupsArb, (groups) => {
        const placed = roundsOf(groups)
          .flat()
          .map((g) => g.at)
          .sort((x, y) => x - y);
        expect(placed).toEqual(groups.map((g) => g.at));
      }),
    );
  });

  it('never puts a customer twice in a round', () => {
    fc.assert(
      fc.property(groupsArb, (groups) => {
        for (const round of roundsOf(groups)) {
          const ids = round.map((g) => g.customerId);
          expect(new Set(ids).size).toBe(ids.length);
        }
      }),
    );
  });

  it("keeps a customer's groups in their order across rounds (its i-th group in round i)", () => {
    fc.assert(
      fc.property(groupsArb, (groups) => {
        const roundOf = new Map<number, number>();
        roundsOf(groups).forEach((round, r) => {
          for (const g of round) roundOf.set(g.at, r);
        });
        const seen = new Map<string, number>();
        for (const g of groups) {
          const index = seen.get(g.customerId) ?? 0;
          seen.set(g.customerId, index + 1);
          expect(roundOf.get(g.at)).toBe(index);
        }
      }),
    );
  });

  it('keeps the unit order inside each round, and uses as many rounds as the most repeated customer needs', () => {
    fc.assert(
      fc.property(groupsArb, (groups) => {
        const rounds = roundsOf(groups);
        for (const round of rounds)
          expect(round.map((g) => g.at)).toEqual([...round.map((g) => g.at)].sort((x, y) => x - y));
        const counts = new Map<string, number>();
        for (const g of groups) counts.set(g.customerId, (counts.get(g.customerId) ?? 0) + 1);
        expect(rounds).toHaveLength(Math.max(0, ...counts.values()));
      }),
    );
  });

  it('distinct customers make one round, the groups as given', () => {
    const groups = ['x', 'y', 'z'].map((customerId, at) => ({ customerId, at }));
    expect(roundsOf(groups)).toEqual([groups]);
  });
});

describe('chunksOf', () => {
  it('cuts the items, in order, into chunks of the size, only the last one shorter', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 200 }), fc.integer({ min: 1, max: 50 }), (items, size) => {
        const chunks = chunksOf(items, size);
        expect(chunks.flat()).toEqual(items);
        expect(chunks).toHaveLength(Math.ceil(items.length / size));
        chunks.forEach((chunk, i) => {
          if (i < chunks.length - 1) expect(chunk).toHaveLength(size);
          else {
            expect(chunk.length).toBeGreaterThan(0);
            expect(chunk.length).toBeLessThanOrEqual(size);
          }
        });
      }),
    );
  });

  it('chunks of a round never share a customer', () => {
    fc.assert(
      fc.property(groupsArb, fc.integer({ min: 1, max: 7 }), (groups, size) => {
        for (const round of roundsOf(groups)) {
          const ids = chunksOf(round, size).map((chunk) => new Set(chunk.map((g) => g.customerId)));
          ids.forEach((a, i) => {
            ids.slice(i + 1).forEach((b) => {
              expect([...a].filter((id) => b.has(id))).toEqual([]);
            });
          });
        }
      }),
    );
  });
});
