import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { variantMoved } from '../../../../src/core/experiments/assignment.js';
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

  it('a partition never marked is left as it is', () => {
    const now: DecidedBy = { models: 'v2/v1', experiment: null };
    expect(rescoreScope(null, now)).toEqual({ kind: 'none' });
  });
});
