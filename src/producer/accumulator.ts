// The record accumulator (as in the Java client): records are appended to the open batch of their
// partition, a batch closes when it holds `maxMessages` records or `maxBytes` bytes, and is sent when
// closed or `lingerMs` after its first record. A total buffer-memory budget makes `send` wait when
// records arrive faster than brokers take them (back-pressure), up to `maxBlockMs`.

import type { CompressionCodec } from '../protocol/compression/index.ts'
import { crc32c } from '../protocol/crc32c.ts'
import { TimeoutError } from '../protocol/errors.ts'
import type { BatchOptions, RecordHeader } from '../protocol/records/index.ts'
import { RecordBatchBuilder } from '../protocol/records/index.ts'
import { BufferPool } from './buffer-pool.ts'
import type { NormalizedRecord, ProducerRecord, RecordMetadata } from './record.ts'

export type Delivery = (error: Error | null, metadata: RecordMetadata | null) => void

/**
 * Tells a record's outcome to the callback it was sent with and, for a published record, to the
 * producer's events. Batches keep the callback and the record rather than a closure per record:
 * records in flight are what the garbage collector copies.
 */
export type Report = (
  error: Error | null,
  metadata: RecordMetadata | null,
  callback: Delivery | undefined,
  published: ProducerRecord | undefined,
) => void

export class ProducerBatch {
  readonly builder: RecordBatchBuilder
  /** Read by the builder when the batch is sealed, so producer id, epoch and sequence go in then. */
  readonly options: BatchOptions
  readonly callbacks: (Delivery | undefined)[] = []
  /** Per record, the record as published (publish's events report it), or undefined. */
  readonly published: (ProducerRecord | undefined)[] = []
  readonly timestamps: number[] = []
  /** Bytes reserved from the buffer memory for this batch. */
  reserved = 0
  /** When its first record was appended: the delivery timeout counts from here (kept by a split). */
  createdAt = Date.now()
  attempts = 0
  /** Failed by the delivery timeout while its request was in flight: already reported, dropped when it ends. */
  expired = false
  /** Why its last attempt failed: the cause of its TimeoutError when the delivery timeout ends it. */
  lastError: Error | undefined
  /** The encoded batch, once sealed (compression happens once, retries resend these bytes). */
  sealed: Buffer | undefined
  sealing: Promise<Buffer> | undefined

  constructor(
    readonly topic: string,
    readonly partition: number,
    compression: CompressionCodec,
    initial: number | Buffer,
    readonly report: Report,
  ) {
    this.options = { compression }
    this.builder = new RecordBatchBuilder(this.options, initial)
  }

  get recordCount(): number {
    return this.builder.recordCount
  }

  append(
    key: Buffer | null,
    value: Buffer | null,
    headers: RecordHeader[],
    timestamp: number,
    callback: Delivery | undefined,
    published: ProducerRecord | undefined,
  ) {
    this.builder.appendRecord(key, value, headers, timestamp)
    this.callbacks.push(callback)
    this.published.push(published)
    this.timestamps.push(timestamp)
  }

  seal(): Promise<Buffer> {
    this.sealing ??= this.builder.build().then((bytes) => {
      this.sealed = bytes
      return bytes
    })
    return this.sealing
  }

  /**
   * Writes the producer id, epoch and base sequence of `options` into the sealed bytes again (after
   * an epoch bump) and recomputes the CRC. Offsets from the protocol guide's RecordBatch layout:
   * crc at 17 covers attributes (21) to the end; producerId 43, producerEpoch 51, baseSequence 53.
   */
  restamp(): void {
    const b = this.sealed!
    const o = this.options
    b.writeBigInt64BE(o.producerId ?? -1n, 43)
    b.writeInt16BE(o.producerEpoch ?? -1, 51)
    b.writeInt32BE(o.baseSequence ?? -1, 53)
    b.writeUInt32BE(crc32c(b, 21), 17)
  }

  /** Reports the outcome to every record of the batch. */
  complete(baseOffset: bigint, logAppendTime: number): void {
    const base = Number(baseOffset)
    const n = this.callbacks.length
    const exact = Number.isSafeInteger(base + n)
    for (let i = 0; i < n; i++) {
      const metadata = {
        topic: this.topic,
        partition: this.partition,
        offset: baseOffset < 0n ? -1n : exact ? BigInt(base + i) : baseOffset + BigInt(i),
        timestamp: logAppendTime >= 0 ? logAppendTime : this.timestamps[i],
      }
      this.report(null, metadata, this.callbacks[i], this.published[i])
    }
  }

  fail(error: Error): void {
    for (let i = 0; i < this.callbacks.length; i++) this.report(error, null, this.callbacks[i], this.published[i])
  }

  /** Reports `error` now, though the batch stays in flight until its request ends. */
  expire(error: Error): void {
    this.expired = true
    this.fail(error)
  }
}

export class PartitionQueue {
  readonly batches: ProducerBatch[] = []
  /** One batch per partition is in flight at a time: order is kept however retries go. */
  inFlight = false
  /** After a failed attempt, no retry before this time (backoff). */
  retryAt = 0
  /** Size of the last batch closed for this partition (sizes the next one). */
  lastBatchBytes = 0

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}
}

