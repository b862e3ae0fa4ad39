// Topic administration: CreateTopics (v2-7), DeleteTopics (v1-6), CreatePartitions (v0-3).
// In KRaft clients may send these to any broker, which forwards them to the controller; the fake
// applies them at once. A deleted topic's committed offsets go with it.

import { ErrorCode } from '../../protocol/error-codes.ts'
import { CreatePartitionsRequest } from '../../protocol/messages/generated/create-partitions-request.ts'
import { CreatePartitionsResponse } from '../../protocol/messages/generated/create-partitions-response.ts'
import { CreateTopicsRequest } from '../../protocol/messages/generated/create-topics-request.ts'
import { CreateTopicsResponse } from '../../protocol/messages/generated/create-topics-response.ts'
import { DeleteTopicsRequest } from '../../protocol/messages/generated/delete-topics-request.ts'
import { DeleteTopicsResponse } from '../../protocol/messages/generated/delete-topics-response.ts'
import { api } from '../../protocol/messages/index.ts'
import { ZERO_UUID } from '../../protocol/messages/runtime.ts'
import type { ApiHandler, RequestContext } from '../api-handler.ts'
import type { Topic } from '../topics.ts'
import { describeTopicConfigs } from './configs.ts'

function createOne(request: CreateTopicsRequest, t: CreateTopicsRequest['topics'][number], ctx: RequestContext) {
  const { cluster } = ctx
  const failed = (errorCode: number, errorMessage: string | null) => ({
    name: t.name,
    topicId: ZERO_UUID,
    errorCode,
    errorMessage,
    topicConfigErrorCode: ErrorCode.NONE,
    numPartitions: -1,
    replicationFactor: -1,
    configs: null,
  })
  const manual = t.assignments.length > 0
  if (manual && (t.numPartitions !== -1 || t.replicationFactor !== -1))
    return failed(
      ErrorCode.INVALID_REQUEST,
      'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.',
    )
  if (manual) {
    for (const a of t.assignments)
      for (const b of a.brokerIds)
        if (!cluster.nodes.has(b))
          return failed(ErrorCode.INVALID_REPLICATION_FACTOR, `Unknown broker ${b} in the replica assignment.`)
  }
  const partitions = manual ? t.assignments.length : t.numPartitions
  const rf = manual ? t.assignments[0].brokerIds.length : t.replicationFactor
  const configs = t.configs.map((c): [string, string | null] => [c.name, c.value])
  const result = cluster.createTopicChecked(t.name, partitions, rf, configs, request.validateOnly ?? false)
  if ('errorCode' in result) return failed(result.errorCode, result.errorMessage)
  const topic: Topic | undefined = result.topic
  if (topic && manual) {
    for (const a of t.assignments) {
      const p = topic.partitions[a.partitionIndex]
      if (!p) continue
      p.replicas = [...a.brokerIds]
      p.leader = p.replicas.find((r) => cluster.isAlive(r)) ?? -1
    }
  }
  const count = partitions === -1 ? cluster.defaultPartitions : partitions
  const replication = rf === -1 ? cluster.defaultReplicationFactor : rf
  return {
    name: t.name,
    topicId: topic?.id ?? ZERO_UUID,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    topicConfigErrorCode: ErrorCode.NONE,
    numPartitions: count,
    replicationFactor: replication,
    configs: topic
      ? describeTopicConfigs(topic, null).map((c) => ({
          name: c.name,
          value: c.value,
          readOnly: c.readOnly,
          configSource: c.configSource,
          isSensitive: c.isSensitive,
        }))
      : [],
  }
}

