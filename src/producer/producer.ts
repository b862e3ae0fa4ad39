// The kafkax Producer: `send` resolves after the broker's acknowledgement, `publish` returns at once
// and reports delivery through a callback and 'delivery'/'error' events. Records go through the
// partitioner into the accumulator; the sender drains it into Produce requests per broker. With a
// `transactionalId` records are sent in transactions (the TransactionManager is the identity).

import { EventEmitter } from 'node:events'
import { Cluster } from '../client/cluster.ts'
import { Deque } from '../client/deque.ts'
import { RetryPolicy } from '../client/retry.ts'
import type { OffsetToCommit } from '../client/topic-partition.ts'
import { childLogger, type Logger, resolveLogger } from '../observability/logger.ts'
import { Summary } from '../observability/summary.ts'
import { ErrorCode, kafkaError } from '../protocol/error-codes.ts'
import { ConfigError, ConnectionError, KafkaError } from '../protocol/errors.ts'
import { ApiVersions } from '../protocol/messages/index.ts'
import { type Delivery, RecordAccumulator, type Report } from './accumulator.ts'
import { IdempotentState, type ProducerIdentity } from './idempotence.ts'
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
import { TransactionError } from './transaction-error.ts'
import { TransactionManager } from './transaction-manager.ts'
import type { ConsumerGroupMetadata } from './transaction-requests.ts'

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
 * One transaction of a transactional producer: what is sent through it, and the consumer offsets it
 * commits, become visible (to read_committed consumers) together when it commits. It refuses to act
 * once it has ended.
 */
