// The fetcher: fetches the assigned partitions from their leaders and buffers the answers as
// batches of messages for the consumer to take in offset order per partition. It composes the parts
// named by their Kafka concepts: a cursor per partition (cursor.ts), one fetch source per broker
// with its fetch session (fetch-source.ts), the fetch buffer bounded per partition and in total
// (fetch-buffer.ts), offset lookups under the reset policy (offset-reset.ts) and log truncation
// detection (truncation.ts, KIP-320). Here: which partitions go to which broker (the leader, or the
// replica it names, KIP-392), and when; metadata refreshes; errors to the application.

import { EventEmitter } from 'node:events'
import type { Cluster } from '../client/cluster.ts'
import { type Logger, silentLogger } from '../observability/logger.ts'
import { type FieldsOf, type Spec, withDefaults } from '../options/schema.ts'
import { ConfigError, ConnectionError } from '../protocol/errors.ts'
import { PartitionCursor } from './cursor.ts'
import { FetchBuffer, type FetchedBatch } from './fetch-buffer.ts'
import {
  type FetchConfig,
  type FetchCounters,
  type FetchHost,
  FetchSource,
  type SourcePartition,
} from './fetch-source.ts'
import { type TopicPartition, tpKey } from './message.ts'
import { OffsetReset, type ResetPolicy, type SeekTarget } from './offset-reset.ts'
import { TruncationDetector } from './truncation.ts'

export type { FetchedBatch } from './fetch-buffer.ts'
export type { SeekTarget } from './offset-reset.ts'

/**
 * How the consumer fetches: the Fetch request's bounds and wait, how much it prefetches, where a
 * partition without a position starts, CRC checks and the rack. A Consumer takes them as its `fetch`
 * option, but for the isolation level and the reset policy (its `isolationLevel` and `fromBeginning`).
 * Defaults and bounds: FETCH_FIELDS.
 */
export interface FetcherOptions {
  /** Bytes the broker waits for before answering (fetch.min.bytes). */
  minBytes?: number
  /** Bytes per Fetch answer at most (fetch.max.bytes; the first batch may exceed it, KIP-74). */
  maxBytes?: number
  /** How long the broker may wait for minBytes (fetch.max.wait.ms). */
  maxWaitMs?: number
  /** Bytes per partition per answer at most (max.partition.fetch.bytes). */
  partitionMaxBytes?: number
  /** read_committed hides aborted transactions and reads only up to the last stable offset. */
  isolationLevel?: 'read_uncommitted' | 'read_committed'
  /** Bytes of fetched-but-not-yet-taken records at most; fetching pauses above it. */
  maxBufferedBytes?: number
  /** Where to start when a partition has no valid position: 'earliest' | 'latest' (default) | 'none' (throw). */
  resetPolicy?: 'earliest' | 'latest' | 'none'
  /** Verify each batch's CRC-32C (check.crcs). */
  checkCrcs?: boolean
  /** The consumer's rack, for fetching from the closest replica (KIP-392). */
  rackId?: string
  /** Where retried fetch failures (a lost connection) are logged; the consumer passes its own. */
  logger?: Logger
}

/** The consumer's `fetch` option (the Fetch request's fields are int32: at most 2^31-1). */
export const FETCH_FIELDS = {
  minBytes: { kind: 'size', min: 0, default: 1, doc: 'The broker waits for this many bytes' },
  maxBytes: { kind: 'size', min: 1, default: 50 * 1024 * 1024, doc: 'Bytes per fetch response at most' },
  maxWaitMs: { kind: 'duration', min: 0, default: 500, doc: 'How long the broker waits for minBytes' },
  partitionMaxBytes: { kind: 'size', min: 1, default: 1024 * 1024, doc: 'Bytes per partition per fetch at most' },
  maxBufferedBytes: { kind: 'size', min: 1, default: 64 * 1024 * 1024, doc: 'Prefetched bytes held at most' },
  checkCrcs: { kind: 'boolean', default: true, doc: 'Verify the CRC-32C of every fetched batch' },
  rackId: { kind: 'string', doc: 'The rack of this consumer, sent with fetches (KIP-392)' },
} satisfies FieldsOf<Omit<FetcherOptions, 'isolationLevel' | 'resetPolicy' | 'logger'>>

/** The consumer's `isolationLevel` option. */
export const ISOLATION_LEVEL = {
  kind: 'enum',
  values: ['read_uncommitted', 'read_committed'],
  default: 'read_uncommitted',
  doc: 'read_committed hides records of open and aborted transactions',
} satisfies Spec

