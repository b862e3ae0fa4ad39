// A group of the classic protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), as Kafka's
// ClassicGroup and the classic part of GroupMetadataManager:
//   Empty -> PreparingRebalance (a member joins, leaves or changes its protocols) -> CompletingRebalance
//   (every member rejoined, or the rebalance timeout removed those that did not; a new generation,
//   the leader gets the members) -> Stable (the leader's SyncGroup handed out the assignments).
// Dynamic members get their id from a first join answered MEMBER_ID_REQUIRED (KIP-394); static
// members (group.instance.id, KIP-345) rejoining a stable group with the same protocols get their
// assignment back without a rebalance. A member that does not heartbeat within its session timeout
// is removed; members awaiting a join or sync response do not expire.

import { randomUUID } from 'node:crypto'
import { ErrorCode } from '../protocol/error-codes.ts'
import type { JoinGroupResponse } from '../protocol/messages/generated/join-group-response.ts'
import type { SyncGroupResponse } from '../protocol/messages/generated/sync-group-response.ts'
import type { Clock, Timer } from './clock.ts'
import { CommittedOffsets } from './committed-offsets.ts'

export type ClassicState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead'

export interface ClassicSettings {
  initialRebalanceDelayMs: number
  minSessionTimeoutMs: number
  maxSessionTimeoutMs: number
}

/** A JoinGroup answer; the handler adds the throttle time. */
export type JoinResult = Omit<JoinGroupResponse, 'throttleTimeMs'>

/** A SyncGroup answer; the handler adds the throttle time. */
export type SyncResult = Omit<SyncGroupResponse, 'throttleTimeMs'>

export interface JoinRequest {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  protocolType: string
  protocols: { name: string; metadata: Buffer }[]
  /** JoinGroup v4+: an unknown member first gets MEMBER_ID_REQUIRED with its id. */
  requireKnownMemberId: boolean
}

export class ClassicMember {
  assignment: Buffer = Buffer.alloc(0)
  awaitingJoin: ((r: JoinResult) => void) | undefined
  awaitingSync: ((r: SyncResult) => void) | undefined
  heartbeat: Timer | undefined

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    public clientId: string,
    public clientHost: string,
    public sessionTimeoutMs: number,
    public rebalanceTimeoutMs: number,
    public protocols: { name: string; metadata: Buffer }[],
  ) {}

  metadataFor(protocol: string): Buffer {
    return this.protocols.find((p) => p.name === protocol)?.metadata ?? Buffer.alloc(0)
  }
}

const EMPTY = Buffer.alloc(0)

export class ClassicGroup {
  readonly type = 'classic' as const
  readonly offsets: CommittedOffsets
  state: ClassicState = 'Empty'
  generationId = 0
  protocolType: string | null = null
  protocolName: string | null = null
  leaderId: string | null = null
  readonly members = new Map<string, ClassicMember>()
  /** Member ids handed out with MEMBER_ID_REQUIRED, not yet joined: id -> expiry timer. */
  private readonly pending = new Map<string, Timer>()
  private readonly staticMembers = new Map<string, string>()
  private joinTimer: Timer | undefined
  private initialDelay = false

  constructor(
    readonly groupId: string,
    private readonly clock: Clock,
    private readonly settings: ClassicSettings,
    offsets = new CommittedOffsets(),
  ) {
    this.offsets = offsets
  }

  get isEmpty(): boolean {
    return this.members.size === 0 && this.pending.size === 0
  }

  // -- JoinGroup -------------------------------------------------------------------------------

