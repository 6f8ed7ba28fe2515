// Work on a partition runs one at a time, in submission order; other partitions overlap.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPartitionLocks } from '../../../src/app/partition-locks.js';

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

describe('partition locks', () => {
  it('runs the work on a partition in submission order, never two at once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            partitions: fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }),
            delay: fc.integer({ min: 0, max: 3 }),
            fails: fc.boolean(),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        async (jobs) => {
          const locks = createPartitionLocks();
          const running = new Map<number, number>();
          const started = new Map<number, number[]>();
          let overlap = false;
          const all = jobs.map((job, index) =>
            locks(job.partitions, async () => {
              for (const p of job.partitions) {
                overlap ||= (running.get(p) ?? 0) > 0;
                running.set(p, (running.get(p) ?? 0) + 1);
                started.set(p, [...(started.get(p) ?? []), index]);
              }
              await tick(job.delay);
              for (const p of job.partitions) running.set(p, (running.get(p) ?? 1) - 1);
              if (job.fails) throw new Error(`job ${index}`);
              return index;
            }).catch(() => -1),
          );
          const results = await Promise.all(all);
          expect(overlap).toBe(false);
          for (const [p, order] of started) {
            const submitted = jobs.flatMap((job, index) => (job.partitions.includes(p) ? [index] : []));
            expect(order, `partition ${p}`).toEqual(submitted);
          }
          expect(results).toEqual(jobs.map((job, index) => (job.fails ? -1 : index)));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('work on different partitions overlaps', async () => {
    const locks = createPartitionLocks();
    // Each waits for the other to have started: serialized, they would never finish.
    let release0: () => void = () => {};
    let release1: () => void = () => {};
    const started0 = new Promise<void>((resolve) => {
      release0 = resolve;
    });
    const started1 = new Promise<void>((resolve) => {
      release1 = resolve;
    });
    const both = Promise.all([
      locks([0], async () => {
        release0();
        await started1;
        return 'zero';
      }),
      locks([1], async () => {
        release1();
        await started0;
        return 'one';
      }),
    ]);
    const timeout = tick(1000).then(() => 'serialized');
    expect(await Promise.race([both, timeout])).toEqual(['zero', 'one']);
  });

  it('a failed work does not block the next one on its partition, and rejects its own caller', async () => {
    const locks = createPartitionLocks();
    const failed = locks([5], async () => {
      throw new Error('boom');
    });
    const next = locks([5], async () => 'next');
    await expect(failed).rejects.toThrow('boom');
    expect(await next).toBe('next');
  });

  it('work over several partitions waits for the work before it on each of them', async () => {
    const locks = createPartitionLocks();
    const events: string[] = [];
    const slow = locks([1], async () => {
      await tick(20);
      events.push('p1 done');
    });
    const fast = locks([2], async () => {
      events.push('p2 done');
    });
    const unit = locks([1, 2], async () => {
      events.push('unit');
    });
    await Promise.all([slow, fast, unit]);
    expect(events).toEqual(['p2 done', 'p1 done', 'unit']);
  });
});
