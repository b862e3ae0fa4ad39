// The cursor of one assigned partition: where fetching stands (the next offset to fetch, the
// position handed out so far and the leader epoch of that position), whether it waits (paused, a
// request in flight, an offset lookup, a backoff after an error), and a generation counter. Every
// seek, reset and unassignment starts a new generation: fetch answers and offset lookups begun in an
// older one are dropped, so a late answer never moves a partition that has moved on. For KIP-320 it
// keeps the leader epochs that let a new leader's log be checked against the position, and for
// KIP-392 the replica the leader named to read from. The Java client keeps the same per partition
// (SubscriptionState's TopicPartitionState and FetchPosition).

import type { RetryPolicy } from '../client/retry.ts'
import { tpKey } from './message.ts'

export class PartitionCursor {
  readonly key: string
  /** The next offset to fetch; undefined while the position is being looked up (or unknown). */
  fetchOffset: bigint | undefined
  /** The next offset to hand out (behind fetchOffset by what is buffered). */
  position: bigint | undefined
  /**
   * The leader epoch of the record before `position`, -1 when unknown: of the committed offset the
   * partition was assigned at, then of the last record taken. A new leader's log is checked against
   * it (KIP-320: OffsetForLeaderEpoch).
   */
  leaderEpoch = -1
  /** The leader epoch of the record before `fetchOffset`: sent as lastFetchedEpoch (the broker answers a divergence). */
  fetchedEpoch = -1
  /** The partition's leader epoch (metadata) when last fetched: a newer one means a new leader to validate against. */
  fetchedLeaderEpoch = -1
  /** An OffsetForLeaderEpoch for this position is in flight. */
  validating = false
  /** The replica the leader named to read from (KIP-392; -1: the leader), until `preferredUntil`. */
  preferredReplica = -1
  preferredUntil = 0
  /** A lookup (ListOffsets) to run before fetching: set by the reset policy. */
  resetTo: 'earliest' | 'latest' | undefined
  resetting = false
  /** Bumped by every seek, reset and unassignment: answers and lookups started before it are dropped. */
  generation = 0
  paused = false
  /** Part of the Fetch request in flight to its broker. */
  inFlight = false
  /** Failures in a row (the backoff grows with them) and when the partition may be fetched again. */
  failures = 0
  retryAt = 0
  highWatermark: bigint | undefined

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {
    this.key = tpKey(topic, partition)
  }

  /** Starts a new generation at `offset` (undefined: unknown until a lookup) with no backoff. */
  moveTo(offset: bigint | undefined, leaderEpoch = -1): void {
    this.generation++
    this.fetchOffset = this.position = offset
    this.leaderEpoch = this.fetchedEpoch = leaderEpoch
    this.resetTo = undefined
    this.failures = 0
    this.retryAt = 0
  }

  /** The partition is no longer assigned: what is still running for it is dropped. */
  retire(): void {
    this.generation++
  }

  /** Whether an answer or lookup begun in `generation` may still move this cursor. */
  isCurrent(generation: number): boolean {
    return this.generation === generation
  }

  /** The lookup found where to start: fetching begins at `offset`, in the same generation. */
  startAt(offset: bigint, leaderEpoch = -1): void {
    this.fetchOffset = this.position = offset
    this.leaderEpoch = this.fetchedEpoch = leaderEpoch
    this.resetTo = undefined
    this.failures = 0
  }

  /** An answer up to `nextOffset` was read, its last batch in `leaderEpoch`: the next fetch goes on from there. */
  advance(nextOffset: bigint, leaderEpoch: number): void {
    this.failures = 0
    this.fetchOffset = nextOffset
    if (leaderEpoch >= 0) this.fetchedEpoch = leaderEpoch
  }

  /** The replica to fetch from now: the preferred one while it is valid and in sync, else the leader. */
  readReplica(leader: number, isr: readonly number[], now: number): number {
    if (this.preferredReplica < 0) return leader
    if (now < this.preferredUntil && isr.includes(this.preferredReplica)) return this.preferredReplica
    this.preferredReplica = -1
    return leader
  }

  /** Back to the leader (the replica failed or fell behind); true when there was a preferred one. */
  clearPreferredReplica(): boolean {
    const had = this.preferredReplica >= 0
    this.preferredReplica = -1
    return had
  }

  /** The buffered answer was dropped before it was all handed out: fetching goes on from the position. */
  rewind(): void {
    this.fetchOffset = this.position
  }

  /** The records before `nextOffset` were handed out (the last of them in `leaderEpoch`). */
  taken(nextOffset: bigint, leaderEpoch: number): void {
    this.position = nextOffset
    this.leaderEpoch = leaderEpoch
  }

  /** Not fetched again before a delay growing with the failures in a row. */
  backoff(retry: RetryPolicy): void {
    this.failures++
    this.retryAt = Date.now() + retry.delay(this.failures)
  }
}
