// Consumer groups: list, describe (classic and KIP-848), delete, and their committed offsets
// (fetch, alter, delete, lag). Sent to each group's coordinator; ListGroups to every broker.

import { byTopic } from '../client/topic-partition.ts'
import { MAX_OFFSET_COMMIT_VERSION, MAX_OFFSET_FETCH_VERSION } from '../group/offsets.ts'
import { ErrorCode, kafkaError } from '../protocol/error-codes.ts'
import { type KafkaError, ProtocolError } from '../protocol/errors.ts'
import { ConsumerProtocolAssignment } from '../protocol/messages/generated/consumer-protocol-assignment.ts'
import { ConsumerProtocolSubscription } from '../protocol/messages/generated/consumer-protocol-subscription.ts'
import {
  type Api,
  ConsumerGroupDescribeModule,
  DeleteGroupsModule,
  DescribeGroupsModule,
  ListGroupsModule,
  loadApi,
  type MessageCodec,
  OffsetCommit,
  OffsetDeleteModule,
  OffsetFetch,
} from '../protocol/messages/index.ts'
import { EMPTY_BYTES } from '../protocol/messages/runtime.ts'
import { Reader } from '../protocol/primitives/index.ts'
import { answer, itemError, type RequestEngine } from './engine.ts'
import { listOffsets } from './records.ts'
import { int, list, name, names, offset } from './validate.ts'

/** A group as ListGroups lists it. */
export interface ListedGroup {
  groupId: string
  protocolType: string
  /** Empty when the broker is too old to say (ListGroups v4+). */
  state: string
  /** 'classic', 'consumer', 'share'...; empty when the broker is too old to say (ListGroups v5+). */
  type: string
}

/** A member of a described group. */
export interface GroupMemberDescription {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  /** Decoded for consumer groups (protocol type `consumer`). */
  subscription?: { topics: string[]; userData: Buffer | null }
  /** The partitions the member owns now (KIP-848 groups: may trail `targetAssignment` while it reconciles). */
  assignment?: { topic: string; partitions: number[] }[]
  /** KIP-848 groups: what the broker's assignor gives the member, which it owns once it has reconciled. */
  targetAssignment?: { topic: string; partitions: number[] }[]
  /** KIP-848 groups: the member's epoch, its rack and its subscribed regular expression (null: none). */
  memberEpoch?: number
  rackId?: string | null
  subscribedTopicRegex?: string | null
  /** KIP-848 groups: 'consumer', or 'classic' for a member joined with JoinGroup (mixed groups, upgrades). */
  memberType?: 'classic' | 'consumer' | 'unknown'
  /** The raw bytes of classic groups (empty in KIP-848 consumer groups). */
  memberMetadata: Buffer
  memberAssignment: Buffer
}

/** A consumer group: its state, protocol and members. */
export interface GroupDescription {
  groupId: string
  /** 'classic', or 'consumer' for groups of the KIP-848 protocol. */
  type: 'classic' | 'consumer'
  state: string
  protocolType: string
  /** The assignor (consumer groups) or protocol the members agreed on. */
  protocol: string
  /** KIP-848 groups: the group epoch, and the epoch of the target assignment (behind it while the assignor runs). */
  groupEpoch?: number
  assignmentEpoch?: number
  members: GroupMemberDescription[]
}

/** A group's committed offset of one partition. */
export interface GroupCommittedOffset {
  topic: string
  partition: number
  offset: bigint
  metadata: string | null
}

/** How far a group is behind on one partition (`groupLag`). */
export interface GroupPartitionLag {
  topic: string
  partition: number
  committed: bigint
  end: bigint
  lag: bigint
}

// lazily loaded: importing kafkax must stay cheap
const DescribeGroups = () => loadApi(DescribeGroupsModule)
const ConsumerGroupDescribe = () => loadApi(ConsumerGroupDescribeModule)
const ListGroups = () => loadApi(ListGroupsModule)
const DeleteGroups = () => loadApi(DeleteGroupsModule)
const OffsetDelete = () => loadApi(OffsetDeleteModule)

/** Caps an API's version: v10 of OffsetCommit and OffsetFetch name topics by id only; we work with names. */
function upTo<Req, Res>(api: Api<Req, Res>, max: number): Api<Req, Res> {
  return { ...api, request: { ...api.request, latestStableVersion: Math.min(max, api.request.latestStableVersion) } }
}
const OffsetCommitByName = upTo(OffsetCommit, MAX_OFFSET_COMMIT_VERSION)
const OffsetFetchByName = upTo(OffsetFetch, MAX_OFFSET_FETCH_VERSION)

export async function listGroups(engine: RequestEngine): Promise<ListedGroup[]> {
  await engine.connect()
  const api = await ListGroups()
  const brokers = [...(await engine.cluster.refreshMetadata()).brokers.keys()]
  const answers = await Promise.all(
    brokers.map((nodeId) =>
      engine.run(async () => {
        const response = await engine.send(nodeId, api, () => ({}))
        if (response.errorCode) throw kafkaError(response.errorCode, `ListGroups on broker ${nodeId}`)
        return response.groups
      }),
    ),
  )
  return answers
    .flat()
    .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, state: g.groupState, type: g.groupType }))
    .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
}