export interface FetcherStats {
  /** Fetch requests answered, and how many of them were incremental (KIP-227). */
  fetches: number
  incrementalFetches: number
  /** Record bytes received, records taken from the buffer, bytes buffered now (as received). */
  bytes: number
  records: number
  bufferedBytes: number
  /** Record bytes (keys and values) held decoded in the buffer now: a chunk per partition at most. */
  decodedBytes: number
}

interface Waiter {
  resolve: (batch: FetchedBatch) => void
  reject: (error: unknown) => void
  signal: AbortSignal | undefined
  onAbort: () => void
}

/** Its last answer reached the high watermark: a fetch of it waits for new records (a long poll). */
const caughtUp = ({ cursor }: SourcePartition) =>
  cursor.highWatermark !== undefined && cursor.fetchOffset !== undefined && cursor.fetchOffset >= cursor.highWatermark

/** Caught up, or never fetched: for all we know, its fetch is a long poll (an empty partition's is). */
const mayLongPoll = (p: SourcePartition) => p.cursor.highWatermark === undefined || caughtUp(p)

export class Fetcher extends EventEmitter {
  private readonly maxBytes: number
  private readonly partitionMaxBytes: number
  private readonly config: FetchConfig
  private readonly offsets: OffsetReset
  private readonly truncation: TruncationDetector
  private readonly buffer: FetchBuffer
  /** What the fetch sources need of this fetcher. */
  private readonly host: FetchHost

  private readonly cursors = new Map<string, PartitionCursor>()
  private readonly sources = new Map<number, FetchSource>()
  /** Called once an answer's partitions are buffered (the consumer's dispatcher takes them per partition). */
  onData: (() => void) | undefined
  private readonly waiters: Waiter[] = []
  /** An error no listener took, kept for the next next() call. */
  private pendingError: unknown
  private readonly inFlight = new Set<Promise<void>>()
  private scheduled = false
  private retryTimer: NodeJS.Timeout | undefined
  private refreshing = false
  private closed = false
  private readonly counters: FetchCounters = { fetches: 0, incrementalFetches: 0, bytes: 0, records: 0 }

  constructor(
    private readonly cluster: Cluster,
    options: FetcherOptions = {},
  ) {
    super()
    // the options were checked by the consumer (or are a test's): only the defaults are applied here
    const o = withDefaults(FETCH_FIELDS, options)
    this.maxBytes = o.maxBytes
    this.partitionMaxBytes = o.partitionMaxBytes
    const readCommitted = (options.isolationLevel ?? ISOLATION_LEVEL.default) === 'read_committed'
    const resetPolicy: ResetPolicy = options.resetPolicy ?? 'latest'
    this.config = {
      minBytes: o.minBytes,
      maxWaitMs: o.maxWaitMs,
      readCommitted,
      checkCrcs: o.checkCrcs,
      rackId: options.rackId ?? '',
    }
    this.buffer = new FetchBuffer(o.maxBufferedBytes, {
      changed: () => {
        this.deliver()
        this.onData?.()
        this.wake()
      },
      failed: (cursor, error) => {
        // corrupt data further into an answer: fetched again from there after a backoff, and reported
        cursor.rewind()
        cursor.backoff(this.cluster.retry)
        this.fail(error)
        this.wake()
      },
    })
    this.offsets = new OffsetReset(
      cluster,
      readCommitted,
      resetPolicy,
      (error) => this.fail(error),
      () => this.wake(),
    )
    const log = options.logger ?? silentLogger
    const needReset = (cursor: PartitionCursor) => {
      this.moveTo(cursor, undefined)
      this.offsets.needReset(cursor)
    }
    this.truncation = new TruncationDetector(cluster, resetPolicy, {
      log,
      moveTo: (cursor, offset, leaderEpoch) => this.moveTo(cursor, offset, leaderEpoch),
      needReset,
      refresh: (topics) => this.refresh(topics),
      fail: (error) => this.fail(error),
      wake: () => this.wake(),
    })
    // the leader names a replica for as long as metadata may be stale (Java: metadata.max.age.ms)
    const preferFor = cluster.options?.metadataMaxAgeMs ?? 300_000
    this.host = {
      buffer: this.buffer,
      counters: this.counters,
      log,
      buffered: () => this.deliver(),
      answered: () => this.onData?.(),
      outOfRange: needReset,
      preferReplica: (cursor, replica) => {
        cursor.preferredReplica = replica
        cursor.preferredUntil = Date.now() + preferFor
      },
      diverged: (cursor, endOffset, epoch) => this.truncation.diverged(cursor, endOffset, epoch),
      refresh: (topics) => this.refresh(topics),
      fail: (error) => this.fail(error),
      wake: () => this.wake(),
    }
  }