export interface Transaction {
  /** Producer.send, in this transaction. */
  send(record: ProducerRecord): Promise<RecordMetadata>
  /** Producer.sendBatch, in this transaction. */
  sendBatch(records: readonly ProducerRecord[]): Promise<RecordMetadata[]>
  /** Producer.publish, in this transaction. */
  publish(record: ProducerRecord, callback?: (error: Error | null, metadata: RecordMetadata | null) => void): void
  /** Producer.sendJSON, in this transaction. */
  sendJSON(
    topic: string,
    value: unknown,
    options?: { key?: Bytes; headers?: HeadersInput; partition?: number },
  ): Promise<RecordMetadata>
  /** Commits offsets of a consumer group with this transaction (the next offset to read, per partition). */
  sendOffsets(offsets: readonly OffsetToCommit[], groupMetadata: ConsumerGroupMetadata): Promise<void>
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
  /** Set when the producer is transactional. */
  private readonly transactions: TransactionManager | undefined
  private readonly logger: Logger
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
      report: this.report,
    })
    this.partitioner = createPartitioner(o.partitioner, { batchMaxBytes: o.batch.maxBytes })
    this.cluster = new Cluster(client)
    this.cluster.allowAutoTopicCreation = o.allowAutoTopicCreation
    this.logger = childLogger(resolveLogger(o.logger), { clientId: client.clientId })
    if (o.transactionalId !== undefined) {
      this.transactions = new TransactionManager(this.cluster, {
        transactionalId: o.transactionalId,
        transactionTimeoutMs: o.transactionTimeoutMs,
        timeoutMs: this.maxBlockMs,
        retry: client.retry,
        logger: this.logger,
        flush: () => this.flush(),
        wakeup: () => this.sender.wakeup(),
      })
    }
    const identity: ProducerIdentity | undefined =
      this.transactions ?? (o.idempotent ? new IdempotentState(this.cluster) : undefined)
    this.sender = new Sender(this.cluster, this.accumulator, new RetryPolicy(client.retry), identity, {
      acks: o.acks,
      requestTimeoutMs: client.requestTimeoutMs,
      deliveryTimeoutMs: o.deliveryTimeoutMs,
      maxInFlight: client.maxInFlight,
      maxRequestSize: o.maxRequestSize,
      logger: this.logger,
    })
    this.sender.onBatchDone = (b, error) => {
      this.partitioner.onBatchClosed(b.topic, b.partition)
      if (error) return
      this.latency.add(Date.now() - b.createdAt)
      this.batchRecords.add(b.recordCount)
    }
  }

  /** The transactional id of a transactional producer (undefined: not transactional). */
  get transactionalId(): string | undefined {
    return this.transactions?.transactionalId
  }

  /** Connects to the cluster now (otherwise the first send does); a transactional producer also initializes. */
  async connect(): Promise<void> {
    await this.cluster.connect()
    if (this.transactions) await this.transactions.initialize()
  }

  // ------------------------------------------------------------------------------------------
  // Transactions

  /**
   * Gets the producer id of the transactional id from its coordinator, fencing any older producer
   * with the same id (its open transaction is aborted). `beginTransaction` does this when needed.
   */
  async initTransactions(): Promise<void> {
    await this.transactional('initTransactions').initialize()
  }

  /**
   * Opens a transaction (initializing the producer first when needed): `send`, `sendBatch`,
   * `publish` and `sendOffsetsToTransaction` then belong to it until `commitTransaction` or
   * `abortTransaction`. Resolves with a handle that acts in this transaction only.
   */
  async beginTransaction(): Promise<Transaction> {
    const tm = this.transactional('beginTransaction')
    if (this.closed) throw new ConnectionError('the producer is closed')
    return this.handle(tm, await tm.begin())
  }

  /**
   * Sends every record of the transaction, then commits it. Rejects with an abortable
   * TransactionError when a record or the offsets failed (abort then), a fatal one when the producer
   * was fenced, or a TimeoutError after maxBlockMs (call it again: the commit may still complete).
   */
  async commitTransaction(): Promise<void> {
    await this.transactional('commitTransaction').commit()
  }

  /** Fails the records not sent yet, waits for those in flight, and aborts the transaction. */
  async abortTransaction(): Promise<void> {
    await this.transactional('abortTransaction').abort()
  }

  /**
   * Commits offsets of a consumer group with the open transaction: they take effect when it commits.
   * `offsets` are the next offsets to read; `groupMetadata` names the group and, for a member of it,
   * its generation and member id, so that the coordinator refuses a zombie member's offsets (KIP-447).
   */
  async sendOffsetsToTransaction(
    offsets: readonly OffsetToCommit[],
    groupMetadata: ConsumerGroupMetadata,
  ): Promise<void> {
    const tm = this.transactional('sendOffsetsToTransaction')
    checkOffsets(offsets, groupMetadata)
    await tm.sendOffsets(offsets, groupMetadata)
  }

  /**
   * Runs `fn` in a transaction: commits when it resolves, aborts when it throws (and rethrows), and
   * aborts when the commit fails abortably (rethrowing the commit's error: its `retriable` says
   * whether running the transaction again may succeed). Resolves with what `fn` resolved with.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T> {
    const tx = await this.beginTransaction()
    let result: T
    try {
      result = await fn(tx)
    } catch (error) {
      await this.abortAfter(error)
      throw error
    }
    try {
      await this.commitTransaction()
    } catch (error) {
      if (error instanceof TransactionError && error.abortable) await this.abortAfter(error)
      throw error
    }
    return result
  }

  /** Aborts after `cause`; when the abort fails too, that failure is what the caller must know. */
  private async abortAfter(cause: unknown): Promise<void> {
    try {
      await this.abortTransaction()
    } catch (error) {
      this.logger.warn?.({ err: cause }, 'transaction failed, and so did its abort')
      throw error
    }
  }

  private transactional(call: string): TransactionManager {
    if (!this.transactions)
      throw new TransactionError(`${call}: the producer is not transactional (no transactionalId)`, 'state')
    return this.transactions
  }

  /** A transaction's handle: the producer's calls, refused once that transaction has ended. */
  private handle(tm: TransactionManager, generation: number): Transaction {
    const ended = () =>
      tm.isOpen(generation) ? undefined : new TransactionError('this transaction has ended', 'state')
    return {
      send: async (record) => {
        const error = ended()
        if (error) throw error
        return this.send(record)
      },
      sendBatch: async (records) => {
        const error = ended()
        if (error) throw error
        return this.sendBatch(records)
      },
      publish: (record, callback) => {
        const error = ended()
        if (error) callback?.(error, null)
        else this.publish(record, callback)
      },
      sendJSON: async (topic, value, options) => {
        const error = ended()
        if (error) throw error
        return this.sendJSON(topic, value, options)
      },
      sendOffsets: async (offsets, groupMetadata) => {
        const error = ended()
        if (error) throw error
        return this.sendOffsetsToTransaction(offsets, groupMetadata)
      },
    }
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
    this.submit(record, callback, record)
  }

  /** enqueue() with every failure, thrown at once or later, reported through `report`. */
  private submit(record: ProducerRecord, callback: Delivery | undefined, published?: ProducerRecord): void {
    try {
      this.enqueue(record, callback, published)
    } catch (error) {
      // a broker's refusal (too large, no such partition) fails the transaction; bad options do not (as Java)
      if (error instanceof KafkaError) this.transactions?.rejected(error, record.topic)
      this.report(error as Error, null, callback, published)
    }
  }

  /**
   * A record's outcome to its callback and, when published, to a 'delivery' or 'error' event (an
   * 'error' only when someone hears it: without a listener, a publish without a callback). A
   * callback or listener that throws is logged, as the Java client does with its callbacks: the
   * records after it in the batch are still told.
   */
  private readonly report: Report = (error, metadata, callback, published) => {
    if (callback !== undefined) {
      try {
        callback(error, metadata)
      } catch (thrown) {
        this.logger.error?.({ err: thrown }, 'a delivery callback threw')
      }
    }
    if (published === undefined) return
    try {
      if (error) {
        if (!callback || this.listenerCount('error') > 0) this.emit('error', error, published)
      } else this.emit('delivery', metadata, published)
    } catch (thrown) {
      this.logger.error?.({ err: thrown }, `a '${error ? 'error' : 'delivery'}' listener threw`)
    }
  }

  /**
   * Appends a record to the accumulator at once when its topic's metadata is known and the buffer
   * has room (the common case); otherwise it waits in `blocked`. Failures go to `delivery`.
   */
  private enqueue(input: ProducerRecord, callback: Delivery | undefined, published: ProducerRecord | undefined): void {
    if (this.closed) throw new ConnectionError('the producer is closed')
    this.transactions?.checkSend()
    const record = normalizeRecord(input)
    const size = estimatedSize(record)
    if (size + 100 > this.maxRequestSize) {
      throw kafkaError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `a record of about ${size} bytes for ${record.topic} exceeds maxRequestSize (${this.maxRequestSize})`,
      )
    }
    if (this.blocked.length === 0 && this.appendNow(record, size, callback, published)) return
    this.blocked.push({ record, size, callback, published, deadline: Date.now() + this.maxBlockMs })
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
    callback: Delivery | undefined
    published: ProducerRecord | undefined
    deadline: number
  }>()
  private draining: Promise<void> | undefined

  /** Appends the record if its partition is known and its memory fits now; false if it must wait. */
  private appendNow(
    record: NormalizedRecord,
    size: number,
    callback: Delivery | undefined,
    published: ProducerRecord | undefined,
  ): boolean {
    const topic = this.cluster.metadata.topics.get(record.topic)
    if (!topic || topic.partitions.length === 0 || !this.accumulator.tryReserve(size)) return false
    let partition: number
    try {
      partition = this.pick(record, topic.partitions.length)
    } catch (error) {
      this.accumulator.release(size)
      throw error
    }
    this.append(record, partition, size, callback, published)
    return true
  }

  private async drainBlocked(): Promise<void> {
    for (let b = this.blocked.at(0); b; b = this.blocked.at(0)) {
      try {
        if (this.appendNow(b.record, b.size, b.callback, b.published)) {
          this.blocked.shift()
          continue
        }
        const partition = await this.partitionOf(b.record, b.deadline)
        await this.accumulator.reserve(b.size, b.deadline)
        this.blocked.shift()
        this.append(b.record, partition, b.size, b.callback, b.published)
      } catch (error) {
        this.blocked.shift()
        this.transactions?.rejected(error as Error, b.record.topic)
        this.report(error as Error, null, b.callback, b.published)
      }
    }
  }

  private append(
    record: NormalizedRecord,
    partition: number,
    size: number,
    callback: Delivery | undefined,
    published: ProducerRecord | undefined,
  ): void {
    this.accumulator.append(record, partition, size, callback, published)
    this.transactions?.addPartition(record.topic, partition)
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

  /**
   * Delivers everything accepted before, then closes the connections. An open transaction is
   * aborted first (its records would only hold back read_committed consumers until its timeout).
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      const tm = this.transactions
      if (tm && (tm.state === 'IN_TRANSACTION' || tm.state === 'ABORTABLE_ERROR' || tm.state === 'ABORTING'))
        await tm.abort().catch((error) => this.logger.warn?.({ err: error }, 'aborting the open transaction failed'))
      await this.flush()
    } finally {
      this.sender.close()
      this.transactions?.close()
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

/** Offsets and group metadata for sendOffsetsToTransaction, checked before anything is sent. */
function checkOffsets(offsets: readonly OffsetToCommit[], group: ConsumerGroupMetadata): void {
  if (group === null || typeof group !== 'object' || typeof group.groupId !== 'string' || group.groupId === '')
    throw new ConfigError('sendOffsetsToTransaction: groupMetadata must name its groupId (a non-empty string)')
  if (!Array.isArray(offsets) || offsets.length === 0)
    throw new ConfigError('sendOffsetsToTransaction: offsets must be a non-empty array of { topic, partition, offset }')
  for (const [i, o] of offsets.entries()) {
    if (
      o === null ||
      typeof o !== 'object' ||
      typeof o.topic !== 'string' ||
      !Number.isInteger(o.partition) ||
      o.partition < 0 ||
      typeof o.offset !== 'bigint' ||
      o.offset < 0n
    ) {
      throw new ConfigError(
        `sendOffsetsToTransaction: offsets[${i}] must be { topic: string, partition: integer >= 0, offset: bigint >= 0 }`,
      )
    }
  }
}
