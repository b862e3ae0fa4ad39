// A group of the consumer protocol (KIP-848, ConsumerGroupHeartbeat), as Kafka's GroupMetadataManager,
// ConsumerGroup and CurrentAssignmentBuilder: the coordinator owns the assignment. A change of
// membership, subscriptions or subscribed topics' partitions bumps the group epoch; the target
// assignment of that epoch is computed by the server assignor (uniform or range). Each member then
// moves towards its target on its own heartbeats: partitions it must give up are revoked first (it
// keeps its epoch, UNREVOKED_PARTITIONS, until its heartbeat no longer owns them), partitions still
// owned by another member wait (UNRELEASED_PARTITIONS), and a member that has all it should reaches
// the target epoch (STABLE). A member silent for the session timeout, or not revoking within its
// rebalance timeout, is fenced: removed, its partitions freed.

import { randomUUID } from 'node:crypto'
import { ErrorCode } from '../protocol/error-codes.ts'
import type { Clock, Timer } from './clock.ts'
import { CommittedOffsets } from './committed-offsets.ts'
import { SERVER_ASSIGNORS, type TopicAssignment } from './server-assignors.ts'
import type { TopicRegistry } from './topics.ts'

export type MemberState = 'STABLE' | 'UNREVOKED_PARTITIONS' | 'UNRELEASED_PARTITIONS'

export interface ConsumerSettings {
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  /** group.consumer.assignors: the first is the default. */
  assignors: readonly string[]
}

const LEAVE_EPOCH = -1
const STATIC_LEAVE_EPOCH = -2

export interface HeartbeatRequest {
  memberId: string
  memberEpoch: number
  instanceId: string | null
  rackId: string | null
  rebalanceTimeoutMs: number
  subscribedTopicNames: string[] | null
  subscribedTopicRegex: string | null
  serverAssignor: string | null
  ownedTopicPartitions: { topicId: string; partitions: number[] }[] | null
  clientId: string
  clientHost: string
}

export interface HeartbeatResult {
  errorCode: number
  errorMessage: string | null
  memberId: string | null
  memberEpoch: number
  heartbeatIntervalMs: number
  assignment: { topicPartitions: { topicId: string; partitions: number[] }[] } | null
}

export class ConsumerMember {
  memberEpoch = 0
  previousMemberEpoch = 0
  state: MemberState = 'STABLE'
  assigned: TopicAssignment = new Map()
  pendingRevocation: TopicAssignment = new Map()
  rackId: string | null = null
  rebalanceTimeoutMs = 300_000
  subscribedTopicNames: string[] = []
  subscribedTopicRegex: string | null = null
  serverAssignor: string | null = null
  clientId = ''
  clientHost = ''
  session: Timer | undefined
  rebalance: Timer | undefined

  constructor(
    public memberId: string,
    public instanceId: string | null,
  ) {}
}

export class ConsumerGroup {
  readonly type = 'consumer' as const
  groupEpoch = 0
  targetAssignmentEpoch = 0
  readonly members = new Map<string, ConsumerMember>()
  private target = new Map<string, TopicAssignment>()
  /** topicId:partition -> epoch of the member holding it (assigned or pending revocation). */
  private readonly partitionEpochs = new Map<string, number>()
  private subscriptionFingerprint = ''

  constructor(
    readonly groupId: string,
    private readonly clock: Clock,
    private readonly settings: ConsumerSettings,
    private readonly topics: TopicRegistry,
    readonly offsets = new CommittedOffsets(),
  ) {}

  get isEmpty(): boolean {
    return this.members.size === 0
  }

  /** Empty, Assigning (target behind the group epoch), Reconciling (members behind the target), Stable. */
  get state(): string {
    if (this.members.size === 0) return 'Empty'
    if (this.groupEpoch !== this.targetAssignmentEpoch) return 'Assigning'
    for (const m of this.members.values()) if (m.memberEpoch !== this.targetAssignmentEpoch) return 'Reconciling'
    return 'Stable'
  }