export interface AccumulatorOptions {
  compression: CompressionCodec
  maxMessages: number
  maxBytes: number
  lingerMs: number
  bufferMemory: number
  maxBlockMs: number
  report: Report
}

/** Room left in a pooled batch buffer beyond `maxBytes`, so the record that fills a batch never makes it grow. */
const POOLED_SLACK = 1024

export class RecordAccumulator {
  private readonly queues = new Map<string, PartitionQueue[]>()
  private used = 0
  private readonly memoryWaiters: { bytes: number; wake: () => void }[] = []
  /** Buffers for full-size batches; at most the buffer memory's worth is kept free. */
  private readonly pool: BufferPool

  constructor(readonly options: AccumulatorOptions) {
    this.pool = new BufferPool(options.maxBytes + POOLED_SLACK, Math.floor(options.bufferMemory / options.maxBytes))
  }

  get bufferUsed(): number {
    return this.used
  }

  queue(topic: string, partition: number): PartitionQueue {
    let list = this.queues.get(topic)
    if (!list) {
      list = []
      this.queues.set(topic, list)
    }
    let q = list[partition]
    if (!q) {
      q = new PartitionQueue(topic, partition)
      list[partition] = q
    }
    return q
  }

  *allQueues(): Iterable<PartitionQueue> {
    for (const list of this.queues.values()) for (const q of list) if (q) yield q
  }

  /** Takes `bytes` of buffer memory when they fit now. */
  tryReserve(bytes: number): boolean {
    if (this.used + bytes > this.options.bufferMemory && this.used > 0) return false
    this.used += bytes
    return true
  }

  /** Waits until `bytes` fit in the buffer memory, or fails at `deadline` (maxBlockMs after the send). */
  async reserve(bytes: number, deadline: number): Promise<void> {
    if (this.tryReserve(bytes)) return
    while (this.used + bytes > this.options.bufferMemory && this.used > 0) {
      const left = deadline - Date.now()
      if (left <= 0) {
        throw new TimeoutError(
          `buffer memory full (${this.used} of ${this.options.bufferMemory} bytes) for ${this.options.maxBlockMs} ms: brokers take records slower than they are sent`,
        )
      }
      await new Promise<void>((resolve) => {
        const waiter = { bytes, wake: resolve }
        this.memoryWaiters.push(waiter)
        setTimeout(() => {
          const i = this.memoryWaiters.indexOf(waiter)
          if (i >= 0) this.memoryWaiters.splice(i, 1)
          resolve()
        }, left).unref()
      })
    }
    this.used += bytes
  }

  /** Takes back a settled batch's buffer for reuse; nothing may read its sealed bytes afterwards. */
  recycle(batch: ProducerBatch): void {
    batch.sealed = undefined
    this.pool.give(batch.builder.buffer)
  }

  release(bytes: number): void {
    this.used -= bytes
    for (const w of this.memoryWaiters.splice(0)) w.wake()
  }

  /** Appends a record (its memory already reserved) to its partition's open batch. */
  append(
    record: NormalizedRecord,
    partition: number,
    bytes: number,
    callback: Delivery | undefined,
    published?: ProducerRecord,
  ): void {
    const q = this.queue(record.topic, partition)
    const o = this.options
    let batch = q.batches[q.batches.length - 1]
    if (!batch || batch.sealing || this.isFull(batch, bytes)) {
      // sized like the partition's last batch, so a busy partition's buffer does not grow by copying;
      // a partition that fills its batches gets a reused full-size one
      if (batch) q.lastBatchBytes = batch.builder.sizeInBytes
      const capacity = Math.min(o.maxBytes, Math.max(16 * 1024, Math.ceil(q.lastBatchBytes * 1.1)))
      const buffer = capacity === o.maxBytes && bytes <= o.maxBytes ? this.pool.take() : capacity + bytes
      batch = new ProducerBatch(record.topic, partition, o.compression, buffer, o.report)
      q.batches.push(batch)
    }
    batch.append(record.key, record.value, record.headers, record.timestamp, callback, published)
    batch.reserved += bytes
  }

  private isFull(batch: ProducerBatch, extra: number): boolean {
    const o = this.options
    return (
      batch.recordCount >= o.maxMessages || (batch.recordCount > 0 && batch.builder.sizeInBytes + extra > o.maxBytes)
    )
  }

  /** Whether the first batch of a partition may be sent now: full, lingered enough, or forced. */
  sendable(q: PartitionQueue, now: number, force: boolean): boolean {
    const first = q.batches[0]
    if (!first || q.inFlight || q.retryAt > now) return false
    return force || q.batches.length > 1 || this.isFull(first, 0) || now - first.createdAt >= this.options.lingerMs
  }

  /** When a partition's first batch becomes sendable, unless it is in flight (for the sender's timer), or Infinity. */
  lingerDeadline(q: PartitionQueue): number {
    const first = q.batches[0]
    return first && !q.inFlight
      ? Math.max(first.createdAt + this.options.lingerMs, q.retryAt)
      : Number.POSITIVE_INFINITY
  }

  get pendingBatches(): number {
    let n = 0
    for (const q of this.allQueues()) n += q.batches.length
    return n
  }
}
