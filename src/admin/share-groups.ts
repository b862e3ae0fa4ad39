// Share groups (KIP-932), as the Java AdminClient has them: describe (members and their
// assignments, ShareGroupDescribe), the share-partition start offsets (DescribeShareGroupOffsets:
// where each partition's delivery stands; records before it are done), and altering or deleting
// those offsets of a group with no members. Sent to each group's coordinator.

import { byTopic } from '../client/topic-partition.ts'
import { kafkaError } from '../protocol/error-codes.ts'
import { ProtocolError } from '../protocol/errors.ts'
import {
  AlterShareGroupOffsetsModule,
  DeleteShareGroupOffsetsModule,
  DescribeShareGroupOffsetsModule,
  loadApi,
  ShareGroupDescribeModule,
} from '../protocol/messages/index.ts'
import { answer, itemError, type RequestEngine } from './engine.ts'
import { int, list, name, names, offset } from './validate.ts'

/** A member of a share group. */
export interface ShareGroupMemberDescription {
  memberId: string
  rackId: string | null
  memberEpoch: number
  clientId: string
  clientHost: string
  subscribedTopics: string[]
  /** The partitions assigned to it (shared with other members). */
  assignment: { topic: string; partitions: number[] }[]
}

/** A share group: its state, epochs, assignor and members. */
export interface ShareGroupDescription {
  groupId: string
  /** 'Empty', 'Stable', 'Dead'... */
  state: string
  groupEpoch: number
  assignmentEpoch: number
  assignor: string
  members: ShareGroupMemberDescription[]
}

/** Where a share group stands on one partition. */
export interface ShareGroupPartitionOffset {
  topic: string
  partition: number
  /** The share-partition start offset: records before it are done (null: not initialized yet). */
  startOffset: bigint | null
  leaderEpoch: number
  /** Records from the start offset not yet done (null: the broker does not say, KIP-1226 is Kafka 4.2+). */
  lag: bigint | null
}

// lazily loaded: importing kafkax must stay cheap
const ShareGroupDescribe = () => loadApi(ShareGroupDescribeModule)
const DescribeShareGroupOffsets = () => loadApi(DescribeShareGroupOffsetsModule)
const AlterShareGroupOffsets = () => loadApi(AlterShareGroupOffsetsModule)
const DeleteShareGroupOffsets = () => loadApi(DeleteShareGroupOffsetsModule)

export async function describeShareGroups(engine: RequestEngine, groupIds: string[]): Promise<ShareGroupDescription[]> {
  names('describeShareGroups', groupIds)
  await engine.connect()
  const api = await ShareGroupDescribe()
  return engine.perGroup(groupIds, async (groupId) => {
    const response = await engine.groupRequest(
      groupId,
      api,
      () => ({ groupIds: [groupId], includeAuthorizedOperations: false }),
      (r) => r.groups[0]?.errorCode ?? 0,
    )
    const g = response.groups[0]
    if (!g) throw new ProtocolError(`ShareGroupDescribe answer lacks group ${groupId}`)
    if (g.errorCode) return itemError(g.errorCode, `share group ${groupId}`, g.errorMessage)
    return {
      groupId,
      state: g.groupState,
      groupEpoch: g.groupEpoch,
      assignmentEpoch: g.assignmentEpoch,
      assignor: g.assignorName,
      members: g.members.map((m) => ({
        memberId: m.memberId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopics: m.subscribedTopicNames,
        assignment: m.assignment.topicPartitions.map((tp) => ({ topic: tp.topicName, partitions: tp.partitions })),
      })),
    }
  })
}