export const createTopics: ApiHandler<CreateTopicsRequest, CreateTopicsResponse> = {
  api: api(CreateTopicsRequest, CreateTopicsResponse),
  minVersion: 2,
  maxVersion: 7,
  handle(request, ctx) {
    const seen = new Set<string>()
    const duplicates = new Set(request.topics.map((t) => t.name).filter((n) => seen.has(n) || !seen.add(n)))
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) =>
        duplicates.has(t.name)
          ? {
              ...createOne({ ...request, validateOnly: true }, t, ctx),
              errorCode: ErrorCode.INVALID_REQUEST,
              errorMessage: 'Duplicate topic name.',
            }
          : createOne(request, t, ctx),
      ),
    }
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        name: t.name,
        topicId: ZERO_UUID,
        errorCode,
        errorMessage: null,
        topicConfigErrorCode: ErrorCode.NONE,
        numPartitions: -1,
        replicationFactor: -1,
        configs: null,
      })),
    }
  },
}

export const deleteTopics: ApiHandler<DeleteTopicsRequest, DeleteTopicsResponse> = {
  api: api(DeleteTopicsRequest, DeleteTopicsResponse),
  minVersion: 1,
  maxVersion: 6,
  handle(request, ctx) {
    const { cluster } = ctx
    const asked =
      ctx.version >= 6
        ? (request.topics ?? []).map((t) => ({ name: t.name ?? null, topicId: t.topicId }))
        : (request.topicNames ?? []).map((name) => ({ name, topicId: ZERO_UUID }))
    return {
      throttleTimeMs: 0,
      responses: asked.map(({ name, topicId }) => {
        const topic = name !== null ? cluster.topics.get(name) : cluster.topics.getById(topicId)
        if (!topic)
          return {
            name,
            topicId,
            errorCode: name === null ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: null,
          }
        if (topic.internal)
          return {
            name,
            topicId,
            errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION,
            errorMessage: `Cannot delete internal topic ${topic.name}`,
          }
        cluster.deleteTopic(topic)
        return { name: topic.name, topicId: topic.id, errorCode: ErrorCode.NONE, errorMessage: null }
      }),
    }
  },
  errorResponse(request, errorCode, ctx) {
    const names = ctx.version >= 6 ? (request.topics ?? []).map((t) => t.name ?? null) : (request.topicNames ?? [])
    return {
      throttleTimeMs: 0,
      responses: names.map((name) => ({ name, topicId: ZERO_UUID, errorCode, errorMessage: null })),
    }
  },
}

export const createPartitions: ApiHandler<CreatePartitionsRequest, CreatePartitionsResponse> = {
  api: api(CreatePartitionsRequest, CreatePartitionsResponse),
  minVersion: 0,
  maxVersion: 3,
  handle(request, ctx) {
    const { cluster } = ctx
    return {
      throttleTimeMs: 0,
      results: request.topics.map((t) => {
        const answer = (errorCode: number, errorMessage: string | null = null) => ({
          name: t.name,
          errorCode,
          errorMessage,
        })
        const topic = cluster.topics.get(t.name)
        if (!topic) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${t.name}' does not exist.`)
        const current = topic.partitions.length
        if (t.count < current)
          return answer(
            ErrorCode.INVALID_PARTITIONS,
            `Topic currently has ${current} partitions, which is higher than the requested ${t.count}.`,
          )
        if (t.count === current) return answer(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partitions.`)
        if (t.assignments !== null && t.assignments.length !== t.count - current)
          return answer(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `Attempted to add ${t.count - current} additional partition(s), but only ${t.assignments.length} assignment(s) were specified.`,
          )
        if (request.validateOnly) return answer(ErrorCode.NONE)
        const rf = topic.partitions[0].replicas.length
        const placement = cluster.placement(rf)
        cluster.topics.addPartitions(topic, t.count, (p) => t.assignments?.[p - current]?.brokerIds ?? placement(p))
        for (const p of topic.partitions.slice(current))
          if (!cluster.isAlive(p.leader)) p.leader = p.replicas.find((r) => cluster.isAlive(r)) ?? -1
        return answer(ErrorCode.NONE)
      }),
    }
  },
  errorResponse(request, errorCode) {
    return { throttleTimeMs: 0, results: request.topics.map((t) => ({ name: t.name, errorCode, errorMessage: null })) }
  },
}
