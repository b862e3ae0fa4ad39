// A partition's log: the record batches producers sent, stored as they came (only the base offset,
// the partition leader epoch and, for LogAppendTime topics, the timestamp are set by the broker, as
// Kafka's LogValidator does), in segments of contiguous bytes so that a fetch is a view of one
// segment (Kafka too reads one segment per partition per fetch). The log start offset moves with
// retention (whole segments, never the active one) and DeleteRecords; the end offset is the high
// watermark, since every replica of the fake shares this one log. The abort index, the leader-epoch
// cache and the waiters of long-polling fetches live here as well.

import { crc32c } from '../protocol/crc32c.ts'
import { decodeRecordBatches, type KafkaRecord } from '../protocol/records/index.ts'
import { BATCH, BATCH_ATTRIBUTE, writeInt64Number } from '../protocol/records/record-batch.ts'

export interface LogOptions {
  /** Bytes kept per partition before the oldest segments are deleted (Kafka's retention.bytes). */
  retentionBytes: number
  /** Age after which a segment is deleted, by its newest timestamp; -1 keeps forever (retention.ms). */
  retentionMs: number
  /** A segment is rolled once it holds this many bytes (segment.bytes). */
  segmentBytes: number
}

export interface AbortedTransaction {
  producerId: bigint
  firstOffset: number
  /** The offset of the ABORT marker. */
  lastOffset: number
}

/**
 * One segment: batches back to back in `buffer`, with an index of where each starts. An adopted
 * segment is one batch kept where the request brought it (no copy), and never grows.
 */
class Segment {
  buffer: Buffer
  size = 0
  nextOffset: number
  readonly bases: number[] = []
  readonly positions: number[] = []
  readonly maxTimestamps: number[] = []
  readonly adopted: boolean

  constructor(
    readonly baseOffset: number,
    capacityOrBatch: number | Buffer,
  ) {
    this.adopted = typeof capacityOrBatch !== 'number'
    this.buffer = typeof capacityOrBatch === 'number' ? Buffer.allocUnsafe(capacityOrBatch) : capacityOrBatch
    this.nextOffset = baseOffset
  }

  /** Index of the batch holding `offset` (the last batch starting at or before it). */
  batchAt(offset: number): number {
    let lo = 0
    let hi = this.bases.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.bases[mid] <= offset) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  batchEnd(i: number): number {
    return i + 1 < this.positions.length ? this.positions[i + 1] : this.size
  }

  get newestTimestamp(): number {
    let max = -1
    for (const t of this.maxTimestamps) if (t > max) max = t
    return max
  }
}

export class PartitionLog {
  private segments: Segment[] = []
  private storedBytes = 0
  private start = 0
  private end = 0
  private readonly aborted: AbortedTransaction[] = []
  /** Leader epochs and the first offset written in each (Kafka's leader-epoch checkpoint). */
  private readonly epochs: { epoch: number; startOffset: number }[] = []
  private readonly waiters = new Set<() => void>()

  constructor(private options: LogOptions) {}

  get logStartOffset(): number {
    return this.start
  }

  /** The next offset to be written, which is also the high watermark. */
  get logEndOffset(): number {
    return this.end
  }

  get sizeInBytes(): number {
    return this.storedBytes
  }

  reconfigure(options: LogOptions, now: number): void {
    this.options = options
    this.enforceRetention(now)
  }

