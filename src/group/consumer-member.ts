// Consumer-group membership with the consumer protocol (KIP-848), as the Java client's
// ConsumerMembershipManager and ConsumerHeartbeatRequestManager: the broker assigns, the member
// only heartbeats (ConsumerGroupHeartbeat at the interval the broker dictates) and reconciles what
// it is given. The member id is the client's own (KIP-1082) for the life of the member; the member
// epoch is the broker's: 0 to join, -1 to leave (-2 for a static member, which keeps its slot for
// the session timeout). A fenced or unknown member gives everything up (lost) and joins again.
//
// Reconciliation: the assignment of a heartbeat answer names topics by id; those known (metadata)
// are reconciled, the others wait for a metadata refresh. Partitions leaving are revoked first (the
// consumer finishes their handlers and commits), then those added are assigned (they start from
// their committed offsets), and only then does the next heartbeat acknowledge the new assignment.
// Listener calls run one after the other, in the order the member makes them.

import { randomBytes } from 'node:crypto'
import type { Cluster } from '../client/cluster.ts'
import { CoordinatorConnection } from '../client/coordinator.ts'
import { sleep } from '../client/retry.ts'
import { type TopicPartition, tpKey } from '../client/topic-partition.ts'
import { ErrorCode, errorCode, kafkaError } from '../protocol/error-codes.ts'
import { KafkaError, KafkaxError } from '../protocol/errors.ts'
import type { ConsumerGroupHeartbeatResponse } from '../protocol/messages/generated/consumer-group-heartbeat-response.ts'
import { type Api, ConsumerGroupHeartbeatModule, loadApi } from '../protocol/messages/index.ts'
import { HeartbeatState, type HeartbeatSubscription } from './consumer-heartbeat.ts'
import { HeartbeatTimer } from './heartbeat.ts'
import { diffAssignment, type GroupListener, type GroupMembership, ListenerInvoker } from './membership.ts'
import {
  type CommittedPosition,
  type MemberEpochIdentity,
  type OffsetToCommit,
  sendOffsetCommit,
  sendOffsetFetch,
} from './offsets.ts'
import {
  type LocalAssignment,
  NO_ASSIGNMENT,
  nextTarget,
  resolveAssignment,
  sameAssignment,
  samePartitions,
} from './reconciliation.ts'

export interface ConsumerGroupMemberOptions {
  groupId: string
  /** Static membership (KIP-345 on the consumer protocol): the member keeps its slot across restarts within the session timeout. */
  groupInstanceId?: string
  /** Exact topic names. */
  topics: string[]
  /** A regular expression in RE2/J syntax, matched by the broker against every topic (KIP-848). */
  topicRegex?: string
  /** Default 300000 (Java's max.poll.interval.ms): how long the broker waits for a revocation. */
  rebalanceTimeoutMs?: number
  /** The server-side assignor by name: 'uniform' or 'range' (default: the broker's, uniform). */
  serverAssignor?: string
  rackId?: string
}

/** ConsumerGroupHeartbeat v1 is the first with member ids from the client (KIP-1082) and regexes (Kafka 4.0). */
const MIN_HEARTBEAT_VERSION = 1
const MAX_HEARTBEAT_VERSION = 1
/** ConsumerGroupHeartbeatRequest.json: the epochs a member joins and leaves with. */
const JOIN_EPOCH = 0
const LEAVE_EPOCH = -1
const LEAVE_STATIC_EPOCH = -2
/** Until the broker's first answer says otherwise (group.consumer.heartbeat.interval.ms). */
const DEFAULT_HEARTBEAT_INTERVAL_MS = 5000

/** The member's states, as the Java client's MemberState. */
type State =
  | 'unsubscribed'
  | 'joining'
  | 'reconciling'
  | 'acknowledging'
  | 'stable'
  | 'fenced'
  | 'prepare-leaving'
  | 'leaving'
  | 'fatal'

interface Deferred {
  resolve(): void
  reject(error: unknown): void
}

/** A member id as the Java client makes one (Uuid.randomUuid().toString()): 16 random bytes, base64url. */
function newMemberId(): string {
  return randomBytes(16).toString('base64url')
}

