// Consumer-group membership with the classic protocol, as the Java client's ConsumerCoordinator:
// JoinGroup (member ids from the broker, KIP-394) and SyncGroup (the leader runs the assignor the
// broker chose), heartbeats, eager or cooperative (KIP-429) revocation, static membership (KIP-345),
// LeaveGroup, and offset commit/fetch with the member's generation.

import type { Cluster } from '../client/cluster.ts'
import { CoordinatorConnection } from '../client/coordinator.ts'
import { RetryPolicy, sleep } from '../client/retry.ts'
import type { TopicPartition } from '../client/topic-partition.ts'
import { defaultsOf } from '../options/schema.ts'
import { ErrorCode, kafkaError } from '../protocol/error-codes.ts'
import { KafkaError, KafkaxError } from '../protocol/errors.ts'
import type { JoinGroupResponse } from '../protocol/messages/generated/join-group-response.ts'
import type { SyncGroupRequestAssignment } from '../protocol/messages/generated/sync-group-request.ts'
import { Heartbeat, JoinGroup, LeaveGroup, SyncGroup } from '../protocol/messages/index.ts'
import {
  type Assignor,
  assignorByName,
  type CustomAssignor,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type MemberSubscription,
  subscriptionTopics,
} from './assignors.ts'
import { HeartbeatTimer } from './heartbeat.ts'
import { diffAssignment, type GroupListener, type GroupMembership, ListenerInvoker } from './membership.ts'
import { MetadataWatch } from './metadata-watch.ts'
import {
  type CommittedPosition,
  type GenerationIdentity,
  type OffsetToCommit,
  sendOffsetCommit,
  sendOffsetFetch,
} from './offsets.ts'
import { MEMBER_FIELDS } from './options.ts'

export interface ClassicGroupMemberOptions {
  groupId: string
  /** Static membership (KIP-345): the member keeps its slot across restarts within the session timeout. */
  groupInstanceId?: string
  /** The subscription: exact topic names... */
  topics: string[]
  /** ...and the topics of the metadata these match (matched again as topics appear and vanish). */
  patterns?: RegExp[]
  /** Default 45000, as Java's session.timeout.ms. */
  sessionTimeoutMs?: number
  /** As Java's max.poll.interval.ms: how long the group waits for members to rejoin. */
  rebalanceTimeoutMs?: number
  heartbeatIntervalMs?: number
  /** In order of preference (default: those MEMBER_FIELDS names, as Java). */
  assignors?: (Assignor | CustomAssignor)[]
  rackId?: string
}

/** Answers after which a rejoin is the way forward (the member itself is not broken). */
const REJOIN_ERRORS = new Set<number>([
  ErrorCode.MEMBER_ID_REQUIRED,
  ErrorCode.UNKNOWN_MEMBER_ID,
  ErrorCode.ILLEGAL_GENERATION,
  ErrorCode.REBALANCE_IN_PROGRESS,
])
/** Java gives JoinGroup the rebalance timeout plus this, as the broker may hold it that long. */
const JOIN_EXTRA_TIMEOUT_MS = 5000

type State = 'unjoined' | 'joining' | 'syncing' | 'stable'
interface Deferred {
  resolve(): void
  reject(error: unknown): void
}

export class ClassicGroupMember implements GroupMembership {
  private readonly cluster: Cluster
  private readonly listener: ListenerInvoker
  private readonly groupId: string
  private readonly groupInstanceId: string | null
  /** The topics subscribed to in the last JoinGroup (with patterns: those they matched then). */
  private subscribed: string[] = []
  private readonly sessionTimeoutMs: number
  private readonly rebalanceTimeoutMs: number
  /** Retries of an OffsetFetch answered with UNSTABLE_OFFSET_COMMIT. */
  private readonly stableOffsets: RetryPolicy
  private readonly assignors: (Assignor | CustomAssignor)[]
  private readonly rackId: string | null

  private _memberId = ''
  private _generationId = -1
  private state: State = 'unjoined'
  /** The assignor the broker chose in the last JoinGroup: it decides eager or cooperative. */
  private protocol: Assignor | CustomAssignor | undefined
  private owned: TopicPartition[] = []
  /** The generation `owned` was assigned in: sent with the subscription (cooperative-sticky uses it). */
  private ownedGeneration = -1
  private lost = false
  /** Another member joined with our group instance id (a heartbeat said so): the member ends. */
  private fencedBy: KafkaError | undefined
  private rejoinNeeded = true
  private rejoinReason: string | null = null
  private stopping = false
  private stopped: Promise<void> | undefined
  private loop: Promise<void> | undefined
  private wakeup: (() => void) | undefined
  private readonly heartbeats: HeartbeatTimer
  /** The leader's view of the group's topics when it assigned them: a change means a rejoin. */
  private readonly watch: MetadataWatch
  private readonly coordinator: CoordinatorConnection

