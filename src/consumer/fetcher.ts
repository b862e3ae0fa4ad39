// The fetcher: keeps one Fetch request in flight per broker for the assigned partitions it leads,
// in a fetch session (KIP-227), and buffers the answers as batches of messages for the consumer to
// take in offset order per partition. Prefetching is bounded per partition and in total: as in the
// Java client, a partition is not fetched again while an answer of it waits to be taken (so a deep
// partition never crowds out the others), and nothing is fetched while the buffered data is over
// `maxBufferedBytes`. Partition errors are handled per partition (offset reset, metadata refresh,
// backoff) so that one failing partition never stops the others.

import { EventEmitter } from 'node:events'
import type { Cluster } from '../client/cluster.ts'
import { STALE_METADATA_ERRORS } from '../client/metadata.ts'
import { type Logger, silentLogger } from '../observability/logger.ts'
import { ErrorCode, kafkaError } from '../protocol/error-codes.ts'
import { AuthenticationError, ConfigError, ConnectionError, KafkaError, KafkaxError } from '../protocol/errors.ts'
import type { FetchResponse, PartitionData } from '../protocol/messages/generated/fetch-response.ts'
import { Fetch, ListOffsets } from '../protocol/messages/index.ts'
import { ZERO_UUID } from '../protocol/messages/runtime.ts'
import { decodeRecordBatches } from '../protocol/records/index.ts'
import { consumerChannels as channels } from './channels.ts'
import { FetchSession, type SessionPartition } from './fetch-session.ts'
import { type PartitionRecords, partitionRecords } from './fetched-records.ts'
import { type ConsumedMessage, type TopicPartition, tpKey } from './message.ts'

export interface FetcherOptions {
  /** Bytes the broker waits for before answering (fetch.min.bytes, default 1). */
  minBytes?: number
  /** Bytes per Fetch answer at most (fetch.max.bytes, default 50 MiB; the first batch may exceed it, KIP-74). */
  maxBytes?: number
  /** How long the broker may wait for minBytes (fetch.max.wait.ms, default 500). */
  maxWaitMs?: number
  /** Bytes per partition per answer at most (max.partition.fetch.bytes, default 1 MiB). */
  partitionMaxBytes?: number
  /** read_committed hides aborted transactions and reads only up to the last stable offset. */
  isolationLevel?: 'read_uncommitted' | 'read_committed'
  /** Bytes of fetched-but-not-yet-taken records at most; fetching pauses above it (default 64 MiB). */
  maxBufferedBytes?: number
  /** Where to start when a partition has no valid position: 'earliest' | 'latest' | 'none' (throw). */
  resetPolicy?: 'earliest' | 'latest' | 'none'
  /** Verify each batch's CRC-32C (check.crcs, default true). */
  checkCrcs?: boolean
  /** The consumer's rack, for fetching from the closest replica (KIP-392). */
  rackId?: string
  /** Where retried fetch failures (a lost connection) are logged; the consumer passes its own. */
  logger?: Logger
}

export interface FetchedBatch {
  topic: string
  partition: number
  messages: ConsumedMessage[]
  highWatermark: bigint
  lastStableOffset: bigint
  logStartOffset: bigint
}

export interface FetcherStats {
  /** Fetch requests answered, and how many of them were incremental (KIP-227). */
  fetches: number
  incrementalFetches: number
  /** Record bytes received, records handed to the buffer, bytes buffered now. */
  bytes: number
  records: number
  bufferedBytes: number
}

export type SeekTarget = bigint | 'earliest' | 'latest' | { timestamp: number }

/** A lost or out-of-step session: the next (full) request may go at once. */
const SESSION_ERRORS = new Set<number>([
  ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
  ErrorCode.INVALID_FETCH_SESSION_EPOCH,
  ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR,
])
const EARLIEST = -2n
const LATEST = -1n

interface PartitionState {
  readonly topic: string
  readonly partition: number
  readonly key: string
  /** The next offset to fetch; undefined while the position is being looked up (or unknown). */
  fetchOffset: bigint | undefined
  /** The next offset to hand out (behind fetchOffset by what is buffered). */
  position: bigint | undefined
  /** A lookup (ListOffsets) to run before fetching: set by the reset policy. */
  resetTo: 'earliest' | 'latest' | undefined
  resetting: boolean
  /** Bumped by every seek and reset: answers and lookups started before it are dropped. */
  generation: number
  paused: boolean
  inFlight: boolean
  failures: number
  retryAt: number
  highWatermark: bigint | undefined
  /** The answer of this partition waiting to be taken (at most one: the partition is not fetched meanwhile). */
  buffered: Buffered | undefined
}

