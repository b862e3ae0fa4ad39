// kafkajs's assignor side of the consumer protocol: AssignerProtocol (the member metadata and
// assignment bytes kafkajs members exchange, also what admin.describeGroups() returns), and
// PartitionAssigners.roundRobin, placing partitions exactly as kafkajs's RoundRobinAssigner so that
// kafkajs and kafkax/kafkajs members can share a group.

import { Reader, Writer } from '../protocol/primitives/index.ts'
import type { Assigner, Assignment, MemberAssignment, MemberMetadata, PartitionAssigner } from './types.ts'

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
 * kafkajs's RoundRobinAssigner: the partitions of every subscribed topic, in topic order and in the
 * metadata's partition order, dealt in turn to the members sorted by member id.
 */
const roundRobin: PartitionAssigner = ({ cluster }) => {
  const assigner: Assigner = {
    name: 'RoundRobinAssigner',
    version: 0,
    async assign({ members, topics }) {
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
      return [...assignment].map(([memberId, own]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: assigner.version, assignment: own }),
      }))
    },
    protocol({ topics }) {
      return {
        name: assigner.name,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: assigner.version, topics }),
      }
    },
  }
  return assigner
}

/** kafkajs's assigners. */
export const PartitionAssigners: { roundRobin: PartitionAssigner } = { roundRobin }