  // ------------------------------------------------------------------------------------------
  // Assignment and positions

  /**
   * Starts fetching these partitions from `offset` (undefined: the reset policy decides). A
   * partition already assigned keeps its position unless an offset is given. `leaderEpoch` (of the
   * committed offset) is kept with the position: the leader checks it on the first fetch (KIP-320).
   */
  assign(partitions: { topic: string; partition: number; offset?: bigint; leaderEpoch?: number }[]): void {
    this.checkOpen()
    for (const { topic, partition, offset, leaderEpoch } of partitions) {
      const key = tpKey(topic, partition)
      let cursor = this.cursors.get(key)
      if (cursor && offset === undefined) continue
      if (!cursor) {
        cursor = new PartitionCursor(topic, partition)
        this.cursors.set(key, cursor)
      }
      if (offset !== undefined) this.moveTo(cursor, offset, leaderEpoch)
      else this.offsets.needReset(cursor)
    }
    const unknown = partitions.filter((p) => !this.cluster.metadata.topics.has(p.topic)).map((p) => p.topic)
    if (unknown.length > 0) this.refresh([...new Set(unknown)])
    this.wake()
  }

  unassign(partitions: TopicPartition[]): void {
    for (const { topic, partition } of partitions) {
      const cursor = this.cursors.get(tpKey(topic, partition))
      if (!cursor) continue
      this.buffer.drop(cursor)
      cursor.retire()
      this.cursors.delete(cursor.key)
    }
  }

  pause(partitions: TopicPartition[]): void {
    for (const tp of partitions) {
      const cursor = this.cursors.get(tpKey(tp.topic, tp.partition))
      if (cursor) cursor.paused = true
    }
  }

  resume(partitions: TopicPartition[]): void {
    for (const tp of partitions) {
      const cursor = this.cursors.get(tpKey(tp.topic, tp.partition))
      if (cursor) cursor.paused = false
    }
    this.deliver()
    this.wake()
  }

  /** Moves the position; buffered data of that partition is dropped. */
  async seek(tp: TopicPartition, to: SeekTarget): Promise<void> {
    this.checkOpen()
    const cursor = this.cursors.get(tpKey(tp.topic, tp.partition))
    if (!cursor) throw new ConfigError(`seek: ${tp.topic}-${tp.partition} is not assigned`)
    if (typeof to === 'bigint') {
      this.moveTo(cursor, to)
      this.wake()
      return
    }
    this.moveTo(cursor, undefined)
    const generation = cursor.generation
    const offset = await this.offsets.lookup(cursor, to)
    if (cursor.isCurrent(generation)) {
      cursor.startAt(offset)
      this.wake()
    }
  }

  position(tp: TopicPartition): bigint | undefined {
    return this.cursors.get(tpKey(tp.topic, tp.partition))?.position
  }

  highWatermark(tp: TopicPartition): bigint | undefined {
    return this.cursors.get(tpKey(tp.topic, tp.partition))?.highWatermark
  }

  assigned(): TopicPartition[] {
    return [...this.cursors.values()].map(({ topic, partition }) => ({ topic, partition }))
  }

  stats(): FetcherStats {
    return { ...this.counters, bufferedBytes: this.buffer.bytes, decodedBytes: this.buffer.decodedBytes }
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
    return this.taken(this.buffer.poll())
  }

  /** The buffered batch of one partition, if it has one (paused or not: the caller decides). */
  take(tp: TopicPartition): FetchedBatch | undefined {
    const cursor = this.cursors.get(tpKey(tp.topic, tp.partition))
    return this.taken(cursor && this.buffer.take(cursor))
  }

