// Fetch (v4-18): reads stored batches from partitions this broker leads, within the response and
// partition byte limits (the first batch always, KIP-74), up to the high watermark or, under
// read_committed, the last stable offset with the aborted transactions of the range. Sessions
// (KIP-227) are fetch-sessions.ts. Long polling: an answer with fewer than minBytes waits for an
// append to any fetched partition, at most maxWaitMs (Kafka's DelayedFetch); errors answer at once.
// Leader epochs: an older currentLeaderEpoch is FENCED_LEADER_EPOCH, a newer UNKNOWN_LEADER_EPOCH;
// lastFetchedEpoch (v12+) is checked for divergence as the leader does.

import { ErrorCode } from '../../protocol/error-codes.ts'
import type { FetchRequest } from '../../protocol/messages/generated/fetch-request.ts'
import type { FetchResponse, NodeEndpoint, PartitionData } from '../../protocol/messages/generated/fetch-response.ts'
import { Fetch } from '../../protocol/messages/index.ts'
import { ZERO_UUID } from '../../protocol/messages/runtime.ts'
import { type ApiHandler, NO_LEADER, type RequestContext } from '../api-handler.ts'
import type { FetchContext, FetchRequestPartition, SessionPartition } from '../fetch-sessions.ts'
import type { Partition } from '../topics.ts'

const READ_COMMITTED = 1
const NO_EPOCH_END = { epoch: -1, endOffset: -1n }
const NO_SNAPSHOT = { endOffset: -1n, epoch: -1 }
const EMPTY = Buffer.alloc(0)

interface Read {
  sp: SessionPartition
  data: PartitionData
  /** Something a session must report (an error, a diverging epoch, a leader change). */
  notable: boolean
}

function emptyData(partitionIndex: number, errorCode: number): PartitionData {
  return {
    partitionIndex,
    errorCode,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    divergingEpoch: NO_EPOCH_END,
    currentLeader: NO_LEADER,
    snapshotId: NO_SNAPSHOT,
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: EMPTY,
  }
}

function partitionOf(sp: SessionPartition, ctx: RequestContext): Partition | undefined {
  const topic = sp.topicId ? ctx.cluster.topics.getById(sp.topicId) : ctx.cluster.topics.get(sp.topic)
  return topic?.partitions[sp.partition]
}

/** Reads one partition for the response, within `budget` bytes. */
function readPartition(
  sp: SessionPartition,
  isolation: number,
  budget: number,
  minOneBatch: boolean,
  ctx: RequestContext,
  endpoints: Map<number, NodeEndpoint>,
): Read {
  const { cluster, broker, version } = ctx
  const p = partitionOf(sp, ctx)
  const fail = (errorCode: number): Read => ({ sp, data: emptyData(sp.partition, errorCode), notable: true })
  if (!p) {
    const topicKnown = sp.topicId ? cluster.topics.getById(sp.topicId) : cluster.topics.get(sp.topic)
    return fail(sp.topicId && !topicKnown ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
  }
  if (p.leader !== broker.nodeId) {
    const read = fail(ErrorCode.NOT_LEADER_OR_FOLLOWER)
    if (version >= 12 && p.leader >= 0) {
      read.data.currentLeader = { leaderId: p.leader, leaderEpoch: p.leaderEpoch }
      const endpoint = cluster.endpoint(p.leader, ctx.listener.name)
      if (endpoint && version >= 16) endpoints.set(p.leader, endpoint)
    }
    return read
  }
  if (sp.currentLeaderEpoch >= 0 && sp.currentLeaderEpoch !== p.leaderEpoch)
    return fail(sp.currentLeaderEpoch < p.leaderEpoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH)
  const { log } = p
  const data = emptyData(sp.partition, ErrorCode.NONE)
  data.highWatermark = BigInt(p.highWatermark)
  data.lastStableOffset = BigInt(p.lastStableOffset)
  data.logStartOffset = BigInt(log.logStartOffset)
  if (version >= 12 && sp.lastFetchedEpoch >= 0) {
    const end = log.endOffsetFor(sp.lastFetchedEpoch, p.leaderEpoch)
    if (!end || end.epoch < sp.lastFetchedEpoch || end.endOffset < sp.fetchOffset) {
      data.divergingEpoch = end ? { epoch: end.epoch, endOffset: BigInt(end.endOffset) } : { epoch: -1, endOffset: -1n }
      return { sp, data, notable: true }
    }
  }
  if (sp.fetchOffset < log.logStartOffset || sp.fetchOffset > log.logEndOffset) {
    const read = fail(ErrorCode.OFFSET_OUT_OF_RANGE)
    read.data.highWatermark = data.highWatermark
    read.data.lastStableOffset = data.lastStableOffset
    read.data.logStartOffset = data.logStartOffset
    return read
  }
  const upTo = isolation === READ_COMMITTED ? p.lastStableOffset : p.highWatermark
  const limit = Math.min(sp.maxBytes, budget)
  data.records = limit > 0 || minOneBatch ? log.read(sp.fetchOffset, limit, upTo, minOneBatch) : EMPTY
  if (isolation === READ_COMMITTED) {
    data.abortedTransactions = log
      .abortedBetween(sp.fetchOffset, upTo)
      .map((t) => ({ producerId: t.producerId, firstOffset: BigInt(t.firstOffset) }))
  }
  return { sp, data, notable: false }
}

/** Reads every partition of the context in order, sharing the response's byte limit. */
function readAll(
  context: FetchContext,
  request: FetchRequest,
  ctx: RequestContext,
  endpoints: Map<number, NodeEndpoint>,
) {
  let budget = request.maxBytes ?? 0x7fff_ffff
  let bytes = 0
  let notable = false
  const reads: Read[] = []
  for (const sp of context.partitions) {
    const read = readPartition(sp, request.isolationLevel ?? 0, budget, bytes === 0, ctx, endpoints)
    const size = read.data.records?.length ?? 0
    bytes += size
    budget -= size
    notable ||= read.notable
    reads.push(read)
  }
  return { reads, bytes, notable }
}

/** Whether an incremental session reports the partition (Kafka's CachedPartition.maybeUpdateResponseData). */
function hasNews(read: Read): boolean {
  const { sp, data } = read
  return (
    read.notable ||
    (data.records?.length ?? 0) > 0 ||
    data.highWatermark !== BigInt(sp.highWatermark) ||
    data.logStartOffset !== BigInt(sp.logStartOffset)
  )
}

/** Waits until a fetched partition changes or `ms` pass; false when the connection closed meanwhile. */
function waitForChange(context: FetchContext, ctx: RequestContext, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const unsubscribes: (() => void)[] = []
    const done = () => {
      clearTimeout(timer)
      for (const u of unsubscribes) u()
      resolve()
    }
    const timer = setTimeout(done, ms)
    timer.unref()
    for (const sp of context.partitions) {
      const p = partitionOf(sp, ctx)
      if (p) unsubscribes.push(p.log.onChange(done))
    }
  })
}

