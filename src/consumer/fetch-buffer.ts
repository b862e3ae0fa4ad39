// The fetch buffer: answers fetched and not yet taken, bounded per partition and in total. Per
// partition it holds one answer at most, because a partition with an untaken answer is not fetched
// again (as in the Java client's FetchBuffer: a deep partition never crowds out the others). In
// total it holds about `maxBytes` of record bytes: the fetcher asks for no more than the room left
// (a broker may exceed that by one batch, KIP-74) and fetches nothing while there is none. Answers
// come out in the order they arrived, or per partition (`take`), and taking one moves the cursor's
// position past it. An answer is held decoded; a bound on what is held decompressed would keep the
// raw record bytes here and decode on the way out.

import type { PartitionCursor } from './cursor.ts'
import type { ConsumedMessage } from './message.ts'

/** The records of one partition from one Fetch answer, in offset order. */
export interface FetchedBatch {
  topic: string
  partition: number
  messages: ConsumedMessage[]
  highWatermark: bigint
  lastStableOffset: bigint
  logStartOffset: bigint
}

interface BufferedAnswer {
  batch: FetchedBatch
  /** Record bytes as received (what the total bound counts). */
  bytes: number
  /** The partition's position once this answer is taken. */
  nextOffset: bigint
}

export class FetchBuffer {
  /** In the order the answers came (a Map keeps insertion order), one per partition at most. */
  private readonly answers = new Map<PartitionCursor, BufferedAnswer>()
  private held = 0

  constructor(private readonly maxBytes: number) {}

  /** Record bytes buffered now. */
  get bytes(): number {
    return this.held
  }

  /** Bytes that may still be fetched under the total bound (nothing when <= 0). */
  room(): number {
    return this.maxBytes - this.held
  }

  /** Whether the partition has an answer waiting (then it is not fetched). */
  has(cursor: PartitionCursor): boolean {
    return this.answers.has(cursor)
  }

  /** Buffers the answer of a partition that has none waiting. */
  add(cursor: PartitionCursor, batch: FetchedBatch, bytes: number, nextOffset: bigint): void {
    this.answers.set(cursor, { batch, bytes, nextOffset })
    this.held += bytes
  }

  /** The oldest answer of an unpaused partition, taken; undefined when there is none. */
  poll(): FetchedBatch | undefined {
    for (const cursor of this.answers.keys()) if (!cursor.paused) return this.take(cursor)
    return undefined
  }

  /** The partition's answer (paused or not: the caller decides), taken; its position moves past it. */
  take(cursor: PartitionCursor): FetchedBatch | undefined {
    const answer = this.answers.get(cursor)
    if (answer === undefined) return undefined
    this.answers.delete(cursor)
    this.held -= answer.bytes
    const { messages } = answer.batch
    cursor.taken(answer.nextOffset, messages[messages.length - 1].leaderEpoch)
    return answer.batch
  }

  /** Forgets the partition's answer (after a seek, a reset or an unassignment). */
  drop(cursor: PartitionCursor): void {
    const answer = this.answers.get(cursor)
    if (answer === undefined) return
    this.answers.delete(cursor)
    this.held -= answer.bytes
  }

  clear(): void {
    this.answers.clear()
    this.held = 0
  }
}
