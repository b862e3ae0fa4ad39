// The offsets of one partition between "handed to a handler" and "committed". Handlers may finish
// out of order (orderBy 'key', a batch's resolve()), so each offset is tracked until settled, and
// the committable offset moves only past an unbroken run of handled ones at the head: a consumer
// never commits past a message it has not handled (or dead-lettered).

import { Deque } from '../client/deque.ts'
import type { TopicPartition } from './message.ts'

/** An offset handed to a handler; `done` once it was handled (or dead-lettered). */
export interface PendingOffset {
  readonly offset: bigint
  done: boolean
}

/** One partition's handed-out offsets, in offset order, and what of them may be committed. */
export class OffsetTracker {
  private readonly pending = new Deque<PendingOffset>()
  /** The offset last committed. */
  committed: bigint | undefined
  /** The next offset to commit, or undefined: set directly (a seek) or one past `handled`. */
  private next: bigint | undefined
  /** The last offset of the handled run at the head, once it moved: `next` is made from it when read. */
  private handled: bigint | undefined
  /** The leader epoch of the last record fetched: committed with the offset. */
  leaderEpoch = -1

  constructor(readonly tp: TopicPartition) {}

  /**
   * Notes an offset handed to a handler: the caller marks the entry done once it is handled. With
   * orderBy 'key' a later offset may start before an earlier one whose key is busy, so the entry
   * goes in offset order, not start order: the head is always the lowest offset not yet settled.
   */
  track(offset: bigint): PendingOffset {
    const entry = { offset, done: false }
    let i = this.pending.length
    while (i > 0 && this.pending.at(i - 1)!.offset > offset) i--
    if (i === this.pending.length) this.pending.push(entry)
    else this.pending.insertAt(i, entry)
    return entry
  }

  /**
   * Moves the committable offset past every handled offset at the head, but not past `waiting`:
   * the lowest offset fetched and not handed out yet (orderBy 'key' starts later offsets while an
   * earlier one waits for its key), which the tracker does not know of.
   */
  advance(waiting?: bigint): void {
    while (this.pending.length > 0 && this.pending.at(0)!.done) {
      if (waiting !== undefined && this.pending.at(0)!.offset > waiting) break
      this.handled = this.pending.shift()!.offset
    }
  }

  /**
   * The next offset to commit: all before it handled. Worked out when read (at commits), not as
   * each message settles, which would make a bigint per message.
   */
  get committable(): bigint | undefined {
    if (this.handled !== undefined) {
      this.next = this.handled + 1n
      this.handled = undefined
    }
    return this.next
  }

  set committable(offset: bigint | undefined) {
    this.next = offset
    this.handled = undefined
  }

  /** Forgets the offsets not settled (a seek, a failure): marking their entries changes nothing now. */
  drop(): void {
    this.pending.clear()
  }

  /** The offset to commit when it moved since the last commit, else undefined. */
  toCommit(): bigint | undefined {
    return this.committable === this.committed ? undefined : this.committable
  }
}
