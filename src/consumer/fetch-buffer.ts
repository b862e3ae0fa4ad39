// The fetch buffer: answers fetched and not yet taken, bounded per partition and in total. Per
// partition it holds one answer at most, because a partition with an untaken answer is not fetched
// again (as in the Java client's FetchBuffer: a deep partition never crowds out the others). In
// total it holds about `maxBytes` of record bytes as received: the fetcher asks for no more than the
// room left (a broker may exceed that by one batch, KIP-74) and fetches nothing while there is none.
// An answer is held as received and decoded a chunk at a time (completed-fetch.ts): taking a chunk
// starts decoding the next, so each partition holds one decoded chunk here at most, whatever the
// compression ratio. Chunks come out in the order their answers arrived, or per partition (`take`),
// and taking one moves the cursor's position past it.

import type { CompletedFetch, FetchedBatch } from './completed-fetch.ts'
import type { PartitionCursor } from './cursor.ts'

export type { FetchedBatch } from './completed-fetch.ts'

/** What the buffer tells the fetcher once a chunk decoded in the background is done. */
export interface FetchBufferEvents {
  /** A chunk is ready, or an answer was used up without one (its partition may be fetched again). */
  changed(): void
  /** A batch of the partition's answer is corrupt: the answer is dropped, the position stays before it. */
  failed(cursor: PartitionCursor, error: unknown): void
}

export class FetchBuffer {
  /** In the order the answers came (a Map keeps insertion order), one per partition at most. */
  private readonly answers = new Map<PartitionCursor, CompletedFetch>()
  private held = 0

  constructor(
    private readonly maxBytes: number,
    private readonly events: FetchBufferEvents,
  ) {}

  /** Record bytes buffered now, as received. */
  get bytes(): number {
    return this.held
  }

  /** Record bytes (keys and values) held decoded now: the chunks waiting to be taken. */
  get decodedBytes(): number {
    let sum = 0
    for (const answer of this.answers.values()) sum += answer.decodedBytes
    return sum
  }

  /** Bytes that may still be fetched under the total bound (nothing when <= 0). */
  room(): number {
    return this.maxBytes - this.held
  }

  /** Whether the partition has an answer waiting (then it is not fetched). */
  has(cursor: PartitionCursor): boolean {
    return this.answers.has(cursor)
  }

  /** Buffers the answer (its first chunk decoded) of a partition that has none waiting. */
  add(cursor: PartitionCursor, answer: CompletedFetch): void {
    this.answers.set(cursor, answer)
    this.held += answer.bytes
  }

  /** The oldest decoded chunk of an unpaused partition, taken; undefined when there is none. */
  poll(): FetchedBatch | undefined {
    for (const [cursor, answer] of this.answers) if (!cursor.paused && answer.ready) return this.take(cursor)
    return undefined
  }

  /** The partition's decoded chunk (paused or not: the caller decides), taken; its position moves past it. */
  take(cursor: PartitionCursor): FetchedBatch | undefined {
    const answer = this.answers.get(cursor)
    const taken = answer?.take()
    if (answer === undefined || taken === undefined) return undefined
    const { messages } = taken.batch
    cursor.taken(taken.end, messages[messages.length - 1].leaderEpoch)
    if (answer.drained) this.remove(cursor)
    else this.decodeNext(cursor, answer)
    return taken.batch
  }

  /** Forgets the partition's answer (after a seek, a reset or an unassignment). */
  drop(cursor: PartitionCursor): void {
    if (this.answers.has(cursor)) this.remove(cursor)
  }

  clear(): void {
    this.answers.clear()
    this.held = 0
  }

  /** Decodes the answer's next chunk; what it finds counts only while the answer is still held. */
  private decodeNext(cursor: PartitionCursor, answer: CompletedFetch): void {
    const current = () => this.answers.get(cursor) === answer
    answer.prepare().then(
      () => {
        if (!current()) return
        if (answer.drained) {
          // only control batches, aborted transactions or skipped records were left: past them all
          cursor.taken(answer.position, cursor.leaderEpoch)
          this.remove(cursor)
        }
        this.events.changed()
      },
      (error) => {
        if (!current()) return
        this.remove(cursor)
        cursor.taken(answer.position, cursor.leaderEpoch)
        this.events.failed(cursor, error)
      },
    )
  }

  private remove(cursor: PartitionCursor): void {
    const answer = this.answers.get(cursor)!
    this.answers.delete(cursor)
    this.held -= answer.bytes
  }
}
