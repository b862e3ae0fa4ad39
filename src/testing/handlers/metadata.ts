// Metadata and DescribeCluster: the alive brokers (at the addresses of the listener asked), topics
// with their ids, partitions, leaders, leader epochs, replicas, ISR and offline replicas. Unknown
// topics asked by name are created when auto-creation is on and the client allows it, and answered
// LEADER_NOT_AVAILABLE that time, as a broker does while the controller creates them.

import { ErrorCode } from '../../protocol/error-codes.ts'
import { DescribeClusterRequest } from '../../protocol/messages/generated/describe-cluster-request.ts'
import { DescribeClusterResponse } from '../../protocol/messages/generated/describe-cluster-response.ts'
import type { MetadataRequest } from '../../protocol/messages/generated/metadata-request.ts'
import type { MetadataResponse, MetadataResponseTopic } from '../../protocol/messages/generated/metadata-response.ts'
import { api, Metadata } from '../../protocol/messages/index.ts'
import { ZERO_UUID } from '../../protocol/messages/runtime.ts'
import type { ApiHandler, RequestContext } from '../api-handler.ts'
import type { ClusterState } from '../cluster-state.ts'
import type { Topic } from '../topics.ts'

/** "Not asked for" in the authorized-operations fields. */
const OPERATIONS_OMITTED = -2147483648

/** Brokers as a client on `listener` reaches them (brokers without that listener are left out). */
export function brokerEndpoints(cluster: ClusterState, listener: string) {
  return cluster
    .aliveNodes()
    .map((b) => cluster.endpoint(b.nodeId, listener))
    .filter((e) => e !== undefined)
}

/** KRaft brokers name a random alive broker as controller; the fake takes the lowest id. */
export function controllerId(cluster: ClusterState): number {
  return cluster.aliveNodes()[0]?.nodeId ?? -1
}

export function describeTopic(cluster: ClusterState, topic: Topic): MetadataResponseTopic {
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.id,
    isInternal: topic.internal,
    topicAuthorizedOperations: OPERATIONS_OMITTED,
    partitions: topic.partitions.map((p) => ({
      errorCode: p.leader === -1 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
      partitionIndex: p.index,
      leaderId: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: [...p.replicas],
      isrNodes: p.replicas.filter((r) => cluster.isAlive(r)),
      offlineReplicas: p.replicas.filter((r) => !cluster.isAlive(r)),
    })),
  }
}

const topicError = (errorCode: number, name: string | null, topicId = ZERO_UUID): MetadataResponseTopic => ({
  errorCode,
  name,
  topicId,
  isInternal: false,
  partitions: [],
  topicAuthorizedOperations: OPERATIONS_OMITTED,
})

function topicsFor(request: MetadataRequest, ctx: RequestContext): MetadataResponseTopic[] {
  const { cluster, version } = ctx
  // v0: an empty list means every topic; v1+: null does
  if (request.topics === null || (version === 0 && request.topics.length === 0))
    return [...cluster.topics.all()].map((t) => describeTopic(cluster, t))
  const allowCreate = version < 4 || request.allowAutoTopicCreation !== false
  return request.topics.map((asked) => {
    if (asked.name === null) {
      const topic = cluster.topics.getById(asked.topicId ?? ZERO_UUID)
      return topic ? describeTopic(cluster, topic) : topicError(ErrorCode.UNKNOWN_TOPIC_ID, null, asked.topicId)
    }
    const topic = cluster.topics.get(asked.name)
    if (topic) return describeTopic(cluster, topic)
    if (!allowCreate || !cluster.autoCreateTopics) return topicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, asked.name)
    const created = cluster.createTopicChecked(asked.name, -1, -1, [])
    if ('errorCode' in created) return topicError(created.errorCode, asked.name)
    return topicError(ErrorCode.LEADER_NOT_AVAILABLE, asked.name)
  })
}

export const metadata: ApiHandler<MetadataRequest, MetadataResponse> = {
  api: Metadata,
  minVersion: 0,
  maxVersion: 13,
  handle(request, ctx) {
    return {
      throttleTimeMs: 0,
      brokers: brokerEndpoints(ctx.cluster, ctx.listener.name),
      clusterId: ctx.cluster.clusterId,
      controllerId: controllerId(ctx.cluster),
      topics: topicsFor(request, ctx),
      clusterAuthorizedOperations: OPERATIONS_OMITTED,
      errorCode: ErrorCode.NONE,
    }
  },
  errorResponse(request, errorCode, ctx) {
    return {
      throttleTimeMs: 0,
      brokers: brokerEndpoints(ctx.cluster, ctx.listener.name),
      clusterId: ctx.cluster.clusterId,
      controllerId: controllerId(ctx.cluster),
      topics: (request.topics ?? []).map((t) => topicError(errorCode, t.name, t.topicId)),
      clusterAuthorizedOperations: OPERATIONS_OMITTED,
      errorCode: ErrorCode.NONE,
    }
  },
}

export const describeCluster: ApiHandler<DescribeClusterRequest, DescribeClusterResponse> = {
  api: api(DescribeClusterRequest, DescribeClusterResponse),
  minVersion: 0,
  maxVersion: 2,
  handle(request, ctx) {
    const { cluster } = ctx
    // endpoint type 2 (controllers) is answered by controllers only
    if ((request.endpointType ?? 1) !== 1) return this.errorResponse(request, ErrorCode.UNSUPPORTED_VERSION, ctx)
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: 1,
      clusterId: cluster.clusterId,
      controllerId: controllerId(cluster),
      brokers: brokerEndpoints(cluster, ctx.listener.name).map((e) => ({
        brokerId: e.nodeId,
        host: e.host,
        port: e.port,
        rack: e.rack,
        isFenced: false,
      })),
      clusterAuthorizedOperations: OPERATIONS_OMITTED,
    }
  },
  errorResponse(_request, errorCode, ctx) {
    return {
      throttleTimeMs: 0,
      errorCode,
      errorMessage: null,
      endpointType: 1,
      clusterId: ctx.cluster.clusterId,
      controllerId: -1,
      brokers: [],
      clusterAuthorizedOperations: OPERATIONS_OMITTED,
    }
  },
}
