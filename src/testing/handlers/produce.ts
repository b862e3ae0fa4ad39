// Produce (v3+, RecordBatch v2): each partition's batch is validated (log-validator.ts), checked
// against the producer's epoch and sequence (idempotence: a retried batch gets its first write's
// offset back) and, when transactional, against the producer's transaction, then appended as sent.
// The leader answers; other brokers answer NOT_LEADER_OR_FOLLOWER with the current leader (v10+).
// acks=0 is never answered, and an error then closes the connection so the producer refreshes its
// metadata (ReplicaManager / KafkaApis.handleProduceRequest).

import { ErrorCode } from '../../protocol/error-codes.ts'
import type { ProduceRequest } from '../../protocol/messages/generated/produce-request.ts'
import type {
  NodeEndpoint,
  PartitionProduceResponse,
  ProduceResponse,
} from '../../protocol/messages/generated/produce-response.ts'
import { Produce } from '../../protocol/messages/index.ts'
import { ZERO_UUID } from '../../protocol/messages/runtime.ts'
import { type ApiHandler, NO_LEADER, NO_RESPONSE, type RequestContext } from '../api-handler.ts'
import { validateRecords } from '../log-validator.ts'
import type { Topic } from '../topics.ts'

function partitionResponse(
  index: number,
  errorCode: number,
  errorMessage: string | null = null,
): PartitionProduceResponse {
  return {
    index,
    errorCode,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    recordErrors: [],
    errorMessage,
    currentLeader: NO_LEADER,
  }
}

function produceTo(
  topic: Topic | undefined,
  index: number,
  records: Buffer | null,
  request: ProduceRequest,
  ctx: RequestContext,
  endpoints: Map<number, NodeEndpoint>,
): PartitionProduceResponse {
  const { cluster, broker, version } = ctx
  const p = topic?.partitions[index]
  if (!topic || !p)
    return partitionResponse(
      index,
      version >= 13 && !topic ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    )
  if (topic.internal)
    return partitionResponse(index, ErrorCode.INVALID_TOPIC_EXCEPTION, `Cannot append to internal topic ${topic.name}`)
  if (p.leader !== broker.nodeId) {
    const response = partitionResponse(index, ErrorCode.NOT_LEADER_OR_FOLLOWER)
    if (version >= 10 && p.leader >= 0) {
      response.currentLeader = { leaderId: p.leader, leaderEpoch: p.leaderEpoch }
      const endpoint = cluster.endpoint(p.leader, ctx.listener.name)
      if (endpoint) endpoints.set(p.leader, endpoint)
    }
    return response
  }
  if (request.acks === -1) {
    const inSync = p.replicas.filter((r) => cluster.isAlive(r)).length
    const required = Number(topic.config('min.insync.replicas'))
    if (inSync < required)
      return partitionResponse(
        index,
        ErrorCode.NOT_ENOUGH_REPLICAS,
        `The size of the current ISR ${inSync} is insufficient to satisfy the min.isr requirement of ${required}`,
      )
  }
  const validated = validateRecords(records, topic.maxMessageBytes)
  if ('errorCode' in validated) return partitionResponse(index, validated.errorCode, validated.errorMessage)
  const { batch } = validated
  if (batch.transactional) {
    const errorCode = cluster.transactions.verifyProduce(
      request.transactionalId ?? null,
      batch,
      topic.name,
      index,
      version >= 12,
    )
    if (errorCode !== ErrorCode.NONE) return partitionResponse(index, errorCode)
  }
  const check = p.producers.check(batch)
  if (check.kind === 'error') return partitionResponse(index, check.errorCode, check.errorMessage)
  const response = partitionResponse(index, ErrorCode.NONE)
  if (check.kind === 'duplicate') {
    response.baseOffset = BigInt(check.firstOffset)
  } else {
    const now = cluster.clock.now()
    const { baseOffset, lastOffset } = p.log.append(
      batch.bytes,
      p.leaderEpoch,
      now,
      topic.logAppendTime,
      ctx.connection.ownsFrames,
    )
    p.producers.update(batch, baseOffset, lastOffset)
    response.baseOffset = BigInt(baseOffset)
    if (topic.logAppendTime) response.logAppendTimeMs = BigInt(now)
  }
  response.logStartOffset = BigInt(p.log.logStartOffset)
  return response
}

export const produce: ApiHandler<ProduceRequest, ProduceResponse> = {
  api: Produce,
  minVersion: 3,
  maxVersion: 13,
  handle(request, ctx) {
    if (request.acks !== -1 && request.acks !== 0 && request.acks !== 1)
      return this.errorResponse(request, ErrorCode.INVALID_REQUIRED_ACKS, ctx)
    const endpoints = new Map<number, NodeEndpoint>()
    let failed = false
    const responses = request.topicData.map((t) => {
      const topic =
        ctx.version >= 13 ? ctx.cluster.topics.getById(t.topicId ?? '') : ctx.cluster.topics.get(t.name ?? '')
      return {
        name: t.name ?? '',
        topicId: t.topicId ?? topic?.id ?? ZERO_UUID,
        partitionResponses: t.partitionData.map((pd) => {
          const r = produceTo(topic, pd.index, pd.records, request, ctx, endpoints)
          if (r.errorCode !== ErrorCode.NONE) failed = true
          return r
        }),
      }
    })
    if (request.acks === 0) {
      if (failed) ctx.connection.destroy()
      return NO_RESPONSE
    }
    return { responses, throttleTimeMs: 0, nodeEndpoints: [...endpoints.values()] }
  },
  errorResponse(request, errorCode) {
    return {
      responses: request.topicData.map((t) => ({
        name: t.name ?? '',
        topicId: t.topicId ?? ZERO_UUID,
        partitionResponses: t.partitionData.map((pd) => partitionResponse(pd.index, errorCode)),
      })),
      throttleTimeMs: 0,
      nodeEndpoints: [],
    }
  },
}
