// ListOffsets (v1-11), OffsetForLeaderEpoch (v2-4) and DeleteRecords (v0-2): the offsets of a
// partition's log, answered by its leader. ListOffsets' special timestamps: -1 latest (the last
// stable offset under read_committed), -2 earliest, -3 the record with the largest timestamp
// (KIP-734), -4 earliest local (the log start: nothing is tiered), -5 latest tiered and -6 earliest
// pending upload (none: -1); a timestamp finds the first record at or after it, below the high
// watermark or last stable offset.

import { ErrorCode } from '../../protocol/error-codes.ts'
import { DeleteRecordsRequest } from '../../protocol/messages/generated/delete-records-request.ts'
import { DeleteRecordsResponse } from '../../protocol/messages/generated/delete-records-response.ts'
import type { ListOffsetsRequest } from '../../protocol/messages/generated/list-offsets-request.ts'
import type {
  ListOffsetsPartitionResponse,
  ListOffsetsResponse,
} from '../../protocol/messages/generated/list-offsets-response.ts'
import { OffsetForLeaderEpochRequest } from '../../protocol/messages/generated/offset-for-leader-epoch-request.ts'
import { OffsetForLeaderEpochResponse } from '../../protocol/messages/generated/offset-for-leader-epoch-response.ts'
import { api, ListOffsets } from '../../protocol/messages/index.ts'
import { type ApiHandler, ledPartition, type RequestContext } from '../api-handler.ts'

const LATEST = -1n
const EARLIEST = -2n
const MAX_TIMESTAMP = -3n
const EARLIEST_LOCAL = -4n
const READ_COMMITTED = 1

async function listOffset(
  topic: string,
  partitionIndex: number,
  currentLeaderEpoch: number,
  timestamp: bigint,
  isolation: number,
  ctx: RequestContext,
): Promise<ListOffsetsPartitionResponse> {
  const answer = (errorCode: number, offset = -1, ts = -1, leaderEpoch = -1): ListOffsetsPartitionResponse => ({
    partitionIndex,
    errorCode,
    timestamp: BigInt(ts),
    offset: BigInt(offset),
    leaderEpoch: ctx.version >= 4 ? leaderEpoch : -1,
  })
  const led = ledPartition(ctx, topic, partitionIndex, currentLeaderEpoch)
  if ('errorCode' in led) return answer(led.errorCode)
  const p = led.partition
  const { log } = p
  const fetchable = isolation === READ_COMMITTED ? p.lastStableOffset : p.highWatermark
  if (timestamp === LATEST) return answer(ErrorCode.NONE, fetchable, -1, p.leaderEpoch)
  if (timestamp === EARLIEST || timestamp === EARLIEST_LOCAL) {
    const start = log.logStartOffset
    return answer(ErrorCode.NONE, start, -1, start < log.logEndOffset ? log.epochAt(start) : p.leaderEpoch)
  }
  if (timestamp === MAX_TIMESTAMP) {
    const max = await log.maxTimestampRecord()
    return max ? answer(ErrorCode.NONE, max.offset, max.timestamp, log.epochAt(max.offset)) : answer(ErrorCode.NONE)
  }
  if (timestamp < 0n) return answer(ErrorCode.NONE)
  const found = await log.offsetForTimestamp(Number(timestamp))
  if (!found || found.offset >= fetchable) return answer(ErrorCode.NONE)
  return answer(ErrorCode.NONE, found.offset, found.timestamp, log.epochAt(found.offset))
}

export const listOffsets: ApiHandler<ListOffsetsRequest, ListOffsetsResponse> = {
  api: ListOffsets,
  minVersion: 1,
  maxVersion: 11,
  async handle(request, ctx) {
    const topics = []
    for (const t of request.topics) {
      const partitions = []
      for (const p of t.partitions)
        partitions.push(
          await listOffset(
            t.name,
            p.partitionIndex,
            p.currentLeaderEpoch ?? -1,
            p.timestamp,
            request.isolationLevel ?? 0,
            ctx,
          ),
        )
      topics.push({ name: t.name, partitions })
    }
    return { throttleTimeMs: 0, topics }
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode,
          timestamp: -1n,
          offset: -1n,
          leaderEpoch: -1,
        })),
      })),
    }
  },
}

export const offsetForLeaderEpoch: ApiHandler<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse> = {
  api: api(OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse),
  minVersion: 2,
  maxVersion: 4,
  handle(request, ctx) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((q) => {
          const led = ledPartition(ctx, t.topic, q.partition, q.currentLeaderEpoch ?? -1)
          if ('errorCode' in led)
            return { errorCode: led.errorCode, partition: q.partition, leaderEpoch: -1, endOffset: -1n }
          const end = led.partition.log.endOffsetFor(q.leaderEpoch, led.partition.leaderEpoch)
          return {
            errorCode: ErrorCode.NONE,
            partition: q.partition,
            leaderEpoch: end?.epoch ?? -1,
            endOffset: BigInt(end?.endOffset ?? -1),
          }
        }),
      })),
    }
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((q) => ({ errorCode, partition: q.partition, leaderEpoch: -1, endOffset: -1n })),
      })),
    }
  },
}

export const deleteRecords: ApiHandler<DeleteRecordsRequest, DeleteRecordsResponse> = {
  api: api(DeleteRecordsRequest, DeleteRecordsResponse),
  minVersion: 0,
  maxVersion: 2,
  handle(request, ctx) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((q) => {
          const led = ledPartition(ctx, t.name, q.partitionIndex)
          if ('errorCode' in led)
            return { partitionIndex: q.partitionIndex, lowWatermark: -1n, errorCode: led.errorCode }
          const { log } = led.partition
          const offset = q.offset === -1n ? led.partition.highWatermark : Number(q.offset)
          if (offset < 0 || offset > led.partition.highWatermark)
            return { partitionIndex: q.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE }
          log.deleteRecordsBefore(offset)
          return {
            partitionIndex: q.partitionIndex,
            lowWatermark: BigInt(log.logStartOffset),
            errorCode: ErrorCode.NONE,
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
        partitions: t.partitions.map((q) => ({ partitionIndex: q.partitionIndex, lowWatermark: -1n, errorCode })),
      })),
    }
  },
}