interface Buffered {
  state: PartitionState
  batch: FetchedBatch
  bytes: number
  /** The partition's position once this batch is taken. */
  nextOffset: bigint
}

interface BrokerState {
  session: FetchSession
  inFlight: boolean
  failures: number
  retryAt: number
}

interface Waiter {
  resolve: (batch: FetchedBatch) => void
  reject: (error: unknown) => void
  signal: AbortSignal | undefined
  onAbort: () => void
}

export class Fetcher extends EventEmitter {
  private readonly minBytes: number
  private readonly maxBytes: number
  private readonly maxWaitMs: number
  private readonly partitionMaxBytes: number
  private readonly readCommitted: boolean
  private readonly maxBufferedBytes: number
  private readonly resetPolicy: 'earliest' | 'latest' | 'none'
  private readonly checkCrcs: boolean
  private readonly rackId: string
  private readonly log: Logger

  private readonly partitions = new Map<string, PartitionState>()
  private readonly brokers = new Map<number, BrokerState>()
  /** Buffered answers in the order they came, one per partition at most. */
  private readonly ready: Buffered[] = []
  /** Called once an answer's partitions are buffered (the consumer's dispatcher takes them per partition). */
  onData: (() => void) | undefined
  private bufferedBytes = 0
  private readonly waiters: Waiter[] = []
  /** An error no listener took, kept for the next next() call. */
  private pendingError: unknown
  private readonly inFlight = new Set<Promise<void>>()
  private scheduled = false
  private retryTimer: NodeJS.Timeout | undefined
  private refreshing = false
  private closed = false
  private readonly counters = { fetches: 0, incrementalFetches: 0, bytes: 0, records: 0 }

  constructor(
    private readonly cluster: Cluster,
    options: FetcherOptions = {},
  ) {
    super()
    this.minBytes = positive('minBytes', options.minBytes, 1, 0)
    this.maxBytes = positive('maxBytes', options.maxBytes, 50 * 1024 * 1024)
    this.maxWaitMs = positive('maxWaitMs', options.maxWaitMs, 500, 0)
    this.partitionMaxBytes = positive('partitionMaxBytes', options.partitionMaxBytes, 1024 * 1024)
    this.maxBufferedBytes = positive('maxBufferedBytes', options.maxBufferedBytes, 64 * 1024 * 1024)
    const isolation = options.isolationLevel ?? 'read_uncommitted'
    if (isolation !== 'read_uncommitted' && isolation !== 'read_committed')
      throw new ConfigError(`isolationLevel must be read_uncommitted or read_committed, got ${isolation}`)
    this.readCommitted = isolation === 'read_committed'
    this.resetPolicy = options.resetPolicy ?? 'latest'
    if (!['earliest', 'latest', 'none'].includes(this.resetPolicy))
      throw new ConfigError(`resetPolicy must be earliest, latest or none, got ${this.resetPolicy}`)
    this.checkCrcs = options.checkCrcs ?? true
    this.rackId = options.rackId ?? ''
    this.log = options.logger ?? silentLogger
  }

  // ------------------------------------------------------------------------------------------
  // Assignment and positions

  /**
   * Starts fetching these partitions from `offset` (undefined: the reset policy decides). A
   * partition already assigned keeps its position unless an offset is given. `leaderEpoch` (of the
   * committed offset) is accepted for the group layer; truncation detection (KIP-320) is not done.
   */
  assign(partitions: { topic: string; partition: number; offset?: bigint; leaderEpoch?: number }[]): void {
    this.checkOpen()
    for (const { topic, partition, offset } of partitions) {
      const key = tpKey(topic, partition)
      let state = this.partitions.get(key)
      if (state && offset === undefined) continue
      if (!state) {
        state = newState(topic, partition, key)
        this.partitions.set(key, state)
      }
      if (offset !== undefined) this.moveTo(state, offset)
      else this.needReset(state)
    }
    const unknown = partitions.filter((p) => !this.cluster.metadata.topics.has(p.topic)).map((p) => p.topic)
    if (unknown.length > 0) this.refresh([...new Set(unknown)])
    this.wake()
  }

  unassign(partitions: TopicPartition[]): void {
    for (const { topic, partition } of partitions) {
      const state = this.partitions.get(tpKey(topic, partition))
      if (!state) continue
      this.dropBuffered(state)
      state.generation++
      this.partitions.delete(state.key)
    }
  }

