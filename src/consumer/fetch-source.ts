// The fetch source of one broker: the partitions it leads are fetched from it with one Fetch request
// in flight at a time, in the broker's fetch session (KIP-227). Topics go by id from Fetch v13 on
// when every topic has one, else by name. Each partition of the answer is handled on its own: its
// records go to the fetch buffer (their first chunk decoded: completed-fetch.ts), or its error decides what happens to it alone (an
// offset out of range goes to the reset policy; a stale leader to the leader the answer names,
// KIP-951, or to a metadata refresh; anything else to a backoff) so that one failing partition
// never stops the others. A failed request backs the whole broker off and starts a new session.
// The source may be a follower (KIP-392): the leader names the replica to read from in its answer,
// and a follower that errs or lags sends the partition back to the leader. A diverging epoch in an
// answer (KIP-320, from the lastFetchedEpoch sent) goes to truncation detection.

import type { Cluster } from '../client/cluster.ts'
import { STALE_METADATA_ERRORS } from '../client/metadata.ts'
import type { Logger } from '../observability/logger.ts'
import { ErrorCode, kafkaError } from '../protocol/error-codes.ts'
import { AuthenticationError, ConnectionError, KafkaxError } from '../protocol/errors.ts'
import type { FetchResponse, PartitionData } from '../protocol/messages/generated/fetch-response.ts'
import { Fetch } from '../protocol/messages/index.ts'
import { ZERO_UUID } from '../protocol/messages/runtime.ts'
import { consumerChannels as channels } from './channels.ts'
import { CompletedFetch } from './completed-fetch.ts'
import type { PartitionCursor } from './cursor.ts'
import type { FetchBuffer } from './fetch-buffer.ts'
import { FetchSessionHandler, type FetchSessionPartition } from './fetch-session.ts'
import { tpKey } from './message.ts'

/** A lost or out-of-step session: the next (full) request may go at once. */
const SESSION_ERRORS = new Set<number>([
  ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
  ErrorCode.INVALID_FETCH_SESSION_EPOCH,
  ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR,
])

/** The Fetch request's settings, the same for every broker. */
export interface FetchConfig {
  minBytes: number
  maxWaitMs: number
  readCommitted: boolean
  checkCrcs: boolean
  rackId: string
}

/** What the fetcher counts across its sources. */
export interface FetchCounters {
  fetches: number
  incrementalFetches: number
  bytes: number
  /** Records taken from the buffer. */
  records: number
}

/** What a fetch source needs of the fetcher it works for. */
export interface FetchHost {
  readonly buffer: FetchBuffer
  readonly counters: FetchCounters
  readonly log: Logger
  /** A partition's answer was buffered. */
  buffered(): void
  /** Every partition of an answer was handled (once per answer, whether it buffered any). */
  answered(): void
  /** The partition's fetch offset is out of range: it needs a new position. */
  outOfRange(cursor: PartitionCursor): void
  /** The leader names the replica to read the partition from (KIP-392). */
  preferReplica(cursor: PartitionCursor, replica: number): void
  /** The leader's log ends the fetched epoch at `endOffset` (KIP-320). */
  diverged(cursor: PartitionCursor, endOffset: bigint, epoch: number): void
  refresh(topics: string[]): void
  fail(error: unknown): void
  /** Something may be fetched again. */
  wake(): void
}

/** One partition of a Fetch request: its cursor and what the session is asked for it. */
export interface SourcePartition {
  cursor: PartitionCursor
  request: FetchSessionPartition
}

/** A partition as sent: the answer counts only if its cursor has not moved since. */
interface Sent extends SourcePartition {
  generation: number
}

export class FetchSource {
  private readonly session = new FetchSessionHandler()
  /** A Fetch request is in flight (one at most). */
  inFlight = false
  /** Failed requests in a row, and when the next may go. */
  private failures = 0
  retryAt = 0
  /** Since when a fetch of caught-up partitions only waits for the others (see Fetcher.sendFetches). */
  deferredSince: number | undefined

  constructor(
    readonly nodeId: number,
    private readonly cluster: Cluster,
    private readonly config: FetchConfig,
    private readonly host: FetchHost,
  ) {}

  /** One Fetch of these partitions, at most `maxBytes` in the answer; settles once it is handled. */
  fetch(partitions: readonly SourcePartition[], maxBytes: number): Promise<void> {
    const next = new Map<string, FetchSessionPartition>()
    const sent = new Map<string, Sent>()
    for (const p of partitions) {
      next.set(p.cursor.key, p.request)
      sent.set(p.cursor.key, { ...p, generation: p.cursor.generation })
    }
    return channels.fetch.hasSubscribers
      ? channels.fetch.tracePromise(
          this.run,
          { nodeId: this.nodeId, partitions: [...next.values()] },
          this,
          next,
          sent,
          maxBytes,
        )
      : this.run(next, sent, maxBytes)
  }

