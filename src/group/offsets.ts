// OffsetCommit and OffsetFetch bodies for the classic group protocol, and their answers turned into
// results or KafkaErrors. Pure: the member sends them to the coordinator.

import { type TopicPartition, tpKey } from '../client/topic-partition.ts'
import { ErrorCode, kafkaError } from '../protocol/error-codes.ts'
import type { KafkaError } from '../protocol/errors.ts'
import type { OffsetCommitRequest } from '../protocol/messages/generated/offset-commit-request.ts'
import type { OffsetCommitResponse } from '../protocol/messages/generated/offset-commit-response.ts'
import type { OffsetFetchRequest } from '../protocol/messages/generated/offset-fetch-request.ts'
import type { OffsetFetchResponse } from '../protocol/messages/generated/offset-fetch-response.ts'

/**
 * v10 of both APIs names topics by id only (KIP-848); v9 is the newest that names them, so we stop
 * there rather than map ids back to names.
 */
export const MAX_OFFSET_COMMIT_VERSION = 9
export const MAX_OFFSET_FETCH_VERSION = 9

export interface OffsetToCommit {
  topic: string
  partition: number
  offset: bigint
  leaderEpoch?: number
  metadata?: string
}

export interface CommittedOffset {
  offset: bigint
  leaderEpoch: number
}

export interface CommitIdentity {
  groupId: string
  generationId: number
  memberId: string
  groupInstanceId: string | null
}

/** Groups items by topic, keeping the order topics first appear in. */
export function byTopic<T extends { topic: string }>(items: readonly T[]): Map<string, T[]> {
  const topics = new Map<string, T[]>()
  for (const item of items) {
    const list = topics.get(item.topic)
    if (list) list.push(item)
    else topics.set(item.topic, [item])
  }
  return topics
}

export function offsetCommitRequest(
  version: number,
  who: CommitIdentity,
  offsets: readonly OffsetToCommit[],
): OffsetCommitRequest {
  return {
    groupId: who.groupId,
    generationIdOrMemberEpoch: who.generationId,
    memberId: who.memberId,
    // only v7+ carries it; older versions cannot speak for static members anyway
    groupInstanceId: version >= 7 ? who.groupInstanceId : null,
    topics: [...byTopic(offsets)].map(([name, list]) => ({
      name,
      partitions: list.map((o) => ({
        partitionIndex: o.partition,
        committedOffset: o.offset,
        committedLeaderEpoch: o.leaderEpoch ?? -1,
        committedMetadata: o.metadata ?? '',
      })),
    })),
  }
}

/** The first partition error of an OffsetCommit answer, or undefined when every offset was stored. */
export function offsetCommitError(response: OffsetCommitResponse): KafkaError | undefined {
  for (const t of response.topics)
    for (const p of t.partitions)
      if (p.errorCode !== 0) return kafkaError(p.errorCode, `OffsetCommit ${t.name}-${p.partitionIndex}`)
  return undefined
}

/** v8+ batches groups (KIP-709); older versions name one group at the top level. */
export function offsetFetchRequest(
  version: number,
  groupId: string,
  partitions: readonly TopicPartition[],
  requireStable: boolean,
): OffsetFetchRequest {
  const topics = [...byTopic(partitions)].map(([name, list]) => ({
    name,
    partitionIndexes: list.map((p) => p.partition),
  }))
  // requireStable exists from v7 (KIP-447); before, the broker cannot hold back unstable offsets
  const stable = version >= 7 ? requireStable : false
  if (version >= 8) return { groups: [{ groupId, topics }], requireStable: stable }
  return { groupId, topics, requireStable: stable }
}

/**
 * The committed offsets of an OffsetFetch answer by tpKey, null where the group has none (offset -1).
 * A group-level or partition error is thrown as KafkaError.
 */
export function offsetFetchResult(
  version: number,
  groupId: string,
  response: OffsetFetchResponse,
): Map<string, CommittedOffset | null> {
  let errorCode = response.errorCode
  let topics = response.topics
  if (version >= 8) {
    const group = response.groups.find((g) => g.groupId === groupId)
    if (!group) throw kafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `OffsetFetch answer without group ${groupId}`)
    errorCode = group.errorCode
    topics = group.topics
  }
  if (errorCode !== 0) throw kafkaError(errorCode, `OffsetFetch ${groupId}`)
  const result = new Map<string, CommittedOffset | null>()
  for (const t of topics) {
    for (const p of t.partitions) {
      if (p.errorCode !== 0) throw kafkaError(p.errorCode, `OffsetFetch ${t.name}-${p.partitionIndex}`)
      result.set(
        tpKey(t.name, p.partitionIndex),
        p.committedOffset < 0n ? null : { offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch },
      )
    }
  }
  return result
}
