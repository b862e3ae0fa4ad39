// A member of a share group (KIP-932), as the Java client's ShareMembershipManager: it names
// itself (a random member id kept for its whole life), joins with ShareGroupHeartbeat at epoch 0,
// heartbeats on its own timer at the interval the coordinator sets, takes the assignment the
// coordinator computes (by topic id; every member of a share group may share every partition),
// and leaves at epoch -1. There is no revocation to wait for: share groups commit nothing. A fenced
// or unknown member rejoins at epoch 0 with the same id, after letting go of what it held.

import { randomBytes } from 'node:crypto'
import type { Cluster } from '../client/cluster.ts'
import { CoordinatorConnection } from '../client/coordinator.ts'
import { type TopicPartition, tpKey } from '../client/topic-partition.ts'
import { ErrorCode, kafkaError } from '../protocol/error-codes.ts'
import { KafkaError, KafkaxError } from '../protocol/errors.ts'
import type { ShareGroupHeartbeatResponse } from '../protocol/messages/generated/share-group-heartbeat-response.ts'
import { type Api, loadApi, ShareGroupHeartbeatModule } from '../protocol/messages/index.ts'

/** ShareGroupHeartbeatRequest.json: epoch 0 joins, -1 leaves. */
const JOIN_EPOCH = 0
const LEAVE_EPOCH = -1

/** Answers after which the member rejoins at epoch 0, having lost its assignment. */
const FENCED = new Set<number>([ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.FENCED_MEMBER_EPOCH])
/** Answers worth the next heartbeat after a backoff. */
const RETRIABLE = new Set<number>([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
])

export interface ShareMemberOptions {
  groupId: string
  /** The subscription (exact topic names). */
  topics: string[]
  rackId?: string
}

export interface ShareMemberListener {
  /** The whole assignment, each time it changes. */
  onAssignment(partitions: TopicPartition[]): void
  /** The membership was lost (fenced, unknown): what the member acquired is no longer its to acknowledge. */
  onFenced(): void
  /** Heartbeat failures the member cannot fix by itself (authorization, group full...): it keeps trying. */
  onError(error: Error): void
}

/** A member id as the Java client makes one (Uuid.randomUuid().toString(): base64url of 16 random bytes). */
function newMemberId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

/** The error of a broker without share groups, clearer than the version negotiation's own. */
export function noShareGroups(cause: unknown, address: string): KafkaError {
  return kafkaError(
    ErrorCode.UNSUPPORTED_VERSION,
    `share groups need a broker with KIP-932 enabled (Apache Kafka 4.1 or later, feature share.version=1): ${address} does not offer them`,
    { cause },
  )
}

export class ShareGroupMember {
  readonly memberId = newMemberId()
  private readonly coordinator: CoordinatorConnection
  private epoch = JOIN_EPOCH
  private intervalMs = 5000
  /** The next heartbeat sends the subscription and rack (after joining or a failure), as Java's. */
  private full = true
  /** The assignment as the coordinator sent it (topic ids), until every id is resolved to a name. */
  private unresolved: ShareGroupHeartbeatResponse['assignment'] = null
  private assigned = new Map<string, TopicPartition>()
  private failures = 0
  private timer: NodeJS.Timeout | undefined
  private beating: Promise<void> | undefined
  private stopped = false
  private api: Api | undefined

  constructor(
    private readonly cluster: Cluster,
    private readonly options: ShareMemberOptions,
    private readonly listener: ShareMemberListener,
  ) {
    this.coordinator = new CoordinatorConnection(cluster, 'group', options.groupId)
  }

  /** The partitions assigned now. */
  assignment(): TopicPartition[] {
    return [...this.assigned.values()]
  }

  /**
   * Joins the group: resolves once the coordinator answered the first heartbeat (the assignment may
   * come with a later one). Retriable failures are retried under the client's retry policy; a broker
   * without share groups, or an error the member cannot fix, rejects.
   */
  async start(): Promise<void> {
    this.api = await loadApi(ShareGroupHeartbeatModule)
    await this.cluster.retry.run(() => this.heartbeat(true))
    this.schedule(this.intervalMs)
  }

