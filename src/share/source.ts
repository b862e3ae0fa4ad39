// One broker as a share-group member fetches from it, as the Java client's ShareConsumeRequestManager
// does per node: one request in flight at a time (the share session's epochs follow each other),
// either a ShareFetch that acquires records of the partitions this broker leads and carries the
// acknowledgements of those partitions, or a ShareAcknowledge for acknowledgements alone: those of
// partitions no longer fetched, lock renewals (KIP-1222: AcknowledgeType Renew, ShareAcknowledge
// v2), and the last ones when the session closes. An answer is handled per partition: acquired
// records become deliveries (offsets without a record are acknowledged as gaps), a stale leader
// goes to the leader the answer names or to a metadata refresh, an acknowledgement error is
// reported. A lost session (a failed request, or the broker no longer knowing it) loses every
// record acquired in it: the broker releases them, and they are not acknowledged.

import type { Cluster } from '../client/cluster.ts'
import type { Connection } from '../client/connection.ts'
import { STALE_METADATA_ERRORS } from '../client/metadata.ts'
import type { Logger } from '../observability/logger.ts'
import { ErrorCode, kafkaError } from '../protocol/error-codes.ts'
import { AuthenticationError, KafkaError, KafkaxError } from '../protocol/errors.ts'
import type { AcknowledgementBatch } from '../protocol/messages/generated/share-fetch-request.ts'
import type { PartitionData, ShareFetchResponse } from '../protocol/messages/generated/share-fetch-response.ts'
import { type Api, loadApi, ShareAcknowledgeModule, ShareFetchModule } from '../protocol/messages/index.ts'
import { decodeRecordBatches, type KafkaRecord } from '../protocol/records/index.ts'
import { ACK, type AcquiredRecord, type HeldPartition, type TakenAcks } from './acknowledgements.ts'
import { noShareGroups } from './member.ts'
import { SharedMessage } from './message.ts'
import type { ShareFetchOptions } from './options.ts'
import { FINAL_EPOCH, ShareSession, type ShareSessionPartition } from './session.ts'

/** Counters the sources keep for the consumer's stats(). */
export interface ShareCounters {
  fetches: number
  acknowledgeRequests: number
  records: number
  bytes: number
  renewals: number
  /** Acknowledgements the broker refused (the lock had expired, the record moved on...). */
  acknowledgeErrors: number
}

/** What a source needs of the fetcher it works for. */
export interface ShareHost {
  readonly groupId: string
  readonly memberId: string
  readonly counters: ShareCounters
  readonly log: Logger
  /** The acquisition lock duration the broker announced last (ms). */
  lockMs: number
  /** How long before its lock runs out an acknowledgement is given up (ms). */
  margin(): number
  /** Records acquired, in offset order per partition. */
  delivered(deliveries: AcquiredRecord[]): void
  /** The partitions of a node whose session was lost: their deliveries are lost. */
  sessionLost(nodeId: number, reason: string): void
  /** A partition's leader moved: it is fetched from the new one (its deliveries are lost). */
  leaderMoved(held: HeldPartition): void
  refresh(topics: string[]): void
  report(error: Error): void
}

// lazily loaded: importing kafkax must stay cheap
let apis: Promise<{ fetch: Api; acknowledge: Api }> | undefined
const shareApis = () =>
  (apis ??= Promise.all([loadApi(ShareFetchModule), loadApi(ShareAcknowledgeModule)]).then(([fetch, acknowledge]) => ({
    fetch,
    acknowledge,
  })))

/** A partition as sent: its held state, and what the request took of its acknowledgements. */
interface SentPartition {
  held: HeldPartition
  acks: TakenAcks | undefined
}

export class ShareSource {
  readonly session = new ShareSession()
  /** The request in flight (one at most). */
  inFlight: Promise<void> | undefined
  private failures = 0
  retryAt = 0
  /** The broker takes lock renewals (ShareAcknowledge v2, KIP-1222): known after the first request. */
  renewable = false

  constructor(
    readonly nodeId: number,
    private readonly cluster: Cluster,
    /** The ShareFetch request's settings (the consumer's `fetch` option). */
    private readonly config: Required<ShareFetchOptions>,
    private readonly host: ShareHost,
  ) {}

  /**
   * One ShareFetch acquiring records of `fetch` (partitions this broker leads), carrying their
   * acknowledgements once the session is open. Settles once the answer is handled.
   */
  fetch(partitions: readonly HeldPartition[], now: number): Promise<void> {
    const sent = new Map<string, SentPartition>()
    const acks = new Map<string, AcknowledgementBatch[]>()
    for (const held of partitions) {
      const key = keyOf(held)
      const taken = this.session.open && held.hasAcks ? held.take(now, this.host.margin()) : undefined
      if (taken && taken.batches.length > 0) acks.set(key, taken.batches)
      sent.set(key, { held, acks: taken })
    }
    return this.start(this.runFetch(partitions, sent, acks))
  }