export class ConsumerGroupMember implements GroupMembership {
  /** The client's own member id (KIP-1082), kept for the life of this member. */
  readonly memberId = newMemberId()
  private readonly cluster: Cluster
  private readonly listener: ListenerInvoker
  private readonly groupId: string
  private readonly groupInstanceId: string | null
  private readonly subscription: HeartbeatSubscription
  private readonly coordinator: CoordinatorConnection
  private readonly heartbeats: HeartbeatTimer
  private readonly fields = new HeartbeatState()
  private api: Api | undefined

  private _memberEpoch = JOIN_EPOCH
  private state: State = 'unsubscribed'
  /** The latest assignment the broker sent, and the part of it reconciled (acknowledged with the next heartbeat). */
  private target: LocalAssignment = NO_ASSIGNMENT
  private current: LocalAssignment = NO_ASSIGNMENT
  private owned: TopicPartition[] = []
  /** Names of the topics assigned, by id: an assigned topic stays resolvable if it leaves the metadata. */
  private readonly names = new Map<string, string>()
  private reconciling = false
  /** The member rejoined while a reconciliation ran: what it was doing no longer applies. */
  private rejoined = false
  private resolving = false
  private resolveAttempts = 0
  /** Listener calls, one after the other. */
  private callbacks: Promise<void> = Promise.resolve()
  /** Heartbeat failures in a row: the backoff grows with them. */
  private failures = 0
  private first: Deferred | undefined
  private joined = false
  private stopped: Promise<void> | undefined

  constructor(cluster: Cluster, options: ConsumerGroupMemberOptions, listener: GroupListener) {
    this.cluster = cluster
    this.groupId = options.groupId
    this.groupInstanceId = options.groupInstanceId ?? null
    const rebalanceTimeoutMs = options.rebalanceTimeoutMs ?? 300_000
    this.subscription = {
      topics: [...options.topics],
      topicRegex: options.topicRegex ?? null,
      serverAssignor: options.serverAssignor ?? null,
      rackId: options.rackId ?? null,
      rebalanceTimeoutMs,
    }
    this.listener = new ListenerInvoker(listener, this.groupId, rebalanceTimeoutMs)
    this.coordinator = new CoordinatorConnection(cluster, 'group', this.groupId)
    this.heartbeats = new HeartbeatTimer(DEFAULT_HEARTBEAT_INTERVAL_MS, () => this.heartbeat())
  }

  get memberEpoch(): number {
    return this._memberEpoch
  }

  commitIdentity(): MemberEpochIdentity {
    return {
      groupId: this.groupId,
      memberId: this.memberId,
      memberEpoch: this._memberEpoch,
      groupInstanceId: this.groupInstanceId,
    }
  }

  assignment(): TopicPartition[] {
    return [...this.owned]
  }

  /** Joins the group; resolves once the first assignment (maybe empty) is reconciled. */
  start(): Promise<void> {
    if (this.first) throw new KafkaxError('the group member was started already', 'ESTATE')
    const joined = new Promise<void>((resolve, reject) => {
      this.first = { resolve, reject }
    })
    loadApi(ConsumerGroupHeartbeatModule).then(
      (api) => {
        this.api = api
        if (this.stopped) return
        this.heartbeats.start()
        this.join()
      },
      (error) => this.fatal(error),
    )
    return joined
  }

  /** The subscription is sent with every heartbeat that changed it: nothing to rejoin for, a beat now. */
  requestRejoin(): void {
    this.heartbeats.now()
  }

  /** Revokes the assignment (the listener may still commit), then leaves with epoch -1 (-2 when static). */
  stop(): Promise<void> {
    this.stopped ??= this.leave()
    return this.stopped
  }

  /**
   * Commits with the member epoch. Retriable errors are retried, and so is STALE_MEMBER_EPOCH while
   * the member is in the group (as Java's commit before revocation: with the latest epoch); an
   * unknown member, or a stale one out of the group, is thrown as KafkaError for the caller to decide.
   */
  async commit(offsets: OffsetToCommit[]): Promise<void> {
    if (offsets.length === 0) return
    await this.asMember((who) => sendOffsetCommit(this.coordinator, who, offsets))
  }

