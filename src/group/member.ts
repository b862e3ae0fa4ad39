// Consumer-group membership with the classic protocol, as the Java client's ConsumerCoordinator:
// JoinGroup / SyncGroup (the leader runs the assignor the broker chose), heartbeats on their own
// timer, eager or cooperative (KIP-429) revocation, static membership (KIP-345), LeaveGroup, and
// offset commit/fetch with the member's generation.

import type { Cluster } from '../client/cluster.ts'
import type { Connection } from '../client/connection.ts'
import type { ClusterMetadata } from '../client/metadata.ts'
import { sleep } from '../client/retry.ts'
import { type TopicPartition, tpKey } from '../client/topic-partition.ts'
import { ErrorCode, kafkaError } from '../protocol/error-codes.ts'
import { ConnectionError, KafkaError, KafkaxError, TimeoutError } from '../protocol/errors.ts'
import type { JoinGroupResponse } from '../protocol/messages/generated/join-group-response.ts'
import type { SyncGroupRequestAssignment } from '../protocol/messages/generated/sync-group-request.ts'
import {
  type Api,
  Heartbeat,
  JoinGroup,
  LeaveGroup,
  OffsetCommit,
  OffsetFetch,
  SyncGroup,
} from '../protocol/messages/index.ts'
import {
  type Assignor,
  cooperativeStickyAssignor,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type MemberSubscription,
  rangeAssignor,
} from './assignors.ts'
import {
  type CommittedOffset,
  MAX_OFFSET_COMMIT_VERSION,
  MAX_OFFSET_FETCH_VERSION,
  type OffsetToCommit,
  offsetCommitError,
  offsetCommitRequest,
  offsetFetchRequest,
  offsetFetchResult,
} from './offsets.ts'

export interface GroupMemberOptions {
  groupId: string
  /** Static membership (KIP-345): the member keeps its slot across restarts within the session timeout. */
  groupInstanceId?: string
  /** The subscription (exact topic names). */
  topics: string[]
  /** Default 45000, as Java's session.timeout.ms. */
  sessionTimeoutMs?: number
  /** Default 300000 (Java's max.poll.interval.ms): how long the group waits for members to rejoin. */
  rebalanceTimeoutMs?: number
  /** Default 3000. */
  heartbeatIntervalMs?: number
  /** In order of preference; default [range, cooperative-sticky], as Java. */
  assignors?: Assignor[]
  rackId?: string
}

export interface GroupListener {
  /** After a rebalance: partitions newly assigned. */
  onAssigned(partitions: TopicPartition[]): Promise<void> | void
  /** Before partitions leave: the consumer must finish/commit what was handled. Awaited. */
  onRevoked(partitions: TopicPartition[]): Promise<void> | void
  /** Partitions lost without a clean handover (fenced, session expired): must not commit them. */
  onLost(partitions: TopicPartition[]): Promise<void> | void
  /** Errors the member cannot recover from by itself (e.g. GROUP_AUTHORIZATION_FAILED). */
  onError?(error: Error): void
}

/** Answers after which a rejoin is the way forward (the member itself is not broken). */
const REJOIN_ERRORS = new Set<number>([
  ErrorCode.MEMBER_ID_REQUIRED,
  ErrorCode.UNKNOWN_MEMBER_ID,
  ErrorCode.ILLEGAL_GENERATION,
  ErrorCode.REBALANCE_IN_PROGRESS,
])
/** How often the leader refreshes the metadata of the group's topics to notice new partitions. */
const METADATA_CHECK_MS = 30_000
/** Java gives JoinGroup the rebalance timeout plus this, as the broker may hold it that long. */
const JOIN_EXTRA_TIMEOUT_MS = 5000

type State = 'unjoined' | 'joining' | 'syncing' | 'stable'
interface Deferred {
  resolve(): void
  reject(error: unknown): void
}