  /**
   * One ShareAcknowledge of the partitions' acknowledgements (and lock renewals); with `closing`, it
   * carries the final epoch and closes the session.
   */
  acknowledge(partitions: readonly HeldPartition[], now: number, closing = false): Promise<void> {
    const sent = new Map<string, SentPartition>()
    for (const held of partitions) {
      if (!held.hasAcks) continue
      sent.set(keyOf(held), { held, acks: held.take(now, this.host.margin()) })
    }
    if (closing) this.session.close()
    return this.start(this.runAcknowledge(sent))
  }

  private start(run: Promise<void>): Promise<void> {
    const inFlight = run.finally(() => {
      if (this.inFlight === inFlight) this.inFlight = undefined
    })
    this.inFlight = inFlight
    return inFlight
  }

  private async runFetch(
    partitions: readonly HeldPartition[],
    sent: Map<string, SentPartition>,
    acks: Map<string, AcknowledgementBatch[]>,
  ): Promise<void> {
    const { config, host } = this
    const sentAt = Date.now()
    const { generation } = this.session
    try {
      const { fetch } = await shareApis()
      const connection = await this.cluster.connectionToNode(this.nodeId)
      const version = this.negotiate(connection, fetch)
      const { topics, forgottenTopicsData } = this.session.fetch(partitions.map(sessionPartition), acks)
      const response: ShareFetchResponse = await connection.request(
        fetch,
        {
          groupId: host.groupId,
          memberId: host.memberId,
          shareSessionEpoch: this.session.epoch,
          maxWaitMs: config.maxWaitMs,
          minBytes: config.minBytes,
          maxBytes: config.maxBytes,
          maxRecords: config.maxRecords,
          batchSize: config.maxRecords,
          topics,
          forgottenTopicsData,
        },
        { version, timeoutMs: this.cluster.options.requestTimeoutMs + config.maxWaitMs },
      )
      host.counters.fetches++
      // the membership was lost meanwhile: what this answer acquired is not the member's any more
      if (this.session.generation !== generation) return
      if (!this.answered(response.errorCode, response.errorMessage, 'ShareFetch')) return
      this.failures = 0
      if (response.acquisitionLockTimeoutMs > 0) host.lockMs = response.acquisitionLockTimeoutMs
      const deadline = sentAt + host.lockMs
      const delivered: AcquiredRecord[] = []
      for (const t of response.responses) {
        for (const data of t.partitions) {
          const p = sent.get(`${t.topicId}:${data.partitionIndex}`)
          if (p) await this.handlePartition(p, data, response, deadline, delivered)
        }
      }
      if (delivered.length > 0) host.delivered(delivered)
    } catch (error) {
      if (this.session.generation === generation) this.failed(error)
    }
  }

  private async runAcknowledge(sent: Map<string, SentPartition>): Promise<void> {
    const { host } = this
    const sentAt = Date.now()
    const renew = [...sent.values()].some((p) => p.acks?.renew)
    const { generation } = this.session
    try {
      const { acknowledge } = await shareApis()
      const connection = await this.cluster.connectionToNode(this.nodeId)
      const version = this.negotiate(connection, acknowledge)
      const topics = new Map<string, { topicId: string; partitions: any[] }>()
      for (const { held, acks } of sent.values()) {
        if (!acks || acks.batches.length === 0) continue
        const topic = topics.get(held.topicId) ?? { topicId: held.topicId, partitions: [] }
        topic.partitions.push({ partitionIndex: held.partition, acknowledgementBatches: acks.batches })
        topics.set(held.topicId, topic)
      }
      const response = await connection.request(
        acknowledge,
        {
          groupId: host.groupId,
          memberId: host.memberId,
          shareSessionEpoch: this.session.epoch,
          isRenewAck: renew,
          topics: [...topics.values()],
        },
        { version },
      )
      host.counters.acknowledgeRequests++
      if (this.session.generation !== generation) return
      const closing = this.session.epoch === FINAL_EPOCH
      if (!this.answered(response.errorCode, response.errorMessage, 'ShareAcknowledge')) return
      this.failures = 0
      const lockMs = response.acquisitionLockTimeoutMs > 0 ? response.acquisitionLockTimeoutMs : host.lockMs
      for (const t of response.responses) {
        for (const data of t.partitions) {
          const p = sent.get(`${t.topicId}:${data.partitionIndex}`)
          if (!p?.acks) continue
          if (data.errorCode !== 0) {
            this.acknowledgeFailed(p, data.errorCode, data.errorMessage)
            if (STALE_METADATA_ERRORS.has(data.errorCode)) host.refresh([p.held.topic])
          } else if (p.acks.renewals.length > 0) {
            p.held.renewed(p.acks.renewals, sentAt, lockMs)
            host.counters.renewals += p.acks.renewals.length
          }
        }
      }
      if (closing) this.session.reset()
    } catch (error) {
      for (const p of sent.values()) if (p.acks) p.held.renewFailed(p.acks.renewals)
      if (this.session.generation === generation) this.failed(error)
    }
  }

