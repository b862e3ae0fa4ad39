// A partition of a topic, and the key kafkax uses for it in maps (every layer above the client uses both).

/** A partition of a topic. */
export interface TopicPartition {
  topic: string
  partition: number
}

/** An offset to commit for a partition: the next record to read there (OffsetCommit, TxnOffsetCommit). */
export interface OffsetToCommit {
  topic: string
  partition: number
  offset: bigint
  leaderEpoch?: number
  metadata?: string
}

export const tpKey = (topic: string, partition: number): string => `${topic}\0${partition}`

/** Groups items by topic, keeping the order topics first appear in (requests name each topic once). */
export function byTopic<T extends { topic: string }>(items: readonly T[]): Map<string, T[]> {
  const topics = new Map<string, T[]>()
  for (const item of items) {
    const list = topics.get(item.topic)
    if (list) list.push(item)
    else topics.set(item.topic, [item])
  }
  return topics
}

/** The topics of an OffsetCommit or TxnOffsetCommit request: each partition's offset, leader epoch and metadata. */
export function committedOffsetTopics(offsets: readonly OffsetToCommit[]) {
  return [...byTopic(offsets)].map(([name, list]) => ({
    name,
    partitions: list.map((o) => ({
      partitionIndex: o.partition,
      committedOffset: o.offset,
      committedLeaderEpoch: o.leaderEpoch ?? -1,
      committedMetadata: o.metadata ?? '',
    })),
  }))
}