  /**
   * Appends one batch (already validated) and returns its offsets. The batch is copied into the
   * active segment with its base offset and leader epoch set; with `logAppendTime` its timestamp
   * type and max timestamp are set and the CRC computed again (they are covered by it). With
   * `adopt` (the batch's memory is the log's to keep and to write: a socket's read, not a buffer of
   * the client's), a large batch that makes up most of that memory becomes a segment of its own
   * instead: copying a megabyte into the log cost the fake about as much as checking its CRC.
   */
  append(
    batch: Buffer,
    leaderEpoch: number,
    now: number,
    logAppendTime: boolean,
    adopt = false,
  ): { baseOffset: number; lastOffset: number } {
    const baseOffset = this.end
    const lastOffset = baseOffset + batch.readInt32BE(BATCH.LAST_OFFSET_DELTA)
    let segment: Segment
    let stored: Buffer
    if (adopt && batch.length >= ADOPT_MIN_BYTES && 2 * batch.length >= batch.buffer.byteLength) {
      // at most twice the batch stays referenced (the rest of its request), so retention still bounds memory
      segment = new Segment(baseOffset, batch)
      this.segments.push(segment)
      stored = batch
    } else {
      segment = this.segmentFor(batch.length)
      stored = segment.buffer.subarray(segment.size, segment.size + batch.length)
      batch.copy(stored)
    }
    const at = segment.size
    writeInt64Number(stored, baseOffset, 0)
    stored.writeInt32BE(leaderEpoch, BATCH.PARTITION_LEADER_EPOCH)
    if (logAppendTime) {
      stored.writeInt16BE(stored.readInt16BE(BATCH.ATTRIBUTES) | BATCH_ATTRIBUTE.LOG_APPEND_TIME, BATCH.ATTRIBUTES)
      writeInt64Number(stored, now, BATCH.MAX_TIMESTAMP)
      stored.writeUInt32BE(crc32c(stored, BATCH.ATTRIBUTES), BATCH.CRC)
    }
    segment.size += batch.length
    segment.bases.push(baseOffset)
    segment.positions.push(at)
    segment.maxTimestamps.push(logAppendTime ? now : readInt64(stored, BATCH.MAX_TIMESTAMP))
    segment.nextOffset = lastOffset + 1
    this.storedBytes += batch.length
    this.end = lastOffset + 1
    const latest = this.epochs.at(-1)
    if (!latest || latest.epoch < leaderEpoch) this.epochs.push({ epoch: leaderEpoch, startOffset: baseOffset })
    this.enforceRetention(now)
    this.notify()
    return { baseOffset, lastOffset }
  }

  /** The active segment, rolled when `bytes` would take it past segment.bytes; grown as needed. */
  private segmentFor(bytes: number): Segment {
    let segment = this.segments.at(-1)
    if (!segment || segment.adopted || (segment.size > 0 && segment.size + bytes > this.options.segmentBytes)) {
      segment = new Segment(this.end, Math.max(bytes, Math.min(16 * 1024, this.options.segmentBytes)))
      this.segments.push(segment)
    }
    if (segment.size + bytes > segment.buffer.length) {
      const grown = Buffer.allocUnsafe(
        Math.max(segment.size + bytes, Math.min(this.options.segmentBytes, segment.buffer.length * 2)),
      )
      segment.buffer.copy(grown, 0, 0, segment.size)
      segment.buffer = grown
    }
    return segment
  }

  /**
   * Whole batches from the one holding `offset`, below `upTo` (the high watermark or the last
   * stable offset), at most `maxBytes` of them, all from one segment; with `minOneBatch` the first
   * batch is returned whatever its size (KIP-74). Empty when nothing is there yet.
   */
  read(offset: number, maxBytes: number, upTo: number, minOneBatch = true): Buffer {
    if (offset >= upTo || offset < this.start) return EMPTY
    const segment = this.segmentOf(offset)
    if (!segment) return EMPTY
    const first = segment.batchAt(offset)
    const from = segment.positions[first]
    let to = segment.batchEnd(first)
    if (!minOneBatch && to - from > maxBytes) return EMPTY
    for (let i = first + 1; i < segment.bases.length && segment.bases[i] < upTo; i++) {
      const next = segment.batchEnd(i)
      if (next - from > maxBytes) break
      to = next
    }
    return segment.buffer.subarray(from, to)
  }

