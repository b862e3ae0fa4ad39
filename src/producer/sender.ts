// The sender: drains sendable batches into ONE Produce request per leader broker (up to
// `maxInFlight` requests per broker), and settles each partition's answer: success, a retry after
// backoff (with fresh metadata or the new leader the broker names, KIP-951), a split of a batch the
// broker finds too large, or failure. One batch per partition is in flight at a time, so records of
// a partition are written in the order they were sent, whatever retries happen.

import type { Cluster } from '../client/cluster.ts'
import { STALE_METADATA_ERRORS } from '../client/metadata.ts'
import type { RetryPolicy } from '../client/retry.ts'
import { channels } from '../observability/channels.ts'
import type { Logger } from '../observability/logger.ts'
import { errorCodeOf, kafkaError } from '../protocol/error-codes.ts'
import { KafkaxError, TimeoutError } from '../protocol/errors.ts'
import { Produce } from '../protocol/messages/index.ts'
import { decodeRecordBatches } from '../protocol/records/index.ts'
import { type PartitionQueue, ProducerBatch, type RecordAccumulator } from './accumulator.ts'
import type { IdempotentState } from './idempotence.ts'

const DUPLICATE_SEQUENCE_NUMBER = errorCodeOf('DUPLICATE_SEQUENCE_NUMBER')
const MESSAGE_TOO_LARGE = errorCodeOf('MESSAGE_TOO_LARGE')
const UNKNOWN_PRODUCER_ID = errorCodeOf('UNKNOWN_PRODUCER_ID')
const UNKNOWN_SERVER_ERROR = errorCodeOf('UNKNOWN_SERVER_ERROR')

export interface SenderOptions {
  acks: -1 | 0 | 1
  requestTimeoutMs: number
  deliveryTimeoutMs: number
  maxInFlight: number
  maxRequestSize: number
  logger: Logger
}

export interface SenderStats {
  requests: number
  batches: number
  records: number
  bytes: number
  errors: number
  retries: number
}

export class Sender {
  readonly stats: SenderStats = { requests: 0, batches: 0, records: 0, bytes: 0, errors: 0, retries: 0 }
  private scheduled = false
  private lingerTimer: NodeJS.Timeout | undefined
  private lingerAt = Number.POSITIVE_INFINITY
  private readonly inFlightPerBroker = new Map<number, number>()
  private inFlight = 0
  private forcing = 0
  private idleWaiters: (() => void)[] = []
  private bumpNeeded = false
  private bumping: Promise<void> | undefined
  /** Called with every batch settled (for latency and size statistics). */
  onBatchDone: ((batch: ProducerBatch, error: Error | null) => void) | undefined

  constructor(
    private readonly cluster: Cluster,
    private readonly accumulator: RecordAccumulator,
    private readonly retry: RetryPolicy,
    private readonly idempotence: IdempotentState | undefined,
    private readonly options: SenderOptions,
  ) {}

