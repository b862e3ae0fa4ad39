// Committed offsets: OffsetCommit (v2-10), OffsetFetch (v1-10), OffsetDelete (v0) and the
// transactional TxnOffsetCommit (v0-5). A commit is checked against the group (classic: member and
// generation, consumer protocol v9+: member and epoch, STALE_MEMBER_EPOCH); a simple commit
// (generation -1, no member) goes to an empty group or creates one. OffsetFetch with requireStable
// answers UNSTABLE_OFFSET_COMMIT for a partition an open transaction committed to.

import { ErrorCode } from '../../protocol/error-codes.ts'
import type { OffsetCommitRequest } from '../../protocol/messages/generated/offset-commit-request.ts'
import type { OffsetCommitResponse } from '../../protocol/messages/generated/offset-commit-response.ts'
import { OffsetDeleteRequest } from '../../protocol/messages/generated/offset-delete-request.ts'
import { OffsetDeleteResponse } from '../../protocol/messages/generated/offset-delete-response.ts'
import type { OffsetFetchRequest } from '../../protocol/messages/generated/offset-fetch-request.ts'
import type {
  OffsetFetchResponse,
  OffsetFetchResponseGroup,
  OffsetFetchResponsePartitions,
} from '../../protocol/messages/generated/offset-fetch-response.ts'
import { TxnOffsetCommitRequest } from '../../protocol/messages/generated/txn-offset-commit-request.ts'
import { TxnOffsetCommitResponse } from '../../protocol/messages/generated/txn-offset-commit-response.ts'
import { api, OffsetCommit, OffsetFetch } from '../../protocol/messages/index.ts'
import { ZERO_UUID } from '../../protocol/messages/runtime.ts'
import type { ApiHandler, RequestContext } from '../api-handler.ts'
import type { Group } from '../group-coordinator.ts'
import { groupRequestError } from './groups.ts'

/** Why a commit to `group` is refused, or NONE. */
function validateCommit(
  group: Group,
  memberId: string,
  instanceId: string | null,
  generationOrEpoch: number,
  version: number,
): number {
  if (group.type === 'classic') return group.validateOffsetCommit(memberId, instanceId, generationOrEpoch)
  // a simple commit to an empty consumer group is allowed; members commit with their epoch (v9+)
  if (generationOrEpoch < 0 && memberId === '') return group.isEmpty ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID
  if (version < 9) return ErrorCode.UNSUPPORTED_VERSION
  return group.validateMemberEpoch(memberId, generationOrEpoch)
}

/** A topic of a commit or fetch request: by name, or by id (v10). */
function topicName(ctx: RequestContext, name: string | undefined, topicId: string | undefined): string | undefined {
  if (ctx.version >= 10) return ctx.cluster.topics.getById(topicId ?? ZERO_UUID)?.name
  return name
}

export const offsetCommit: ApiHandler<OffsetCommitRequest, OffsetCommitResponse> = {
  api: OffsetCommit,
  minVersion: 2,
  maxVersion: 10,
  handle(request, ctx) {
    const { cluster, version } = ctx
    const error = groupRequestError(ctx, request.groupId)
    if (error !== ErrorCode.NONE) return this.errorResponse(request, error, ctx)
    const generation = request.generationIdOrMemberEpoch ?? -1
    let group = cluster.groups.get(request.groupId)
    if (!group) {
      if (generation >= 0 || request.memberId !== '')
        return this.errorResponse(
          request,
          version >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION,
          ctx,
        )
      group = cluster.groups.forOffsets(request.groupId)
    }
    const invalid = validateCommit(group, request.memberId, request.groupInstanceId ?? null, generation, version)
    if (invalid !== ErrorCode.NONE) return this.errorResponse(request, invalid, ctx)
    const offsets = group.offsets
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => {
        const name = topicName(ctx, t.name, t.topicId)
        const topic = name === undefined ? undefined : cluster.topics.get(name)
        return {
          name: t.name ?? '',
          topicId: t.topicId ?? ZERO_UUID,
          partitions: t.partitions.map((p) => {
            let errorCode: number = ErrorCode.NONE
            if (!topic?.partitions[p.partitionIndex])
              errorCode = version >= 10 && !topic ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            else if ((p.committedMetadata?.length ?? 0) > cluster.groups.settings.offsetMetadataMaxBytes)
              errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE
            else
              offsets.commit(
                topic.name,
                p.partitionIndex,
                cluster.groups.offset(p.committedOffset, p.committedLeaderEpoch ?? -1, p.committedMetadata),
              )
            return { partitionIndex: p.partitionIndex, errorCode }
          }),
        }
      }),
    }
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        name: t.name ?? '',
        topicId: t.topicId ?? ZERO_UUID,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
      })),
    }
  },
}