  heartbeat(request: HeartbeatRequest): HeartbeatResult {
    const fail = (errorCode: number, errorMessage: string | null = null): HeartbeatResult => ({
      errorCode,
      errorMessage,
      memberId: null,
      memberEpoch: 0,
      heartbeatIntervalMs: 0,
      assignment: null,
    })
    if (request.memberEpoch === LEAVE_EPOCH || request.memberEpoch === STATIC_LEAVE_EPOCH) return this.leave(request)
    const assignor = request.serverAssignor
    if (assignor !== null && !this.settings.assignors.includes(assignor))
      return fail(
        ErrorCode.UNSUPPORTED_ASSIGNOR,
        `ServerAssignor ${assignor} is not supported. Supported assignors: ${this.settings.assignors.join(', ')}.`,
      )
    if (request.subscribedTopicRegex !== null && request.subscribedTopicRegex !== '') {
      try {
        new RegExp(request.subscribedTopicRegex)
      } catch {
        return fail(
          ErrorCode.INVALID_REGULAR_EXPRESSION,
          `SubscribedTopicRegex \`${request.subscribedTopicRegex}\` is not a valid regular expression.`,
        )
      }
    }

    let member: ConsumerMember
    let bump = false
    const memberId = request.memberId === '' ? randomUUID() : request.memberId
    if (request.memberEpoch === 0) {
      const existingStatic = request.instanceId !== null ? this.staticMember(request.instanceId) : undefined
      if (existingStatic && existingStatic.memberId !== memberId) {
        if (existingStatic.memberEpoch !== STATIC_LEAVE_EPOCH)
          return fail(
            ErrorCode.UNRELEASED_INSTANCE_ID,
            `Static member ${memberId} with instance id ${request.instanceId} cannot join the group because the instance id is owned by ${existingStatic.memberId} member.`,
          )
        // the static member comes back: the new incarnation takes over its assignment
        member = this.replaceStatic(existingStatic, memberId)
      } else {
        const known = this.members.get(memberId)
        // a member rejoining with epoch 0 starts over: whatever it held is released
        if (known) this.removeMember(known)
        member = new ConsumerMember(memberId, request.instanceId)
        this.members.set(memberId, member)
        bump = true
      }
    } else {
      const known = this.members.get(memberId)
      if (!known)
        return fail(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${memberId} is not a member of group ${this.groupId}.`)
      if (
        request.memberEpoch > known.memberEpoch ||
        (request.memberEpoch < known.memberEpoch &&
          (request.memberEpoch !== known.previousMemberEpoch ||
            !isSubset(request.ownedTopicPartitions, known.assigned)))
      )
        return fail(
          ErrorCode.FENCED_MEMBER_EPOCH,
          `The consumer group member has an epoch (${request.memberEpoch}) other than the one known by the group coordinator (${known.memberEpoch}). The member must abandon all its partitions and rejoin.`,
        )
      member = known
    }

    // 1. the member's fields; a new subscription bumps the group epoch
    if (request.rackId !== null) member.rackId = request.rackId
    if (request.rebalanceTimeoutMs !== -1) member.rebalanceTimeoutMs = request.rebalanceTimeoutMs
    if (request.serverAssignor !== null) member.serverAssignor = request.serverAssignor
    if (request.subscribedTopicNames !== null && !sameList(request.subscribedTopicNames, member.subscribedTopicNames)) {
      member.subscribedTopicNames = [...request.subscribedTopicNames]
      bump = true
    }
    if (request.subscribedTopicRegex !== null && request.subscribedTopicRegex !== (member.subscribedTopicRegex ?? '')) {
      member.subscribedTopicRegex = request.subscribedTopicRegex === '' ? null : request.subscribedTopicRegex
      bump = true
    }
    member.clientId = request.clientId
    member.clientHost = request.clientHost
    // the subscribed topics' partitions changed (created, deleted, grown): a new target too
    const fingerprint = this.subscriptionMetadata()
    if (fingerprint !== this.subscriptionFingerprint) {
      this.subscriptionFingerprint = fingerprint
      bump = true
    }
    if (bump || this.groupEpoch === 0) this.groupEpoch++

    // 2. the target assignment of the group epoch
    if (this.groupEpoch > this.targetAssignmentEpoch) this.computeTarget()

    // 3. reconcile the member towards its target
    const before = assignmentKey(member.assigned)
    this.reconcile(member, request.ownedTopicPartitions)
    this.scheduleSession(member)

    const full =
      request.rebalanceTimeoutMs !== -1 &&
      (request.subscribedTopicNames !== null || request.subscribedTopicRegex !== null) &&
      request.ownedTopicPartitions !== null
    const changed = before !== assignmentKey(member.assigned)
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: this.settings.heartbeatIntervalMs,
      assignment: request.memberEpoch === 0 || full || changed ? { topicPartitions: toList(member.assigned) } : null,
    }
  }

  private leave(request: HeartbeatRequest): HeartbeatResult {
    const member =
      this.members.get(request.memberId) ?? (request.instanceId ? this.staticMember(request.instanceId) : undefined)
    const answer = (errorCode: number): HeartbeatResult => ({
      errorCode,
      errorMessage: null,
      memberId: request.memberId,
      memberEpoch: request.memberEpoch,
      heartbeatIntervalMs: 0,
      assignment: null,
    })
    if (!member) return answer(ErrorCode.UNKNOWN_MEMBER_ID)
    if (request.memberEpoch === STATIC_LEAVE_EPOCH && member.instanceId !== null) {
      // a static member leaving temporarily keeps its assignment until its session times out
      member.memberEpoch = STATIC_LEAVE_EPOCH
      this.scheduleSession(member)
      return answer(ErrorCode.NONE)
    }
    this.fence(member)
    return answer(ErrorCode.NONE)
  }

  private staticMember(instanceId: string): ConsumerMember | undefined {
    for (const m of this.members.values()) if (m.instanceId === instanceId) return m
    return undefined
  }

  private replaceStatic(old: ConsumerMember, memberId: string): ConsumerMember {
    old.session?.cancel()
    old.rebalance?.cancel()
    this.members.delete(old.memberId)
    const target = this.target.get(old.memberId)
    this.target.delete(old.memberId)
    old.memberId = memberId
    old.memberEpoch = 0
    old.previousMemberEpoch = 0
    this.members.set(memberId, old)
    if (target) this.target.set(memberId, target)
    this.updatePartitionEpochs(old, old.assigned, old.pendingRevocation)
    return old
  }

  /** Removes a member (leave, session or rebalance timeout): a new group epoch reassigns its partitions. */
  fence(member: ConsumerMember): void {
    this.removeMember(member)
    this.groupEpoch++
    if (this.members.size > 0) this.computeTarget()
    else {
      this.target.clear()
      this.targetAssignmentEpoch = this.groupEpoch
    }
  }

  private removeMember(member: ConsumerMember): void {
    member.session?.cancel()
    member.rebalance?.cancel()
    this.members.delete(member.memberId)
    this.target.delete(member.memberId)
    for (const [topicId, ps] of [...member.assigned, ...member.pendingRevocation])
      for (const p of ps) this.partitionEpochs.delete(`${topicId}:${p}`)
  }

  private scheduleSession(member: ConsumerMember): void {
    member.session?.cancel()
    member.session = this.clock.schedule(this.settings.sessionTimeoutMs, () => {
      if (this.members.get(member.memberId) === member) this.fence(member)
    })
  }

  /** Topic ids a member's subscription resolves to, among existing topics. */
  private subscribedTopicIds(member: ConsumerMember): Set<string> {
    const ids = new Set<string>()
    for (const name of member.subscribedTopicNames) {
      const topic = this.topics.get(name)
      if (topic) ids.add(topic.id)
    }
    if (member.subscribedTopicRegex) {
      const regex = new RegExp(`^(?:${member.subscribedTopicRegex})$`)
      for (const topic of this.topics.all()) if (!topic.internal && regex.test(topic.name)) ids.add(topic.id)
    }
    return ids
  }

  private subscriptionMetadata(): string {
    const ids = new Set<string>()
    for (const m of this.members.values()) for (const id of this.subscribedTopicIds(m)) ids.add(id)
    return [...ids]
      .sort()
      .map((id) => `${id}:${this.topics.getById(id)?.partitions.length ?? 0}`)
      .join(',')
  }

  private computeTarget(): void {
    const members = [...this.members.values()]
    const counts = new Map<string, number>()
    const inputs = members.map((m) => {
      const topics = this.subscribedTopicIds(m)
      for (const id of topics) counts.set(id, this.topics.getById(id)!.partitions.length)
      return { memberId: m.memberId, topics, previous: this.target.get(m.memberId) ?? new Map() }
    })
    this.target = SERVER_ASSIGNORS[this.assignorName](inputs, counts)
    this.targetAssignmentEpoch = this.groupEpoch
  }

  /** The assignor most members ask for, else the first configured. */
  get assignorName(): string {
    const votes = new Map<string, number>()
    for (const m of this.members.values())
      if (m.serverAssignor) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1)
    let best = this.settings.assignors[0]
    let most = 0
    for (const [name, n] of votes) if (n > most) [best, most] = [name, n]
    return best
  }

  /** CurrentAssignmentBuilder: one step of a member towards its target assignment. */
  private reconcile(member: ConsumerMember, owned: HeartbeatRequest['ownedTopicPartitions']): void {
    const targetEpoch = this.targetAssignmentEpoch
    switch (member.state) {
      case 'STABLE':
        if (member.memberEpoch !== targetEpoch) this.nextAssignment(member, member.memberEpoch, owned)
        break
      case 'UNREVOKED_PARTITIONS':
        // progress only once the member reports it no longer owns what it must revoke
        if (owned !== null && !ownsAny(owned, member.pendingRevocation))
          this.nextAssignment(member, Math.min(member.memberEpoch + 1, targetEpoch), owned)
        break
      case 'UNRELEASED_PARTITIONS':
        this.nextAssignment(member, member.memberEpoch, owned)
        break
    }
  }

  private nextAssignment(
    member: ConsumerMember,
    memberEpoch: number,
    owned: HeartbeatRequest['ownedTopicPartitions'],
  ): void {
    const target = this.target.get(member.memberId) ?? new Map<string, Set<number>>()
    const assigned: TopicAssignment = new Map()
    const revoking: TopicAssignment = new Map()
    let unreleased = false
    for (const topicId of new Set([...target.keys(), ...member.assigned.keys()])) {
      const want = target.get(topicId) ?? new Set<number>()
      const have = member.assigned.get(topicId) ?? new Set<number>()
      const keep = new Set([...have].filter((p) => want.has(p)))
      const revoke = new Set([...have].filter((p) => !want.has(p)))
      for (const p of want) {
        if (have.has(p)) continue
        // free, or held by this very member pending its revocation
        const holder = this.partitionEpochs.get(`${topicId}:${p}`)
        if (holder === undefined || member.pendingRevocation.get(topicId)?.has(p)) keep.add(p)
        else unreleased = true
      }
      if (keep.size > 0) assigned.set(topicId, keep)
      if (revoke.size > 0) revoking.set(topicId, revoke)
    }
    const previousEpoch = member.memberEpoch
    if (revoking.size > 0 && (owned === null || ownsAny(owned, revoking))) {
      member.state = 'UNREVOKED_PARTITIONS'
      this.setEpoch(member, memberEpoch, previousEpoch)
      this.updatePartitionEpochs(member, assigned, revoking)
      this.scheduleRebalanceTimeout(member)
      return
    }
    member.state = unreleased ? 'UNRELEASED_PARTITIONS' : 'STABLE'
    this.setEpoch(member, this.targetAssignmentEpoch, previousEpoch)
    this.updatePartitionEpochs(member, assigned, new Map())
    member.rebalance?.cancel()
    member.rebalance = undefined
  }

  private setEpoch(member: ConsumerMember, epoch: number, previous: number): void {
    if (epoch !== member.memberEpoch) member.previousMemberEpoch = previous
    member.memberEpoch = epoch
  }

  private updatePartitionEpochs(member: ConsumerMember, assigned: TopicAssignment, revoking: TopicAssignment): void {
    for (const [topicId, ps] of [...member.assigned, ...member.pendingRevocation])
      for (const p of ps) this.partitionEpochs.delete(`${topicId}:${p}`)
    member.assigned = assigned
    member.pendingRevocation = revoking
    for (const [topicId, ps] of [...assigned, ...revoking])
      for (const p of ps) this.partitionEpochs.set(`${topicId}:${p}`, member.memberEpoch)
  }

  private scheduleRebalanceTimeout(member: ConsumerMember): void {
    if (member.rebalance) return
    const epoch = member.memberEpoch
    member.rebalance = this.clock.schedule(member.rebalanceTimeoutMs, () => {
      member.rebalance = undefined
      if (
        this.members.get(member.memberId) === member &&
        member.state === 'UNREVOKED_PARTITIONS' &&
        member.memberEpoch === epoch
      )
        this.fence(member)
    })
  }

  /** OffsetCommit / OffsetFetch with a member (v9+): the member must exist with this epoch. */
  validateMemberEpoch(memberId: string, memberEpoch: number): number {
    const member = this.members.get(memberId)
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID
    if (memberEpoch !== member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH
    return ErrorCode.NONE
  }

  targetOf(memberId: string): TopicAssignment {
    return this.target.get(memberId) ?? new Map()
  }

  shutdown(): void {
    for (const m of this.members.values()) {
      m.session?.cancel()
      m.rebalance?.cancel()
    }
  }
}

function toList(assignment: TopicAssignment): { topicId: string; partitions: number[] }[] {
  return [...assignment].map(([topicId, ps]) => ({ topicId, partitions: [...ps].sort((a, b) => a - b) }))
}

function assignmentKey(assignment: TopicAssignment): string {
  return toList(assignment)
    .sort((a, b) => (a.topicId < b.topicId ? -1 : 1))
    .map((t) => `${t.topicId}:${t.partitions.join('.')}`)
    .join(',')
}

function ownsAny(owned: { topicId: string; partitions: number[] }[] | null, partitions: TopicAssignment): boolean {
  if (owned === null) return true
  return owned.some((t) => t.partitions.some((p) => partitions.get(t.topicId)?.has(p)))
}

function isSubset(owned: { topicId: string; partitions: number[] }[] | null, assigned: TopicAssignment): boolean {
  if (owned === null) return true
  return owned.every((t) => t.partitions.every((p) => assigned.get(t.topicId)?.has(p)))
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i])
}