  /** Committed offsets by tpKey (null: none), fetched as this member and its epoch (OffsetFetch v9+). */
  committed(
    partitions: TopicPartition[],
    requireStable = false,
  ): Promise<Map<string /* tpKey */, CommittedPosition | null>> {
    if (partitions.length === 0) return Promise.resolve(new Map())
    return this.asMember((who) => sendOffsetFetch(this.coordinator, who, partitions, requireStable))
  }

  /** Runs a request as the member is at each attempt, retrying a stale epoch when a newer one is known. */
  private asMember<T>(send: (who: MemberEpochIdentity) => Promise<T>): Promise<T> {
    return this.cluster.retry.run(() => send(this.commitIdentity()), {
      // the epoch moves on in the heartbeat answers: again with the latest while still a member
      retriable: (error) =>
        error instanceof KafkaError && error.code === ErrorCode.STALE_MEMBER_EPOCH
          ? this._memberEpoch > 0
          : error instanceof KafkaxError && error.retriable,
    })
  }

  // ------------------------------------------------------------------------------------------
  // Heartbeats

  private async heartbeat(): Promise<number | undefined> {
    const state = this.state
    if (state === 'unsubscribed' || state === 'fenced' || state === 'fatal' || state === 'leaving') return
    const api = this.api!
    const request = this.fields.build(
      {
        groupId: this.groupId,
        memberId: this.memberId,
        memberEpoch: this._memberEpoch,
        instanceId: this.groupInstanceId,
      },
      // epoch 0: joining, with every field (also when a rejoin comes while leaving)
      this._memberEpoch === JOIN_EPOCH,
      this.subscription,
      this.current,
    )
    // the acknowledgement is on its way: reconcile what came since, if anything
    if (state === 'acknowledging') {
      this.state = sameAssignment(this.current, this.target) ? 'stable' : 'reconciling'
      this.maybeReconcile()
    }
    let response: ConsumerGroupHeartbeatResponse
    try {
      response = await this.coordinator.request(api, MAX_HEARTBEAT_VERSION, (version) => {
        if (version < MIN_HEARTBEAT_VERSION)
          throw kafkaError(
            ErrorCode.UNSUPPORTED_VERSION,
            `the broker offers ConsumerGroupHeartbeat v${version} at most`,
          )
        return request
      })
    } catch (error) {
      this.fields.reset()
      if (error instanceof KafkaxError && error.retriable) return this.cluster.retry.delay(++this.failures)
      this.fatal(
        error instanceof KafkaError && error.code === ErrorCode.UNSUPPORTED_VERSION
          ? unsupported(error.message)
          : error,
      )
      return
    }
    if (response.errorCode !== 0) return this.heartbeatError(response)
    this.failures = 0
    if (response.heartbeatIntervalMs > 0) this.heartbeats.intervalMs = response.heartbeatIntervalMs
    this.heartbeatAnswer(response)
  }

  /** As Java's onHeartbeatSuccess: the epoch and a new assignment, unless the member is no longer in the group. */
  private heartbeatAnswer(response: ConsumerGroupHeartbeatResponse): void {
    const state = this.state
    if (state === 'leaving' || state === 'unsubscribed' || state === 'fenced' || state === 'fatal') return
    if (response.memberEpoch < 0) return
    this._memberEpoch = response.memberEpoch
    // a member on its way out takes nothing new
    if (response.assignment === null || state === 'prepare-leaving') return
    this.target = nextTarget(this.target, response.assignment.topicPartitions)
    if (!sameAssignment(this.current, this.target)) {
      this.state = 'reconciling'
      this.maybeReconcile()
    } else if (this.state === 'reconciling' || this.state === 'joining') this.stable()
  }

  /** As Java's AbstractHeartbeatRequestManager.onErrorResponse; returns the delay before the next beat. */
  private heartbeatError(response: ConsumerGroupHeartbeatResponse): number | undefined {
    this.fields.reset()
    const code = response.errorCode
    const detail = `ConsumerGroupHeartbeat ${this.groupId}${response.errorMessage ? `: ${response.errorMessage}` : ''}`
    switch (code) {
      case ErrorCode.NOT_COORDINATOR:
      case ErrorCode.COORDINATOR_NOT_AVAILABLE:
        // found again on the next beat, which goes at once
        this.coordinator.checkError(code)
        return 0
      case ErrorCode.FENCED_MEMBER_EPOCH:
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.fenced()
        return 0
      default:
        // COORDINATOR_LOAD_IN_PROGRESS and other passing troubles: again after a backoff
        if (errorCode(code).retriable) return this.cluster.retry.delay(++this.failures)
        // GROUP_AUTHORIZATION_FAILED, UNSUPPORTED_ASSIGNOR, UNRELEASED_INSTANCE_ID, FENCED_INSTANCE_ID,
        // INVALID_REGULAR_EXPRESSION, GROUP_MAX_SIZE_REACHED, INVALID_REQUEST...
        this.fatal(kafkaError(code, detail))
        return undefined
    }
  }