const NO_OFFSET = { committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE }

/** One group of an OffsetFetch. `topics` null: every partition with an offset. */
function fetchGroup(
  ctx: RequestContext,
  groupId: string,
  memberId: string | null,
  memberEpoch: number,
  topics: { name?: string; topicId?: string; partitionIndexes: number[] }[] | null,
  requireStable: boolean,
): OffsetFetchResponseGroup {
  const { cluster, version } = ctx
  const fail = (errorCode: number): OffsetFetchResponseGroup => ({ groupId, topics: [], errorCode })
  const error = groupRequestError(ctx, groupId)
  if (error !== ErrorCode.NONE) return fail(error)
  const group = cluster.groups.get(groupId)
  if (group?.type === 'consumer' && memberId !== null && memberId !== '') {
    const invalid = group.validateMemberEpoch(memberId, memberEpoch)
    if (invalid !== ErrorCode.NONE) return fail(invalid)
  }
  const offsets = group?.offsets
  const partition = (topic: string, index: number): OffsetFetchResponsePartitions => {
    if (requireStable && offsets?.hasPending(topic, index))
      return { partitionIndex: index, ...NO_OFFSET, errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT }
    const o = offsets?.get(topic, index)
    if (!o) return { partitionIndex: index, ...NO_OFFSET }
    return {
      partitionIndex: index,
      committedOffset: o.offset,
      committedLeaderEpoch: o.leaderEpoch,
      metadata: o.metadata ?? '',
      errorCode: ErrorCode.NONE,
    }
  }
  const asked =
    topics ??
    [...(offsets?.topics() ?? [])].map((name) => ({
      name,
      topicId: cluster.topics.get(name)?.id,
      partitionIndexes: (offsets?.all() ?? []).filter((o) => o.topic === name).map((o) => o.partition),
    }))
  return {
    groupId,
    errorCode: ErrorCode.NONE,
    topics: asked.map((t) => {
      const name = version >= 10 ? cluster.topics.getById(t.topicId ?? ZERO_UUID)?.name : t.name
      return {
        name: t.name ?? name ?? '',
        topicId: t.topicId ?? ZERO_UUID,
        partitions: t.partitionIndexes.map((i) =>
          name === undefined
            ? { partitionIndex: i, ...NO_OFFSET, errorCode: ErrorCode.UNKNOWN_TOPIC_ID }
            : partition(name, i),
        ),
      }
    }),
  }
}

export const offsetFetch: ApiHandler<OffsetFetchRequest, OffsetFetchResponse> = {
  api: OffsetFetch,
  minVersion: 1,
  maxVersion: 10,
  handle(request, ctx) {
    const requireStable = request.requireStable ?? false
    if (ctx.version >= 8) {
      const groups = (request.groups ?? []).map((g) =>
        fetchGroup(ctx, g.groupId, g.memberId ?? null, g.memberEpoch ?? -1, g.topics, requireStable),
      )
      return { throttleTimeMs: 0, topics: [], errorCode: ErrorCode.NONE, groups }
    }
    const one = fetchGroup(ctx, request.groupId ?? '', null, -1, request.topics ?? null, requireStable)
    return {
      throttleTimeMs: 0,
      errorCode: ctx.version >= 2 ? one.errorCode : ErrorCode.NONE,
      topics: one.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          ...p,
          committedLeaderEpoch: ctx.version >= 5 ? p.committedLeaderEpoch : -1,
        })),
      })),
      groups: [],
    }
  },
  errorResponse(request, errorCode, ctx) {
    if (ctx.version >= 8)
      return {
        throttleTimeMs: 0,
        topics: [],
        errorCode: ErrorCode.NONE,
        groups: (request.groups ?? []).map((g) => ({ groupId: g.groupId, topics: [], errorCode })),
      }
    return { throttleTimeMs: 0, topics: [], errorCode, groups: [] }
  },
}

