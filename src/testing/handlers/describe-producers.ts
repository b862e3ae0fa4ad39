// DescribeProducers (v0), DescribeTransactions (v0) and ListTransactions (v0-2) (KIP-664): the
// producers a partition knows and the transactions a coordinator holds, for the admin client and
// kafka-transactions.sh.

import { ErrorCode } from '../../protocol/error-codes.ts'
import { DescribeProducersRequest } from '../../protocol/messages/generated/describe-producers-request.ts'
import { DescribeProducersResponse } from '../../protocol/messages/generated/describe-producers-response.ts'
import { DescribeTransactionsRequest } from '../../protocol/messages/generated/describe-transactions-request.ts'
import { DescribeTransactionsResponse } from '../../protocol/messages/generated/describe-transactions-response.ts'
import { ListTransactionsRequest } from '../../protocol/messages/generated/list-transactions-request.ts'
import { ListTransactionsResponse } from '../../protocol/messages/generated/list-transactions-response.ts'
import { api } from '../../protocol/messages/index.ts'
import { type ApiHandler, ledPartition } from '../api-handler.ts'
import type { TransactionMetadata } from '../transaction-coordinator.ts'

const STATES = [
  'Empty',
  'Ongoing',
  'PrepareCommit',
  'PrepareAbort',
  'CompleteCommit',
  'CompleteAbort',
  'Dead',
  'PrepareEpochFence',
]

export const describeProducers: ApiHandler<DescribeProducersRequest, DescribeProducersResponse> = {
  api: api(DescribeProducersRequest, DescribeProducersResponse),
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => {
          const led = ledPartition(ctx, t.name, partitionIndex)
          if ('errorCode' in led)
            return { partitionIndex, errorCode: led.errorCode, errorMessage: null, activeProducers: [] }
          return {
            partitionIndex,
            errorCode: ErrorCode.NONE,
            errorMessage: null,
            activeProducers: [...led.partition.producers.entries()].map((p) => ({
              producerId: p.producerId,
              producerEpoch: p.epoch,
              lastSequence: p.lastSequence,
              lastTimestamp: -1n,
              coordinatorEpoch: -1,
              currentTxnStartOffset: BigInt(p.txnFirstOffset),
            })),
          }
        }),
      })),
    }
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => ({
          partitionIndex,
          errorCode,
          errorMessage: null,
          activeProducers: [],
        })),
      })),
    }
  },
}

/** A transaction's state in DescribeTransactions when there is none to describe. */
const noTransaction = (transactionalId: string, errorCode: number) => ({
  errorCode,
  transactionalId,
  transactionState: '',
  transactionTimeoutMs: 0,
  transactionStartTimeMs: -1n,
  producerId: -1n,
  producerEpoch: -1,
  topics: [],
})

function topicsOf(txn: TransactionMetadata) {
  return [...txn.partitions].map(([topic, ps]) => ({ topic, partitions: [...ps].sort((a, b) => a - b) }))
}

export const describeTransactions: ApiHandler<DescribeTransactionsRequest, DescribeTransactionsResponse> = {
  api: api(DescribeTransactionsRequest, DescribeTransactionsResponse),
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    const { transactions } = ctx.cluster
    return {
      throttleTimeMs: 0,
      transactionStates: request.transactionalIds.map((transactionalId) => {
        if (!transactions.isCoordinator(ctx.broker.nodeId, transactionalId))
          return noTransaction(transactionalId, ErrorCode.NOT_COORDINATOR)
        const txn = transactions.get(transactionalId)
        if (!txn) return noTransaction(transactionalId, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND)
        return {
          errorCode: ErrorCode.NONE,
          transactionalId,
          transactionState: txn.state,
          transactionTimeoutMs: txn.timeoutMs,
          transactionStartTimeMs: BigInt(txn.state === 'Ongoing' ? txn.startedAt : -1),
          producerId: txn.producerId,
          producerEpoch: txn.producerEpoch,
          topics: topicsOf(txn),
        }
      }),
    }
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      transactionStates: request.transactionalIds.map((transactionalId) => noTransaction(transactionalId, errorCode)),
    }
  },
}

export const listTransactions: ApiHandler<ListTransactionsRequest, ListTransactionsResponse> = {
  api: api(ListTransactionsRequest, ListTransactionsResponse),
  minVersion: 0,
  maxVersion: 2,
  handle(request, ctx) {
    const { cluster } = ctx
    const states = new Set(request.stateFilters)
    const producers = new Set(request.producerIdFilters)
    const duration = Number(request.durationFilter ?? -1n)
    let pattern: RegExp | undefined
    if (request.transactionalIdPattern) {
      try {
        pattern = new RegExp(request.transactionalIdPattern)
      } catch {
        return { ...this.errorResponse(request, ErrorCode.INVALID_REGULAR_EXPRESSION, ctx) }
      }
    }
    const now = cluster.clock.now()
    const transactionStates = [...cluster.transactions.all()]
      .filter((t) => cluster.transactions.isCoordinator(ctx.broker.nodeId, t.transactionalId))
      .filter((t) => states.size === 0 || states.has(t.state))
      .filter((t) => producers.size === 0 || producers.has(t.producerId))
      .filter((t) => duration < 0 || (t.state === 'Ongoing' && now - t.startedAt >= duration))
      .filter((t) => !pattern || pattern.test(t.transactionalId))
      .map((t) => ({ transactionalId: t.transactionalId, producerId: t.producerId, transactionState: t.state }))
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      unknownStateFilters: request.stateFilters.filter((s) => !STATES.includes(s)),
      transactionStates,
    }
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, unknownStateFilters: [], transactionStates: [] }
  },
}
