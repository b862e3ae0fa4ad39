// Groups as the admin client sees them: DescribeGroups (v0-6, classic groups), ListGroups (v0-5,
// with the state and type filters of v4 and v5) and DeleteGroups (v0-2).

import { ErrorCode } from '../../protocol/error-codes.ts'
import { DeleteGroupsRequest } from '../../protocol/messages/generated/delete-groups-request.ts'
import { DeleteGroupsResponse } from '../../protocol/messages/generated/delete-groups-response.ts'
import { DescribeGroupsRequest } from '../../protocol/messages/generated/describe-groups-request.ts'
import { DescribeGroupsResponse } from '../../protocol/messages/generated/describe-groups-response.ts'
import { ListGroupsRequest } from '../../protocol/messages/generated/list-groups-request.ts'
import { ListGroupsResponse } from '../../protocol/messages/generated/list-groups-response.ts'
import { api } from '../../protocol/messages/index.ts'
import type { ApiHandler } from '../api-handler.ts'
import { GROUP_KEY } from '../internal-topics.ts'
import { groupRequestError } from './groups.ts'

const OPERATIONS_OMITTED = -2147483648

export const describeGroups: ApiHandler<DescribeGroupsRequest, DescribeGroupsResponse> = {
  api: api(DescribeGroupsRequest, DescribeGroupsResponse),
  minVersion: 0,
  maxVersion: 6,
  handle(request, ctx) {
    return {
      throttleTimeMs: 0,
      groups: request.groups.map((groupId) => {
        const dead = {
          errorMessage: null,
          groupId,
          groupState: 'Dead',
          protocolType: '',
          protocolData: '',
          members: [],
          authorizedOperations: OPERATIONS_OMITTED,
        }
        const error = groupRequestError(ctx, groupId)
        if (error !== ErrorCode.NONE) return { ...dead, errorCode: error }
        const group = ctx.cluster.groups.visible(groupId)
        // v6 says a missing (or non-classic) group is not found; older versions describe it as Dead
        if (group?.type !== 'classic')
          return { ...dead, errorCode: ctx.version >= 6 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.NONE }
        const d = group.describe()
        return {
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          groupId,
          groupState: d.state,
          protocolType: d.protocolType,
          protocolData: d.protocolData,
          members: d.members.map((m) => ({ ...m, groupInstanceId: ctx.version >= 4 ? m.groupInstanceId : null })),
          authorizedOperations: OPERATIONS_OMITTED,
        }
      }),
    }
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      groups: request.groups.map((groupId) => ({
        errorCode,
        errorMessage: null,
        groupId,
        groupState: '',
        protocolType: '',
        protocolData: '',
        members: [],
        authorizedOperations: OPERATIONS_OMITTED,
      })),
    }
  },
}

export const listGroups: ApiHandler<ListGroupsRequest, ListGroupsResponse> = {
  api: api(ListGroupsRequest, ListGroupsResponse),
  minVersion: 0,
  maxVersion: 5,
  handle(request, ctx) {
    const states = new Set((request.statesFilter ?? []).map((s) => s.toLowerCase()))
    const types = new Set((request.typesFilter ?? []).map((t) => t.toLowerCase()))
    const groups = ctx.cluster.groups
      .all()
      // each broker lists the groups it coordinates
      .filter((g) => ctx.cluster.coordinatorFor(GROUP_KEY, g.groupId) === ctx.broker.nodeId)
      .map((g) => ({
        groupId: g.groupId,
        protocolType: g.type === 'classic' ? (g.protocolType ?? '') : 'consumer',
        groupState: g.state,
        groupType: g.type,
      }))
      .filter(
        (g) =>
          (states.size === 0 || states.has(g.groupState.toLowerCase())) && (types.size === 0 || types.has(g.groupType)),
      )
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, groups }
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, groups: [] }
  },
}

export const deleteGroups: ApiHandler<DeleteGroupsRequest, DeleteGroupsResponse> = {
  api: api(DeleteGroupsRequest, DeleteGroupsResponse),
  minVersion: 0,
  maxVersion: 2,
  handle(request, ctx) {
    return {
      throttleTimeMs: 0,
      results: request.groupsNames.map((groupId) => {
        const error = groupRequestError(ctx, groupId)
        return { groupId, errorCode: error !== ErrorCode.NONE ? error : ctx.cluster.groups.delete(groupId) }
      }),
    }
  },
  errorResponse(request, errorCode) {
    return { throttleTimeMs: 0, results: request.groupsNames.map((groupId) => ({ groupId, errorCode })) }
  },
}