  // ------------------------------------------------------------------------------------------
  // Reconciliation

  private maybeReconcile(): void {
    if (this.state !== 'reconciling' || this.reconciling || sameAssignment(this.current, this.target)) return
    const resolved = resolveAssignment(this.target, (id) => this.nameOf(id))
    if (resolved.unresolved.length > 0) this.resolveTopics()
    else this.resolveAttempts = 0
    const assignment: LocalAssignment = { epoch: this.target.epoch, partitions: resolved.partitions }
    if (this.current !== NO_ASSIGNMENT && samePartitions(assignment.partitions, this.current.partitions)) {
      // nothing to do until the rest resolves: acknowledge what is owned, under the new local epoch
      this.current = assignment
      this.acknowledge()
      return
    }
    this.reconciling = true
    this.rejoined = false
    void this.reconcile(assignment, resolved.topicPartitions)
  }

  private async reconcile(assignment: LocalAssignment, partitions: TopicPartition[]): Promise<void> {
    const { revoked, added } = diffAssignment(this.owned, partitions)
    try {
      if (revoked.length > 0) {
        await this.notify('onRevoked', () => revoked)
        const gone = new Set(revoked.map((p) => tpKey(p.topic, p.partition)))
        this.owned = this.owned.filter((p) => !gone.has(tpKey(p.topic, p.partition)))
      }
      if (this.aborted()) return
      this.owned = partitions
      for (const id of this.names.keys()) if (!assignment.partitions.has(id)) this.names.delete(id)
      await this.notify('onAssigned', () => added)
      if (this.aborted()) return
      this.current = assignment
      this.acknowledge()
    } finally {
      this.reconciling = false
      this.rejoined = false
      this.maybeReconcile()
    }
  }

  private aborted(): boolean {
    return this.state !== 'reconciling' || this.rejoined
  }

  /** The next heartbeat, sent now, acknowledges the reconciled assignment. */
  private acknowledge(): void {
    this.state = 'acknowledging'
    this.markJoined()
    this.heartbeats.now()
  }

  private stable(): void {
    this.state = 'stable'
    this.markJoined()
  }

  private markJoined(): void {
    if (this.joined) return
    this.joined = true
    this.first?.resolve()
  }

  private nameOf(topicId: string): string | undefined {
    for (const t of this.cluster.metadata.topics.values()) {
      if (t.topicId === topicId && t.errorCode === 0) {
        this.names.set(topicId, t.name)
        return t.name
      }
    }
    return this.names.get(topicId)
  }

  /** Topic ids of an assignment unknown to the metadata: the metadata is refreshed, then reconciled again. */
  private resolveTopics(): void {
    if (this.resolving) return
    this.resolving = true
    // a topic just created may take a moment to reach every broker's metadata: a backoff between tries
    const wait = this.resolveAttempts === 0 ? 0 : this.cluster.retry.delay(this.resolveAttempts)
    this.resolveAttempts++
    // topics a regex matched are named nowhere: the metadata of every topic then
    const refresh = () =>
      this.subscription.topicRegex === null
        ? this.cluster.refreshMetadata(this.subscription.topics)
        : this.cluster.refreshAllTopics()
    sleep(wait)
      .then(refresh)
      .catch((error) => {
        if (!(error instanceof KafkaxError && error.retriable)) this.listener.report(error)
      })
      .finally(() => {
        this.resolving = false
        this.maybeReconcile()
      })
  }

  // ------------------------------------------------------------------------------------------
  // Joining, fencing, failing, leaving

