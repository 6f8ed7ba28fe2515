// How a unit's customers are grouped for applying (vocabulary: docs/ARCHITECTURE.md).
// A round holds each customer at most once; a chunk is a bounded slice of a round.

/**
 * Splits the groups into rounds in which no customer appears twice. Events are keyed by
 * customer, so a customer normally lives in one partition and there is one round; a
 * producer that spread a customer over partitions gets its batches applied one after the
 * other (each round reads the state the previous one wrote).
 */
export function roundsOf<G extends { readonly customerId: string }>(groups: readonly G[]): G[][] {
  const rounds: { readonly customers: Set<string>; readonly groups: G[] }[] = [];
  for (const group of groups) {
    let round = rounds.find((r) => !r.customers.has(group.customerId));
    if (round === undefined) {
      round = { customers: new Set(), groups: [] };
      rounds.push(round);
    }
    round.customers.add(group.customerId);
    round.groups.push(group);
  }
  return rounds.map((r) => r.groups);
}

export function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let at = 0; at < items.length; at += size) chunks.push(items.slice(at, at + size));
  return chunks;
}
