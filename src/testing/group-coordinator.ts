// The group coordinator: every group by id, classic (classic-group.ts) or consumer protocol
// (consumer-group.ts), each with its committed offsets. An empty group of one kind becomes the
// other kind when a member of the other protocol joins, keeping its offsets (as Kafka's
// group.consumer.migration.policy allows for empty groups); a non-empty group refuses members of
// the other protocol. A group without members and without offsets does not exist for listing or
// describing, as Kafka deletes such groups.

import { ErrorCode } from '../protocol/error-codes.ts'
import { ConsumerProtocolAssignment } from '../protocol/messages/generated/consumer-protocol-assignment.ts'
import { Reader } from '../protocol/primitives/index.ts'
import { ClassicGroup, type ClassicSettings } from './classic-group.ts'
import type { Clock } from './clock.ts'
import type { StoredOffset } from './committed-offsets.ts'
import { ConsumerGroup, type ConsumerSettings } from './consumer-group.ts'
import type { TopicRegistry } from './topics.ts'

export interface GroupSettings extends ClassicSettings {
  /** group.consumer.session.timeout.ms (default 45000). */
  consumerSessionTimeoutMs: number
  /** group.consumer.heartbeat.interval.ms (default 5000). */
  consumerHeartbeatIntervalMs: number
  /** group.consumer.assignors (default uniform, range). */
  consumerAssignors: readonly string[]
  /** offset.metadata.max.bytes (default 4096). */
  offsetMetadataMaxBytes: number
}

export type Group = ClassicGroup | ConsumerGroup

export interface MemberDescription {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  /** What the member is assigned, by topic name. */
  assignment: { topic: string; partitions: number[] }[]
}

export class GroupCoordinator {
  readonly settings: GroupSettings
  private readonly groups = new Map<string, Group>()

  constructor(
    private readonly clock: Clock,
    private readonly topics: TopicRegistry,
    settings: Partial<GroupSettings> = {},
  ) {
    this.settings = {
      initialRebalanceDelayMs: 0,
      minSessionTimeoutMs: 6000,
      maxSessionTimeoutMs: 1_800_000,
      consumerSessionTimeoutMs: 45_000,
      consumerHeartbeatIntervalMs: 5000,
      consumerAssignors: ['uniform', 'range'],
      offsetMetadataMaxBytes: 4096,
      ...settings,
    }
  }

  get(groupId: string): Group | undefined {
    return this.groups.get(groupId)
  }

  /** A group that is listed and described: with members or with offsets. */
  visible(groupId: string): Group | undefined {
    const g = this.groups.get(groupId)
    return g && (!g.isEmpty || g.offsets.size > 0 || g.offsets.hasAnyPending) ? g : undefined
  }

  all(): Group[] {
    return [...this.groups.keys()].map((id) => this.visible(id)).filter((g) => g !== undefined)
  }

  /** The classic group of `groupId`, created (or converted from an empty consumer group) if need be. */
  classic(groupId: string): ClassicGroup | undefined {
    const g = this.groups.get(groupId)
    if (g?.type === 'classic') return g
    if (g && !g.isEmpty) return undefined
    const group = new ClassicGroup(groupId, this.clock, this.settings, g?.offsets)
    g?.shutdown()
    this.groups.set(groupId, group)
    return group
  }

  /** The consumer group of `groupId`, created (or converted from an empty classic group) if asked. */
  consumer(groupId: string, create: boolean): ConsumerGroup | { errorCode: number; errorMessage: string } {
    const g = this.groups.get(groupId)
    if (g?.type === 'consumer') return g
    if (g && !g.isEmpty)
      return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} is not a consumer group.` }
    if (!create) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} not found.` }
    const consumerSettings: ConsumerSettings = {
      sessionTimeoutMs: this.settings.consumerSessionTimeoutMs,
      heartbeatIntervalMs: this.settings.consumerHeartbeatIntervalMs,
      assignors: this.settings.consumerAssignors,
    }
    const group = new ConsumerGroup(groupId, this.clock, consumerSettings, this.topics, g?.offsets)
    g?.shutdown()
    this.groups.set(groupId, group)
    return group
  }

  /** A group whose only content are offsets (simple commits): an empty classic group. */
  forOffsets(groupId: string): Group {
    return this.groups.get(groupId) ?? (this.classic(groupId) as ClassicGroup)
  }

  delete(groupId: string): number {
    const g = this.visible(groupId)
    if (!g) return ErrorCode.GROUP_ID_NOT_FOUND
    if (!g.isEmpty) return ErrorCode.NON_EMPTY_GROUP
    g.shutdown()
    this.groups.delete(groupId)
    return ErrorCode.NONE
  }

  /** A transaction ended: the offsets it committed for this group become visible, or are dropped. */
  completeTransaction(groupId: string, producerId: bigint, commit: boolean): void {
    this.groups.get(groupId)?.offsets.completeTransaction(producerId, commit)
  }

  onTopicDeleted(topic: string): void {
    for (const g of this.groups.values()) g.offsets.deleteTopic(topic)
  }

  shutdown(): void {
    for (const g of this.groups.values()) g.shutdown()
  }

  now(): number {
    return this.clock.now()
  }

  /** An offset as stored from a commit request. */
  offset(offset: bigint, leaderEpoch: number, metadata: string | null): StoredOffset {
    return { offset, leaderEpoch, metadata, commitTimestamp: this.clock.now() }
  }

  committedOffsets(groupId: string) {
    const g = this.groups.get(groupId)
    return (g?.offsets.all() ?? []).map((o) => ({
      topic: o.topic,
      partition: o.partition,
      offset: o.offset,
      metadata: o.metadata,
    }))
  }

  describeMembers(groupId: string): MemberDescription[] {
    const g = this.groups.get(groupId)
    if (!g) return []
    if (g.type === 'consumer') {
      return [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.instanceId,
        clientId: m.clientId,
        assignment: [...m.assigned].map(([topicId, ps]) => ({
          topic: this.topics.getById(topicId)?.name ?? topicId,
          partitions: [...ps].sort((a, b) => a - b),
        })),
      }))
    }
    return [...g.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      assignment: g.protocolType === 'consumer' ? decodeConsumerAssignment(m.assignment) : [],
    }))
  }
}

/** The partitions of a classic consumer-protocol assignment (an int16 version, then ConsumerProtocolAssignment). */
function decodeConsumerAssignment(bytes: Buffer): { topic: string; partitions: number[] }[] {
  try {
    const r = new Reader(bytes)
    const version = Math.min(r.int16(), ConsumerProtocolAssignment.maxVersion)
    return ConsumerProtocolAssignment.read(r, version).assignedPartitions.map((t) => ({
      topic: t.topic,
      partitions: t.partitions,
    }))
  } catch {
    return []
  }
}
