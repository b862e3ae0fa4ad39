// A group's committed offsets (Kafka's OffsetMetadataManager): per topic-partition the offset, its
// leader epoch, the metadata string and the commit time; and the offsets transactional producers
// committed (TxnOffsetCommit) that become visible only once their transaction commits.

export interface StoredOffset {
  offset: bigint
  leaderEpoch: number
  metadata: string | null
  commitTimestamp: number
}

const key = (topic: string, partition: number) => `${topic}\0${partition}`

export class CommittedOffsets {
  private readonly committed = new Map<string, StoredOffset & { topic: string; partition: number }>()
  /** Pending transactional offsets per producer id. */
  private readonly pending = new Map<bigint, Map<string, StoredOffset & { topic: string; partition: number }>>()

  get(topic: string, partition: number): StoredOffset | undefined {
    return this.committed.get(key(topic, partition))
  }

  commit(topic: string, partition: number, offset: StoredOffset): void {
    this.committed.set(key(topic, partition), { ...offset, topic, partition })
  }

  /** Every committed offset, by topic and partition. */
  all(): (StoredOffset & { topic: string; partition: number })[] {
    return [...this.committed.values()].sort((a, b) =>
      a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
    )
  }

  /** Topics with committed offsets. */
  topics(): Set<string> {
    return new Set([...this.committed.values()].map((o) => o.topic))
  }

  get size(): number {
    return this.committed.size
  }

  delete(topic: string, partition: number): boolean {
    return this.committed.delete(key(topic, partition))
  }

  /** Drops every offset of a deleted topic (pending ones too). */
  deleteTopic(topic: string): void {
    for (const [k, o] of this.committed) if (o.topic === topic) this.committed.delete(k)
    for (const offsets of this.pending.values()) for (const [k, o] of offsets) if (o.topic === topic) offsets.delete(k)
  }

  addPending(producerId: bigint, topic: string, partition: number, offset: StoredOffset): void {
    let offsets = this.pending.get(producerId)
    if (!offsets) {
      offsets = new Map()
      this.pending.set(producerId, offsets)
    }
    offsets.set(key(topic, partition), { ...offset, topic, partition })
  }

  /** Whether an open transaction holds an offset for this partition (OffsetFetch requireStable). */
  hasPending(topic: string, partition: number): boolean {
    const k = key(topic, partition)
    for (const offsets of this.pending.values()) if (offsets.has(k)) return true
    return false
  }

  get hasAnyPending(): boolean {
    return this.pending.size > 0
  }

  /** A transaction of `producerId` ended: its offsets are committed or forgotten. */
  completeTransaction(producerId: bigint, commit: boolean): void {
    const offsets = this.pending.get(producerId)
    this.pending.delete(producerId)
    if (commit && offsets) for (const [k, o] of offsets) this.committed.set(k, o)
  }
}
