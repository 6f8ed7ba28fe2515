import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { variantMoved, variantOf } from '../../../../src/core/experiments/assignment.js';
import { type DecidedBy, rescoreScope } from '../../../../src/core/experiments/decided-by.js';

const experiment = fc.option(
  fc.record({
    name: fc.constantFrom('ab', 'cd'),
    salt: fc.constantFrom('s1', 's2'),
    challengerWeight: fc.constantFrom(0, 0.1, 0.5, 1),
  }),
  { nil: null },
);
const decidedBy = fc.record({
  models: fc.constantFrom('v1/v1', 'v1/v1+v2/v1', 'v2/v1'),
  experiment,
  revision: fc.option(fc.integer({ min: 0, max: 9 }), { nil: null }),
});

describe('rescoreScope', () => {
  it('rescores every customer when the models differ, the moved ones when only the experiment does, none else', () => {
    fc.assert(
      fc.property(
        decidedBy,
        decidedBy,
        fc.array(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 30 }),
        (before, now, ids) => {
          const scope = rescoreScope(before, now);
          if (before.models !== now.models) expect(scope.kind).toBe('all');
          else if (JSON.stringify(before.experiment) === JSON.stringify(now.experiment))
            expect(scope.kind).toBe('none');
          else {
            expect(scope.kind).toBe('moved');
            if (scope.kind === 'moved')
              for (const id of ids) expect(scope.only(id)).toBe(variantMoved(before.experiment, now.experiment, id));
          }
        },
      ),
    );
  });

  it('names the revision in the cause, so a change back to earlier models gets risk changes of its own', () => {
    fc.assert(
      fc.property(decidedBy, decidedBy, (before, now) => {
        // The revision alone never rescores.
        expect(rescoreScope({ ...before, revision: 1 }, { ...before, revision: 2 }).kind).toBe('none');
        const back = rescoreScope(now, { ...before, revision: 7 });
        const earlier = rescoreScope(now, { ...before, revision: 3 });
        if (back.kind !== 'none' && earlier.kind !== 'none') {
          expect(back.cause).not.toBe(earlier.cause);
          expect(back.cause).toMatch(/#7$/);
        }
        const settings = rescoreScope(now, { ...before, revision: null });
        if (settings.kind !== 'none') expect(settings.cause).not.toContain('#');
      }),
    );
  });

  it('with the deciding versions: rescores exactly the customers whose deciding models changed', () => {
    const versions = fc.constantFrom('v1/l1', 'v2/l1', 'v3/l2');
    const marked = fc.record({
      champion: versions,
      challenger: fc.option(versions, { nil: null }),
      experiment,
    });
    const decidedOf = (m: { champion: string; challenger: string | null; experiment: DecidedBy['experiment'] }) => ({
      models: m.challenger === null ? m.champion : `${m.champion}+${m.challenger}`,
      experiment: m.experiment,
      deciding: { champion: m.champion, challenger: m.challenger },
    });
    const deciding = (
      m: { champion: string; challenger: string | null; experiment: DecidedBy['experiment'] },
      id: string,
    ) => (m.challenger !== null && variantOf(m.experiment, id) === 'challenger' ? m.challenger : m.champion);
    fc.assert(
      fc.property(
        marked,
        marked,
        fc.array(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 30 }),
        (a, b, ids) => {
          const scope = rescoreScope(decidedOf(a), decidedOf(b));
          for (const id of ids) {
            const changed = deciding(a, id) !== deciding(b, id);
            const rescored = scope.kind === 'all' || (scope.kind === 'moved' && scope.only(id));
            expect(rescored, id).toBe(changed);
          }
        },
      ),
    );
    // A shadow-only change (another challenger, or its LTV version, at weight 0) moves no tier.
    const shadow = {
      champion: 'v1/l1',
      challenger: 'v2/l1',
      experiment: { name: 'ab', salt: 's1', challengerWeight: 0 },
    };
    expect(rescoreScope(decidedOf(shadow), decidedOf({ ...shadow, challenger: 'v3/l2' })).kind).toBe('none');
    expect(rescoreScope(decidedOf(shadow), decidedOf({ ...shadow, challenger: null })).kind).toBe('none');
  });

  it('a partition never marked is left as it is', () => {
    const now: DecidedBy = { models: 'v2/v1', experiment: null };
    expect(rescoreScope(null, now)).toEqual({ kind: 'none' });
  });
});
