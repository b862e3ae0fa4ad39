// The internal topics whose partitions place the coordinators (as Kafka's __consumer_offsets and
// __transaction_state): a group or transactional id belongs to the partition of its Java hash, and
// that partition's leader coordinates it.

export const OFFSETS_TOPIC = '__consumer_offsets'
export const TRANSACTION_STATE_TOPIC = '__transaction_state'
/** offsets.topic.num.partitions and transaction.state.log.num.partitions (default 50). */
export const INTERNAL_PARTITIONS = 50

/** Coordinator key types of FindCoordinator. */
export const GROUP_KEY = 0
export const TRANSACTION_KEY = 1

/** Java's String.hashCode made non-negative as Kafka's Utils.abs does (the partition of a group or transactional id). */
export function javaStringHash(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0
  return h & 0x7fffffff
}

/** The internal partition of a group or transactional id. */
export const internalPartitionOf = (key: string) => javaStringHash(key) % INTERNAL_PARTITIONS
