// Consumer-group lag as an operator sees it with kafka-consumer-groups.sh: per
// partition, the latest offset minus the group's committed offset. Unlike the lag read
// from fetched batches, it also shows partitions nobody is consuming (a dead or
// stuck consumer's partitions keep growing here).
import type { Admin } from 'kafkajs';

/** Lag per partition of `topic` for `groupId`; a partition without a commit counts from its earliest offset. */
export async function groupLag(admin: Admin, groupId: string, topic: string): Promise<Map<number, number>> {
  const [committed, latest] = await Promise.all([
    admin.fetchOffsets({ groupId, topics: [topic] }),
    admin.fetchTopicOffsets(topic),
  ]);
  const committedByPartition = new Map(
    (committed.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]),
  );
  const lag = new Map<number, number>();
  for (const { partition, high, low } of latest) {
    const done = committedByPartition.get(partition) ?? -1n;
    lag.set(partition, Number(BigInt(high) - (done < 0n ? BigInt(low) : done)));
  }
  return lag;
}