  /** Stops heartbeating and leaves the group (epoch -1); the coordinator then reassigns at once. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    clearTimeout(this.timer)
    await this.beating
    if (this.epoch > JOIN_EPOCH && this.api) {
      await this.coordinator
        .request(this.api, 1, () => ({
          groupId: this.options.groupId,
          memberId: this.memberId,
          memberEpoch: LEAVE_EPOCH,
        }))
        .catch(() => {})
    }
    this.coordinator.close()
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.beating = this.heartbeat(false).catch((error) => {
        this.failures++
        this.full = true
        if (!(error instanceof KafkaxError && error.retriable)) this.listener.onError(error)
        this.schedule(Math.min(this.intervalMs, this.cluster.retry.delay(this.failures)))
      })
    }, delayMs)
    this.timer.unref()
  }

  /** One heartbeat and its answer; throws what should be retried or reported. */
  private async heartbeat(joining: boolean): Promise<void> {
    const { groupId, topics, rackId } = this.options
    let response: ShareGroupHeartbeatResponse
    try {
      response = await this.coordinator.request(this.api!, 1, () => ({
        groupId,
        memberId: this.memberId,
        memberEpoch: this.epoch,
        rackId: this.full ? (rackId ?? null) : null,
        subscribedTopicNames: this.full ? topics : null,
      }))
    } catch (error) {
      if (error instanceof KafkaError && error.code === ErrorCode.UNSUPPORTED_VERSION) {
        throw noShareGroups(error, `the coordinator of ${groupId}`)
      }
      throw error
    }
    if (this.stopped && !joining) return
    const code = response.errorCode
    if (code !== 0) {
      // a broker that knows share groups but has them disabled (share.version=0) answers so
      if (code === ErrorCode.UNSUPPORTED_VERSION) throw noShareGroups(undefined, `the coordinator of ${groupId}`)
      this.coordinator.checkError(code)
      if (FENCED.has(code)) {
        this.fenced()
        if (joining) throw kafkaError(code, `share group ${groupId}`, { retriable: true })
        this.schedule(0)
        return
      }
      throw kafkaError(code, `ShareGroupHeartbeat of share group ${groupId}: ${response.errorMessage ?? ''}`, {
        retriable: RETRIABLE.has(code),
      })
    }
    this.failures = 0
    this.full = false
    this.epoch = response.memberEpoch
    if (response.heartbeatIntervalMs > 0) this.intervalMs = response.heartbeatIntervalMs
    if (response.assignment) this.unresolved = response.assignment
    if (this.unresolved) await this.resolve()
    if (!joining) this.schedule(this.intervalMs)
  }

  /** Turns the assignment's topic ids into names (refreshing metadata for ids not known yet). */
  private async resolve(): Promise<void> {
    const assignment = this.unresolved!
    const names = () => new Map([...this.cluster.metadata.topics.values()].map((t) => [t.topicId, t.name]))
    let byId = names()
    if (assignment.topicPartitions.some((t) => !byId.has(t.topicId))) {
      await this.cluster.refreshMetadata(this.options.topics).catch(() => {})
      byId = names()
    }
    const next = new Map<string, TopicPartition>()
    let complete = true
    for (const t of assignment.topicPartitions) {
      const topic = byId.get(t.topicId)
      if (topic === undefined) {
        complete = false
        continue
      }
      for (const partition of t.partitions) next.set(tpKey(topic, partition), { topic, partition })
    }
    if (complete) this.unresolved = null
    if (next.size === this.assigned.size && [...next.keys()].every((k) => this.assigned.has(k))) return
    this.assigned = next
    this.listener.onAssignment(this.assignment())
  }

  private fenced(): void {
    this.epoch = JOIN_EPOCH
    this.full = true
    this.unresolved = null
    this.listener.onFenced()
    if (this.assigned.size > 0) {
      this.assigned = new Map()
      this.listener.onAssignment([])
    }
  }
}