  /** The version of a share API this broker speaks; without share groups, a clear error. */
  private negotiate(connection: Connection, api: Api): number {
    let version: number
    try {
      version = connection.versionFor(api)
    } catch (error) {
      if (error instanceof KafkaError && error.code === ErrorCode.UNSUPPORTED_VERSION) {
        throw noShareGroups(error, `broker ${connection.address}`)
      }
      throw error
    }
    this.renewable = (connection.brokerVersions.get(ShareAcknowledgeModule.apiKey)?.[1] ?? 0) >= 2
    return version
  }

  /** The top-level error of an answer: false when nothing more of it is to be read. */
  private answered(errorCode: number, message: string | null, api: string): boolean {
    if (!this.session.answered(errorCode)) {
      this.host.sessionLost(this.nodeId, `${api}: ${kafkaError(errorCode).message}`)
      return false
    }
    if (errorCode === 0) return true
    if (errorCode === ErrorCode.UNKNOWN_TOPIC_ID) this.host.refresh([])
    this.host.report(
      kafkaError(errorCode, `${api} of share group ${this.host.groupId} from broker ${this.nodeId}: ${message ?? ''}`),
    )
    return false
  }

  private async handlePartition(
    p: SentPartition,
    data: PartitionData,
    response: ShareFetchResponse,
    deadline: number,
    delivered: AcquiredRecord[],
  ): Promise<void> {
    const { held } = p
    if (data.acknowledgeErrorCode !== 0 && p.acks) {
      this.acknowledgeFailed(p, data.acknowledgeErrorCode, data.acknowledgeErrorMessage)
    }
    if (data.errorCode !== 0) {
      this.partitionError(held, data, response)
      return
    }
    if (data.acquiredRecords.length === 0) return
    const records = new Map<bigint, { record: KafkaRecord; leaderEpoch: number }>()
    if (data.records && data.records.length > 0) {
      try {
        for (const batch of await decodeRecordBatches(data.records, { checkCrcs: this.config.checkCrcs })) {
          if (batch.control) continue
          for (const record of batch.records)
            records.set(record.offset, { record, leaderEpoch: batch.partitionLeaderEpoch })
        }
      } catch (error) {
        // corrupt records: rejected, as the Java client rejects a batch whose CRC does not match
        for (const range of data.acquiredRecords) {
          for (let offset = range.firstOffset; offset <= range.lastOffset; offset++)
            held.settle(offset, deadline, ACK.reject)
        }
        this.host.report(error as Error)
        return
      }
      this.host.counters.bytes += data.records.length
    }
    for (const range of data.acquiredRecords) {
      for (let offset = range.firstOffset; offset <= range.lastOffset; offset++) {
        const found = records.get(offset)
        if (!found) {
          held.settle(offset, deadline)
          continue
        }
        const { record, leaderEpoch } = found
        const message = new SharedMessage(
          held.topic,
          held.partition,
          offset,
          record.timestamp,
          record.key,
          record.value,
          record.headers,
          leaderEpoch,
          range.deliveryCount,
        )
        delivered.push(held.acquire(message, deadline))
      }
    }
    this.host.counters.records += delivered.length
  }

  private partitionError(held: HeldPartition, data: PartitionData, response: ShareFetchResponse): void {
    const code = data.errorCode
    if (STALE_METADATA_ERRORS.has(code)) {
      // KIP-951: the answer may name the new leader, which saves a metadata round trip
      const leader = data.currentLeader
      const hinted =
        leader.leaderId >= 0 &&
        this.cluster.applyLeaderHint(
          held.topic,
          held.partition,
          leader,
          response.nodeEndpoints.map((e) => ({ nodeId: e.nodeId, host: e.host, port: e.port, rack: e.rack })),
        )
      if (hinted) this.host.leaderMoved(held)
      else this.host.refresh([held.topic])
      return
    }
    const error = kafkaError(code, `ShareFetch ${held.topic}-${held.partition}: ${data.errorMessage ?? ''}`)
    this.host.report(error)
  }

  private acknowledgeFailed(p: SentPartition, code: number, message: string | null): void {
    const acks = p.acks!
    this.host.counters.acknowledgeErrors += acks.acknowledged
    p.held.renewFailed(acks.renewals)
    const what = `acknowledging ${acks.acknowledged} record(s) of ${p.held.topic}-${p.held.partition}`
    this.host.report(kafkaError(code, `${what}: ${message ?? ''}`))
  }

  private failed(error: unknown): void {
    this.session.reset()
    this.host.sessionLost(this.nodeId, `request failed: ${(error as Error).message}`)
    this.failures++
    this.retryAt = Date.now() + this.cluster.retry.delay(this.failures)
    if (!(error instanceof KafkaxError && error.retriable) || error instanceof AuthenticationError) {
      this.host.report(error as Error)
    } else {
      this.host.log.warn?.({ nodeId: this.nodeId, err: error }, 'share fetch failed; retrying')
    }
  }
}

function keyOf(held: HeldPartition): string {
  return `${held.topicId}:${held.partition}`
}

function sessionPartition(held: HeldPartition): ShareSessionPartition {
  return { key: keyOf(held), topicId: held.topicId, partition: held.partition }
}