export async function listShareGroupOffsets(
  engine: RequestEngine,
  groupId: string,
  topics?: string[],
): Promise<ShareGroupPartitionOffset[]> {
  name('listShareGroupOffsets: groupId', groupId)
  if (topics !== undefined) names('listShareGroupOffsets', topics)
  await engine.connect()
  const response = await engine.groupRequest(
    groupId,
    await DescribeShareGroupOffsets(),
    // every topic: one request, filtered here (naming partitions would need their metadata)
    () => ({ groups: [{ groupId, topics: null }] }),
    (r) => r.groups[0]?.errorCode ?? 0,
  )
  const group = response.groups[0]
  if (!group) throw new ProtocolError(`DescribeShareGroupOffsets answer lacks group ${groupId}`)
  if (group.errorCode) throw itemError(group.errorCode, `share group ${groupId}`, group.errorMessage)
  const offsets: ShareGroupPartitionOffset[] = []
  for (const t of group.topics) {
    if (topics && !topics.includes(t.topicName)) continue
    for (const p of t.partitions) {
      if (p.errorCode) throw itemError(p.errorCode, `share group ${groupId} ${t.topicName}-${p.partitionIndex}`)
      offsets.push({
        topic: t.topicName,
        partition: p.partitionIndex,
        startOffset: p.startOffset < 0n ? null : p.startOffset,
        leaderEpoch: p.leaderEpoch,
        lag: p.lag === undefined || p.lag < 0n ? null : p.lag,
      })
    }
  }
  return offsets.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
}

export async function alterShareGroupOffsets(
  engine: RequestEngine,
  groupId: string,
  offsets: { topic: string; partition: number; offset: bigint | number }[],
): Promise<void> {
  name('alterShareGroupOffsets: groupId', groupId)
  list('alterShareGroupOffsets: offsets', offsets)
  offsets.forEach((o, i) => {
    name(`alterShareGroupOffsets: offsets[${i}].topic`, o?.topic)
    int(`alterShareGroupOffsets: offsets[${i}].partition`, o.partition, 0)
    offset(`alterShareGroupOffsets: offsets[${i}].offset`, o.offset)
  })
  await engine.connect()
  const api = await AlterShareGroupOffsets()
  await engine.settle(offsets, async (pending) => {
    const response = await engine.groupRequest(
      groupId,
      api,
      () => ({
        groupId,
        topics: [...byTopic(pending)].map(([topicName, items]) => ({
          topicName,
          partitions: items.map((o) => ({ partitionIndex: o.partition, startOffset: BigInt(o.offset) })),
        })),
      }),
      (r) => r.errorCode,
    )
    if (response.errorCode)
      throw kafkaError(response.errorCode, `share group ${groupId}: ${response.errorMessage ?? ''}`)
    const byKey = new Map(
      response.responses.flatMap((t) => t.partitions.map((p) => [`${t.topicName}-${p.partitionIndex}`, p])),
    )
    return pending.map((o) => {
      const p = answer(byKey, `${o.topic}-${o.partition}`, 'AlterShareGroupOffsets')
      return p.errorCode
        ? itemError(p.errorCode, `share group ${groupId} ${o.topic}-${o.partition}`, p.errorMessage)
        : undefined
    })
  })
}

export async function deleteShareGroupOffsets(engine: RequestEngine, groupId: string, topics: string[]): Promise<void> {
  name('deleteShareGroupOffsets: groupId', groupId)
  names('deleteShareGroupOffsets: topics', topics)
  await engine.connect()
  const api = await DeleteShareGroupOffsets()
  await engine.settle(topics, async (pending) => {
    const response = await engine.groupRequest(
      groupId,
      api,
      () => ({ groupId, topics: pending.map((topicName) => ({ topicName })) }),
      (r) => r.errorCode,
    )
    if (response.errorCode)
      throw kafkaError(response.errorCode, `share group ${groupId}: ${response.errorMessage ?? ''}`)
    const byName = new Map(response.responses.map((t) => [t.topicName, t]))
    return pending.map((topic) => {
      const t = answer(byName, topic, 'DeleteShareGroupOffsets')
      return t.errorCode ? itemError(t.errorCode, `share group ${groupId} ${topic}`, t.errorMessage) : undefined
    })
  })
}