  pause(partitions: TopicPartition[]): void {
    for (const tp of partitions) {
      const state = this.partitions.get(tpKey(tp.topic, tp.partition))
      if (state) state.paused = true
    }
  }

  resume(partitions: TopicPartition[]): void {
    for (const tp of partitions) {
      const state = this.partitions.get(tpKey(tp.topic, tp.partition))
      if (state) state.paused = false
    }
    this.deliver()
    this.wake()
  }

  /** Moves the position; buffered data of that partition is dropped. */
  async seek(tp: TopicPartition, to: SeekTarget): Promise<void> {
    this.checkOpen()
    const state = this.partitions.get(tpKey(tp.topic, tp.partition))
    if (!state) throw new ConfigError(`seek: ${tp.topic}-${tp.partition} is not assigned`)
    if (typeof to === 'bigint') {
      this.moveTo(state, to)
      this.wake()
      return
    }
    this.moveTo(state, undefined)
    const generation = state.generation
    const offset = await this.lookup(state, to)
    if (state.generation === generation && this.partitions.get(state.key) === state) {
      state.fetchOffset = state.position = offset
      this.wake()
    }
  }

  position(tp: TopicPartition): bigint | undefined {
    return this.partitions.get(tpKey(tp.topic, tp.partition))?.position
  }

  highWatermark(tp: TopicPartition): bigint | undefined {
    return this.partitions.get(tpKey(tp.topic, tp.partition))?.highWatermark
  }

  assigned(): TopicPartition[] {
    return [...this.partitions.values()].map(({ topic, partition }) => ({ topic, partition }))
  }

  stats(): FetcherStats {
    return { ...this.counters, bufferedBytes: this.bufferedBytes }
  }

  // ------------------------------------------------------------------------------------------
  // Taking batches