  join(request: JoinRequest): Promise<JoinResult> | JoinResult {
    const { settings } = this
    if (
      request.sessionTimeoutMs < settings.minSessionTimeoutMs ||
      request.sessionTimeoutMs > settings.maxSessionTimeoutMs
    )
      return this.joinError(request.memberId, ErrorCode.INVALID_SESSION_TIMEOUT)
    if (!this.supportsProtocols(request.protocolType, request.protocols))
      return this.joinError(request.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    if (this.state === 'Dead') return this.joinError(request.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE)
    if (request.memberId === '') return this.joinUnknown(request)
    return this.joinKnown(request)
  }

  private joinUnknown(request: JoinRequest): Promise<JoinResult> | JoinResult {
    const newMemberId = `${request.clientId}-${randomUUID()}`
    const instanceId = request.groupInstanceId
    if (instanceId !== null) {
      const oldId = this.staticMembers.get(instanceId)
      if (oldId !== undefined) return this.replaceStaticMember(oldId, newMemberId, request)
      return this.addMemberAndRebalance(newMemberId, request)
    }
    if (request.requireKnownMemberId) {
      this.pending.set(
        newMemberId,
        this.clock.schedule(request.sessionTimeoutMs, () => {
          this.pending.delete(newMemberId)
          if (this.state === 'PreparingRebalance') this.maybeCompleteJoin()
        }),
      )
      return this.joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED)
    }
    return this.addMemberAndRebalance(newMemberId, request)
  }