  /** Looks for sendable batches soon (coalesced: one drain per turn of the event loop). */
  wakeup(): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.drain().catch(() => this.later(this.retry.delay(1)))
    })
  }

  /** Sends everything now, ignoring the linger, until every batch is settled. */
  async flush(): Promise<void> {
    this.forcing++
    try {
      while (this.accumulator.pendingBatches > 0 || this.inFlight > 0) {
        this.wakeup()
        await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
      }
    } finally {
      this.forcing--
    }
  }

  private later(delayMs: number): void {
    const at = Date.now() + delayMs
    if (at >= this.lingerAt) return
    clearTimeout(this.lingerTimer)
    this.lingerAt = at
    this.lingerTimer = setTimeout(
      () => {
        this.lingerAt = Number.POSITIVE_INFINITY
        this.wakeup()
      },
      Math.max(0, delayMs),
    )
  }

  private settled(): void {
    for (const wake of this.idleWaiters.splice(0)) wake()
  }

  private async drain(): Promise<void> {
    const idem = this.idempotence
    if (idem && (!idem.ready || this.bumpNeeded)) {
      await this.prepareIdempotence()
      if (!idem.ready || this.bumpNeeded) return
    }
    const now = Date.now()
    const force = this.forcing > 0
    const byLeader = new Map<number, PartitionQueue[]>()
    const unknown = new Set<string>()
    for (const q of this.accumulator.allQueues()) {
      this.expire(q, now)
      if (!this.accumulator.sendable(q, now, force)) continue
      const p = this.cluster.metadata.partition(q.topic, q.partition)
      if (!p || p.leader < 0) {
        unknown.add(q.topic)
        continue
      }
      let list = byLeader.get(p.leader)
      if (!list) {
        list = []
        byLeader.set(p.leader, list)
      }
      list.push(q)
    }
    if (unknown.size > 0) {
      this.cluster.refreshMetadata([...unknown]).then(
        () => this.wakeup(),
        () => this.later(this.retry.delay(1)),
      )
    }
    for (const [leader, queues] of byLeader) {
      let size = 0
      let request: PartitionQueue[] = []
      for (const q of queues) {
        if ((this.inFlightPerBroker.get(leader) ?? 0) >= this.options.maxInFlight) break
        const batchSize = q.batches[0].builder.sizeInBytes
        if (request.length > 0 && size + batchSize > this.options.maxRequestSize) {
          this.send(leader, request)
          request = []
          size = 0
          if ((this.inFlightPerBroker.get(leader) ?? 0) >= this.options.maxInFlight) break
        }
        request.push(q)
        size += batchSize
      }
      if (request.length > 0) this.send(leader, request)
    }
    const next = this.accumulator.nextLingerDeadline()
    if (next !== Number.POSITIVE_INFINITY) this.later(next - Date.now())
    if (this.accumulator.pendingBatches === 0 && this.inFlight === 0) this.settled()
  }

  /** Fails head batches older than the delivery timeout (never one that is in flight). */
  private expire(q: PartitionQueue, now: number): void {
    while (!q.inFlight && q.batches.length > 0 && now - q.batches[0].createdAt > this.options.deliveryTimeoutMs) {
      const batch = q.batches[0]
      this.finish(
        q,
        batch,
        new TimeoutError(
          `${batch.recordCount} records for ${q.topic}-${q.partition} not delivered within ${this.options.deliveryTimeoutMs} ms`,
        ),
      )
    }
  }

  /** Waits for the partitions in flight, then (re)initialises the producer id and epoch. */
  private prepareIdempotence(): Promise<void> {
    this.bumping ??= (async () => {
      const idem = this.idempotence!
      while (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
      await idem.init(this.cluster, this.bumpNeeded)
      this.bumpNeeded = false
      // every batch waiting with a sequence of the old epoch takes one of the new epoch
      for (const q of this.accumulator.allQueues()) {
        for (const b of q.batches) if (b.options.baseSequence !== undefined) this.assignSequence(b, true)
      }
    })()
      .catch(() => this.later(this.retry.delay(1)))
      .finally(() => {
        this.bumping = undefined
        this.wakeup()
      })
    return this.bumping
  }

  private assignSequence(batch: ProducerBatch, again = false): void {
    const idem = this.idempotence!
    const o = batch.options
    o.producerId = idem.producerId
    o.producerEpoch = idem.producerEpoch
    o.baseSequence = idem.take(batch.topic, batch.partition, batch.recordCount)
    if (again && batch.sealed) batch.restamp()
  }

  private send(leader: number, queues: PartitionQueue[]): void {
    this.inFlight++
    this.inFlightPerBroker.set(leader, (this.inFlightPerBroker.get(leader) ?? 0) + 1)
    for (const q of queues) q.inFlight = true
    const batches = queues.map((q) => q.batches[0])
    const sent = channels.produce.hasSubscribers
      ? channels.produce.tracePromise(() => this.request(leader, queues, batches), {
          nodeId: leader,
          acks: this.options.acks,
          batches: batches.map((b) => ({ topic: b.topic, partition: b.partition, records: b.recordCount })),
        })
      : this.request(leader, queues, batches)
    sent
      .catch((error) => {
        // the whole request failed (connection lost, timeout): every batch still unsettled may be retried
        this.options.logger.warn?.({ nodeId: leader, err: error }, 'produce request failed')
        if (error instanceof KafkaxError && error.retriable) this.cluster.refreshMetadata().catch(() => {})
        queues.forEach((q, i) => {
          if (q.batches[0] === batches[i]) this.retryOrFail(q, batches[i], error)
        })
      })
      .finally(() => {
        this.inFlight--
        this.inFlightPerBroker.set(leader, this.inFlightPerBroker.get(leader)! - 1)
        for (const q of queues) q.inFlight = false
        if (this.accumulator.pendingBatches === 0 && this.inFlight === 0) this.settled()
        this.wakeup()
      })
  }

  private async request(leader: number, queues: PartitionQueue[], batches: ProducerBatch[]): Promise<void> {
    if (this.idempotence) for (const b of batches) if (b.options.baseSequence === undefined) this.assignSequence(b)
    const records = await Promise.all(batches.map((b) => b.seal()))
    const topics = new Map<string, { index: number; records: Buffer }[]>()
    for (let i = 0; i < batches.length; i++) {
      let list = topics.get(batches[i].topic)
      if (!list) {
        list = []
        topics.set(batches[i].topic, list)
      }
      list.push({ index: batches[i].partition, records: records[i] })
    }
    const topicData = [...topics].map(([name, partitionData]) => ({
      name,
      topicId: this.cluster.metadata.topics.get(name)?.topicId,
      partitionData,
    }))
    const body = { transactionalId: null, acks: this.options.acks, timeoutMs: this.options.requestTimeoutMs, topicData }
    const connection = await this.cluster.connectionToNode(leader)
    for (const b of batches) b.attempts++
    this.stats.requests++
    if (this.options.acks === 0) {
      await connection.request(Produce, body, { expectResponse: false })
      for (const q of queues) this.finish(q, q.batches[0], null, -1n, -1)
      return
    }
    const response = await connection.request(Produce, body)
    const byId = new Map([...topics.keys()].map((name) => [this.cluster.metadata.topics.get(name)?.topicId, name]))
    const endpoints = response.nodeEndpoints.map((e) => ({
      nodeId: e.nodeId,
      host: e.host,
      port: e.port,
      rack: e.rack,
    }))
    const waiting = new Map(queues.map((q) => [`${q.topic}\0${q.partition}`, q]))
    for (const t of response.responses) {
      const topic = t.name || byId.get(t.topicId) || ''
      for (const p of t.partitionResponses) {
        const q = waiting.get(`${topic}\0${p.index}`)
        if (!q) continue
        waiting.delete(`${topic}\0${p.index}`)
        const batch = q.batches[0]
        if (p.errorCode === 0 || p.errorCode === DUPLICATE_SEQUENCE_NUMBER) {
          this.finish(q, batch, null, p.baseOffset, Number(p.logAppendTimeMs))
          continue
        }
        const error = kafkaError(p.errorCode, `${topic}-${p.index}${p.errorMessage ? `: ${p.errorMessage}` : ''}`)
        if (p.currentLeader.leaderId >= 0) this.cluster.applyLeaderHint(topic, p.index, p.currentLeader, endpoints)
        else if (STALE_METADATA_ERRORS.has(p.errorCode)) this.cluster.refreshMetadata([topic]).catch(() => {})
        if (p.errorCode === MESSAGE_TOO_LARGE && batch.recordCount > 1) await this.split(q, batch)
        else if (this.idempotence && p.errorCode === UNKNOWN_PRODUCER_ID) {
          // the broker lost this producer's state (e.g. retention removed it): safe to write again
          this.bumpNeeded = true
          this.retryOrFail(q, batch, Object.assign(error, { retriable: true }))
        } else this.retryOrFail(q, batch, error)
      }
    }
    for (const q of waiting.values()) {
      this.retryOrFail(q, q.batches[0], kafkaError(UNKNOWN_SERVER_ERROR, `no answer for ${q.topic}-${q.partition}`))
    }
  }

  private retryOrFail(q: PartitionQueue, batch: ProducerBatch, error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error))
    const delay = this.retry.delay(batch.attempts)
    const retriable = err instanceof KafkaxError && err.retriable
    if (retriable && Date.now() + delay - batch.createdAt < this.options.deliveryTimeoutMs) {
      this.stats.retries++
      this.options.logger.warn?.(
        { topic: q.topic, partition: q.partition, attempt: batch.attempts, delayMs: delay, err },
        'retrying batch',
      )
      q.retryAt = Date.now() + delay
      this.later(delay)
      return
    }
    this.finish(q, batch, err)
  }

  /** Settles the head batch of a queue and frees its memory. */
  private finish(
    q: PartitionQueue,
    batch: ProducerBatch,
    error: Error | null,
    baseOffset = -1n,
    appendTime = -1,
  ): void {
    q.batches.shift()
    q.retryAt = 0
    this.accumulator.release(batch.reserved)
    this.stats.batches++
    if (error) {
      this.stats.errors++
      this.options.logger.error?.(
        { topic: q.topic, partition: q.partition, records: batch.recordCount, err: error },
        'batch failed',
      )
      // its sequences will never be written: later batches would leave a gap (KIP-360)
      if (this.idempotence && batch.options.baseSequence !== undefined) this.bumpNeeded = true
      batch.fail(error)
    } else {
      this.stats.records += batch.recordCount
      this.stats.bytes += batch.sealed?.length ?? 0
      batch.complete(baseOffset, appendTime)
    }
    this.onBatchDone?.(batch, error)
    this.accumulator.recycle(batch)
  }

  /** MESSAGE_TOO_LARGE for a batch of several records: send it as two halves (as the Java client does). */
  private async split(q: PartitionQueue, batch: ProducerBatch): Promise<void> {
    const [decoded] = await decodeRecordBatches(batch.sealed!)
    const half = Math.ceil(decoded.records.length / 2)
    const parts = [decoded.records.slice(0, half), decoded.records.slice(half)].map((records, i) => {
      const part = new ProducerBatch(q.topic, q.partition, batch.options.compression ?? 'none', batch.sealed!.length)
      for (let j = 0; j < records.length; j++) {
        const r = records[j]
        const k = i * half + j
        part.append(r.key, r.value, r.headers, batch.timestamps[k], batch.deliveries[k])
      }
      return part
    })
    parts[0].reserved = batch.reserved
    q.batches.splice(0, 1, ...parts)
    if (this.idempotence && batch.options.baseSequence !== undefined) this.bumpNeeded = true
  }
}
