// OffsetCommit and OffsetFetch for a group member of either protocol: the bodies (pure), their
// answers turned into results or KafkaErrors, and one round trip of each through the member's
// coordinator connection (the member decides on retries).

import type { CoordinatorConnection } from '../client/coordinator.ts'
import {
  byTopic,
  committedOffsetTopics,
  type OffsetToCommit,
  type TopicPartition,
  tpKey,
} from '../client/topic-partition.ts'
import { ErrorCode, kafkaError } from '../protocol/error-codes.ts'
import { KafkaError } from '../protocol/errors.ts'
import type { OffsetCommitRequest } from '../protocol/messages/generated/offset-commit-request.ts'
import type { OffsetCommitResponse } from '../protocol/messages/generated/offset-commit-response.ts'
import type { OffsetFetchRequest } from '../protocol/messages/generated/offset-fetch-request.ts'
import type { OffsetFetchResponse } from '../protocol/messages/generated/offset-fetch-response.ts'
import { OffsetCommit, OffsetFetch } from '../protocol/messages/index.ts'

/**
 * v10 of both APIs names topics by id only (KIP-848); v9 is the newest that names them, so we stop
 * there rather than map ids back to names.
 */
export const MAX_OFFSET_COMMIT_VERSION = 9
export const MAX_OFFSET_FETCH_VERSION = 9

export type { OffsetToCommit }

/** Where a group committed a partition (OffsetFetch): the next offset to read and its leader epoch. */
export interface CommittedPosition {
  offset: bigint
  leaderEpoch: number
}

/**
 * Who commits: a classic member by its generation, a consumer-protocol member (KIP-848) by its
 * member epoch; both by member id (and instance id when static). Before a member joined: generation
 * or epoch -1 and member id ''.
 */
export type CommitIdentity = GenerationIdentity | MemberEpochIdentity

interface MemberIdentity {
  groupId: string
  memberId: string
  groupInstanceId: string | null
}

export interface GenerationIdentity extends MemberIdentity {
  generationId: number
}

export interface MemberEpochIdentity extends MemberIdentity {
  memberEpoch: number
}

export function offsetCommitRequest(
  version: number,
  who: CommitIdentity,
  offsets: readonly OffsetToCommit[],
): OffsetCommitRequest {
  return {
    groupId: who.groupId,
    generationIdOrMemberEpoch: 'memberEpoch' in who ? who.memberEpoch : who.generationId,
    memberId: who.memberId,
    // only v7+ carries it; older versions cannot speak for static members anyway
    groupInstanceId: version >= 7 ? who.groupInstanceId : null,
    topics: committedOffsetTopics(offsets),
  }
}

/** The first partition error of an OffsetCommit answer, or undefined when every offset was stored. */
export function offsetCommitError(response: OffsetCommitResponse): KafkaError | undefined {
  for (const t of response.topics)
    for (const p of t.partitions)
      if (p.errorCode !== 0) return kafkaError(p.errorCode, `OffsetCommit ${t.name}-${p.partitionIndex}`)
  return undefined
}

/**
 * v8+ batches groups (KIP-709); older versions name one group at the top level. A consumer-protocol
 * member names itself and its epoch (v9+, KIP-848); a classic member fetches for the group alone,
 * as the Java client's ConsumerCoordinator does.
 */
export function offsetFetchRequest(
  version: number,
  who: CommitIdentity,
  partitions: readonly TopicPartition[],
  requireStable: boolean,
): OffsetFetchRequest {
  const { groupId } = who
  const topics = [...byTopic(partitions)].map(([name, list]) => ({
    name,
    partitionIndexes: list.map((p) => p.partition),
  }))
  // requireStable exists from v7 (KIP-447); before, the broker cannot hold back unstable offsets
  const stable = version >= 7 ? requireStable : false
  if (version >= 9 && 'memberEpoch' in who)
    return {
      groups: [{ groupId, memberId: who.memberId, memberEpoch: who.memberEpoch, topics }],
      requireStable: stable,
    }
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
): Map<string, CommittedPosition | null> {
  let errorCode = response.errorCode
  let topics = response.topics
  if (version >= 8) {
    const group = response.groups.find((g) => g.groupId === groupId)
    if (!group) throw kafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `OffsetFetch answer without group ${groupId}`)
    errorCode = group.errorCode
    topics = group.topics
  }
  if (errorCode !== 0) throw kafkaError(errorCode, `OffsetFetch ${groupId}`)
  const result = new Map<string, CommittedPosition | null>()
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

/**
 * One OffsetCommit to the coordinator. The first partition error is thrown as KafkaError, after an
 * error saying the coordinator moved made the connection look it up again.
 */
export async function sendOffsetCommit(
  coordinator: CoordinatorConnection,
  who: CommitIdentity,
  offsets: readonly OffsetToCommit[],
): Promise<void> {
  const response = await coordinator.request(OffsetCommit, MAX_OFFSET_COMMIT_VERSION, (v) =>
    offsetCommitRequest(v, who, offsets),
  )
  const error = offsetCommitError(response)
  if (error) {
    coordinator.checkError(error.code)
    throw error
  }
}

/** One OffsetFetch from the coordinator: committed offsets by tpKey (null: none); errors as in sendOffsetCommit. */
export async function sendOffsetFetch(
  coordinator: CoordinatorConnection,
  who: CommitIdentity,
  partitions: readonly TopicPartition[],
  requireStable: boolean,
): Promise<Map<string, CommittedPosition | null>> {
  let version = 0
  const response = await coordinator.request(OffsetFetch, MAX_OFFSET_FETCH_VERSION, (v) => {
    version = v
    return offsetFetchRequest(v, who, partitions, requireStable)
  })
  try {
    return offsetFetchResult(version, who.groupId, response)
  } catch (error) {
    if (error instanceof KafkaError) coordinator.checkError(error.code)
    throw error
  }
}
