// The kafkax Producer: `send` resolves after the broker's acknowledgement, `publish` returns at once
// and reports delivery through a callback and 'delivery'/'error' events. Records go through the
// partitioner into the accumulator; the sender drains it into Produce requests per broker.

import { EventEmitter } from 'node:events'
import { Cluster } from '../client/cluster.ts'
import { Deque } from '../client/deque.ts'
import { RetryPolicy } from '../client/retry.ts'
import { childLogger, resolveLogger } from '../observability/logger.ts'
import { Summary } from '../observability/summary.ts'
import { ErrorCode, kafkaError } from '../protocol/error-codes.ts'
import { ConnectionError } from '../protocol/errors.ts'
import { ApiVersions } from '../protocol/messages/index.ts'
import { type Delivery, RecordAccumulator } from './accumulator.ts'
import { IdempotentState } from './idempotence.ts'
import { type ProducerOptions, resolveProducerOptions } from './options.ts'
import { createPartitioner, type Partitioner } from './partitioners.ts'
import {
  type Bytes,
  estimatedSize,
  type HeadersInput,
  type NormalizedRecord,
  normalizeRecord,
  type ProducerRecord,
  type RecordMetadata,
} from './record.ts'
import { Sender } from './sender.ts'

export type { Acks, ProducerOptions } from './options.ts'

/** Counters and gauges of a producer, from `stats()`. */
export interface ProducerStats {
  records: number
  bytes: number
  batches: number
  requests: number
  errors: number
  retries: number
  bufferUsed: number
  batchSize: { count: number; mean: number; max: number }
  latencyMs: { count: number; mean: number; p50: number; p99: number; max: number }
}

/**
 * Writes records to Kafka: batched per partition, compressed, one Produce request per broker.
 * Connects on first use (or `connect()`); `close()` delivers what was accepted, then disconnects.
 */
export class Producer extends EventEmitter {
  readonly cluster: Cluster
  private readonly accumulator: RecordAccumulator
  private readonly sender: Sender
  private readonly partitioner: Partitioner
  private readonly maxBlockMs: number
  private readonly maxRequestSize: number
  private closed = false
  private readonly latency = new Summary()
  private readonly batchRecords = new Summary()

  constructor(options: ProducerOptions) {
    super()
    const o = resolveProducerOptions(options)
    const { client } = o
    this.maxRequestSize = o.maxRequestSize
    this.maxBlockMs = o.maxBlockMs
    this.accumulator = new RecordAccumulator({
      compression: o.compression,
      maxMessages: o.batch.maxMessages,
      maxBytes: o.batch.maxBytes,
      lingerMs: o.batch.lingerMs,
      bufferMemory: o.bufferMemory,
      maxBlockMs: o.maxBlockMs,
    })
    this.partitioner = createPartitioner(o.partitioner, { batchMaxBytes: o.batch.maxBytes })
    this.cluster = new Cluster(client)
    this.cluster.allowAutoTopicCreation = o.allowAutoTopicCreation
    this.sender = new Sender(
      this.cluster,
      this.accumulator,
      new RetryPolicy(client.retry),
      o.idempotent ? new IdempotentState(this.cluster) : undefined,
      {
        acks: o.acks,
        requestTimeoutMs: client.requestTimeoutMs,
        deliveryTimeoutMs: o.deliveryTimeoutMs,
        maxInFlight: client.maxInFlight,
        maxRequestSize: o.maxRequestSize,
        logger: childLogger(resolveLogger(o.logger), { clientId: client.clientId }),
      },
    )
    this.sender.onBatchDone = (b, error) => {
      this.partitioner.onBatchClosed(b.topic, b.partition)
      if (error) return
      this.latency.add(Date.now() - b.createdAt)
      this.batchRecords.add(b.recordCount)
    }
  }

  /** Connects to the cluster now (otherwise the first send does). */
  async connect(): Promise<void> {
    await this.cluster.connect()
  }

  /** Sends one record; resolves with where it was written once the broker acknowledged it. */
  send(record: ProducerRecord): Promise<RecordMetadata> {
    return new Promise((resolve, reject) => {
      this.submit(record, (error, metadata) => (error ? reject(error) : resolve(metadata!)))
    })
  }

  /**
   * Sends many records; resolves when all are acknowledged (rejects with the first failure; every
   * other record is still sent). One promise for the array, not one per record.
   */
  sendBatch(records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    return new Promise((resolve, reject) => {
      const written: RecordMetadata[] = new Array(records.length)
      let left = records.length
      if (left === 0) resolve(written)
      for (let i = 0; i < records.length; i++) {
        this.submit(records[i], (error, metadata) => {
          if (error) return reject(error)
          written[i] = metadata!
          if (--left === 0) resolve(written)
        })
      }
    })
  }

  /** Sends a value as JSON (UTF-8), with a content-type header. */
  sendJSON(
    topic: string,
    value: unknown,
    options: { key?: Bytes; headers?: HeadersInput; partition?: number } = {},
  ): Promise<RecordMetadata> {
    const extra = options.headers
    const list = Array.isArray(extra)
      ? extra
      : Object.entries(extra ?? {}).flatMap(([key, v]) => (Array.isArray(v) ? v : [v]).map((value) => ({ key, value })))
    return this.send({
      topic,
      key: options.key,
      value: JSON.stringify(value),
      partition: options.partition,
      headers: [{ key: 'content-type', value: 'application/json' }, ...list],
    })
  }

