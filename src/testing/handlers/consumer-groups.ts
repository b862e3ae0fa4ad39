// The consumer group protocol (KIP-848): ConsumerGroupHeartbeat (v0-1) and ConsumerGroupDescribe
// (v0-1). The reconciliation itself is consumer-group.ts. Request checks follow Kafka's
// throwIfConsumerGroupHeartbeatRequestIsInvalid: v1 members bring their own id (KIP-1082), a
// joining member (epoch 0) gives its rebalance timeout and subscription and owns nothing yet.

import { ErrorCode } from '../../protocol/error-codes.ts'
import { ConsumerGroupDescribeRequest } from '../../protocol/messages/generated/consumer-group-describe-request.ts'
import { ConsumerGroupDescribeResponse } from '../../protocol/messages/generated/consumer-group-describe-response.ts'
import { ConsumerGroupHeartbeatRequest } from '../../protocol/messages/generated/consumer-group-heartbeat-request.ts'
import { ConsumerGroupHeartbeatResponse } from '../../protocol/messages/generated/consumer-group-heartbeat-response.ts'
import { api } from '../../protocol/messages/index.ts'
import type { ApiHandler } from '../api-handler.ts'
import type { TopicAssignment } from '../server-assignors.ts'
import type { TopicRegistry } from '../topics.ts'
import { groupRequestError } from './groups.ts'

const OPERATIONS_OMITTED = -2147483648

function invalidRequest(request: ConsumerGroupHeartbeatRequest, version: number): string | undefined {
  if (request.groupId === '') return "GroupId can't be empty."
  if (request.instanceId === '') return "InstanceId can't be empty."
  if (request.rackId === '') return "RackId can't be empty."
  if (version >= 1 && request.memberId === '') return "MemberId can't be empty."
  if (request.memberEpoch === 0) {
    if ((request.rebalanceTimeoutMs ?? -1) === -1) return 'RebalanceTimeoutMs must be provided in first request.'
    if ((request.topicPartitions ?? null) === null || request.topicPartitions!.length > 0)
      return 'TopicPartitions must be empty when (re-)joining.'
    if ((request.subscribedTopicNames ?? null) === null && (request.subscribedTopicRegex ?? null) === null)
      return 'SubscribedTopicNames or SubscribedTopicRegex must be set in first request.'
  } else if (request.memberEpoch === -2) {
    if (!request.instanceId) return "InstanceId can't be null."
  } else if (request.memberEpoch < -2) return `MemberEpoch is invalid: ${request.memberEpoch}.`
  return undefined
}

export const consumerGroupHeartbeat: ApiHandler<ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse> = {
  api: api(ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse),
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    const invalid = invalidRequest(request, ctx.version)
    if (invalid) return { ...this.errorResponse(request, ErrorCode.INVALID_REQUEST, ctx), errorMessage: invalid }
    const error = groupRequestError(ctx, request.groupId)
    if (error !== ErrorCode.NONE) return this.errorResponse(request, error, ctx)
    const group = ctx.cluster.groups.consumer(request.groupId, request.memberEpoch === 0)
    if ('errorCode' in group) {
      // a member of a group that is gone (or is a classic group) is unknown to it
      const errorCode = request.memberEpoch === 0 ? group.errorCode : ErrorCode.UNKNOWN_MEMBER_ID
      return { ...this.errorResponse(request, errorCode, ctx), errorMessage: group.errorMessage }
    }
    return {
      throttleTimeMs: 0,
      ...group.heartbeat({
        memberId: request.memberId,
        memberEpoch: request.memberEpoch,
        instanceId: request.instanceId ?? null,
        rackId: request.rackId ?? null,
        rebalanceTimeoutMs: request.rebalanceTimeoutMs ?? -1,
        subscribedTopicNames: request.subscribedTopicNames ?? null,
        subscribedTopicRegex: request.subscribedTopicRegex ?? null,
        serverAssignor: request.serverAssignor ?? null,
        ownedTopicPartitions: request.topicPartitions ?? null,
        clientId: ctx.header.clientId ?? '',
        clientHost: ctx.connection.clientHost,
      }),
    }
  },
  errorResponse(_request, errorCode) {
    return {
      throttleTimeMs: 0,
      errorCode,
      errorMessage: null,
      memberId: null,
      memberEpoch: 0,
      heartbeatIntervalMs: 0,
      assignment: null,
    }
  },
}

function describeAssignment(assignment: TopicAssignment, topics: TopicRegistry) {
  return {
    topicPartitions: [...assignment].map(([topicId, ps]) => ({
      topicId,
      topicName: topics.getById(topicId)?.name ?? '',
      partitions: [...ps].sort((a, b) => a - b),
    })),
  }
}

export const consumerGroupDescribe: ApiHandler<ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse> = {
  api: api(ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse),
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    const { cluster } = ctx
    return {
      throttleTimeMs: 0,
      groups: request.groupIds.map((groupId) => {
        const empty = {
          errorMessage: null,
          groupId,
          groupState: 'Dead',
          groupEpoch: -1,
          assignmentEpoch: -1,
          assignorName: '',
          members: [],
          authorizedOperations: OPERATIONS_OMITTED,
        }
        const error = groupRequestError(ctx, groupId)
        if (error !== ErrorCode.NONE) return { ...empty, errorCode: error }
        const group = cluster.groups.visible(groupId)
        if (group?.type !== 'consumer')
          return {
            ...empty,
            errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
            errorMessage: group ? `Group ${groupId} is not a consumer group.` : `Group ${groupId} not found.`,
          }
        return {
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          groupId,
          groupState: group.state,
          groupEpoch: group.groupEpoch,
          assignmentEpoch: group.targetAssignmentEpoch,
          assignorName: group.assignorName,
          authorizedOperations: OPERATIONS_OMITTED,
          members: [...group.members.values()].map((m) => ({
            memberId: m.memberId,
            instanceId: m.instanceId,
            rackId: m.rackId,
            memberEpoch: m.memberEpoch,
            clientId: m.clientId,
            clientHost: m.clientHost,
            subscribedTopicNames: m.subscribedTopicNames,
            subscribedTopicRegex: m.subscribedTopicRegex,
            assignment: describeAssignment(m.assigned, cluster.topics),
            targetAssignment: describeAssignment(group.targetOf(m.memberId), cluster.topics),
            memberType: ctx.version >= 1 ? 1 : -1,
          })),
        }
      }),
    }
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      groups: request.groupIds.map((groupId) => ({
        errorCode,
        errorMessage: null,
        groupId,
        groupState: '',
        groupEpoch: -1,
        assignmentEpoch: -1,
        assignorName: '',
        members: [],
        authorizedOperations: OPERATIONS_OMITTED,
      })),
    }
  },
}