/** Partitions of `owned` not in `assigned` (revoked) and of `assigned` not in `owned` (added). */
export function diffAssignment(
  owned: readonly TopicPartition[],
  assigned: readonly TopicPartition[],
): { revoked: TopicPartition[]; added: TopicPartition[] } {
  const ownedKeys = new Set(owned.map((p) => tpKey(p.topic, p.partition)))
  const assignedKeys = new Set(assigned.map((p) => tpKey(p.topic, p.partition)))
  return {
    revoked: owned.filter((p) => !assignedKeys.has(tpKey(p.topic, p.partition))),
    added: assigned.filter((p) => !ownedKeys.has(tpKey(p.topic, p.partition))),
  }
}

/** Partition counts of the topics that exist (no error, at least one partition) in the metadata. */
export function partitionCounts(metadata: ClusterMetadata, topics: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>()
  for (const name of topics) {
    const t = metadata.topics.get(name)
    if (t && t.errorCode === 0 && t.partitions.length > 0) counts.set(name, t.partitions.length)
  }
  return counts
}

export function sameCounts(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false
  for (const [topic, n] of a) if (b.get(topic) !== n) return false
  return true
}

export class GroupMember {
  private readonly cluster: Cluster
  private readonly listener: GroupListener
  private readonly groupId: string
  private readonly groupInstanceId: string | null
  private readonly topics: string[]
  private readonly sessionTimeoutMs: number
  private readonly rebalanceTimeoutMs: number
  private readonly heartbeatIntervalMs: number
  private readonly assignors: Assignor[]
  private readonly rackId: string | null

  private _memberId = ''
  private _generationId = -1
  private state: State = 'unjoined'
  /** The assignor the broker chose in the last JoinGroup: it decides eager or cooperative. */
  private protocol: Assignor | undefined
  private owned: TopicPartition[] = []
  /** The generation `owned` was assigned in: sent with the subscription (cooperative-sticky uses it). */
  private ownedGeneration = -1
  private lost = false
  private rejoinNeeded = true
  private rejoinReason: string | null = null
  private stopping = false
  private stopped: Promise<void> | undefined
  private loop: Promise<void> | undefined
  private wakeup: (() => void) | undefined
  private heartbeatTimer: NodeJS.Timeout | undefined
  private metadataTimer: NodeJS.Timeout | undefined
  /** The leader's view of the group's topics when it assigned them: a change means a rejoin. */
  private watched: Map<string, number> | undefined
  private watchedTopics: string[] = []
  /** A connection of our own to the coordinator (as Java): JoinGroup may wait for minutes and must not hold up fetches. */
  private coordinatorConnection: { nodeId: number; connection: Promise<Connection> } | undefined

  constructor(cluster: Cluster, options: GroupMemberOptions, listener: GroupListener) {
    this.cluster = cluster
    this.listener = listener
    this.groupId = options.groupId
    this.groupInstanceId = options.groupInstanceId ?? null
    this.topics = [...options.topics]
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 45_000
    this.rebalanceTimeoutMs = options.rebalanceTimeoutMs ?? 300_000
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 3000
    this.assignors = options.assignors ?? [rangeAssignor, cooperativeStickyAssignor]
    this.rackId = options.rackId ?? null
  }

  get memberId(): string {
    return this._memberId
  }

  get generationId(): number {
    return this._generationId
  }

  /** The partitions this member owns now. */
  assignment(): TopicPartition[] {
    return [...this.owned]
  }

  /** Joins the group; resolves after the first assignment, rejects when the member cannot join at all. */
  start(): Promise<void> {
    if (this.loop) throw new KafkaxError('the group member was started already', 'ESTATE')
    let first!: Deferred
    const joined = new Promise<void>((resolve, reject) => {
      first = { resolve, reject }
    })
    this.loop = this.run(first)
    this.scheduleHeartbeat()
    this.metadataTimer = setInterval(() => this.refreshWatched(), METADATA_CHECK_MS)
    this.metadataTimer.unref()
    return joined
  }

  /** Asks for a rejoin (e.g. subscription changed); the current assignment is kept until it completes. */
  requestRejoin(reason?: string): void {
    this.rejoinNeeded = true
    this.rejoinReason = reason ?? null
    const wake = this.wakeup
    this.wakeup = undefined
    wake?.()
  }