  /**
   * Hands a record over and returns at once; the callback (and a 'delivery' or 'error' event) reports
   * the outcome. Records are kept in order per partition like `send`.
   */
  publish(record: ProducerRecord, callback?: (error: Error | null, metadata: RecordMetadata | null) => void): void {
    const done: Delivery = (error, metadata) => {
      callback?.(error, metadata)
      if (error) {
        if (!callback || this.listenerCount('error') > 0) this.emit('error', error, record)
      } else this.emit('delivery', metadata, record)
    }
    this.submit(record, done)
  }

  /** enqueue() with every failure, thrown at once or later, reported through `delivery`. */
  private submit(record: ProducerRecord, delivery: Delivery): void {
    try {
      this.enqueue(record, delivery)
    } catch (error) {
      delivery(error as Error, null)
    }
  }

  /**
   * Appends a record to the accumulator at once when its topic's metadata is known and the buffer
   * has room (the common case); otherwise it waits in `blocked`. Failures go to `delivery`.
   */
  private enqueue(input: ProducerRecord, delivery: Delivery): void {
    if (this.closed) throw new ConnectionError('the producer is closed')
    const record = normalizeRecord(input)
    const size = estimatedSize(record)
    if (size + 100 > this.maxRequestSize) {
      throw kafkaError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `a record of about ${size} bytes for ${record.topic} exceeds maxRequestSize (${this.maxRequestSize})`,
      )
    }
    if (this.blocked.length === 0 && this.appendNow(record, size, delivery)) return
    this.blocked.push({ record, size, delivery, deadline: Date.now() + this.maxBlockMs })
    this.draining ??= this.drainBlocked().finally(() => {
      this.draining = undefined
    })
  }

  /**
   * Records waiting for metadata or buffer memory, in send order: later sends queue behind them, so
   * a record never overtakes one sent before it. One loop waits for all (a promise per record would
   * cost more than the record when a fast sender outruns the brokers).
   */
  private readonly blocked = new Deque<{
    record: NormalizedRecord
    size: number
    delivery: Delivery
    deadline: number
  }>()
  private draining: Promise<void> | undefined

  /** Appends the record if its partition is known and its memory fits now; false if it must wait. */
  private appendNow(record: NormalizedRecord, size: number, delivery: Delivery): boolean {
    const topic = this.cluster.metadata.topics.get(record.topic)
    if (!topic || topic.partitions.length === 0 || !this.accumulator.tryReserve(size)) return false
    let partition: number
    try {
      partition = this.pick(record, topic.partitions.length)
    } catch (error) {
      this.accumulator.release(size)
      throw error
    }
    this.append(record, partition, size, delivery)
    return true
  }

  private async drainBlocked(): Promise<void> {
    for (let b = this.blocked.at(0); b; b = this.blocked.at(0)) {
      try {
        if (this.appendNow(b.record, b.size, b.delivery)) {
          this.blocked.shift()
          continue
        }
        const partition = await this.partitionOf(b.record, b.deadline)
        await this.accumulator.reserve(b.size, b.deadline)
        this.blocked.shift()
        this.append(b.record, partition, b.size, b.delivery)
      } catch (error) {
        this.blocked.shift()
        b.delivery(error as Error, null)
      }
    }
  }

  private append(record: NormalizedRecord, partition: number, size: number, delivery: Delivery): void {
    this.accumulator.append(record, partition, size, delivery)
    this.partitioner.onAppend(record.topic, partition, size)
    this.sender.wakeup()
  }

  private pick(record: NormalizedRecord, count: number): number {
    if (record.partition === undefined) return this.partitioner.partition(record, count)
    if (record.partition >= count) {
      throw kafkaError(
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        `${record.topic} has ${count} partitions, not ${record.partition + 1}`,
      )
    }
    return record.partition
  }

  private async partitionOf(record: NormalizedRecord, deadline: number): Promise<number> {
    let topic = this.cluster.metadata.topics.get(record.topic)
    if (!topic || topic.partitions.length === 0) {
      for (let attempt = 1; ; attempt++) {
        topic = (await this.cluster.refreshMetadata([record.topic])).topics.get(record.topic)
        if (topic && topic.partitions.length > 0 && topic.errorCode === 0) break
        if (Date.now() + 100 > deadline) {
          throw kafkaError(
            topic?.errorCode || ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            `topic ${record.topic} (after ${this.maxBlockMs} ms)`,
          )
        }
        await new Promise((r) => setTimeout(r, Math.min(100 * attempt, 1000)))
      }
    }
    return this.pick(record, topic.partitions.length)
  }

  /** Sends every record accepted so far and waits until each is settled. */
  async flush(): Promise<void> {
    // records still waiting for metadata or memory were accepted too: they go first
    while (this.draining) await this.draining
    await this.sender.flush()
  }

  /** Delivers everything accepted before, then closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      await this.flush()
    } finally {
      this.sender.close()
      await this.cluster.close()
    }
  }

  /** A cheap round trip to a broker; resolves with its latency in milliseconds. */
  async ping(): Promise<number> {
    const started = performance.now()
    const connection = await this.cluster.anyConnection()
    await connection.request(ApiVersions, { clientSoftwareName: 'kafkax', clientSoftwareVersion: '0' })
    return performance.now() - started
  }

  /** Counts of records, batches, bytes, errors and retries since the start, and what is buffered now. */
  stats(): ProducerStats {
    const s = this.sender.stats
    const { count, mean, max } = this.batchRecords.snapshot()
    return {
      ...s,
      bufferUsed: this.accumulator.bufferUsed,
      batchSize: { count, mean, max },
      latencyMs: this.latency.snapshot(),
    }
  }
}
