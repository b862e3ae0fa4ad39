// kafkajs's assignor side of the consumer protocol: AssignerProtocol (the member metadata and
// assignment bytes kafkajs members exchange, also what admin.describeGroups() returns);
// PartitionAssigners.roundRobin, placing partitions exactly as kafkajs's RoundRobinAssigner so that
// kafkajs and kafkax/kafkajs members can share a group, and PartitionAssigners.range (the Java
// client's range placement in kafkajs's shape, for kafkajs members too); and the assigner in kafkajs's
// shape as a group assignor of the kafkax Consumer.

import { rangeAssignor } from '../group/assignors.ts'
import type { CustomAssignor, TopicPartition } from '../index.ts'
import { Reader, Writer } from '../protocol/primitives/index.ts'
import type { Assigner, Assignment, GroupMember, MemberAssignment, MemberMetadata, PartitionAssigner } from './types.ts'

const EMPTY = Buffer.alloc(0)

/**
 * The consumer protocol's Subscription and Assignment as kafkajs reads and writes them: the int16
 * version, then always the v0 fields (topics or topic partitions, user data), whatever the version.
 * Later versions only append fields, so reading the v0 ones of a Java member's bytes works too.
 */
export const AssignerProtocol = {
  MemberMetadata: {
    encode({ version, topics, userData = EMPTY }: { version: number; topics: string[]; userData?: Buffer }): Buffer {
      const w = new Writer(64)
      w.int16(version)
      w.int32(topics.length)
      for (const t of topics) w.string(t)
      w.bytes(userData)
      return w.finish()
    },
    decode(buffer: Buffer): MemberMetadata {
      const r = new Reader(buffer)
      const version = r.int16()
      const topics: string[] = []
      for (let n = r.arrayLength(2); n > 0; n--) topics.push(r.string())
      return { version, topics, userData: r.nullableBytes() }
    },
  },
  MemberAssignment: {
    encode({
      version,
      assignment,
      userData = EMPTY,
    }: {
      version: number
      assignment: Assignment
      userData?: Buffer
    }): Buffer {
      const w = new Writer(64)
      w.int16(version)
      const topics = Object.keys(assignment)
      w.int32(topics.length)
      for (const topic of topics) {
        w.string(topic)
        w.int32(assignment[topic].length)
        for (const p of assignment[topic]) w.int32(p)
      }
      w.bytes(userData)
      return w.finish()
    },
    /** null for an empty assignment (a member that got nothing may be sent no bytes). */
    decode(buffer: Buffer): MemberAssignment | null {
      if (buffer.length < 2) return null
      const r = new Reader(buffer)
      const version = r.int16()
      const assignment: Assignment = {}
      for (let n = r.arrayLength(6); n > 0; n--) {
        const topic = r.string()
        const partitions: number[] = []
        for (let m = r.arrayLength(4); m > 0; m--) partitions.push(r.int32())
        assignment[topic] = partitions
      }
      return { version, assignment, userData: r.nullableBytes() }
    },
  },
}

/**
 * An assigner in kafkajs's shape (version 0): `plan` answers each member's partitions per topic
 * (members it leaves out get none), encoded with AssignerProtocol.
 */
function versionZero(
  name: string,
  plan: (group: { members: GroupMember[]; topics: string[] }) => Map<string, Assignment>,
): Assigner {
  return {
    name,
    version: 0,
    async assign(group) {
      return [...plan(group)].map(([memberId, assignment]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment }),
      }))
    },
    protocol: ({ topics }) => ({ name, metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics }) }),
  }
}

/**
 * kafkajs's RoundRobinAssigner: the partitions of every subscribed topic, in topic order and in the
 * metadata's partition order, dealt in turn to the members sorted by member id.
 */
const roundRobin: PartitionAssigner = ({ cluster }) =>
  versionZero('RoundRobinAssigner', ({ members, topics }) => {
    const memberIds = members.map((m) => m.memberId).sort()
    const assignment = new Map<string, Assignment>()
    let i = 0
    for (const topic of topics) {
      for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
        const memberId = memberIds[i++ % memberIds.length]
        let own = assignment.get(memberId)
        if (!own) {
          own = Object.create(null) as Assignment
          assignment.set(memberId, own)
        }
        own[topic] ??= []
        own[topic].push(partitionId)
      }
    }
    return assignment
  })

/**
 * The Java client's RangeAssignor (kafkax's range) in kafkajs's shape, for kafkajs has none: per
 * topic the partitions in contiguous ranges over the members subscribed to it. Named `range` like
 * Java's, whose members read its version 0 bytes.
 */
const range: PartitionAssigner = ({ cluster }) =>
  versionZero('range', ({ members }) => {
    const subscriptions = members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: null,
      topics: AssignerProtocol.MemberMetadata.decode(m.memberMetadata).topics,
      ownedPartitions: [],
      generationId: -1,
      rackId: null,
    }))
    const counts = new Map(
      [...new Set(subscriptions.flatMap((s) => s.topics))].map((t) => [
        t,
        cluster.findTopicPartitionMetadata(t).length,
      ]),
    )
    const assignment = new Map<string, Assignment>()
    for (const [memberId, tps] of rangeAssignor.assign(subscriptions, counts)) {
      const own: Assignment = Object.create(null)
      for (const { topic, partition } of tps) {
        own[topic] ??= []
        own[topic].push(partition)
      }
      assignment.set(memberId, own)
    }
    return assignment
  })

/** kafkajs's assigners (roundRobin, its default), and range. */
export const PartitionAssigners: { roundRobin: PartitionAssigner; range: PartitionAssigner } = { roundRobin, range }

/**
 * A kafkajs assigner as the kafkax Consumer's group assignor: its protocol() metadata in JoinGroup; as
 * the leader, its assign() over the members' metadata as they sent it and the leader's own topics (as
 * kafkajs passes them), its answers read back into partitions. `cluster` answers from the metadata the
 * leader has just refreshed for the group's topics.
 */
export function groupAssignor(assigner: Assigner, subscribed: () => string[]): CustomAssignor {
  return {
    name: assigner.name,
    rebalanceProtocol: 'eager',
    subscription: (topics) => assigner.protocol({ topics }).metadata,
    async assign(members) {
      const answers = await assigner.assign({
        members: members.map((m) => ({ memberId: m.memberId, memberMetadata: m.metadata ?? Buffer.alloc(0) })),
        topics: subscribed(),
      })
      const plan = new Map<string, TopicPartition[]>()
      for (const { memberId, memberAssignment } of answers) {
        const decoded = AssignerProtocol.MemberAssignment.decode(memberAssignment)
        const own = plan.get(memberId) ?? []
        for (const [topic, partitions] of Object.entries(decoded?.assignment ?? {}))
          for (const partition of partitions) own.push({ topic, partition })
        plan.set(memberId, own)
      }
      return plan
    },
  }
}