function requestedPartitions(request: FetchRequest, version: number): FetchRequestPartition[] {
  const out: FetchRequestPartition[] = []
  for (const t of request.topics) {
    for (const p of t.partitions) {
      out.push({
        topic: version >= 13 ? '' : (t.topic ?? ''),
        topicId: version >= 13 ? (t.topicId ?? ZERO_UUID) : '',
        partition: p.partition,
        fetchOffset: Number(p.fetchOffset),
        maxBytes: p.partitionMaxBytes,
        currentLeaderEpoch: p.currentLeaderEpoch ?? -1,
        lastFetchedEpoch: p.lastFetchedEpoch ?? -1,
      })
    }
  }
  return out
}

function response(
  errorCode: number,
  sessionId: number,
  reads: Read[],
  endpoints: Map<number, NodeEndpoint>,
): FetchResponse {
  const responses: FetchResponse['responses'] = []
  for (const { sp, data } of reads) {
    const last = responses.at(-1)
    if (last && last.topic === sp.topic && last.topicId === (sp.topicId || ZERO_UUID)) last.partitions.push(data)
    else responses.push({ topic: sp.topic, topicId: sp.topicId || ZERO_UUID, partitions: [data] })
  }
  return { throttleTimeMs: 0, errorCode, sessionId, responses, nodeEndpoints: [...endpoints.values()] }
}

export const fetch: ApiHandler<FetchRequest, FetchResponse> = {
  api: Fetch,
  minVersion: 4,
  maxVersion: 18,
  async handle(request, ctx) {
    const { broker, version, cluster } = ctx
    const partitions = requestedPartitions(request, version)
    let context: FetchContext
    if (version >= 7) {
      const forgotten = (request.forgottenTopicsData ?? []).flatMap((f) =>
        f.partitions.map((partition) => ({
          topic: version >= 13 ? '' : (f.topic ?? ''),
          topicId: version >= 13 ? (f.topicId ?? ZERO_UUID) : '',
          partition,
        })),
      )
      const created = broker.fetchSessions.newContext(
        request.sessionId ?? 0,
        request.sessionEpoch ?? -1,
        partitions,
        forgotten,
        cluster.clock.now(),
      )
      if ('errorCode' in created) return response(created.errorCode, 0, [], new Map())
      context = created
    } else
      context = {
        kind: 'sessionless',
        partitions: partitions.map((p) => ({ ...p, highWatermark: -1, logStartOffset: -1 })),
      }

    const deadline = Date.now() + request.maxWaitMs
    for (;;) {
      const endpoints = new Map<number, NodeEndpoint>()
      const { reads, bytes, notable } = readAll(context, request, ctx, endpoints)
      const remaining = deadline - Date.now()
      if (bytes >= request.minBytes || notable || remaining <= 0 || ctx.connection.isClosed || !broker.alive) {
        if (context.kind === 'incremental') {
          const session = context.session!
          const included = reads.filter(hasNews)
          for (const read of included) {
            read.sp.highWatermark = read.data.errorCode === ErrorCode.NONE ? Number(read.data.highWatermark) : -1
            read.sp.logStartOffset = Number(read.data.logStartOffset)
            if ((read.data.records?.length ?? 0) > 0) broker.fetchSessions.rotate(session, read.sp)
          }
          return response(ErrorCode.NONE, session.id, included, endpoints)
        }
        let sessionId = 0
        if (context.kind === 'full') {
          for (const read of reads) {
            read.sp.highWatermark = read.data.errorCode === ErrorCode.NONE ? Number(read.data.highWatermark) : -1
            read.sp.logStartOffset = Number(read.data.logStartOffset)
          }
          sessionId = broker.fetchSessions.create(context.partitions, cluster.clock.now())
        }
        return response(ErrorCode.NONE, sessionId, reads, endpoints)
      }
      await waitForChange(context, ctx, remaining)
    }
  },
  errorResponse(request, errorCode, ctx) {
    const reads = requestedPartitions(request, ctx.version).map((p) => ({
      sp: { ...p, highWatermark: -1, logStartOffset: -1 },
      data: emptyData(p.partition, errorCode),
      notable: true,
    }))
    return response(ErrorCode.NONE, 0, reads, new Map())
  },
}
