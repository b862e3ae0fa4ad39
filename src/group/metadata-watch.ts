// The leader's watch over the group's topics (as the Java ConsumerCoordinator's metadata snapshot):
// the partition counts it assigned with, compared with the metadata as it is refreshed, so that a
// topic gaining partitions or appearing leads to a rebalance that hands the new ones out.

import type { Cluster } from '../client/cluster.ts'
import type { ClusterMetadata } from '../client/metadata.ts'

/** How often the leader refreshes the metadata of the group's topics to notice new partitions. */
const METADATA_CHECK_MS = 30_000

/** Partition counts of the topics that exist (no error, at least one partition) in the metadata. */
export function partitionCounts(metadata: ClusterMetadata, topics: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>()
  for (const name of topics) {
    const t = metadata.topics.get(name)
    if (t && t.errorCode === 0 && t.partitions.length > 0) counts.set(name, t.partitions.length)
  }
  return counts
}

export function sameCounts(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false
  for (const [topic, n] of a) if (b.get(topic) !== n) return false
  return true
}

export class MetadataWatch {
  private readonly cluster: Cluster
  private readonly refreshed: () => void
  /** The counts when the leader assigned; undefined while this member is no leader. */
  private counts: Map<string, number> | undefined
  private topics: string[] = []
  private timer: NodeJS.Timeout | undefined

  /** `refreshed` is called after each periodic refresh, to check `changed()`. */
  constructor(cluster: Cluster, refreshed: () => void) {
    this.cluster = cluster
    this.refreshed = refreshed
  }

  /** The leader's part: the current partition counts of every topic the group subscribes to, watched from now on. */
  async snapshot(topics: string[]): Promise<Map<string, number>> {
    this.topics = topics
    const counts = partitionCounts(await this.cluster.refreshMetadata(topics), topics)
    this.counts = counts
    return counts
  }

  /** A follower watches nothing: the leader does. */
  clear(): void {
    this.counts = undefined
  }

  /** True when a watched topic's partition count differs from the metadata now. */
  changed(): boolean {
    return this.counts !== undefined && !sameCounts(this.counts, partitionCounts(this.cluster.metadata, this.topics))
  }

  start(): void {
    this.timer = setInterval(() => this.refresh(), METADATA_CHECK_MS)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  private refresh(): void {
    if (!this.counts) return
    this.cluster.refreshMetadata(this.topics).then(
      () => this.refreshed(),
      () => {}, // the next round tries again
    )
  }
}