  /** Revokes the assignment, then leaves the group (static members keep their slot until the session times out). */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown()
    return this.stopped
  }

  private async shutdown(): Promise<void> {
    this.stopping = true
    // a JoinGroup may be held by the broker for the rebalance timeout: drop it, LeaveGroup follows
    if (this.state === 'joining') this.closeCoordinatorConnection()
    this.requestRejoin()
    await this.loop
    clearInterval(this.metadataTimer)
    // heartbeats go on while the consumer commits in onRevoked
    await this.release()
    clearTimeout(this.heartbeatTimer)
    this.heartbeatTimer = undefined
    if (this.groupInstanceId === null && this._memberId !== '') await this.leave()
    this._memberId = ''
    this._generationId = -1
    this.state = 'unjoined'
    this.closeCoordinatorConnection()
  }

  /**
   * Commits offsets with this member's generation. Retriable errors are retried; ErrorCode.REBALANCE_IN_PROGRESS,
   * ErrorCode.ILLEGAL_GENERATION and ErrorCode.UNKNOWN_MEMBER_ID are thrown as KafkaError for the caller to decide.
   */
  async commit(offsets: OffsetToCommit[]): Promise<void> {
    if (offsets.length === 0) return
    await this.cluster.retry.run(async () => {
      const who = {
        groupId: this.groupId,
        generationId: this._generationId,
        memberId: this._memberId,
        groupInstanceId: this.groupInstanceId,
      }
      const response = await this.coordinatorRequest(OffsetCommit, MAX_OFFSET_COMMIT_VERSION, (v) =>
        offsetCommitRequest(v, who, offsets),
      )
      const error = offsetCommitError(response)
      if (error) {
        this.checkCoordinatorError(error.code)
        throw error
      }
    })
  }

  /** Committed offsets by tpKey (null: none). `requireStable` waits out pending transactional commits (read_committed). */
  committed(
    partitions: TopicPartition[],
    requireStable = false,
  ): Promise<Map<string /* tpKey */, CommittedOffset | null>> {
    if (partitions.length === 0) return Promise.resolve(new Map())
    return this.cluster.retry.run(async () => {
      let version = 0
      const response = await this.coordinatorRequest(OffsetFetch, MAX_OFFSET_FETCH_VERSION, (v) => {
        version = v
        return offsetFetchRequest(v, this.groupId, partitions, requireStable)
      })
      try {
        return offsetFetchResult(version, this.groupId, response)
      } catch (error) {
        if (error instanceof KafkaError) this.checkCoordinatorError(error.code)
        throw error
      }
    })
  }

  // ------------------------------------------------------------------------------------------
  // The rebalance loop

  private async run(first: Deferred): Promise<void> {
    let failures = 0
    let joined = false
    while (!this.stopping) {
      if (!this.rejoinNeeded) {
        await new Promise<void>((resolve) => {
          this.wakeup = resolve
        })
        continue
      }
      try {
        await this.rebalance()
        failures = 0
        if (!joined) first.resolve()
        joined = true
      } catch (error) {
        if (this.stopping) break
        if (!isRecoverable(error)) {
          // the consumer decides; owned partitions can no longer be committed safely
          this.lost = true
          this.state = 'unjoined'
          if (joined) this.report(error)
          else first.reject(error)
          return
        }
        this.rejoinNeeded = true
        await sleep(this.cluster.retry.delay(++failures))
      }
    }
    if (!joined) first.reject(new KafkaxError('the group member was stopped before it joined', 'ESTATE'))
  }

  private async rebalance(): Promise<void> {
    await this.prepare()
    const join = await this.join()
    const assigned = await this.sync(join)
    const { revoked, added } = diffAssignment(this.owned, assigned)
    this.state = 'stable'
    // cooperative: partitions that stay were never revoked; only those leaving are, now
    await this.notify('onRevoked', revoked)
    this.owned = assigned
    this.ownedGeneration = this._generationId
    await this.notify('onAssigned', added)
    if (revoked.length > 0 && this.protocol?.rebalanceProtocol === 'cooperative')
      this.requestRejoin('revoked partitions can now be given to their new owners')
  }

  /** Before JoinGroup: lost partitions are reported; eager members give up all theirs. */
  private async prepare(): Promise<void> {
    if (this.lost) {
      this.lost = false
      const lost = this.owned
      this.owned = []
      await this.notify('onLost', lost)
    } else if (this.protocol?.rebalanceProtocol !== 'cooperative') {
      const revoked = this.owned
      this.owned = []
      await this.notify('onRevoked', revoked)
    }
  }

  private async join(): Promise<JoinGroupResponse> {
    for (;;) {
      this.state = 'joining'
      this.rejoinNeeded = false
      const reason = this.rejoinReason
      this.rejoinReason = null
      const subscription = encodeSubscription({
        topics: this.topics,
        ownedPartitions: this.owned,
        generationId: this.ownedGeneration,
        rackId: this.rackId,
      })
      const response = await this.coordinatorRequest(
        JoinGroup,
        Number.POSITIVE_INFINITY,
        () => ({
          groupId: this.groupId,
          sessionTimeoutMs: this.sessionTimeoutMs,
          rebalanceTimeoutMs: this.rebalanceTimeoutMs,
          memberId: this._memberId,
          groupInstanceId: this.groupInstanceId,
          protocolType: 'consumer',
          protocols: this.assignors.map((a) => ({ name: a.name, metadata: subscription })),
          reason,
        }),
        this.rebalanceTimeoutMs + JOIN_EXTRA_TIMEOUT_MS,
      )
      if (response.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        // KIP-394: the broker names us first, then waits for the join with that id
        this._memberId = response.memberId
        continue
      }
      if (response.errorCode !== 0) {
        this.membershipError(response.errorCode)
        throw kafkaError(response.errorCode, `JoinGroup ${this.groupId}`)
      }
      const protocol = this.assignors.find((a) => a.name === response.protocolName)
      if (!protocol)
        throw kafkaError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, `the broker chose ${response.protocolName}`)
      this.protocol = protocol
      this._memberId = response.memberId
      this._generationId = response.generationId
      this.state = 'syncing'
      return response
    }
  }

  private async sync(join: JoinGroupResponse): Promise<TopicPartition[]> {
    const leader = join.leader === this._memberId
    let assignments: SyncGroupRequestAssignment[] = []
    if (leader && !join.skipAssignment) assignments = await this.assign(join)
    else if (!leader) this.watched = undefined
    const response = await this.coordinatorRequest(SyncGroup, Number.POSITIVE_INFINITY, () => ({
      groupId: this.groupId,
      generationId: this._generationId,
      memberId: this._memberId,
      groupInstanceId: this.groupInstanceId,
      protocolType: 'consumer',
      protocolName: join.protocolName,
      assignments,
    }))
    if (response.errorCode !== 0) {
      this.membershipError(response.errorCode)
      throw kafkaError(response.errorCode, `SyncGroup ${this.groupId}`)
    }
    // an empty assignment (no bytes) is what the broker hands members it has nothing for
    return response.assignment.length === 0 ? [] : decodeAssignment(response.assignment).partitions
  }

  /** The leader's part: the chosen assignor over every member's subscription and the partition counts. */
  private async assign(join: JoinGroupResponse): Promise<SyncGroupRequestAssignment[]> {
    const members: MemberSubscription[] = join.members.map((m) => {
      const s = decodeSubscription(m.metadata)
      return {
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        topics: s.topics,
        ownedPartitions: s.ownedPartitions,
        generationId: s.generationId,
        rackId: s.rackId,
      }
    })
    this.watchedTopics = [...new Set(members.flatMap((m) => m.topics))]
    const counts = partitionCounts(await this.cluster.refreshMetadata(this.watchedTopics), this.watchedTopics)
    this.watched = counts
    const plan = this.protocol!.assign(members, counts)
    return members.map((m) => ({ memberId: m.memberId, assignment: encodeAssignment(plan.get(m.memberId) ?? []) }))
  }

  /** Resets what an error says is no longer valid; the caller then rejoins. */
  private membershipError(errorCode: number): void {
    if (errorCode === ErrorCode.UNKNOWN_MEMBER_ID || errorCode === ErrorCode.FENCED_INSTANCE_ID) this._memberId = ''
    if (
      errorCode === ErrorCode.UNKNOWN_MEMBER_ID ||
      errorCode === ErrorCode.ILLEGAL_GENERATION ||
      errorCode === ErrorCode.FENCED_INSTANCE_ID
    )
      this._generationId = -1
    this.checkCoordinatorError(errorCode)
  }

  /** Revokes (or, when the membership was lost, reports lost) every owned partition. */
  private async release(): Promise<void> {
    const owned = this.owned
    this.owned = []
    await this.notify(this.lost || this._generationId < 0 ? 'onLost' : 'onRevoked', owned)
    this.lost = false
  }

  private async leave(): Promise<void> {
    const memberId = this._memberId
    try {
      const response = await this.coordinatorRequest(LeaveGroup, Number.POSITIVE_INFINITY, (v) =>
        v >= 3
          ? {
              groupId: this.groupId,
              members: [{ memberId, groupInstanceId: null, reason: 'the consumer is stopping' }],
            }
          : { groupId: this.groupId, memberId },
      )
      const errorCode = response.errorCode || (response.members.find((m) => m.errorCode !== 0)?.errorCode ?? 0)
      // ErrorCode.UNKNOWN_MEMBER_ID: the group already let us go
      if (errorCode !== 0 && errorCode !== ErrorCode.UNKNOWN_MEMBER_ID)
        this.report(kafkaError(errorCode, `LeaveGroup ${this.groupId}`))
    } catch (error) {
      // the session timeout removes us anyway
      this.report(error)
    }
  }

  /** Calls the listener, reporting (not waiting out) one that runs past the rebalance timeout. */
  private async notify(kind: 'onAssigned' | 'onRevoked' | 'onLost', partitions: TopicPartition[]): Promise<void> {
    if (partitions.length === 0) return
    const slow = setTimeout(
      () =>
        this.report(
          new TimeoutError(
            `${kind} of group ${this.groupId} ran past the rebalance timeout (${this.rebalanceTimeoutMs} ms): the group may have moved on`,
          ),
        ),
      this.rebalanceTimeoutMs,
    )
    try {
      await this.listener[kind](partitions)
    } catch (error) {
      this.report(error)
    } finally {
      clearTimeout(slow)
    }
  }

  private report(error: unknown): void {
    try {
      this.listener.onError?.(error instanceof Error ? error : new Error(String(error)))
    } catch {
      // a throwing error handler must not break the membership
    }
  }

  // ------------------------------------------------------------------------------------------
  // Heartbeats and the leader's metadata watch

  private scheduleHeartbeat(): void {
    this.heartbeatTimer = setTimeout(() => void this.heartbeat(), this.heartbeatIntervalMs)
    this.heartbeatTimer.unref()
  }

  private async heartbeat(): Promise<void> {
    // during JoinGroup the join itself keeps the session; without a generation there is nothing to keep
    const state = this.state
    if ((state === 'stable' || state === 'syncing') && this._generationId >= 0) {
      const generationId = this._generationId
      try {
        const response = await this.coordinatorRequest(Heartbeat, Number.POSITIVE_INFINITY, () => ({
          groupId: this.groupId,
          generationId,
          memberId: this._memberId,
          groupInstanceId: this.groupInstanceId,
        }))
        // an answer about a generation we have left since tells nothing
        if (generationId === this._generationId && this.state !== 'joining')
          this.heartbeatAnswer(response.errorCode, state)
      } catch (error) {
        // connection trouble: the coordinator was forgotten, the next beat finds it again
        if (!(error instanceof KafkaxError && error.retriable)) this.report(error)
      }
      this.checkWatched()
    }
    if (this.heartbeatTimer) this.scheduleHeartbeat()
  }

  private heartbeatAnswer(errorCode: number, sentIn: State): void {
    if (errorCode === 0) return
    if (errorCode === ErrorCode.REBALANCE_IN_PROGRESS) {
      // while syncing, the SyncGroup answer says the same
      if (sentIn === 'stable') this.requestRejoin('the group is rebalancing')
    } else if (
      errorCode === ErrorCode.UNKNOWN_MEMBER_ID ||
      errorCode === ErrorCode.ILLEGAL_GENERATION ||
      errorCode === ErrorCode.FENCED_INSTANCE_ID
    ) {
      this.membershipError(errorCode)
      // partitions already handed back (eager revocation under way) are not lost
      if (this.owned.length > 0) this.lost = true
      this.requestRejoin(`heartbeat: ${kafkaError(errorCode).type}`)
    } else if (!this.checkCoordinatorError(errorCode)) {
      this.report(kafkaError(errorCode, `Heartbeat ${this.groupId}`))
    }
  }

  /** The leader asks for a rejoin when a topic of the group gained partitions or appeared. */
  private checkWatched(): void {
    if (!this.watched || this.state !== 'stable') return
    if (!sameCounts(this.watched, partitionCounts(this.cluster.metadata, this.watchedTopics)))
      this.requestRejoin('the partition count of a subscribed topic changed')
  }

  private refreshWatched(): void {
    if (!this.watched) return
    this.cluster.refreshMetadata(this.watchedTopics).then(
      () => this.checkWatched(),
      () => {}, // the next round tries again
    )
  }

  // ------------------------------------------------------------------------------------------
  // The coordinator

  /** True for the errors meaning the coordinator moved: it is looked up again on the next request. */
  private checkCoordinatorError(errorCode: number): boolean {
    if (errorCode !== ErrorCode.NOT_COORDINATOR && errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE) return false
    this.cluster.invalidateCoordinator('group', this.groupId)
    this.closeCoordinatorConnection()
    return true
  }

  private closeCoordinatorConnection(): void {
    const current = this.coordinatorConnection
    this.coordinatorConnection = undefined
    current?.connection.then(
      (c) => c.close(),
      () => {},
    )
  }

  private async connection(): Promise<Connection> {
    const nodeId = await this.cluster.coordinator('group', this.groupId)
    const current = this.coordinatorConnection
    if (current?.nodeId === nodeId) {
      const c = await current.connection.catch(() => undefined)
      if (c?.connected) return c
      if (this.coordinatorConnection === current) this.coordinatorConnection = undefined
    }
    if (this.coordinatorConnection?.nodeId !== nodeId) {
      this.closeCoordinatorConnection()
      this.coordinatorConnection = { nodeId, connection: this.open(nodeId) }
    }
    return this.coordinatorConnection.connection
  }

  private async open(nodeId: number): Promise<Connection> {
    const broker = this.cluster.metadata.brokers.get(nodeId)
    if (!broker) throw new ConnectionError(`coordinator ${nodeId} is not in the metadata`, { retriable: true })
    const connection = this.cluster.newConnection(broker)
    await connection.connect()
    return connection
  }

  /** One request to the coordinator at the highest version both sides (and `maxVersion`) allow. */
  private async coordinatorRequest<Req, Res>(
    api: Api<Req, Res>,
    maxVersion: number,
    body: (version: number) => Req,
    timeoutMs?: number,
  ): Promise<Res> {
    try {
      const connection = await this.connection()
      const version = Math.min(connection.versionFor(api), maxVersion)
      return await connection.request(api, body(version), { version, timeoutMs })
    } catch (error) {
      if (error instanceof ConnectionError || error instanceof TimeoutError) {
        this.cluster.invalidateCoordinator('group', this.groupId)
        this.closeCoordinatorConnection()
      }
      throw error
    }
  }
}

function isRecoverable(error: unknown): boolean {
  if (error instanceof KafkaError) return error.retriable || REJOIN_ERRORS.has(error.code)
  return error instanceof KafkaxError && error.retriable
}