  /** Joins with epoch 0 and every field; what a reconciliation under way was doing is dropped. */
  private join(): void {
    if (this.state === 'fatal') return
    if (this.reconciling) this.rejoined = true
    this._memberEpoch = JOIN_EPOCH
    this.state = 'joining'
    this.target = NO_ASSIGNMENT
    this.names.clear()
    this.heartbeats.now()
  }

  /** FENCED_MEMBER_EPOCH or UNKNOWN_MEMBER_ID: everything owned is lost (not committed), then the member rejoins. */
  private fenced(): void {
    const state = this.state
    if (state === 'prepare-leaving') {
      // leaving anyway: no leave heartbeat, no rejoin
      this._memberEpoch = this.leaveEpoch()
      this.state = 'unsubscribed'
      return
    }
    if (state === 'leaving' || state === 'unsubscribed') return
    this.state = 'fenced'
    this._memberEpoch = JOIN_EPOCH
    void this.notify('onLost', () => this.release()).then(() => {
      if (this.state === 'fenced') this.join()
    })
  }

  /** An error the member cannot recover from: reported (or start() rejects), the assignment lost. */
  private fatal(error: unknown): void {
    const state = this.state
    this.state = 'fatal'
    this.heartbeats.stop()
    if (this.joined) this.listener.report(error)
    else this.first?.reject(error)
    if (state === 'leaving' || state === 'prepare-leaving' || state === 'unsubscribed') return
    void this.notify('onLost', () => this.release())
  }

  private async leave(): Promise<void> {
    if (!this.joined) this.first?.reject(new KafkaxError('the group member was stopped before it joined', 'ESTATE'))
    const state = this.state
    if (state !== 'unsubscribed' && state !== 'fatal' && state !== 'fenced') {
      this.state = 'prepare-leaving'
      // heartbeats go on while the consumer commits in onRevoked
      await this.notify(this._memberEpoch > 0 ? 'onRevoked' : 'onLost', () => this.release())
      if (this.state === 'prepare-leaving') {
        this.state = 'leaving'
        this.heartbeats.stop()
        await this.heartbeats.settled()
        await this.sendLeave()
      }
    }
    this.heartbeats.stop()
    await this.callbacks
    this.release()
    this.state = 'unsubscribed'
    this.coordinator.close()
  }

  /** The leave heartbeat, sent once: the session timeout removes the member anyway if it is lost. */
  private async sendLeave(): Promise<void> {
    const epoch = this.leaveEpoch()
    this._memberEpoch = epoch
    try {
      const response = await this.coordinator.request(this.api!, MAX_HEARTBEAT_VERSION, () => ({
        groupId: this.groupId,
        memberId: this.memberId,
        memberEpoch: epoch,
        instanceId: this.groupInstanceId,
      }))
      // UNKNOWN_MEMBER_ID: the group let us go already
      if (response.errorCode !== 0 && response.errorCode !== ErrorCode.UNKNOWN_MEMBER_ID)
        this.listener.report(kafkaError(response.errorCode, `leaving group ${this.groupId}`))
    } catch (error) {
      this.listener.report(error)
    }
  }

  private leaveEpoch(): number {
    return this.groupInstanceId === null ? LEAVE_EPOCH : LEAVE_STATIC_EPOCH
  }

  /** Hands everything owned back: the assignment is cleared, what was owned returned. */
  private release(): TopicPartition[] {
    const owned = this.owned
    this.owned = []
    this.current = NO_ASSIGNMENT
    this.target = NO_ASSIGNMENT
    this.names.clear()
    return owned
  }

  /** Calls the listener after the calls before it; `partitions` is read when the call starts. */
  private notify(kind: 'onAssigned' | 'onRevoked' | 'onLost', partitions: () => TopicPartition[]): Promise<void> {
    const call = this.callbacks.then(() => this.listener.notify(kind, partitions()))
    this.callbacks = call
    return call
  }
}

/** What a broker without the consumer protocol (before Kafka 4.0, or with it disabled) answers. */
function unsupported(detail: string): KafkaError {
  return kafkaError(
    ErrorCode.UNSUPPORTED_VERSION,
    `groupProtocol 'consumer' (KIP-848) needs ConsumerGroupHeartbeat v${MIN_HEARTBEAT_VERSION}+, from Kafka 4.0; use groupProtocol 'classic' with this cluster (${detail})`,
  )
}
