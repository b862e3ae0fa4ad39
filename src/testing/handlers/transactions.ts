// Producer ids and transactions: InitProducerId (v0-5), AddPartitionsToTxn (v0-3, the client
// versions), AddOffsetsToTxn (v0-4), EndTxn (v0-4). The coordinator is transaction-coordinator.ts.
// Versions before PRODUCER_FENCED existed (InitProducerId v4, the others v2) get
// INVALID_PRODUCER_EPOCH instead, as the broker maps it.

import { ErrorCode } from '../../protocol/error-codes.ts'
import { AddOffsetsToTxnRequest } from '../../protocol/messages/generated/add-offsets-to-txn-request.ts'
import { AddOffsetsToTxnResponse } from '../../protocol/messages/generated/add-offsets-to-txn-response.ts'
import { AddPartitionsToTxnRequest } from '../../protocol/messages/generated/add-partitions-to-txn-request.ts'
import { AddPartitionsToTxnResponse } from '../../protocol/messages/generated/add-partitions-to-txn-response.ts'
import { EndTxnRequest } from '../../protocol/messages/generated/end-txn-request.ts'
import { EndTxnResponse } from '../../protocol/messages/generated/end-txn-response.ts'
import type { InitProducerIdRequest } from '../../protocol/messages/generated/init-producer-id-request.ts'
import type { InitProducerIdResponse } from '../../protocol/messages/generated/init-producer-id-response.ts'
import { api, InitProducerId } from '../../protocol/messages/index.ts'
import type { ApiHandler, RequestContext } from '../api-handler.ts'
import { GROUP_KEY } from '../internal-topics.ts'

/** PRODUCER_FENCED for versions that know it, else INVALID_PRODUCER_EPOCH. */
function fenced(errorCode: number, version: number, sinceVersion: number): number {
  return errorCode === ErrorCode.PRODUCER_FENCED && version < sinceVersion
    ? ErrorCode.INVALID_PRODUCER_EPOCH
    : errorCode
}

function notCoordinator(ctx: RequestContext, transactionalId: string): boolean {
  return !ctx.cluster.transactions.isCoordinator(ctx.broker.nodeId, transactionalId)
}

export const initProducerId: ApiHandler<InitProducerIdRequest, InitProducerIdResponse> = {
  api: InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    const id = request.transactionalId
    if (id !== null && id !== '' && notCoordinator(ctx, id))
      return this.errorResponse(request, ErrorCode.NOT_COORDINATOR, ctx)
    const result = await ctx.cluster.transactions.initProducerId(
      id,
      request.transactionTimeoutMs,
      request.producerId ?? -1n,
      request.producerEpoch ?? -1,
    )
    return {
      throttleTimeMs: 0,
      ...result,
      errorCode: fenced(result.errorCode, ctx.version, 4),
      ongoingTxnProducerId: -1n,
      ongoingTxnProducerEpoch: -1,
    }
  },
  errorResponse(_request, errorCode) {
    return {
      throttleTimeMs: 0,
      errorCode,
      producerId: -1n,
      producerEpoch: -1,
      ongoingTxnProducerId: -1n,
      ongoingTxnProducerEpoch: -1,
    }
  },
}

export const addPartitionsToTxn: ApiHandler<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse> = {
  api: api(AddPartitionsToTxnRequest, AddPartitionsToTxnResponse),
  minVersion: 0,
  maxVersion: 3,
  handle(request, ctx) {
    const id = request.v3AndBelowTransactionalId ?? ''
    const topics = request.v3AndBelowTopics ?? []
    if (notCoordinator(ctx, id)) return this.errorResponse(request, ErrorCode.NOT_COORDINATOR, ctx)
    const checked = ctx.cluster.transactions.check(
      id,
      request.v3AndBelowProducerId ?? -1n,
      request.v3AndBelowProducerEpoch ?? -1,
    )
    if ('errorCode' in checked) return this.errorResponse(request, fenced(checked.errorCode, ctx.version, 2), ctx)
    const results = ctx.cluster.transactions.addPartitions(checked.txn, topics)
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      resultsByTransaction: [],
      resultsByTopicV3AndBelow: [...results].map(([name, byPartition]) => ({
        name,
        resultsByPartition: [...byPartition].map(([partitionIndex, partitionErrorCode]) => ({
          partitionIndex,
          partitionErrorCode,
        })),
      })),
    }
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      resultsByTransaction: [],
      resultsByTopicV3AndBelow: (request.v3AndBelowTopics ?? []).map((t) => ({
        name: t.name,
        resultsByPartition: t.partitions.map((partitionIndex) => ({ partitionIndex, partitionErrorCode: errorCode })),
      })),
    }
  },
}

export const addOffsetsToTxn: ApiHandler<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse> = {
  api: api(AddOffsetsToTxnRequest, AddOffsetsToTxnResponse),
  minVersion: 0,
  maxVersion: 4,
  handle(request, ctx) {
    if (notCoordinator(ctx, request.transactionalId)) return this.errorResponse(request, ErrorCode.NOT_COORDINATOR, ctx)
    const checked = ctx.cluster.transactions.check(request.transactionalId, request.producerId, request.producerEpoch)
    if ('errorCode' in checked) return this.errorResponse(request, fenced(checked.errorCode, ctx.version, 2), ctx)
    // the group's offsets partition joins the transaction: its coordinator must exist
    if (ctx.cluster.coordinatorFor(GROUP_KEY, request.groupId) === -1)
      return this.errorResponse(request, ErrorCode.COORDINATOR_NOT_AVAILABLE, ctx)
    ctx.cluster.transactions.addGroup(checked.txn, request.groupId)
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE }
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode }
  },
}

export const endTxn: ApiHandler<EndTxnRequest, EndTxnResponse> = {
  api: api(EndTxnRequest, EndTxnResponse),
  minVersion: 0,
  maxVersion: 4,
  async handle(request, ctx) {
    if (notCoordinator(ctx, request.transactionalId)) return this.errorResponse(request, ErrorCode.NOT_COORDINATOR, ctx)
    const checked = ctx.cluster.transactions.check(request.transactionalId, request.producerId, request.producerEpoch)
    if ('errorCode' in checked) return this.errorResponse(request, fenced(checked.errorCode, ctx.version, 2), ctx)
    const errorCode = await ctx.cluster.transactions.end(checked.txn, request.committed)
    return { throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 }
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 }
  },
}