  private async run(
    next: Map<string, FetchSessionPartition>,
    sent: Map<string, Sent>,
    maxBytes: number,
  ): Promise<void> {
    const { config, host, nodeId } = this
    this.inFlight = true
    for (const p of sent.values()) p.cursor.inFlight = true
    try {
      const connection = await this.cluster.connectionToNode(nodeId)
      let version = connection.versionFor(Fetch)
      // topic ids (v13+) need every topic's id; a cluster without them is fetched by name
      const useTopicIds = version >= 13 && [...next.values()].every((p) => p.topicId !== ZERO_UUID)
      if (!useTopicIds) version = Math.min(version, 12)
      const request = this.session.build(next, useTopicIds, version >= 12)
      const response = await connection.request(
        Fetch,
        {
          maxWaitMs: config.maxWaitMs,
          minBytes: config.minBytes,
          maxBytes,
          isolationLevel: config.readCommitted ? 1 : 0,
          sessionId: request.sessionId,
          sessionEpoch: request.sessionEpoch,
          topics: request.topics,
          forgottenTopicsData: request.forgottenTopicsData,
          rackId: config.rackId,
        },
        { version, timeoutMs: this.cluster.options.requestTimeoutMs + config.maxWaitMs },
      )
      if (!this.session.onResponse(response.errorCode, response.sessionId)) {
        if (SESSION_ERRORS.has(response.errorCode)) return
        throw kafkaError(response.errorCode, `Fetch from broker ${nodeId}`)
      }
      host.counters.fetches++
      if (!request.full) host.counters.incrementalFetches++
      this.failures = 0
      await this.handleResponse(response, sent)
    } catch (error) {
      this.session.onError()
      this.failures++
      // a follower that cannot be reached: its partitions go back to their leaders
      for (const p of sent.values()) if (p.cursor.preferredReplica === nodeId) p.cursor.clearPreferredReplica()
      this.retryAt = Date.now() + this.cluster.retry.delay(this.failures)
      // the broker may be gone or no longer lead these partitions
      if (error instanceof ConnectionError) host.refresh([...sent.values()].map((p) => p.cursor.topic))
      if (!(error instanceof KafkaxError && error.retriable) || error instanceof AuthenticationError) host.fail(error)
      else host.log.warn?.({ nodeId, err: error, retryInMs: this.retryAt - Date.now() }, 'fetch failed; retrying')
    } finally {
      this.inFlight = false
      for (const p of sent.values()) p.cursor.inFlight = false
      host.wake()
    }
  }

  private async handleResponse(response: FetchResponse, sent: Map<string, Sent>): Promise<void> {
    const names = new Map<string, string>()
    for (const p of sent.values()) names.set(p.request.topicId, p.request.topic)
    const work: Promise<void>[] = []
    for (const t of response.responses) {
      const topic = t.topic || names.get(t.topicId)
      if (topic === undefined) continue
      for (const data of t.partitions) {
        const p = sent.get(tpKey(topic, data.partitionIndex))
        if (p) work.push(this.handlePartition(p, data, response))
      }
    }
    await Promise.all(work)
    // all at once, so the dispatcher's first turn sees every partition of the answer
    this.host.answered()
  }

  private async handlePartition(sent: Sent, data: PartitionData, response: FetchResponse): Promise<void> {
    const { cursor, generation } = sent
    const { fetchOffset } = sent.request
    const current = () => cursor.isCurrent(generation) && cursor.fetchOffset === fetchOffset
    if (!current()) return
    if (data.errorCode !== 0) return this.partitionError(cursor, data, response)
    if (data.divergingEpoch.epoch >= 0) {
      this.host.diverged(cursor, data.divergingEpoch.endOffset, data.divergingEpoch.epoch)
      return
    }
    if (data.preferredReadReplica >= 0 && data.preferredReadReplica !== this.nodeId)
      this.host.preferReplica(cursor, data.preferredReadReplica)
    cursor.highWatermark = data.highWatermark
    const records = data.records
    if (!records || records.length === 0) return
    const { config, host } = this
    let answer: CompletedFetch
    try {
      answer = new CompletedFetch(
        cursor.topic,
        cursor.partition,
        records,
        fetchOffset,
        config.readCommitted,
        config.readCommitted ? data.abortedTransactions : null,
        data,
        config.checkCrcs,
      )
      // the first chunk decoded now, the rest as the consumer drains it
      await answer.prepare()
    } catch (error) {
      // corrupt data: reported, and retried later (the same bytes may come back; a seek skips them)
      cursor.backoff(this.cluster.retry)
      host.fail(error)
      return
    }
    if (!current()) return
    cursor.advance(answer.nextOffset, answer.lastEpoch)
    host.counters.bytes += records.length
    if (answer.drained) {
      // only control records or aborted transactions: the position moves past them all the same
      cursor.taken(answer.position, answer.lastEpoch)
      return
    }
    host.buffer.add(cursor, answer)
    host.buffered()
  }

  private partitionError(cursor: PartitionCursor, data: PartitionData, response: FetchResponse): void {
    const code = data.errorCode
    // a follower behind the leader may not have the offset yet: the leader has (as Java's fetcher)
    const fromFollower = cursor.preferredReplica === this.nodeId && cursor.clearPreferredReplica()
    if (code === ErrorCode.OFFSET_OUT_OF_RANGE) {
      if (!fromFollower) this.host.outOfRange(cursor)
      return
    }
    cursor.backoff(this.cluster.retry)
    if (STALE_METADATA_ERRORS.has(code)) {
      // KIP-951: the answer may name the new leader, which saves a metadata round trip
      const leader = data.currentLeader
      const hinted =
        leader.leaderId >= 0 &&
        this.cluster.applyLeaderHint(
          cursor.topic,
          cursor.partition,
          leader,
          response.nodeEndpoints.map((e) => ({ nodeId: e.nodeId, host: e.host, port: e.port, rack: e.rack })),
        )
      if (!hinted) this.host.refresh([cursor.topic])
      return
    }
    const error = kafkaError(code, `Fetch ${cursor.topic}-${cursor.partition}`)
    if (!error.retriable) this.host.fail(error)
  }
}