export async function describeGroups(engine: RequestEngine, groupIds: string[]): Promise<GroupDescription[]> {
  names('describeGroups', groupIds)
  await engine.connect()
  const api = await DescribeGroups()
  return engine.perGroup(groupIds, async (groupId) => {
    const response = await engine.groupRequest(
      groupId,
      api,
      () => ({ groups: [groupId] }),
      (r) => r.groups[0]?.errorCode ?? 0,
    )
    const g = response.groups[0]
    if (!g) throw new ProtocolError(`DescribeGroups answer lacks group ${groupId}`)
    // Kafka 4 answers so for KIP-848 groups too: they have their own describe API
    if (g.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) return describeConsumerGroup(engine, groupId)
    if (g.errorCode) return itemError(g.errorCode, `group ${groupId}`, g.errorMessage)
    const consumer = g.protocolType === 'consumer'
    return {
      groupId,
      type: 'classic' as const,
      state: g.groupState,
      protocolType: g.protocolType,
      protocol: g.protocolData,
      members: g.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscription: consumer ? subscriptionOf(m.memberMetadata) : undefined,
        assignment: consumer ? assignmentOf(m.memberAssignment) : undefined,
        memberMetadata: m.memberMetadata,
        memberAssignment: m.memberAssignment,
      })),
    }
  })
}

async function describeConsumerGroup(engine: RequestEngine, groupId: string): Promise<GroupDescription | KafkaError> {
  const response = await engine.groupRequest(
    groupId,
    await ConsumerGroupDescribe(),
    () => ({ groupIds: [groupId], includeAuthorizedOperations: false }),
    (r) => r.groups[0]?.errorCode ?? 0,
  )
  const g = response.groups[0]
  if (!g) throw new ProtocolError(`ConsumerGroupDescribe answer lacks group ${groupId}`)
  if (g.errorCode) return itemError(g.errorCode, `group ${groupId}`, g.errorMessage)
  const partitions = (a: { topicPartitions: { topicName: string; partitions: number[] }[] }) =>
    a.topicPartitions.map((tp) => ({ topic: tp.topicName, partitions: tp.partitions }))
  return {
    groupId,
    type: 'consumer',
    state: g.groupState,
    protocolType: 'consumer',
    protocol: g.assignorName,
    groupEpoch: g.groupEpoch,
    assignmentEpoch: g.assignmentEpoch,
    members: g.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.instanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      subscription: { topics: m.subscribedTopicNames, userData: null },
      assignment: partitions(m.assignment),
      targetAssignment: partitions(m.targetAssignment),
      memberEpoch: m.memberEpoch,
      rackId: m.rackId,
      subscribedTopicRegex: m.subscribedTopicRegex,
      // ConsumerGroupDescribeResponse.json: -1 unknown, 0 classic, 1 consumer
      memberType: m.memberType === 0 ? 'classic' : m.memberType === 1 ? 'consumer' : 'unknown',
      memberMetadata: EMPTY_BYTES,
      memberAssignment: EMPTY_BYTES,
    })),
  }
}

export async function deleteGroups(engine: RequestEngine, groupIds: string[]): Promise<void> {
  names('deleteGroups', groupIds)
  await engine.connect()
  const api = await DeleteGroups()
  await engine.perGroup(groupIds, async (groupId) => {
    const response = await engine.groupRequest(
      groupId,
      api,
      () => ({ groupsNames: [groupId] }),
      (r) => r.results[0]?.errorCode ?? 0,
    )
    const code = response.results[0]?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR
    return code ? itemError(code, `group ${groupId}`) : undefined
  })
}

export async function fetchCommittedOffsets(
  engine: RequestEngine,
  groupId: string,
  topics?: string[],
): Promise<GroupCommittedOffset[]> {
  name('fetchCommittedOffsets: groupId', groupId)
  if (topics !== undefined) names('fetchCommittedOffsets', topics)
  await engine.connect()
  const response = await engine.groupRequest(
    groupId,
    OffsetFetchByName,
    // every topic: one request, filtered here (naming partitions would need their metadata)
    (v) => (v >= 8 ? { groups: [{ groupId, topics: null }] } : { groupId, topics: null }),
    (r) => (r.groups.length > 0 ? r.groups[0].errorCode : r.errorCode),
  )
  const group = response.groups[0]
  const code = group ? group.errorCode : response.errorCode
  if (code) throw kafkaError(code, `group ${groupId}`)
  const offsets: GroupCommittedOffset[] = []
  for (const t of group ? group.topics : response.topics) {
    if (topics && !topics.includes(t.name)) continue
    for (const p of t.partitions) {
      if (p.errorCode) throw itemError(p.errorCode, `group ${groupId} ${t.name}-${p.partitionIndex}`)
      if (p.committedOffset < 0n) continue
      offsets.push({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, metadata: p.metadata })
    }
  }
  return offsets.sort(byTopicPartition)
}

