// A classic member's watch over the metadata (as the Java ConsumerCoordinator's metadata snapshot
// and pattern subscription): the leader keeps the partition counts it assigned with, so that a topic
// gaining partitions or appearing leads to a rebalance that hands the new ones out; a member
// subscribed by pattern keeps the topics its patterns matched, matched again against the metadata of
// every topic at each refresh, so that a topic appearing or vanishing changes its subscription.

import type { Cluster } from '../client/cluster.ts'
import type { ClusterMetadata } from '../client/metadata.ts'
import { matchesAny } from './subscription-pattern.ts'

/** How often the watched metadata is refreshed at most (else as often as metadataMaxAgeMs asks). */
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

/** The topics of the metadata (internal ones aside, as Java's exclude.internal.topics) that a pattern matches. */
export function matchingTopics(metadata: ClusterMetadata, patterns: readonly RegExp[]): string[] {
  const topics: string[] = []
  for (const t of metadata.topics.values())
    if (!t.isInternal && t.errorCode === 0 && matchesAny(patterns, t.name)) topics.push(t.name)
  return topics.sort()
}

export class MetadataWatch {
  private readonly cluster: Cluster
  private readonly refreshed: () => void
  private readonly names: readonly string[]
  private readonly patterns: readonly RegExp[]
  /** The counts when the leader assigned; undefined while this member is no leader. */
  private counts: Map<string, number> | undefined
  private topics: string[] = []
  private timer: NodeJS.Timeout | undefined

  /**
   * `names` and `patterns` are the subscription; `refreshed` is called after each periodic refresh,
   * to check `changed()` and `subscription()`.
   */
  constructor(
    cluster: Cluster,
    refreshed: () => void,
    names: readonly string[] = [],
    patterns: readonly RegExp[] = [],
  ) {
    this.cluster = cluster
    this.refreshed = refreshed
    this.names = names
    this.patterns = patterns
  }

  /** The topics subscribed to now: the names, and those of the metadata a pattern matches. */
  subscription(): string[] {
    if (this.patterns.length === 0) return [...this.names]
    return [...new Set([...this.names, ...matchingTopics(this.cluster.metadata, this.patterns)])]
  }

  /** Fetches the metadata a pattern subscription is matched against (every topic); nothing without patterns. */
  async refreshSubscription(): Promise<void> {
    if (this.patterns.length > 0) await this.cluster.refreshAllTopics()
  }

  /** The leader's part: the current partition counts of every topic the group subscribes to, watched from now on. */
  async snapshot(topics: string[]): Promise<Map<string, number>> {
    this.topics = topics
    // as the Java leader, the metadata at hand when it knows every topic (the watch refreshes it):
    // a Metadata request would wait behind the long-polling Fetch on the broker's connection
    const known = partitionCounts(this.cluster.metadata, topics)
    const counts =
      known.size === topics.length ? known : partitionCounts(await this.cluster.refreshMetadata(topics), topics)
    this.counts = counts
    return counts
  }

  /** A follower watches no partition counts: the leader does. */
  clear(): void {
    this.counts = undefined
  }

  /** True when a watched topic's partition count differs from the metadata now. */
  changed(): boolean {
    return this.counts !== undefined && !sameCounts(this.counts, partitionCounts(this.cluster.metadata, this.topics))
  }

  start(): void {
    const maxAge = this.cluster.options?.metadataMaxAgeMs ?? METADATA_CHECK_MS
    this.timer = setInterval(() => this.refresh(), Math.min(METADATA_CHECK_MS, maxAge))
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  private refresh(): void {
    if (this.patterns.length === 0 && !this.counts) return
    // every topic's metadata covers the leader's counts too
    const round = this.patterns.length > 0 ? this.cluster.refreshAllTopics() : this.cluster.refreshMetadata(this.topics)
    round.then(
      () => this.refreshed(),
      () => {}, // the next round tries again
    )
  }
}