  private joinKnown(request: JoinRequest): Promise<JoinResult> | JoinResult {
    const { memberId } = request
    const pendingTimer = this.pending.get(memberId)
    if (pendingTimer) {
      pendingTimer.cancel()
      this.pending.delete(memberId)
      return this.addMemberAndRebalance(memberId, request)
    }
    const member = this.members.get(memberId)
    const invalid = this.validateMember(memberId, request.groupInstanceId)
    if (invalid !== ErrorCode.NONE || !member)
      return this.joinError(memberId, invalid === ErrorCode.NONE ? ErrorCode.UNKNOWN_MEMBER_ID : invalid)
    switch (this.state) {
      case 'PreparingRebalance':
        this.updateMember(member, request)
        return this.awaitJoin(member)
      case 'CompletingRebalance':
        // a lost JoinGroup response: the same protocols get the same answer again
        if (sameProtocols(member.protocols, request.protocols)) return this.currentJoinResult(member)
        this.updateMember(member, request)
        return this.rebalanceAndAwait(member)
      case 'Stable':
        if (memberId === this.leaderId || !sameProtocols(member.protocols, request.protocols)) {
          this.updateMember(member, request)
          return this.rebalanceAndAwait(member)
        }
        this.touch(member)
        return this.currentJoinResult(member)
      default:
        return this.joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID)
    }
  }

  private replaceStaticMember(oldId: string, newId: string, request: JoinRequest): Promise<JoinResult> | JoinResult {
    const old = this.members.get(oldId)!
    // the old incarnation is fenced: whatever it awaits fails
    old.awaitingJoin?.(this.joinError(oldId, ErrorCode.FENCED_INSTANCE_ID))
    old.awaitingJoin = undefined
    old.awaitingSync?.({
      errorCode: ErrorCode.FENCED_INSTANCE_ID,
      protocolType: null,
      protocolName: null,
      assignment: EMPTY,
    })
    old.awaitingSync = undefined
    old.heartbeat?.cancel()
    this.members.delete(oldId)
    old.memberId = newId
    this.members.set(newId, old)
    this.staticMembers.set(request.groupInstanceId!, newId)
    if (this.leaderId === oldId) this.leaderId = newId
    const wasLeader = this.leaderId === newId
    this.updateMember(old, request)
    // KIP-345: on a stable group whose protocol the vote keeps, no rebalance: the member gets its
    // assignment back. Its metadata may differ (a restarted consumer owns nothing yet): Kafka's
    // GroupMetadataManager only compares the protocol the group would select next.
    if (this.state === 'Stable' && this.protocolName !== null && this.selectProtocol() === this.protocolName) {
      this.touch(old)
      const result = this.currentJoinResult(old)
      return { ...result, skipAssignment: wasLeader }
    }
    if (this.state === 'PreparingRebalance') return this.awaitJoin(old)
    return this.rebalanceAndAwait(old)
  }

  private addMemberAndRebalance(memberId: string, request: JoinRequest): Promise<JoinResult> {
    const member = new ClassicMember(
      memberId,
      request.groupInstanceId,
      request.clientId,
      request.clientHost,
      request.sessionTimeoutMs,
      request.rebalanceTimeoutMs,
      request.protocols,
    )
    if (this.members.size === 0) this.protocolType = request.protocolType
    this.members.set(memberId, member)
    if (request.groupInstanceId !== null) this.staticMembers.set(request.groupInstanceId, memberId)
    if (this.leaderId === null) this.leaderId = memberId
    return this.rebalanceAndAwait(member)
  }

  private updateMember(member: ClassicMember, request: JoinRequest): void {
    member.protocols = request.protocols
    member.sessionTimeoutMs = request.sessionTimeoutMs
    member.rebalanceTimeoutMs = request.rebalanceTimeoutMs
    member.clientId = request.clientId
    member.clientHost = request.clientHost
  }

  private rebalanceAndAwait(member: ClassicMember): Promise<JoinResult> {
    const promise = this.awaitJoin(member)
    if (this.state !== 'PreparingRebalance') this.prepareRebalance()
    else this.maybeCompleteJoin()
    return promise
  }

  private awaitJoin(member: ClassicMember): Promise<JoinResult> {
    // a previous join of the same member still waiting is answered as superseded
    member.awaitingJoin?.(this.joinError(member.memberId, ErrorCode.UNKNOWN_MEMBER_ID))
    member.heartbeat?.cancel()
    const promise = new Promise<JoinResult>((resolve) => {
      member.awaitingJoin = resolve
    })
    this.maybeCompleteJoin()
    return promise
  }

  /** Starts a rebalance: pending syncs fail with REBALANCE_IN_PROGRESS; the join phase is timed. */
  private prepareRebalance(): void {
    if (this.state === 'CompletingRebalance') {
      for (const m of this.members.values()) {
        m.assignment = EMPTY
        m.awaitingSync?.({
          errorCode: ErrorCode.REBALANCE_IN_PROGRESS,
          protocolType: null,
          protocolName: null,
          assignment: EMPTY,
        })
        m.awaitingSync = undefined
      }
    }
    const initial = this.state === 'Empty'
    this.state = 'PreparingRebalance'
    this.joinTimer?.cancel()
    const rebalanceTimeout = Math.max(0, ...[...this.members.values()].map((m) => m.rebalanceTimeoutMs))
    if (initial && this.settings.initialRebalanceDelayMs > 0) {
      // group.initial.rebalance.delay.ms: let more members of a new group join the first generation
      const delay = Math.min(this.settings.initialRebalanceDelayMs, rebalanceTimeout)
      this.initialDelay = true
      this.joinTimer = this.clock.schedule(delay, () => {
        this.initialDelay = false
        this.joinTimer = this.clock.schedule(Math.max(0, rebalanceTimeout - delay), () => this.completeJoin())
        this.maybeCompleteJoin()
      })
      return
    }
    this.joinTimer = this.clock.schedule(rebalanceTimeout, () => this.completeJoin())
    this.maybeCompleteJoin()
  }

  /** Completes the join phase once every member rejoined and no new member is half-way in. */
  private maybeCompleteJoin(): void {
    if (this.state !== 'PreparingRebalance' || this.initialDelay) return
    for (const m of this.members.values()) if (!m.awaitingJoin) return
    if (this.pending.size > 0) return
    this.completeJoin()
  }

  private completeJoin(): void {
    if (this.state !== 'PreparingRebalance') return
    this.initialDelay = false
    this.joinTimer?.cancel()
    this.joinTimer = undefined
    // members that did not rejoin in time are removed (static ones too)
    for (const m of [...this.members.values()]) if (!m.awaitingJoin) this.removeMember(m)
    this.generationId++
    if (this.members.size === 0) {
      this.state = 'Empty'
      this.protocolName = null
      this.leaderId = null
      return
    }
    this.protocolName = this.selectProtocol()
    this.state = 'CompletingRebalance'
    if (this.leaderId === null || !this.members.has(this.leaderId)) this.leaderId = this.members.keys().next().value!
    const everyone = [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadataFor(this.protocolName!),
    }))
    for (const m of this.members.values()) {
      const answer = m.awaitingJoin!
      m.awaitingJoin = undefined
      this.touch(m)
      answer({ ...this.currentJoinResult(m), members: m.memberId === this.leaderId ? everyone : [] })
    }
  }

  /** The protocol every member supports that most members prefer (Kafka's ClassicGroup.selectProtocol). */
  private selectProtocol(): string {
    const members = [...this.members.values()]
    const candidates = members[0].protocols
      .map((p) => p.name)
      .filter((name) => members.every((m) => m.protocols.some((p) => p.name === name)))
    const votes = new Map<string, number>(candidates.map((c) => [c, 0]))
    for (const m of members) {
      const vote = m.protocols.find((p) => votes.has(p.name))!.name
      votes.set(vote, votes.get(vote)! + 1)
    }
    let best = candidates[0]
    for (const c of candidates) if (votes.get(c)! > votes.get(best)!) best = c
    return best
  }

  private supportsProtocols(protocolType: string, protocols: { name: string }[]): boolean {
    if (protocolType === '' || protocols.length === 0) return false
    if (this.members.size === 0) return true
    if (protocolType !== this.protocolType) return false
    return protocols.some((p) => [...this.members.values()].every((m) => m.protocols.some((q) => q.name === p.name)))
  }

  private currentJoinResult(member: ClassicMember): JoinResult {
    return {
      errorCode: ErrorCode.NONE,
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leader: this.leaderId ?? '',
      skipAssignment: false,
      memberId: member.memberId,
      members: [],
    }
  }

  /** A JoinGroup answer with only an error (and the member id the member is to use). */
  private joinError(memberId: string, errorCode: number): JoinResult {
    return {
      errorCode,
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: '',
      skipAssignment: false,
      memberId,
      members: [],
    }
  }

  // -- SyncGroup, Heartbeat, LeaveGroup ---------------------------------------------------------

  /** UNKNOWN_MEMBER_ID or FENCED_INSTANCE_ID for a member that is not (or no longer) this one. */
  validateMember(memberId: string, groupInstanceId: string | null | undefined): number {
    if (groupInstanceId) {
      const current = this.staticMembers.get(groupInstanceId)
      if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID
      if (current !== memberId) return ErrorCode.FENCED_INSTANCE_ID
    }
    return this.members.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID
  }

  sync(
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
    protocolType: string | null,
    protocolName: string | null,
    assignments: { memberId: string; assignment: Buffer }[],
  ): Promise<SyncResult> | SyncResult {
    const fail = (errorCode: number): SyncResult => ({
      errorCode,
      protocolType: null,
      protocolName: null,
      assignment: EMPTY,
    })
    if (this.state === 'Dead') return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE)
    const invalid = this.validateMember(memberId, groupInstanceId)
    if (invalid !== ErrorCode.NONE) return fail(invalid)
    if (generationId !== this.generationId) return fail(ErrorCode.ILLEGAL_GENERATION)
    if (
      (protocolType !== null && protocolType !== this.protocolType) ||
      (protocolName !== null && protocolName !== this.protocolName)
    )
      return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    const member = this.members.get(memberId)!
    switch (this.state) {
      case 'Empty':
        return fail(ErrorCode.UNKNOWN_MEMBER_ID)
      case 'PreparingRebalance':
        return fail(ErrorCode.REBALANCE_IN_PROGRESS)
      case 'Stable':
        this.touch(member)
        return this.syncResult(member)
      default: {
        member.awaitingSync?.(fail(ErrorCode.REBALANCE_IN_PROGRESS))
        const promise = new Promise<SyncResult>((resolve) => {
          member.awaitingSync = resolve
        })
        this.touch(member)
        if (memberId === this.leaderId) {
          const given = new Map(assignments.map((a) => [a.memberId, a.assignment]))
          for (const m of this.members.values()) m.assignment = given.get(m.memberId) ?? EMPTY
          this.state = 'Stable'
          for (const m of this.members.values()) {
            const answer = m.awaitingSync
            m.awaitingSync = undefined
            answer?.(this.syncResult(m))
          }
        }
        return promise
      }
    }
  }

  private syncResult(member: ClassicMember): SyncResult {
    return {
      errorCode: ErrorCode.NONE,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      assignment: member.assignment,
    }
  }

  heartbeat(memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (this.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE
    const invalid = this.validateMember(memberId, groupInstanceId)
    if (invalid !== ErrorCode.NONE) return invalid
    if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION
    const member = this.members.get(memberId)!
    switch (this.state) {
      case 'Empty':
        return ErrorCode.UNKNOWN_MEMBER_ID
      case 'PreparingRebalance':
        this.touch(member)
        return ErrorCode.REBALANCE_IN_PROGRESS
      default:
        this.touch(member)
        return ErrorCode.NONE
    }
  }

  /** LeaveGroup of one member, by id or (v3+) by group instance id. */
  leave(memberId: string, groupInstanceId: string | null): { memberId: string; errorCode: number } {
    let id = memberId
    if (groupInstanceId) {
      const current = this.staticMembers.get(groupInstanceId)
      if (current === undefined) return { memberId, errorCode: ErrorCode.UNKNOWN_MEMBER_ID }
      if (memberId !== '' && current !== memberId) return { memberId, errorCode: ErrorCode.FENCED_INSTANCE_ID }
      id = current
    }
    const pendingTimer = this.pending.get(id)
    if (pendingTimer) {
      pendingTimer.cancel()
      this.pending.delete(id)
      if (this.state === 'PreparingRebalance') this.maybeCompleteJoin()
      return { memberId: id, errorCode: ErrorCode.NONE }
    }
    const member = this.members.get(id)
    if (!member) return { memberId: id, errorCode: ErrorCode.UNKNOWN_MEMBER_ID }
    this.removeMemberAndUpdateGroup(member)
    return { memberId: id, errorCode: ErrorCode.NONE }
  }

  /** A member leaves or expires: the others rebalance (or the join phase may now complete). */
  private removeMemberAndUpdateGroup(member: ClassicMember): void {
    member.awaitingJoin?.(this.joinError(member.memberId, ErrorCode.UNKNOWN_MEMBER_ID))
    member.awaitingJoin = undefined
    member.awaitingSync?.({
      errorCode: ErrorCode.UNKNOWN_MEMBER_ID,
      protocolType: null,
      protocolName: null,
      assignment: EMPTY,
    })
    member.awaitingSync = undefined
    this.removeMember(member)
    if (this.state === 'Stable' || this.state === 'CompletingRebalance') this.prepareRebalance()
    else if (this.state === 'PreparingRebalance') this.maybeCompleteJoin()
  }

  private removeMember(member: ClassicMember): void {
    member.heartbeat?.cancel()
    this.members.delete(member.memberId)
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === member.memberId)
      this.staticMembers.delete(member.groupInstanceId)
    if (this.leaderId === member.memberId) this.leaderId = this.members.keys().next().value ?? null
  }

  /** Restarts a member's session timeout (a heartbeat, join or sync arrived). */
  touch(member: ClassicMember): void {
    member.heartbeat?.cancel()
    member.heartbeat = this.clock.schedule(member.sessionTimeoutMs, () => {
      member.heartbeat = undefined
      if (member.awaitingJoin || member.awaitingSync || this.members.get(member.memberId) !== member) return
      this.removeMemberAndUpdateGroup(member)
    })
  }

  /**
   * OffsetCommit checks (ClassicGroup.validateOffsetCommit): a simple commit (generation -1, no
   * member) only to an empty group; else a current member of the current generation, not while
   * the group is completing a rebalance.
   */
  validateOffsetCommit(memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (this.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE
    if (generationId < 0 && this.state === 'Empty') return ErrorCode.NONE
    if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
      const invalid = this.validateMember(memberId, groupInstanceId)
      if (invalid !== ErrorCode.NONE) return invalid
      if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION
    } else if (this.state !== 'Empty') return ErrorCode.UNKNOWN_MEMBER_ID
    if (this.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS
    const member = this.members.get(memberId)
    if (member && this.state === 'Stable') this.touch(member)
    return ErrorCode.NONE
  }

  /** Cancels every timer (the cluster stops). */
  shutdown(): void {
    this.joinTimer?.cancel()
    for (const t of this.pending.values()) t.cancel()
    for (const m of this.members.values()) m.heartbeat?.cancel()
  }

  /** Members as DescribeGroups shows them: protocol metadata and assignment only when stable. */
  describe() {
    const stable = this.state === 'Stable'
    return {
      state: this.state,
      protocolType: this.protocolType ?? '',
      protocolData: stable ? (this.protocolName ?? '') : '',
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? m.metadataFor(this.protocolName!) : EMPTY,
        memberAssignment: stable ? m.assignment : EMPTY,
      })),
    }
  }
}

function sameProtocols(a: { name: string; metadata: Buffer }[], b: { name: string; metadata: Buffer }[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i].name && p.metadata.equals(b[i].metadata))
}
