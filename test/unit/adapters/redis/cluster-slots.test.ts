// Slot grouping for Redis Cluster (one script call per slot): any set of customers gives
// groups that each sit in one slot, cover the input exactly once, and keep each
// customer's writes in their order.
import calculateSlot from 'cluster-key-slot';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redisKeys } from '../../../../src/adapters/redis/keys.js';
import { slotGroups } from '../../../../src/adapters/redis/slots.js';

const keys = redisKeys('test');
// Ids with braces too: a `}` ends the hash tag early, which must still group by the real slot.
const customerId = fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('C1', 'C2', 'a}b', '{x}', 'é'));

describe('slotGroups', () => {
  it('groups any customer keys into single-slot groups covering the input once, order kept', () => {
    fc.assert(
      fc.property(fc.array(customerId, { maxLength: 300 }), (ids) => {
        const stateKeys = ids.map((id) => keys.customerState(id));
        const groups = slotGroups(stateKeys);
        for (const group of groups) {
          expect(group.length).toBeGreaterThan(0);
          expect(new Set(group.map((i) => calculateSlot(stateKeys[i] as string))).size).toBe(1);
          // Ascending indices: a customer written twice in one chunk keeps its order.
          expect(group).toEqual([...group].sort((a, b) => a - b));
        }
        // Different groups, different slots (so one call per slot, not more).
        const slots = groups.map((group) => calculateSlot(stateKeys[group[0] as number] as string));
        expect(new Set(slots).size).toBe(groups.length);
        const all = groups.flat().sort((a, b) => a - b);
        expect(all).toEqual(ids.map((_, i) => i));
      }),
      { numRuns: 300 },
    );
  });

  it("puts a customer's keys in the customer's slot whatever else is in the chunk", () => {
    const groups = slotGroups(['x', keys.customerState('C1'), 'y', keys.customerState('C1')]);
    expect(groups.find((g) => g.includes(1))).toEqual(expect.arrayContaining([1, 3]));
  });
});