export async function alterCommittedOffsets(
  engine: RequestEngine,
  groupId: string,
  offsets: { topic: string; partition: number; offset: bigint | number; metadata?: string | null }[],
): Promise<void> {
  name('alterCommittedOffsets: groupId', groupId)
  list('alterCommittedOffsets: offsets', offsets)
  offsets.forEach((o, i) => {
    name(`alterCommittedOffsets: offsets[${i}].topic`, o?.topic)
    int(`alterCommittedOffsets: offsets[${i}].partition`, o.partition, 0)
    offset(`alterCommittedOffsets: offsets[${i}].offset`, o.offset)
  })
  await engine.connect()
  await engine.settle(offsets, async (pending) => {
    const response = await engine.groupRequest(
      groupId,
      OffsetCommitByName,
      () => ({
        groupId,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        topics: [...byTopic(pending)].map(([name, items]) => ({
          name,
          partitions: items.map((o) => ({
            partitionIndex: o.partition,
            committedOffset: BigInt(o.offset),
            committedMetadata: o.metadata ?? null,
          })),
        })),
      }),
      (r) => r.topics[0]?.partitions[0]?.errorCode ?? 0,
    )
    const byKey = new Map(response.topics.flatMap((t) => t.partitions.map((p) => [`${t.name}-${p.partitionIndex}`, p])))
    return pending.map((o) => {
      const p = answer(byKey, `${o.topic}-${o.partition}`, 'OffsetCommit')
      return p.errorCode ? itemError(p.errorCode, `group ${groupId} ${o.topic}-${o.partition}`) : undefined
    })
  })
}

export async function deleteCommittedOffsets(
  engine: RequestEngine,
  groupId: string,
  partitions: { topic: string; partition: number }[],
): Promise<void> {
  name('deleteCommittedOffsets: groupId', groupId)
  list('deleteCommittedOffsets: partitions', partitions)
  partitions.forEach((p, i) => {
    name(`deleteCommittedOffsets: partitions[${i}].topic`, p?.topic)
    int(`deleteCommittedOffsets: partitions[${i}].partition`, p.partition, 0)
  })
  await engine.connect()
  const api = await OffsetDelete()
  await engine.settle(partitions, async (pending) => {
    const response = await engine.groupRequest(
      groupId,
      api,
      () => ({
        groupId,
        topics: [...byTopic(pending)].map(([name, items]) => ({
          name,
          partitions: items.map((p) => ({ partitionIndex: p.partition })),
        })),
      }),
      (r) => r.errorCode,
    )
    if (response.errorCode) throw kafkaError(response.errorCode, `group ${groupId}`)
    const byKey = new Map(response.topics.flatMap((t) => t.partitions.map((p) => [`${t.name}-${p.partitionIndex}`, p])))
    return pending.map((o) => {
      const p = answer(byKey, `${o.topic}-${o.partition}`, 'OffsetDelete')
      return p.errorCode ? itemError(p.errorCode, `group ${groupId} ${o.topic}-${o.partition}`) : undefined
    })
  })
}

export async function groupLag(engine: RequestEngine, groupId: string): Promise<GroupPartitionLag[]> {
  const committed = await fetchCommittedOffsets(engine, groupId)
  const lags = await Promise.all(
    [...byTopic(committed)].map(async ([topic, items]) => {
      const ends = await listOffsets(engine, { topic, partitions: items.map((c) => c.partition), at: 'latest' })
      return items.map((c, i) => {
        const end = ends[i].offset
        return { topic, partition: c.partition, committed: c.offset, end, lag: end > c.offset ? end - c.offset : 0n }
      })
    }),
  )
  return lags.flat().sort(byTopicPartition)
}

function byTopicPartition(a: { topic: string; partition: number }, b: { topic: string; partition: number }): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition
}

/** Consumer protocol bytes start with the int16 version they were written in. */
function decodeVersioned<T>(codec: MessageCodec<T>, bytes: Buffer): T | undefined {
  if (bytes.length < 2) return undefined
  const r = new Reader(bytes)
  // newer versions only add fields at the end: read what we know
  const version = Math.min(r.int16(), codec.maxVersion)
  return codec.read(r, version)
}

function subscriptionOf(bytes: Buffer): GroupMemberDescription['subscription'] {
  const s = decodeVersioned(ConsumerProtocolSubscription, bytes)
  return s && { topics: s.topics, userData: s.userData ?? null }
}

function assignmentOf(bytes: Buffer): GroupMemberDescription['assignment'] {
  return decodeVersioned(ConsumerProtocolAssignment, bytes)?.assignedPartitions.map((tp) => ({
    topic: tp.topic,
    partitions: tp.partitions,
  }))
}