export const offsetDelete: ApiHandler<OffsetDeleteRequest, OffsetDeleteResponse> = {
  api: api(OffsetDeleteRequest, OffsetDeleteResponse),
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    const error = groupRequestError(ctx, request.groupId)
    if (error !== ErrorCode.NONE) return this.errorResponse(request, error, ctx)
    const group = ctx.cluster.groups.visible(request.groupId)
    if (!group) return this.errorResponse(request, ErrorCode.GROUP_ID_NOT_FOUND, ctx)
    const subscribed = subscribedTopics(group, ctx)
    return {
      errorCode: ErrorCode.NONE,
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          if (subscribed.has(t.name))
            return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC }
          group.offsets.delete(t.name, p.partitionIndex)
          return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE }
        }),
      })),
    }
  },
  errorResponse(_request, errorCode) {
    return { errorCode, throttleTimeMs: 0, topics: [] }
  },
}

/** Topics the group's members are subscribed to (their offsets cannot be deleted). */
function subscribedTopics(group: Group, ctx: RequestContext): Set<string> {
  const topics = new Set<string>()
  if (group.type === 'consumer') {
    for (const m of group.members.values()) for (const name of m.subscribedTopicNames) topics.add(name)
  } else {
    for (const m of ctx.cluster.groups.describeMembers(group.groupId)) for (const a of m.assignment) topics.add(a.topic)
  }
  return topics
}

export const txnOffsetCommit: ApiHandler<TxnOffsetCommitRequest, TxnOffsetCommitResponse> = {
  api: api(TxnOffsetCommitRequest, TxnOffsetCommitResponse),
  minVersion: 0,
  maxVersion: 5,
  handle(request, ctx) {
    const { cluster, version } = ctx
    const error = groupRequestError(ctx, request.groupId)
    if (error !== ErrorCode.NONE) return this.errorResponse(request, error, ctx)
    // the transaction must have added the group (AddOffsetsToTxn), or TV2 (v5) adds it here
    const checked = cluster.transactions.check(request.transactionalId, request.producerId, request.producerEpoch)
    if ('errorCode' in checked)
      return this.errorResponse(
        request,
        checked.errorCode === ErrorCode.PRODUCER_FENCED ? ErrorCode.INVALID_PRODUCER_EPOCH : checked.errorCode,
        ctx,
      )
    const { txn } = checked
    if (!txn.groups.has(request.groupId)) {
      if (version < 5) return this.errorResponse(request, ErrorCode.INVALID_TXN_STATE, ctx)
      cluster.transactions.addGroup(txn, request.groupId)
    }
    const group = cluster.groups.forOffsets(request.groupId)
    // v3+: a member of a classic group is checked like an OffsetCommit
    if (version >= 3 && (request.memberId ?? '') !== '' && group.type === 'classic') {
      const invalid = group.validateOffsetCommit(
        request.memberId ?? '',
        request.groupInstanceId ?? null,
        request.generationId ?? -1,
      )
      if (invalid !== ErrorCode.NONE) return this.errorResponse(request, invalid, ctx)
    }
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          if (!cluster.partition(t.name, p.partitionIndex))
            return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }
          group.offsets.addPending(
            request.producerId,
            t.name,
            p.partitionIndex,
            cluster.groups.offset(p.committedOffset, p.committedLeaderEpoch ?? -1, p.committedMetadata),
          )
          return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE }
        }),
      })),
    }
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
      })),
    }
  },
}
