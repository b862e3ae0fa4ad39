// One partition's fetch answer as the application sees it, decoded lazily (as the Java client's
// CompletedFetch): the answer is held as received (compressed), its batches are decompressed one
// at a time and their records decoded a chunk at a time (RecordCursor) as the consumer drains it. So
// what is held decompressed is a batch and a chunk, not the fetch size times the compression ratio.
// Records below the fetch position are skipped (a batch may start earlier), control batches are
// hidden, and under read_committed the batches of aborted transactions are dropped (Kafka's consumer
// algorithm: an aborted transaction of a producer spans from its first offset to that producer's
// ABORT marker).

import type { AbortedTransaction } from '../protocol/messages/generated/fetch-response.ts'
import {
  BatchRecord,
  controlType,
  type KafkaRecord,
  lastOffsetOf,
  leaderEpochOf,
  openBatch,
  type RecordCursor,
  type RecordFactory,
  splitBatches,
} from '../protocol/records/index.ts'
import { ConsumedMessage } from './message.ts'

/**
 * A decoded chunk ends at the record that reaches CHUNK_BYTES of keys and values or at
 * CHUNK_RECORDS records, inside a batch if need be. Small chunks keep few messages alive at once:
 * messages that outlive a young-generation collection are what the garbage collector copies, and
 * what grows the heap (as Java's max.poll.records of 500). With tiny records the message objects,
 * not the bytes, are what a chunk holds.
 */
export const CHUNK_BYTES = 32 * 1024
export const CHUNK_RECORDS = 256

/** Offset deltas as bigints, made once: a message's offset then takes one bigint (the sum), not two. */
const OFFSET_DELTAS: bigint[] = []
const MAX_CACHED_DELTA = 1 << 16

function offsetDeltaOf(delta: number): bigint {
  if (delta < 0 || delta >= MAX_CACHED_DELTA) return BigInt(delta)
  while (OFFSET_DELTAS.length <= delta) OFFSET_DELTAS.push(BigInt(OFFSET_DELTAS.length))
  return OFFSET_DELTAS[delta]
}

/** The records of one partition handed out at once, in offset order. */
export interface FetchedBatch {
  topic: string
  partition: number
  messages: ConsumedMessage[]
  highWatermark: bigint
  lastStableOffset: bigint
  logStartOffset: bigint
}

/** The answer's partition-level figures, as the Fetch response gives them. */
export interface PartitionMarks {
  highWatermark: bigint
  lastStableOffset: bigint
  logStartOffset: bigint
}

export class CompletedFetch {
  /** Record bytes as received (what the fetch buffer's total bound counts). */
  readonly bytes: number
  /** The offset after the answer's last batch: where the next fetch starts. */
  readonly nextOffset: bigint
  /** The leader epoch of that batch (-1: none): the fetch position's epoch (KIP-320). */
  readonly lastEpoch: number
  /** The decoded chunk waiting to be taken, and the position once it is. */
  private chunk: FetchedBatch | undefined
  private chunkEnd = 0n
  private chunkBytes = 0
  private readonly entries: Buffer[]
  /** The next entry to open. */
  private index = 0
  /** The batch being read, whose records are decoded as chunks take them; `last` is its last offset. */
  private reading: { cursor: RecordCursor; last: bigint } | undefined
  /** The records of the slice being read (reused). */
  private readonly slice: KafkaRecord[] = []
  /** The offset after what has been decoded (handed out, skipped or hidden). */
  private next: bigint
  private readonly aborted: AbortedTransaction[]
  private nextAborted = 0
  private readonly abortedProducers = new Set<bigint>()
  /** v2 records are decoded straight into messages (control records stay records: controlType reads them). */
  private readonly make: RecordFactory = (batch, offsetDelta, timestamp, key, value, headers) =>
    batch.control
      ? new BatchRecord(batch.baseOffset, offsetDelta, timestamp, key, value, headers, true)
      : new ConsumedMessage(
          this.topic,
          this.partition,
          batch.baseOffset + offsetDeltaOf(offsetDelta),
          timestamp,
          key,
          value,
          headers,
          batch.partitionLeaderEpoch,
        )
  /** A corrupt batch met after records were gathered: thrown by the next prepare(), once they are taken. */
  private failure: unknown
  /** prepare() runs: `index` and `next` are already past the chunk it decodes, not yet in `chunk`. */
  private decoding = false

