// FindCoordinator (v0-6) and the classic group protocol: JoinGroup (v0-9), SyncGroup (v0-5),
// Heartbeat (v0-4), LeaveGroup (v0-5). The state machine is classic-group.ts; here are the checks
// every coordinator request makes first (is this broker the group's coordinator, a valid group id)
// and the mapping to and from the wire.

import { ErrorCode } from '../../protocol/error-codes.ts'
import type { FindCoordinatorRequest } from '../../protocol/messages/generated/find-coordinator-request.ts'
import type { FindCoordinatorResponse } from '../../protocol/messages/generated/find-coordinator-response.ts'
import type { HeartbeatRequest } from '../../protocol/messages/generated/heartbeat-request.ts'
import type { HeartbeatResponse } from '../../protocol/messages/generated/heartbeat-response.ts'
import type { JoinGroupRequest } from '../../protocol/messages/generated/join-group-request.ts'
import type { JoinGroupResponse } from '../../protocol/messages/generated/join-group-response.ts'
import type { LeaveGroupRequest } from '../../protocol/messages/generated/leave-group-request.ts'
import type { LeaveGroupResponse } from '../../protocol/messages/generated/leave-group-response.ts'
import type { SyncGroupRequest } from '../../protocol/messages/generated/sync-group-request.ts'
import type { SyncGroupResponse } from '../../protocol/messages/generated/sync-group-response.ts'
import { FindCoordinator, Heartbeat, JoinGroup, LeaveGroup, SyncGroup } from '../../protocol/messages/index.ts'
import type { ApiHandler, RequestContext } from '../api-handler.ts'
import { GROUP_KEY, TRANSACTION_KEY } from '../internal-topics.ts'

/** The error a coordinator request for `groupId` gets before anything else, or NONE. */
export function groupRequestError(ctx: RequestContext, groupId: string): number {
  if (groupId === '') return ErrorCode.INVALID_GROUP_ID
  const coordinator = ctx.cluster.coordinatorFor(GROUP_KEY, groupId)
  if (coordinator === -1) return ErrorCode.COORDINATOR_NOT_AVAILABLE
  return coordinator === ctx.broker.nodeId ? ErrorCode.NONE : ErrorCode.NOT_COORDINATOR
}

