// Gathers work handed over concurrently into units handled one at a time. kafkajs hands
// the batches of several partitions over at once (partitionsConsumedConcurrently); the
// scorer handles everything that arrived in one turn of the event loop as one unit, so
// a unit costs one chain of Redis and Kafka round trips however many partitions it
// spans. Each submitter's promise settles with its unit (and its unit's result).

interface Waiting<T, R> {
  readonly item: T;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}

export function createCoalescer<T, R = void>(handle: (items: readonly T[]) => Promise<R>): (item: T) => Promise<R> {
  let queue: Waiting<T, R>[] = [];
  let running = false;
  const drain = (): void => {
    if (running || queue.length === 0) return;
    running = true;
    // Wait for the rest of this turn: batches kafkajs hands over together join the unit.
    setImmediate(() => {
      const unit = queue;
      queue = [];
      handle(unit.map((waiting) => waiting.item))
        .then(
          (result) => {
            for (const waiting of unit) waiting.resolve(result);
          },
          (error: unknown) => {
            for (const waiting of unit) waiting.reject(error);
          },
        )
        .finally(() => {
          running = false;
          drain();
        });
    });
  };
  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      drain();
    });
}