  /**
   * `records` as the answer carries them; `aborted` is its aborted transactions under
   * read_committed, null under read_uncommitted. Throws a ProtocolError on malformed framing.
   */
  constructor(
    readonly topic: string,
    readonly partition: number,
    records: Buffer,
    fetchOffset: bigint,
    private readonly readCommitted: boolean,
    aborted: AbortedTransaction[] | null,
    private readonly marks: PartitionMarks,
    private readonly checkCrcs: boolean,
  ) {
    this.bytes = records.length
    this.entries = splitBatches(records)
    this.next = fetchOffset
    const tail = this.entries.at(-1)
    const last = tail ? lastOffsetOf(tail) + 1n : fetchOffset
    this.nextOffset = last > fetchOffset ? last : fetchOffset
    this.lastEpoch = tail && last > fetchOffset ? leaderEpochOf(tail) : -1
    this.aborted = aborted ? [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1)) : []
  }

  /** A chunk is decoded and waits to be taken. */
  get ready(): boolean {
    return this.chunk !== undefined
  }

  /** Every batch is decoded and nothing waits: the answer is used up. */
  get drained(): boolean {
    return !this.decoding && this.chunk === undefined && this.reading === undefined && this.index >= this.entries.length
  }

  /** Record bytes held decoded (the chunk waiting to be taken). */
  get decodedBytes(): number {
    return this.chunkBytes
  }

  /** Where the partition stands once what is decoded so far is handed out. */
  get position(): bigint {
    return this.chunk ? this.chunkEnd : this.next
  }

  /** Takes the decoded chunk; `end` is the position after it. */
  take(): { batch: FetchedBatch; end: bigint } | undefined {
    const batch = this.chunk
    if (batch === undefined) return undefined
    this.chunk = undefined
    this.chunkBytes = 0
    return { batch, end: this.chunkEnd }
  }

  /**
   * Decodes the next chunk: batches until CHUNK_BYTES or CHUNK_RECORDS are gathered or the answer ends.
   * Synchronous (its promise already settled) when those batches are uncompressed; resolves with
   * nothing decoded when only control batches, aborted transactions or records below the position
   * remained. A corrupt batch rejects (ProtocolError) and leaves `position` at it.
   */
  async prepare(): Promise<void> {
    if (this.failure !== undefined) throw this.failure
    const messages: ConsumedMessage[] = []
    this.decoding = true
    try {
      await this.decode(messages)
    } catch (error) {
      if (messages.length === 0) throw error
      this.failure = error
    } finally {
      this.decoding = false
    }
    if (messages.length === 0) return
    this.chunk = { topic: this.topic, partition: this.partition, messages, ...this.marks }
    this.chunkEnd = this.next
  }

  /**
   * Decodes records into `messages` until CHUNK_BYTES or CHUNK_RECORDS are gathered or the answer
   * ends: from the batch being read, then from the next ones.
   */
  private async decode(messages: ConsumedMessage[]): Promise<void> {
    let bytes = 0
    this.chunkBytes = 0
    while (bytes < CHUNK_BYTES && messages.length < CHUNK_RECORDS) {
      const reading = this.reading ?? (await this.openNext())
      if (reading === undefined) return
      const { cursor, last } = reading
      const records = this.slice
      let failure: unknown
      try {
        cursor.read(CHUNK_RECORDS - messages.length, CHUNK_BYTES - bytes, this.make, records)
      } catch (error) {
        failure = error
      }
      const { topic, partition } = this
      const epoch = cursor.batch.partitionLeaderEpoch
      let lastTaken: bigint | undefined
      for (const r of records) {
        const offset = r.offset
        if (offset < this.next) continue
        const { key, value } = r
        bytes += (key === null ? 0 : key.length) + (value === null ? 0 : value.length)
        // legacy entries yield plain records
        messages.push(
          r instanceof ConsumedMessage
            ? r
            : new ConsumedMessage(topic, partition, offset, r.timestamp, key, value, r.headers, epoch),
        )
        lastTaken = offset
      }
      if (lastTaken !== undefined) this.next = lastTaken + 1n
      records.length = 0
      this.chunkBytes = bytes
      if (failure !== undefined) {
        this.reading = undefined
        throw failure
      }
      if (cursor.remaining === 0) {
        this.reading = undefined
        this.next = last + 1n
      }
    }
  }

  /**
   * Opens the next batch with records for the application, or undefined once none is left: skips
   * batches below the position, control batches (reading their markers under read_committed) and
   * the batches of aborted transactions.
   */
  private async openNext(): Promise<{ cursor: RecordCursor; last: bigint } | undefined> {
    while (this.index < this.entries.length) {
      const entry = this.entries[this.index]
      let last = lastOffsetOf(entry)
      if (last < this.next) {
        this.index++
        continue
      }
      const opened = openBatch(entry, this.checkCrcs)
      const cursor = opened instanceof Promise ? await opened : opened
      this.index++
      const { batch } = cursor
      // a legacy compressed message set may have gaps (compaction): its last record is what counts
      const tail = batch.records.at(-1)?.offset ?? -1n
      if (tail > last) last = tail
      if (this.readCommitted) {
        const pending = this.aborted
        while (this.nextAborted < pending.length && pending[this.nextAborted].firstOffset <= last)
          this.abortedProducers.add(pending[this.nextAborted++].producerId)
        if (batch.control) {
          const marker: KafkaRecord[] = []
          cursor.read(1, Number.POSITIVE_INFINITY, this.make, marker)
          if (marker.length > 0 && controlType(marker[0]) === 'ABORT') this.abortedProducers.delete(batch.producerId)
        } else if (batch.transactional && this.abortedProducers.has(batch.producerId)) {
          this.next = last + 1n
          continue
        }
      }
      if (batch.control) {
        this.next = last + 1n
        continue
      }
      this.reading = { cursor, last }
      return this.reading
    }
    return undefined
  }
}
