// Work on a partition (a unit, a timer pass, a model-change pass) runs one at a time per
// partition, in submission order: a timer pass sees a partition between units, never
// half-way through one.

export type PartitionLocks = <T>(partitions: readonly number[], work: () => Promise<T>) => Promise<T>;

export function createPartitionLocks(): PartitionLocks {
  const tails = new Map<number, Promise<unknown>>();
  return (partitions, work) => {
    const run = Promise.all(partitions.map((p) => tails.get(p))).then(work, work);
    const settled = run.catch(() => undefined);
    for (const partition of partitions) tails.set(partition, settled);
    return run;
  };
}
