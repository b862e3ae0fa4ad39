// The cursor of one assigned partition: where fetching stands (the next offset to fetch, the
// position handed out so far and the leader epoch of that position), whether it waits (paused, a
// request in flight, an offset lookup, a backoff after an error), and a generation counter. Every
// seek, reset and unassignment starts a new generation: fetch answers and offset lookups begun in an
// older one are dropped, so a late answer never moves a partition that has moved on. The Java
// client keeps the same per partition (SubscriptionState's TopicPartitionState and FetchPosition).

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
   * partition was assigned at, then of the last record taken. Truncation detection (KIP-320) is to
   * validate it against the leader; not done yet.
   */
  leaderEpoch = -1
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
    this.leaderEpoch = leaderEpoch
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
  startAt(offset: bigint): void {
    this.fetchOffset = this.position = offset
    this.resetTo = undefined
    this.failures = 0
  }

  /** An answer up to `nextOffset` was read: the next fetch goes on from there. */
  advance(nextOffset: bigint): void {
    this.failures = 0
    this.fetchOffset = nextOffset
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
