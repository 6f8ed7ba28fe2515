// Grouping keys by Redis Cluster hash slot: a Lua script (or any multi-key command) on a
// cluster may only touch keys of one slot, so a chunk of customer writes becomes one call
// per slot. Pure (cluster-key-slot is the CRC16 ioredis itself routes by), so it is tested
// without a cluster.
import calculateSlot from 'cluster-key-slot';

export const slotOf = (key: string): number => calculateSlot(key);

/**
 * Indices of `keys` grouped by slot: groups in order of first appearance, indices ascending
 * within a group, so writes of one key keep their order.
 */
export function slotGroups(keys: readonly string[]): number[][] {
  const groups = new Map<number, number[]>();
  keys.forEach((key, index) => {
    const slot = slotOf(key);
    const group = groups.get(slot);
    if (group === undefined) groups.set(slot, [index]);
    else group.push(index);
  });
  return [...groups.values()];
}