  constructor(cluster: Cluster, options: ClassicGroupMemberOptions, listener: GroupListener) {
    this.cluster = cluster
    this.groupId = options.groupId
    this.groupInstanceId = options.groupInstanceId ?? null
    const defaults = defaultsOf(MEMBER_FIELDS)
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? defaults.sessionTimeoutMs
    this.rebalanceTimeoutMs = options.rebalanceTimeoutMs ?? defaults.rebalanceTimeoutMs
    this.stableOffsets = new RetryPolicy({
      initialDelayMs: 200,
      maxDelayMs: 1000,
      maxAttempts: Number.MAX_SAFE_INTEGER,
      deadlineMs: this.rebalanceTimeoutMs,
    })
    this.assignors = options.assignors ?? defaults.assignors.map(assignorByName)
    this.rackId = options.rackId ?? null
    this.listener = new ListenerInvoker(listener, this.groupId, this.rebalanceTimeoutMs)
    this.heartbeats = new HeartbeatTimer(options.heartbeatIntervalMs ?? defaults.heartbeatIntervalMs, () =>
      this.heartbeat(),
    )
    this.watch = new MetadataWatch(cluster, () => this.checkWatched(), [...options.topics], options.patterns)
    this.coordinator = new CoordinatorConnection(cluster, 'group', this.groupId)
  }

  get memberId(): string {
    return this._memberId
  }

  get generationId(): number {
    return this._generationId
  }

  commitIdentity(): GenerationIdentity {
    return {
      groupId: this.groupId,
      generationId: this._generationId,
      memberId: this._memberId,
      groupInstanceId: this.groupInstanceId,
    }
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
    this.heartbeats.start()
    this.watch.start()
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
    if (this.state === 'joining') this.coordinator.close()
    this.requestRejoin()
    await this.loop
    this.watch.stop()
    // heartbeats go on while the consumer commits in onRevoked
    await this.release()
    this.heartbeats.stop()
    if (this.groupInstanceId === null && this._memberId !== '') await this.leave()
    this._memberId = ''
    this._generationId = -1
    this.state = 'unjoined'
    this.coordinator.close()
  }

  /**
   * Commits offsets with this member's generation. Retriable errors are retried; ErrorCode.REBALANCE_IN_PROGRESS,
   * ErrorCode.ILLEGAL_GENERATION and ErrorCode.UNKNOWN_MEMBER_ID are thrown as KafkaError for the caller to decide.
   */
  async commit(offsets: OffsetToCommit[]): Promise<void> {
    if (offsets.length === 0) return
    // each attempt commits as the member is then
    await this.cluster.retry.run(() => sendOffsetCommit(this.coordinator, this.commitIdentity(), offsets))
  }