function findOne(ctx: RequestContext, key: string, keyType: number) {
  const none = { nodeId: -1, host: '', port: -1 }
  if (keyType !== GROUP_KEY && keyType !== TRANSACTION_KEY)
    return { ...none, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported key type ${keyType}` }
  if (key === '' && keyType === GROUP_KEY)
    return { ...none, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Invalid group id' }
  const nodeId = ctx.cluster.coordinatorFor(keyType, key)
  const endpoint = nodeId >= 0 ? ctx.cluster.endpoint(nodeId, ctx.listener.name) : undefined
  if (!endpoint)
    return {
      ...none,
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
      errorMessage: 'The coordinator is not available.',
    }
  return { nodeId, host: endpoint.host, port: endpoint.port, errorCode: ErrorCode.NONE, errorMessage: null }
}

/** A v4+ answer (one coordinator per key; the top-level fields are unused there). */
const batched = (coordinators: FindCoordinatorResponse['coordinators']): FindCoordinatorResponse => ({
  throttleTimeMs: 0,
  errorCode: ErrorCode.NONE,
  errorMessage: null,
  nodeId: 0,
  host: '',
  port: 0,
  coordinators,
})

export const findCoordinator: ApiHandler<FindCoordinatorRequest, FindCoordinatorResponse> = {
  api: FindCoordinator,
  minVersion: 0,
  maxVersion: 6,
  handle(request, ctx) {
    const keyType = request.keyType ?? GROUP_KEY
    if (ctx.version >= 4)
      return batched((request.coordinatorKeys ?? []).map((key) => ({ key, ...findOne(ctx, key, keyType) })))
    return { throttleTimeMs: 0, ...findOne(ctx, request.key ?? '', keyType), coordinators: [] }
  },
  errorResponse(request, errorCode, ctx) {
    const none = { nodeId: -1, host: '', port: -1, errorCode, errorMessage: null }
    if (ctx.version >= 4) return batched((request.coordinatorKeys ?? []).map((key) => ({ key, ...none })))
    return { throttleTimeMs: 0, ...none, coordinators: [] }
  },
}

export const joinGroup: ApiHandler<JoinGroupRequest, JoinGroupResponse> = {
  api: JoinGroup,
  minVersion: 0,
  maxVersion: 9,
  async handle(request, ctx) {
    const error = groupRequestError(ctx, request.groupId)
    if (error !== ErrorCode.NONE) return this.errorResponse(request, error, ctx)
    const group = ctx.cluster.groups.classic(request.groupId)
    if (!group) return this.errorResponse(request, ErrorCode.INCONSISTENT_GROUP_PROTOCOL, ctx)
    const result = await group.join({
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      clientId: ctx.header.clientId ?? '',
      clientHost: ctx.connection.clientHost,
      sessionTimeoutMs: request.sessionTimeoutMs,
      // v0 has no rebalance timeout: the session timeout serves as both
      rebalanceTimeoutMs:
        ctx.version >= 1 ? (request.rebalanceTimeoutMs ?? request.sessionTimeoutMs) : request.sessionTimeoutMs,
      protocolType: request.protocolType,
      protocols: request.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
      requireKnownMemberId: ctx.version >= 4,
    })
    return {
      throttleTimeMs: 0,
      ...result,
      // v0-6 cannot say null; v9 alone can say skip
      protocolName: ctx.version < 7 ? (result.protocolName ?? '') : result.protocolName,
      protocolType: ctx.version >= 7 ? result.protocolType : null,
      skipAssignment: ctx.version >= 9 ? result.skipAssignment : false,
      members: result.members.map((m) => ({ ...m, groupInstanceId: ctx.version >= 5 ? m.groupInstanceId : null })),
    }
  },
  errorResponse(request, errorCode, ctx) {
    return {
      throttleTimeMs: 0,
      errorCode,
      generationId: -1,
      protocolType: null,
      protocolName: ctx.version < 7 ? '' : null,
      leader: '',
      skipAssignment: false,
      memberId: request.memberId,
      members: [],
    }
  },
}

export const syncGroup: ApiHandler<SyncGroupRequest, SyncGroupResponse> = {
  api: SyncGroup,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    const error = groupRequestError(ctx, request.groupId)
    if (error !== ErrorCode.NONE) return this.errorResponse(request, error, ctx)
    const group = ctx.cluster.groups.get(request.groupId)
    if (group?.type !== 'classic') return this.errorResponse(request, ErrorCode.UNKNOWN_MEMBER_ID, ctx)
    const result = await group.sync(
      request.memberId,
      request.groupInstanceId ?? null,
      request.generationId,
      request.protocolType ?? null,
      request.protocolName ?? null,
      request.assignments.map((a) => ({ memberId: a.memberId, assignment: Buffer.from(a.assignment) })),
    )
    return {
      throttleTimeMs: 0,
      ...result,
      protocolType: ctx.version >= 5 ? result.protocolType : null,
      protocolName: ctx.version >= 5 ? result.protocolName : null,
    }
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) }
  },
}

export const heartbeat: ApiHandler<HeartbeatRequest, HeartbeatResponse> = {
  api: Heartbeat,
  minVersion: 0,
  maxVersion: 4,
  handle(request, ctx) {
    const error = groupRequestError(ctx, request.groupId)
    if (error !== ErrorCode.NONE) return this.errorResponse(request, error, ctx)
    const group = ctx.cluster.groups.get(request.groupId)
    if (group?.type !== 'classic') return this.errorResponse(request, ErrorCode.UNKNOWN_MEMBER_ID, ctx)
    return {
      throttleTimeMs: 0,
      errorCode: group.heartbeat(request.memberId, request.groupInstanceId ?? null, request.generationId),
    }
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode }
  },
}

export const leaveGroup: ApiHandler<LeaveGroupRequest, LeaveGroupResponse> = {
  api: LeaveGroup,
  minVersion: 0,
  maxVersion: 5,
  handle(request, ctx) {
    const error = groupRequestError(ctx, request.groupId)
    if (error !== ErrorCode.NONE) return this.errorResponse(request, error, ctx)
    const group = ctx.cluster.groups.get(request.groupId)
    if (ctx.version < 3) {
      if (group?.type !== 'classic') return this.errorResponse(request, ErrorCode.UNKNOWN_MEMBER_ID, ctx)
      return { throttleTimeMs: 0, errorCode: group.leave(request.memberId ?? '', null).errorCode, members: [] }
    }
    const members = (request.members ?? []).map((m) => {
      const left =
        group?.type === 'classic'
          ? group.leave(m.memberId, m.groupInstanceId ?? null)
          : { memberId: m.memberId, errorCode: ErrorCode.UNKNOWN_MEMBER_ID }
      return { memberId: left.memberId, groupInstanceId: m.groupInstanceId ?? null, errorCode: left.errorCode }
    })
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, members }
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, members: [] }
  },
}
