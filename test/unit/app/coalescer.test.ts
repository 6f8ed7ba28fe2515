import { describe, expect, it } from 'vitest';
import { createCoalescer } from '../../../src/app/coalescer.js';

/**
 * Resolves once the coalescer has taken the unit submitted in this turn: its setImmediate was
 * queued first, so it runs first. (A 1 ms timer raced it: on a loaded machine the timers phase
 * comes first and the next submission joined the unit.)
 */
const afterUnitTaken = () => new Promise((resolve) => setImmediate(resolve));

describe('coalescer', () => {
  it('handles what is submitted in one turn as one unit, and the rest after it, one unit at a time', async () => {
    const units: number[][] = [];
    let running = 0;
    let overlapped = false;
    const submit = createCoalescer<number>(async (items) => {
      running += 1;
      overlapped ||= running > 1;
      units.push([...items]);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running -= 1;
    });
    const first = [submit(1), submit(2), submit(3)];
    await afterUnitTaken(); // the first unit is running
    const second = [submit(4), submit(5)];
    await Promise.all([...first, ...second]);
    expect(units).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(overlapped).toBe(false);
  });

  it('rejects every submitter of a failed unit and goes on with the next', async () => {
    const submit = createCoalescer<number>(async (items) => {
      if (items.includes(2)) throw new Error('boom');
    });
    const failed = [submit(1), submit(2)].map((p) =>
      p.then(
        () => 'ok',
        (error: Error) => error.message,
      ),
    );
    expect(await Promise.all(failed)).toEqual(['boom', 'boom']);
    await expect(submit(3)).resolves.toBeUndefined();
  });

  it("settles every submitter with its own unit's result (a unit let go is let go for all its batches)", async () => {
    const submit = createCoalescer<number, string>(async (items) => (items.includes(2) ? 'let_go' : 'applied'));
    const first = [submit(1), submit(2)];
    await afterUnitTaken();
    const second = [submit(3)];
    expect(await Promise.all([...first, ...second])).toEqual(['let_go', 'let_go', 'applied']);
  });
});