  /**
   * Committed offsets by tpKey (null: none). `requireStable` waits out pending transactional commits
   * (read_committed): ErrorCode.UNSTABLE_OFFSET_COMMIT lasts until the transaction ends, which for a
   * producer that died in it is its transaction timeout, so it is retried within the rebalance
   * timeout (the Java consumer retries it until its poll gives up).
   */
  committed(
    partitions: TopicPartition[],
    requireStable = false,
  ): Promise<Map<string /* tpKey */, CommittedPosition | null>> {
    if (partitions.length === 0) return Promise.resolve(new Map())
    const fetch = () =>
      this.cluster.retry.run(() => sendOffsetFetch(this.coordinator, this.commitIdentity(), partitions, requireStable))
    if (!requireStable) return fetch()
    const unstable = (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.UNSTABLE_OFFSET_COMMIT
    return this.stableOffsets.run(fetch, { retriable: unstable })
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
          if (joined) this.listener.report(error)
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
    // the partitions were reported lost; the loop ends with the error
    if (this.fencedBy) throw this.fencedBy
    await this.watch.refreshSubscription()
    const join = await this.join()
    const assigned = await this.sync(join)
    const { revoked, added } = diffAssignment(this.owned, assigned)
    this.state = 'stable'
    // cooperative: partitions that stay were never revoked; only those leaving are, now
    await this.listener.notify('onRevoked', revoked)
    this.owned = assigned
    this.ownedGeneration = this._generationId
    await this.listener.notify('onAssigned', added)
    this.listener.joined({
      memberId: this._memberId,
      generationId: this._generationId,
      leaderId: join.leader,
      protocol: this.protocol!.name,
      assignment: [...assigned],
    })
    if (revoked.length > 0 && this.protocol?.rebalanceProtocol === 'cooperative')
      this.requestRejoin('revoked partitions can now be given to their new owners')
  }

  /** Before JoinGroup: lost partitions are reported; eager members give up all theirs. */
  private async prepare(): Promise<void> {
    if (this.lost) {
      this.lost = false
      const lost = this.owned
      this.owned = []
      await this.listener.notify('onLost', lost)
    } else if (this.protocol?.rebalanceProtocol !== 'cooperative') {
      const revoked = this.owned
      this.owned = []
      await this.listener.notify('onRevoked', revoked)
    }
  }

  private async join(): Promise<JoinGroupResponse> {
    for (;;) {
      this.state = 'joining'
      this.rejoinNeeded = false
      const reason = this.rejoinReason
      this.rejoinReason = null
      this.subscribed = this.watch.subscription()
      const subscription = encodeSubscription({
        topics: this.subscribed,
        ownedPartitions: this.owned,
        generationId: this.ownedGeneration,
        rackId: this.rackId,
      })
      const protocols = await Promise.all(
        this.assignors.map(async (a) => ({
          name: a.name,
          metadata: 'subscription' in a ? await a.subscription(this.subscribed) : subscription,
        })),
      )
      const response = await this.coordinator.request(
        JoinGroup,
        Number.POSITIVE_INFINITY,
        () => ({
          groupId: this.groupId,
          sessionTimeoutMs: this.sessionTimeoutMs,
          rebalanceTimeoutMs: this.rebalanceTimeoutMs,
          memberId: this._memberId,
          groupInstanceId: this.groupInstanceId,
          protocolType: 'consumer',
          protocols,
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
    else if (!leader) this.watch.clear()
    const response = await this.coordinator.request(SyncGroup, Number.POSITIVE_INFINITY, () => ({
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
    const custom = 'subscription' in this.protocol!
    const members: MemberSubscription[] = join.members.map((m) => {
      // a custom assignor's metadata is its own beyond the topics: it reads the rest itself
      const s = custom
        ? { topics: subscriptionTopics(m.metadata), ownedPartitions: [], generationId: -1, rackId: null }
        : decodeSubscription(m.metadata)
      return {
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        topics: s.topics,
        ownedPartitions: s.ownedPartitions,
        generationId: s.generationId,
        rackId: s.rackId,
        metadata: m.metadata,
      }
    })
    const counts = await this.watch.snapshot([...new Set(members.flatMap((m) => m.topics))])
    const plan = await this.protocol!.assign(members, counts)
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
    this.coordinator.checkError(errorCode)
  }

  /** Revokes (or, when the membership was lost, reports lost) every owned partition. */
  private async release(): Promise<void> {
    const owned = this.owned
    this.owned = []
    await this.listener.notify(this.lost || this._generationId < 0 ? 'onLost' : 'onRevoked', owned)
    this.lost = false
  }

  private async leave(): Promise<void> {
    const memberId = this._memberId
    try {
      const response = await this.coordinator.request(LeaveGroup, Number.POSITIVE_INFINITY, (v) =>
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
        this.listener.report(kafkaError(errorCode, `LeaveGroup ${this.groupId}`))
    } catch (error) {
      // the session timeout removes us anyway
      this.listener.report(error)
    }
  }

  // ------------------------------------------------------------------------------------------
  // Heartbeats and the leader's metadata watch

  private async heartbeat(): Promise<undefined> {
    // during JoinGroup the join itself keeps the session; without a generation there is nothing to keep
    const state = this.state
    if ((state === 'stable' || state === 'syncing') && this._generationId >= 0) {
      const generationId = this._generationId
      try {
        const response = await this.coordinator.request(Heartbeat, Number.POSITIVE_INFINITY, () => ({
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
        if (!(error instanceof KafkaxError && error.retriable)) this.listener.report(error)
      }
      this.checkWatched()
    }
  }

  private heartbeatAnswer(errorCode: number, sentIn: State): void {
    if (errorCode === 0) return
    if (errorCode === ErrorCode.REBALANCE_IN_PROGRESS) {
      // while syncing, the SyncGroup answer says the same
      if (sentIn === 'stable') this.requestRejoin('the group is rebalancing')
    } else if (errorCode === ErrorCode.FENCED_INSTANCE_ID) {
      // fatal, as in Java: a rejoin under the same instance id would fence the newer member in turn
      this.membershipError(errorCode)
      this.lost = true
      this.fencedBy = kafkaError(
        errorCode,
        `Heartbeat ${this.groupId}: another consumer joined with group instance id ${this.groupInstanceId}`,
      )
      this.requestRejoin()
    } else if (errorCode === ErrorCode.UNKNOWN_MEMBER_ID || errorCode === ErrorCode.ILLEGAL_GENERATION) {
      this.membershipError(errorCode)
      // partitions already handed back (eager revocation under way) are not lost
      if (this.owned.length > 0) this.lost = true
      this.requestRejoin(`heartbeat: ${kafkaError(errorCode).type}`)
    } else if (!this.coordinator.checkError(errorCode)) {
      this.listener.report(kafkaError(errorCode, `Heartbeat ${this.groupId}`))
    }
  }

  /** A rejoin when a topic of the group gained partitions or appeared (the leader), or the patterns match other topics. */
  private checkWatched(): void {
    if (this.state !== 'stable') return
    if (this.watch.changed()) this.requestRejoin('the partition count of a subscribed topic changed')
    else if (this.watch.subscription().join() !== this.subscribed.join())
      this.requestRejoin('the topics matching the subscription changed')
  }
}

function isRecoverable(error: unknown): boolean {
  if (error instanceof KafkaError) return error.retriable || REJOIN_ERRORS.has(error.code)
  return error instanceof KafkaxError && error.retriable
}