  private segmentOf(offset: number): Segment | undefined {
    const segments = this.segments
    let lo = 0
    let hi = segments.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (segments[mid].baseOffset <= offset) lo = mid
      else hi = mid - 1
    }
    const segment = segments[lo]
    return segment && segment.bases.length > 0 && offset < segment.nextOffset ? segment : undefined
  }

  /** Every stored batch, oldest first (views of the log). */
  *batches(): Generator<Buffer> {
    for (const s of this.segments) {
      for (let i = 0; i < s.positions.length; i++) yield s.buffer.subarray(s.positions[i], s.batchEnd(i))
    }
  }

  /** Decoded records from the log start (control records included, marked `control`). */
  async records(): Promise<KafkaRecord[]> {
    const out: KafkaRecord[] = []
    for (const s of this.segments) {
      for (const batch of await decodeRecordBatches(s.buffer.subarray(0, s.size))) {
        for (const r of batch.records) if (r.offset >= BigInt(this.start)) out.push(r)
      }
    }
    return out
  }

  /**
   * The first record whose timestamp is at or after `timestamp` (ListOffsets by time: the first
   * batch whose max timestamp reaches it, then the first record in it that does), or undefined.
   */
  async offsetForTimestamp(timestamp: number): Promise<{ offset: number; timestamp: number } | undefined> {
    for (const s of this.segments) {
      for (let i = 0; i < s.bases.length; i++) {
        if (s.maxTimestamps[i] < timestamp) continue
        const [batch] = await decodeRecordBatches(s.buffer.subarray(s.positions[i], s.batchEnd(i)))
        for (const r of batch.records) {
          if (r.timestamp >= timestamp && r.offset >= BigInt(this.start))
            return { offset: Number(r.offset), timestamp: r.timestamp }
        }
      }
    }
    return undefined
  }

  /** The record with the largest timestamp (the first of them), for ListOffsets MAX_TIMESTAMP (KIP-734). */
  async maxTimestampRecord(): Promise<{ offset: number; timestamp: number } | undefined> {
    let best: { segment: Segment; index: number } | undefined
    for (const segment of this.segments) {
      for (let index = 0; index < segment.bases.length; index++) {
        if (!best || segment.maxTimestamps[index] > best.segment.maxTimestamps[best.index]) best = { segment, index }
      }
    }
    if (!best) return undefined
    const { segment, index } = best
    const max = segment.maxTimestamps[index]
    const [batch] = await decodeRecordBatches(
      segment.buffer.subarray(segment.positions[index], segment.batchEnd(index)),
    )
    const record = batch.records.find((r) => r.timestamp === max) ?? batch.records.at(-1)!
    return { offset: Number(record.offset), timestamp: max }
  }

  /** DeleteRecords: moves the log start offset (at most to the end) and drops segments below it. */
  deleteRecordsBefore(offset: number): void {
    if (offset <= this.start) return
    this.start = Math.min(offset, this.end)
    while (
      this.segments.length > 0 &&
      this.segments[0].nextOffset <= this.start &&
      this.segments[0] !== this.segments.at(-1)
    )
      this.dropOldest()
    this.trimAborted()
  }

  private enforceRetention(now: number): void {
    const { retentionBytes, retentionMs } = this.options
    while (this.segments.length > 1) {
      const oldest = this.segments[0]
      const tooBig = retentionBytes >= 0 && this.storedBytes > retentionBytes
      const tooOld = retentionMs >= 0 && oldest.newestTimestamp >= 0 && oldest.newestTimestamp < now - retentionMs
      if (!tooBig && !tooOld) break
      this.dropOldest()
      this.start = Math.max(this.start, this.segments[0].baseOffset)
    }
    this.trimAborted()
  }

  private dropOldest(): void {
    const dropped = this.segments.shift()!
    this.storedBytes -= dropped.size
  }

  // -- transactions ----------------------------------------------------------------------------

  /** Records an aborted transaction once its ABORT marker is written (Kafka's transaction index). */
  addAborted(txn: AbortedTransaction): void {
    this.aborted.push(txn)
  }

  /** Aborted transactions overlapping [from, to): what a read_committed fetch of that range needs. */
  abortedBetween(from: number, to: number): AbortedTransaction[] {
    return this.aborted.filter((t) => t.lastOffset >= from && t.firstOffset < to)
  }

  private trimAborted(): void {
    while (this.aborted.length > 0 && this.aborted[0].lastOffset < this.start) this.aborted.shift()
  }

  // -- leader epochs ---------------------------------------------------------------------------

  /**
   * OffsetForLeaderEpoch: the largest epoch at or below `epoch` and the offset where the epoch after
   * it starts (the log end for the latest), or undefined when the log has no such epoch.
   */
  endOffsetFor(epoch: number, currentEpoch: number): { epoch: number; endOffset: number } | undefined {
    if (epoch === currentEpoch) return { epoch, endOffset: this.end }
    let found = -1
    for (let i = 0; i < this.epochs.length; i++) if (this.epochs[i].epoch <= epoch) found = i
    if (found === -1) return undefined
    const next = this.epochs[found + 1]
    return { epoch: this.epochs[found].epoch, endOffset: next ? next.startOffset : this.end }
  }

  /** The leader epoch the record at `offset` was written in (-1 before any). */
  epochAt(offset: number): number {
    let epoch = -1
    for (const e of this.epochs) if (e.startOffset <= offset) epoch = e.epoch
    return epoch
  }

  // -- waiters ---------------------------------------------------------------------------------

  /** Calls `fn` on every change a fetch may wait for (an append, a marker); returns the unsubscribe. */
  onChange(fn: () => void): () => void {
    this.waiters.add(fn)
    return () => this.waiters.delete(fn)
  }

  notify(): void {
    for (const fn of [...this.waiters]) fn()
  }
}

const EMPTY = Buffer.alloc(0)
/** Batches from this size on may be adopted as segments; smaller ones are packed by copying. */
const ADOPT_MIN_BYTES = 64 * 1024

function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 0x1_0000_0000 + buf.readUInt32BE(at + 4)
}