  /** Resolves with the next batch of some partition; rejects when `signal` aborts or the fetcher closes. */
  next(signal?: AbortSignal): Promise<FetchedBatch> {
    const batch = this.poll()
    if (batch) return Promise.resolve(batch)
    if (this.closed) return Promise.reject(new ConnectionError('the fetcher is closed'))
    if (this.pendingError !== undefined) {
      const error = this.pendingError
      this.pendingError = undefined
      return Promise.reject(error)
    }
    if (signal?.aborted) return Promise.reject(signal.reason)
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          this.removeWaiter(waiter)
          reject(signal?.reason)
        },
      }
      signal?.addEventListener('abort', waiter.onAbort, { once: true })
      this.waiters.push(waiter)
    })
  }

  /** The next buffered batch (of an unpaused partition), or undefined at once when there is none. */
  poll(): FetchedBatch | undefined {
    const entry = this.ready.find((e) => !e.state.paused)
    return entry && this.takeEntry(entry)
  }

  /** The buffered batch of one partition, if it has one (paused or not: the caller decides). */
  take(tp: TopicPartition): FetchedBatch | undefined {
    const entry = this.partitions.get(tpKey(tp.topic, tp.partition))?.buffered
    return entry && this.takeEntry(entry)
  }

  private takeEntry(entry: Buffered): FetchedBatch {
    this.ready.splice(this.ready.indexOf(entry), 1)
    const { state } = entry
    this.bufferedBytes -= entry.bytes
    state.position = entry.nextOffset
    state.buffered = undefined
    this.wake()
    return entry.batch
  }

  /** Stops fetching; waits for the requests in flight. Pending next() calls reject. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.retryTimer)
    for (const w of this.waiters.splice(0)) {
      w.signal?.removeEventListener('abort', w.onAbort)
      w.reject(new ConnectionError('the fetcher is closed'))
    }
    await Promise.allSettled([...this.inFlight])
    this.ready.length = 0
    this.bufferedBytes = 0
  }

  // ------------------------------------------------------------------------------------------
  // The fetch loop

  /** Sends what can be sent, once the current task is done (calls coalesce). */
  private wake(): void {
    if (this.scheduled || this.closed) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.sendFetches()
    })
  }

  private sendFetches(): void {
    if (this.closed) return
    const now = Date.now()
    let retryAt = Number.POSITIVE_INFINITY
    const unknown = new Set<string>()
    const perNode = new Map<number, Map<string, SessionPartition>>()
    const room = this.maxBufferedBytes - this.bufferedBytes
    for (const state of this.partitions.values()) {
      if (state.paused || state.inFlight || state.buffered) continue
      if (state.retryAt > now) {
        retryAt = Math.min(retryAt, state.retryAt)
        continue
      }
      if (state.fetchOffset === undefined) {
        if (state.resetTo !== undefined && !state.resetting) this.reset(state)
        continue
      }
      if (room <= 0) continue
      const topic = this.cluster.metadata.topics.get(state.topic)
      const info = topic?.partitions[state.partition]
      if (!topic || !info || info.leader < 0) {
        // not again until the refresh it waits for is done (a topic may not exist at all)
        if (!this.refreshing) this.backoff(state)
        unknown.add(state.topic)
        continue
      }
      const broker = this.broker(info.leader)
      if (broker.inFlight) continue
      if (broker.retryAt > now) {
        retryAt = Math.min(retryAt, broker.retryAt)
        continue
      }
      let next = perNode.get(info.leader)
      if (!next) {
        next = new Map()
        perNode.set(info.leader, next)
      }
      next.set(state.key, {
        topic: state.topic,
        topicId: topic.topicId,
        partition: state.partition,
        fetchOffset: state.fetchOffset,
        currentLeaderEpoch: info.leaderEpoch,
        partitionMaxBytes: this.partitionMaxBytes,
      })
    }
    if (unknown.size > 0) this.refresh([...unknown])
    for (const [nodeId, next] of perNode) {
      const states = [...next.keys()].map((key) => this.partitions.get(key)!)
      const maxBytes = Math.min(this.maxBytes, room)
      const run = channels.fetch.hasSubscribers
        ? channels.fetch.tracePromise(
            this.fetchFrom,
            { nodeId, partitions: [...next.values()] },
            this,
            nodeId,
            next,
            states,
            maxBytes,
          )
        : this.fetchFrom(nodeId, next, states, maxBytes)
      this.inFlight.add(run)
      run.finally(() => this.inFlight.delete(run))
    }
    if (retryAt !== Number.POSITIVE_INFINITY) {
      clearTimeout(this.retryTimer)
      this.retryTimer = setTimeout(() => this.wake(), Math.max(0, retryAt - now))
    }
  }

  private broker(nodeId: number): BrokerState {
    let broker = this.brokers.get(nodeId)
    if (!broker) {
      broker = { session: new FetchSession(), inFlight: false, failures: 0, retryAt: 0 }
      this.brokers.set(nodeId, broker)
    }
    return broker
  }

  /** One Fetch to a broker, in its session; the answer is buffered, errors handled per partition. */
  private async fetchFrom(
    nodeId: number,
    next: Map<string, SessionPartition>,
    states: PartitionState[],
    maxBytes: number,
  ): Promise<void> {
    const broker = this.broker(nodeId)
    broker.inFlight = true
    for (const s of states) s.inFlight = true
    try {
      const connection = await this.cluster.connectionToNode(nodeId)
      let version = connection.versionFor(Fetch)
      // topic ids (v13+) need every topic's id; a cluster without them is fetched by name
      const useTopicIds = version >= 13 && [...next.values()].every((p) => p.topicId !== ZERO_UUID)
      if (!useTopicIds) version = Math.min(version, 12)
      const request = broker.session.build(next, useTopicIds)
      const response = await connection.request(
        Fetch,
        {
          maxWaitMs: this.maxWaitMs,
          minBytes: this.minBytes,
          maxBytes,
          isolationLevel: this.readCommitted ? 1 : 0,
          sessionId: request.sessionId,
          sessionEpoch: request.sessionEpoch,
          topics: request.topics,
          forgottenTopicsData: request.forgottenTopicsData,
          rackId: this.rackId,
        },
        { version, timeoutMs: this.cluster.options.requestTimeoutMs + this.maxWaitMs },
      )
      if (!broker.session.onResponse(response.errorCode, response.sessionId)) {
        if (SESSION_ERRORS.has(response.errorCode)) return
        throw kafkaError(response.errorCode, `Fetch from broker ${nodeId}`)
      }
      this.counters.fetches++
      if (!request.full) this.counters.incrementalFetches++
      broker.failures = 0
      await this.handleResponse(response, next)
    } catch (error) {
      broker.session.onError()
      broker.failures++
      broker.retryAt = Date.now() + this.cluster.retry.delay(broker.failures)
      // the broker may be gone or no longer lead these partitions
      if (error instanceof ConnectionError) this.refresh(states.map((s) => s.topic))
      if (!(error instanceof KafkaxError && error.retriable) || error instanceof AuthenticationError) this.fail(error)
      else this.log.warn?.({ nodeId, err: error, retryInMs: broker.retryAt - Date.now() }, 'fetch failed; retrying')
    } finally {
      broker.inFlight = false
      for (const s of states) s.inFlight = false
      this.wake()
    }
  }

  private async handleResponse(response: FetchResponse, sent: Map<string, SessionPartition>): Promise<void> {
    const names = new Map<string, string>()
    for (const p of sent.values()) names.set(p.topicId, p.topic)
    const work: Promise<void>[] = []
    for (const t of response.responses) {
      const topic = t.topic || names.get(t.topicId)
      if (topic === undefined) continue
      for (const data of t.partitions) {
        const key = tpKey(topic, data.partitionIndex)
        const request = sent.get(key)
        const state = this.partitions.get(key)
        if (!request || !state) continue
        work.push(this.handlePartition(state, request.fetchOffset, data, response))
      }
    }
    await Promise.all(work)
    // all at once, so the dispatcher's first turn sees every partition of the answer
    this.onData?.()
  }

  private async handlePartition(
    state: PartitionState,
    fetchOffset: bigint,
    data: PartitionData,
    response: FetchResponse,
  ): Promise<void> {
    const generation = state.generation
    const current = () =>
      state.generation === generation && state.fetchOffset === fetchOffset && this.partitions.get(state.key) === state
    if (!current()) return
    if (data.errorCode !== 0) return this.partitionError(state, data, response)
    state.highWatermark = data.highWatermark
    const records = data.records
    if (!records || records.length === 0) return
    let result: PartitionRecords
    try {
      const batches = await decodeRecordBatches(records, { checkCrcs: this.checkCrcs })
      result = partitionRecords(
        state.topic,
        state.partition,
        batches,
        fetchOffset,
        this.readCommitted ? data.abortedTransactions : null,
      )
    } catch (error) {
      // corrupt data: reported, and retried later (the same bytes may come back; a seek skips them)
      this.backoff(state)
      this.fail(error)
      return
    }
    if (!current()) return
    state.failures = 0
    state.fetchOffset = result.nextOffset
    this.counters.bytes += records.length
    if (result.messages.length === 0) {
      // only control records or aborted transactions: the position moves past them all the same
      state.position = result.nextOffset
      return
    }
    this.counters.records += result.messages.length
    const entry: Buffered = {
      state,
      bytes: records.length,
      nextOffset: result.nextOffset,
      batch: {
        topic: state.topic,
        partition: state.partition,
        messages: result.messages,
        highWatermark: data.highWatermark,
        lastStableOffset: data.lastStableOffset,
        logStartOffset: data.logStartOffset,
      },
    }
    state.buffered = entry
    this.ready.push(entry)
    this.bufferedBytes += entry.bytes
    this.deliver()
  }

  /** Hands buffered batches to waiting next() calls. */
  private deliver(): void {
    while (this.waiters.length > 0) {
      const batch = this.poll()
      if (!batch) return
      const waiter = this.waiters.shift()!
      waiter.signal?.removeEventListener('abort', waiter.onAbort)
      waiter.resolve(batch)
    }
  }

  private partitionError(state: PartitionState, data: PartitionData, response: FetchResponse): void {
    const code = data.errorCode
    if (code === ErrorCode.OFFSET_OUT_OF_RANGE) {
      this.moveTo(state, undefined)
      this.needReset(state)
      return
    }
    this.backoff(state)
    if (STALE_METADATA_ERRORS.has(code)) {
      // KIP-951: the answer may name the new leader, which saves a metadata round trip
      const leader = data.currentLeader
      const hinted =
        leader.leaderId >= 0 &&
        this.cluster.applyLeaderHint(
          state.topic,
          state.partition,
          leader,
          response.nodeEndpoints.map((e) => ({ nodeId: e.nodeId, host: e.host, port: e.port, rack: e.rack })),
        )
      if (!hinted) this.refresh([state.topic])
      return
    }
    const error = kafkaError(code, `Fetch ${state.topic}-${state.partition}`)
    if (!error.retriable) this.fail(error)
  }

  // ------------------------------------------------------------------------------------------
  // Offsets lookups (ListOffsets on the leader)

  private needReset(state: PartitionState): void {
    if (this.resetPolicy === 'none') {
      this.fail(
        kafkaError(
          ErrorCode.OFFSET_OUT_OF_RANGE,
          `${state.topic}-${state.partition} has no valid position and resetPolicy is none`,
        ),
      )
      return
    }
    state.resetTo = this.resetPolicy
  }

  private reset(state: PartitionState): void {
    const to = state.resetTo!
    const generation = state.generation
    state.resetting = true
    this.lookup(state, to)
      .then(
        (offset) => {
          if (state.generation !== generation || this.partitions.get(state.key) !== state) return
          state.fetchOffset = state.position = offset
          state.resetTo = undefined
          state.failures = 0
        },
        (error) => {
          this.backoff(state)
          this.fail(error)
        },
      )
      // the callbacks above never throw: this only ends the lookup
      .finally(() => {
        state.resetting = false
        this.wake()
      })
  }

  private lookup(state: PartitionState, to: Exclude<SeekTarget, bigint>): Promise<bigint> {
    const timestamp = to === 'earliest' ? EARLIEST : to === 'latest' ? LATEST : BigInt(to.timestamp)
    const { topic, partition } = state
    return this.cluster.retry.run(
      async () => {
        const leader = await this.cluster.leaderFor(topic, partition)
        const connection = await this.cluster.connectionToNode(leader)
        const response = await connection.request(ListOffsets, {
          replicaId: -1,
          isolationLevel: this.readCommitted ? 1 : 0,
          topics: [{ name: topic, partitions: [{ partitionIndex: partition, timestamp }] }],
        })
        const p = response.topics[0]?.partitions[0]
        if (!p) throw kafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `ListOffsets ${topic}-${partition}`)
        if (p.errorCode !== 0) throw kafkaError(p.errorCode, `ListOffsets ${topic}-${partition}`)
        // no record at or after the timestamp: start at the end, as if none were there yet
        if (p.offset < 0n) return this.lookup(state, 'latest')
        return p.offset
      },
      {
        onRetry: async (error) => {
          if (error instanceof KafkaError && STALE_METADATA_ERRORS.has(error.code))
            await this.cluster.refreshMetadata([topic]).catch(() => {})
        },
      },
    )
  }

  // ------------------------------------------------------------------------------------------
  // Helpers

  /** Sets both positions (undefined: unknown until a lookup) and drops what is buffered. */
  private moveTo(state: PartitionState, offset: bigint | undefined): void {
    this.dropBuffered(state)
    state.generation++
    state.fetchOffset = state.position = offset
    state.resetTo = undefined
    state.failures = 0
    state.retryAt = 0
  }

  private dropBuffered(state: PartitionState): void {
    const entry = state.buffered
    if (entry === undefined) return
    this.bufferedBytes -= entry.bytes
    this.ready.splice(this.ready.indexOf(entry), 1)
    state.buffered = undefined
  }

  private backoff(state: PartitionState): void {
    state.failures++
    state.retryAt = Date.now() + this.cluster.retry.delay(state.failures)
  }

  private refresh(topics: string[]): void {
    if (this.refreshing) return
    this.refreshing = true
    this.cluster
      .refreshMetadata(topics)
      .catch((error) => this.fail(error))
      .finally(() => {
        this.refreshing = false
        this.wake()
      })
  }

  /** Reports an error: to 'error' listeners, else to a waiting next() call, else to the next one. */
  private fail(error: unknown): void {
    if (this.closed) return
    if (this.listenerCount('error') > 0) {
      this.emit('error', error)
      return
    }
    const waiter = this.waiters.shift()
    if (waiter) {
      waiter.signal?.removeEventListener('abort', waiter.onAbort)
      waiter.reject(error)
    } else this.pendingError = error
  }

  private removeWaiter(waiter: Waiter): void {
    const i = this.waiters.indexOf(waiter)
    if (i >= 0) this.waiters.splice(i, 1)
  }

  private checkOpen(): void {
    if (this.closed) throw new ConnectionError('the fetcher is closed')
  }
}

function newState(topic: string, partition: number, key: string): PartitionState {
  return {
    topic,
    partition,
    key,
    fetchOffset: undefined,
    position: undefined,
    resetTo: undefined,
    resetting: false,
    generation: 0,
    paused: false,
    inFlight: false,
    failures: 0,
    retryAt: 0,
    highWatermark: undefined,
    buffered: undefined,
  }
}

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < min || value > 0x7fffffff)
    throw new ConfigError(`${name} must be an integer >= ${min}, got ${value}`)
  return value
}
