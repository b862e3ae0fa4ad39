// The sender: drains sendable batches into ONE Produce request per leader broker (up to
// `maxInFlight` requests per broker), and settles each partition's answer: success, a retry after
// backoff (with fresh metadata or the new leader the broker names, KIP-951), a split of a batch the
// broker finds too large, or failure. One batch per partition is in flight at a time, so records of
// a partition are written in the order they were sent, whatever retries happen. Every batch settles
// within the delivery timeout: one still in flight then is reported failed at once and dropped when
// its request ends (as the Java client's in-flight expiry), so no promise waits on the network.

import type { Cluster } from '../client/cluster.ts'
import { STALE_METADATA_ERRORS } from '../client/metadata.ts'
import type { RetryPolicy } from '../client/retry.ts'
import type { Logger } from '../observability/logger.ts'
import { ErrorCode, kafkaError } from '../protocol/error-codes.ts'
import { KafkaxError, TimeoutError } from '../protocol/errors.ts'
import { Produce } from '../protocol/messages/index.ts'
import { decodeRecordBatches } from '../protocol/records/index.ts'
import { type PartitionQueue, ProducerBatch, type RecordAccumulator } from './accumulator.ts'
import { producerChannels as channels } from './channels.ts'
import type { ProducerIdentity } from './idempotence.ts'

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
  private closed = false
  private lingerTimer: NodeJS.Timeout | undefined
  private lingerAt = Number.POSITIVE_INFINITY
  private readonly inFlightPerBroker = new Map<number, number>()
  private inFlight = 0
  private forcing = 0
  private idleWaiters: (() => void)[] = []
  /** Called with every batch settled (for latency and size statistics). */
  onBatchDone: ((batch: ProducerBatch, error: Error | null) => void) | undefined

  constructor(
    private readonly cluster: Cluster,
    private readonly accumulator: RecordAccumulator,
    private readonly retry: RetryPolicy,
    private readonly identity: ProducerIdentity | undefined,
    private readonly options: SenderOptions,
  ) {}

  /** Looks for sendable batches soon (coalesced: one drain per turn of the event loop). */
  wakeup(): void {
    if (this.scheduled || this.closed) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.drain()
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

  /** Stops sending (the producer closed): no drain, retry or linger timer is scheduled any more. */
  close(): void {
    this.closed = true
    clearTimeout(this.lingerTimer)
  }

  private later(delayMs: number): void {
    if (this.closed) return
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

  /** Nothing pending nor in flight: flush() returns, and no timer is left for deadlines that are gone. */
  private settled(): void {
    clearTimeout(this.lingerTimer)
    this.lingerAt = Number.POSITIVE_INFINITY
    for (const wake of this.idleWaiters.splice(0)) wake()
  }

  private drain(): void {
    const identity = this.identity
    // without a producer id yet, batches already sequenced (retries) go on; new ones wait for it
    const canSequence =
      identity === undefined ||
      identity.prepare(
        () => this.wakeup(),
        (error, all) => this.failWaiting(error, all),
      )
    const now = Date.now()
    const force = this.forcing > 0
    let next = Number.POSITIVE_INFINITY
    const byLeader = new Map<number, PartitionQueue[]>()
    const unknown = new Set<string>()
    for (const q of this.accumulator.allQueues()) {
      next = Math.min(next, this.expire(q, now))
      if (!this.accumulator.sendable(q, now, force)) {
        next = Math.min(next, this.accumulator.lingerDeadline(q))
        continue
      }
      // a queue held back by the identity, by metadata or by maxInFlight is woken when that changes
      if (
        identity &&
        q.batches[0].options.baseSequence === undefined &&
        (!canSequence || !identity.sendable(q.topic, q.partition))
      )
        continue
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
    if (next !== Number.POSITIVE_INFINITY) this.later(next - Date.now())
    if (this.accumulator.pendingBatches === 0 && this.inFlight === 0) this.settled()
  }

  /**
   * Fails the batches of a queue older than the delivery timeout. The head, when in flight, is
   * reported now and dropped when its request ends. Returns the queue's next deadline.
   */
  private expire(q: PartitionQueue, now: number): number {
    const timeoutMs = this.options.deliveryTimeoutMs
    // batches are in the order they were created: the first one still in time bounds the rest
    for (let i = 0; i < q.batches.length; ) {
      const batch = q.batches[i]
      const deadline = batch.createdAt + timeoutMs
      if (deadline > now) return deadline
      if (batch.expired) {
        i++
        continue
      }
      const last = batch.lastError
      const error = new TimeoutError(
        `${batch.recordCount} records for ${q.topic}-${q.partition} not delivered within ${timeoutMs} ms${last ? ` (last error: ${last.message})` : ''}`,
        { cause: last },
      )
      if (i === 0 && q.inFlight) {
        batch.expire(error)
        this.identity?.failed(batch, error)
        this.onBatchDone?.(batch, error)
        i++
      } else this.finish(q, batch, error)
    }
    return Number.POSITIVE_INFINITY
  }

  /**
   * The identity cannot send them (no producer id to be had, e.g. not authorised; a transaction that
   * cannot commit): batches not sequenced yet, and with `all` every batch not in flight, fail with why.
   */
  private failWaiting(error: Error, all: boolean): void {
    let failed = 0
    for (const q of this.accumulator.allQueues()) {
      for (const batch of [...q.batches]) {
        if ((all || batch.options.baseSequence === undefined) && !(q.inFlight && batch === q.batches[0])) {
          this.finish(q, batch, error)
          failed++
        }
      }
    }
    if (failed > 0) this.wakeup()
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
    const identity = this.identity
    if (identity) {
      for (const b of batches) {
        if (b.options.baseSequence !== undefined) continue
        identity.sequence(b)
        if (b.sealed) b.restamp()
      }
    }
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
    const body = {
      transactionalId: identity?.transactionalId ?? null,
      acks: this.options.acks,
      timeoutMs: this.options.requestTimeoutMs,
      topicData,
    }
    const connection = await this.cluster.connectionToNode(leader)
    for (const b of batches) b.attempts++
    this.stats.requests++
    const maxVersion = identity?.maxProduceVersion
    if (this.options.acks === 0) {
      await connection.request(Produce, body, { expectResponse: false, maxVersion })
      for (const q of queues) this.finish(q, q.batches[0], null, -1n, -1)
      return
    }
    const response = await connection.request(Produce, body, { maxVersion })
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
        if (p.errorCode === 0 || p.errorCode === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
          this.finish(q, batch, null, p.baseOffset, Number(p.logAppendTimeMs))
          continue
        }
        const error = kafkaError(p.errorCode, `${topic}-${p.index}${p.errorMessage ? `: ${p.errorMessage}` : ''}`)
        if (p.currentLeader.leaderId >= 0) this.cluster.applyLeaderHint(topic, p.index, p.currentLeader, endpoints)
        else if (STALE_METADATA_ERRORS.has(p.errorCode)) this.cluster.refreshMetadata([topic]).catch(() => {})
        if (p.errorCode === ErrorCode.MESSAGE_TOO_LARGE && batch.recordCount > 1 && !batch.expired)
          await this.split(q, batch)
        else if (
          identity &&
          (p.errorCode === ErrorCode.UNKNOWN_PRODUCER_ID || p.errorCode === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
        ) {
          // the broker has no state for this sequence (retention removed the producer, a truncated
          // log): the batch was not written, so it is safe to write again under a new epoch
          if (identity.resequence(batch)) this.retryOrFail(q, batch, Object.assign(error, { retriable: true }))
          else this.finish(q, batch, error)
        } else this.retryOrFail(q, batch, error)
      }
    }
    for (const q of waiting.values()) {
      this.retryOrFail(
        q,
        q.batches[0],
        kafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `no answer for ${q.topic}-${q.partition}`),
      )
    }
  }

  private retryOrFail(q: PartitionQueue, batch: ProducerBatch, error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error))
    const delay = this.retry.delay(batch.attempts)
    const retriable = err instanceof KafkaxError && err.retriable
    if (retriable && !batch.expired && Date.now() + delay - batch.createdAt < this.options.deliveryTimeoutMs) {
      batch.lastError = err
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

  /** Settles a batch of a queue (the head, unless it expired unsent) and frees its memory. */
  private finish(
    q: PartitionQueue,
    batch: ProducerBatch,
    error: Error | null,
    baseOffset = -1n,
    appendTime = -1,
  ): void {
    if (q.batches[0] === batch) {
      q.batches.shift()
      q.retryAt = 0
    } else q.batches.splice(q.batches.indexOf(batch), 1)
    this.accumulator.release(batch.reserved)
    this.stats.batches++
    // its sequences may or may not be in the log (an expired batch was reported when it expired)
    if (error && this.identity && !batch.expired) this.identity.failed(batch, error)
    if (batch.expired) {
      // reported when it expired in flight; what its request brought is known to nobody but the log
      this.stats.errors++
    } else if (error) {
      this.stats.errors++
      this.options.logger.error?.(
        { topic: q.topic, partition: q.partition, records: batch.recordCount, err: error },
        'batch failed',
      )
      batch.fail(error)
      this.onBatchDone?.(batch, error)
    } else {
      this.stats.records += batch.recordCount
      this.stats.bytes += batch.sealed?.length ?? 0
      batch.complete(baseOffset, appendTime)
      this.onBatchDone?.(batch, null)
    }
    this.accumulator.recycle(batch)
  }

  /** ErrorCode.MESSAGE_TOO_LARGE for a batch of several records: send it as two halves (as the Java client does). */
  private async split(q: PartitionQueue, batch: ProducerBatch): Promise<void> {
    const [decoded] = await decodeRecordBatches(batch.sealed!)
    const half = Math.ceil(decoded.records.length / 2)
    const parts = [decoded.records.slice(0, half), decoded.records.slice(half)].map((records, i) => {
      const compression = batch.options.compression ?? 'none'
      const part = new ProducerBatch(q.topic, q.partition, compression, batch.sealed!.length, batch.report)
      for (let j = 0; j < records.length; j++) {
        const r = records[j]
        const k = i * half + j
        part.append(r.key, r.value, r.headers, batch.timestamps[k], batch.callbacks[k], batch.published[k])
      }
      return part
    })
    parts[0].reserved = batch.reserved
    for (const part of parts) part.createdAt = batch.createdAt
    q.batches.splice(0, 1, ...parts)
    if (this.identity && batch.options.baseSequence !== undefined) this.identity.split(batch)
  }
}
