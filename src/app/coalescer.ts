// Gathers work handed over concurrently into units handled one at a time. kafkajs hands
// the batches of several partitions over at once (partitionsConsumedConcurrently); the
// scorer handles everything that arrived in one turn of the event loop as one unit, so
// a unit costs one chain of Redis and Kafka round trips however many partitions it
// spans. Each submitter's promise settles with its unit.

interface Waiting<T> {
  readonly item: T;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export function createCoalescer<T>(handle: (items: readonly T[]) => Promise<void>): (item: T) => Promise<void> {
  let queue: Waiting<T>[] = [];
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
          () => {
            for (const waiting of unit) waiting.resolve();
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
    new Promise<void>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      drain();
    });
}