  private taken(batch: FetchedBatch | undefined): FetchedBatch | undefined {
    if (batch) {
      this.counters.records += batch.messages.length
      this.wake()
    }
    return batch
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
    this.buffer.clear()
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

  /** One Fetch per broker that leads fetchable partitions and has none in flight. */
  private sendFetches(): void {
    if (this.closed) return
    const now = Date.now()
    let retryAt = Number.POSITIVE_INFINITY
    const unknown = new Set<string>()
    const perSource = new Map<FetchSource, SourcePartition[]>()
    /** Brokers a partition whose answer waits to be taken is fetched from: it will want a fetch soon. */
    const takenSoon = new Set<number>()
    /** Leaders of partitions whose position is being looked up or checked: they will want a fetch soon too. */
    const positionSoon = new Set<number>()
    const leaderOf = (cursor: PartitionCursor) =>
      this.cluster.metadata.partition(cursor.topic, cursor.partition)?.leader
    const room = this.buffer.room()
    for (const cursor of this.cursors.values()) {
      if (cursor.paused || cursor.inFlight) continue
      if (cursor.validating) {
        positionSoon.add(leaderOf(cursor) ?? -1)
        continue
      }
      if (this.buffer.has(cursor)) {
        // what a leader that is no more sent waits for the new one to confirm the position (KIP-320)
        const info = this.cluster.metadata.partition(cursor.topic, cursor.partition)
        if (info && info.leader >= 0 && this.truncation.needed(cursor, info.leaderEpoch))
          this.truncation.validate(cursor, info.leader, info.leaderEpoch)
        else if (info && info.leader >= 0) takenSoon.add(cursor.readReplica(info.leader, info.isr, now))
        continue
      }
      if (cursor.retryAt > now) {
        retryAt = Math.min(retryAt, cursor.retryAt)
        continue
      }
      if (cursor.fetchOffset === undefined) {
        if (cursor.resetTo !== undefined && !cursor.resetting) this.offsets.reset(cursor)
        if (cursor.resetting) positionSoon.add(leaderOf(cursor) ?? -1)
        continue
      }
      if (room <= 0) continue
      const topic = this.cluster.metadata.topics.get(cursor.topic)
      const info = topic?.partitions[cursor.partition]
      if (!topic || !info || info.leader < 0) {
        // not again until the refresh it waits for is done (a topic may not exist at all)
        if (!this.refreshing) cursor.backoff(this.cluster.retry)
        unknown.add(cursor.topic)
        continue
      }
      // a new leader: its log is checked against the position first (KIP-320)
      if (this.truncation.needed(cursor, info.leaderEpoch)) {
        this.truncation.validate(cursor, info.leader, info.leaderEpoch)
        continue
      }
      const source = this.source(cursor.readReplica(info.leader, info.isr, now))
      if (source.inFlight) continue
      if (source.retryAt > now) {
        retryAt = Math.min(retryAt, source.retryAt)
        continue
      }
      let partitions = perSource.get(source)
      if (!partitions) {
        partitions = []
        perSource.set(source, partitions)
      }
      partitions.push({
        cursor,
        request: {
          topic: cursor.topic,
          topicId: topic.topicId,
          partition: cursor.partition,
          fetchOffset: cursor.fetchOffset,
          currentLeaderEpoch: info.leaderEpoch,
          lastFetchedEpoch: cursor.fetchedEpoch,
          partitionMaxBytes: this.partitionMaxBytes,
        },
      })
      cursor.fetchedLeaderEpoch = info.leaderEpoch
    }
    if (unknown.size > 0) this.refresh([...unknown])
    for (const [source, partitions] of perSource) {
      if (
        (takenSoon.has(source.nodeId) && partitions.every(caughtUp)) ||
        (positionSoon.has(source.nodeId) && partitions.every(mayLongPoll))
      ) {
        // a long poll for these would hold up the partitions whose answers are being taken, or
        // whose positions are being looked up (one Fetch per broker at a time; an empty partition
        // whose position came first held the others up for maxWaitMs): they go together, or after
        // maxWaitMs at the latest
        source.deferredSince ??= now
        const until = source.deferredSince + this.config.maxWaitMs
        if (until > now) {
          retryAt = Math.min(retryAt, until)
          continue
        }
      }
      source.deferredSince = undefined
      const run = source.fetch(partitions, Math.min(this.maxBytes, room))
      this.inFlight.add(run)
      run.finally(() => this.inFlight.delete(run))
    }
    if (retryAt !== Number.POSITIVE_INFINITY) {
      clearTimeout(this.retryTimer)
      this.retryTimer = setTimeout(() => this.wake(), Math.max(0, retryAt - now))
    }
  }

  private source(nodeId: number): FetchSource {
    let source = this.sources.get(nodeId)
    if (!source) {
      source = new FetchSource(nodeId, this.cluster, this.config, this.host)
      this.sources.set(nodeId, source)
    }
    return source
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

  // ------------------------------------------------------------------------------------------
  // Helpers

  /** A new generation at `offset` (undefined: unknown until a lookup); what is buffered is dropped. */
  private moveTo(cursor: PartitionCursor, offset: bigint | undefined, leaderEpoch?: number): void {
    this.buffer.drop(cursor)
    cursor.moveTo(offset, leaderEpoch)
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
