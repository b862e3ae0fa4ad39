// A plain fake of the cluster layer for the fetcher's unit tests: metadata the test sets, and
// connections whose Fetch, ListOffsets and OffsetForLeaderEpoch requests wait in a queue until the test answers them with
// bodies it builds (or fails them), so a test decides what is in flight when. Everything else the
// fetcher asks of the cluster (metadata refreshes, leader hints) is recorded.

import type { Cluster } from '../../../src/client/cluster.ts'
import type { BrokerInfo, TopicInfo } from '../../../src/client/metadata.ts'
import { RetryPolicy } from '../../../src/client/retry.ts'
import type { FetchRequest } from '../../../src/protocol/messages/generated/fetch-request.ts'
import type { FetchResponse, PartitionData } from '../../../src/protocol/messages/generated/fetch-response.ts'
import type { ListOffsetsRequest } from '../../../src/protocol/messages/generated/list-offsets-request.ts'
import type { ListOffsetsResponse } from '../../../src/protocol/messages/generated/list-offsets-response.ts'
import type { OffsetForLeaderEpochRequest } from '../../../src/protocol/messages/generated/offset-for-leader-epoch-request.ts'
import type { OffsetForLeaderEpochResponse } from '../../../src/protocol/messages/generated/offset-for-leader-epoch-response.ts'
import { type Api, Fetch, ListOffsets } from '../../../src/protocol/messages/index.ts'
import { RecordBatchBuilder } from '../../../src/protocol/records/index.ts'
import { within } from '../../helpers/wait.ts'

/** A request the fetcher sent and the test has yet to answer. */
export interface Pending<Req, Res> {
  nodeId: number
  version: number
  body: Req
  reply(response: Res): void
  fail(error: unknown): void
}

export type PendingFetch = Pending<FetchRequest, FetchResponse>
export type PendingListOffsets = Pending<ListOffsetsRequest, ListOffsetsResponse>
export type PendingEpochLookup = Pending<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse>

/** One partition of a Fetch answer; what is not given is an empty, error-free answer. */
export interface PartitionAnswer {
  topic: string
  partition: number
  errorCode?: number
  records?: Buffer
  highWatermark?: bigint
  currentLeader?: { leaderId: number; leaderEpoch: number }
  /** The replica the leader names to read from (KIP-392). */
  preferredReadReplica?: number
  /** Where the leader's log ends the last fetched epoch, when it diverged (KIP-320). */
  divergingEpoch?: { epoch: number; endOffset: bigint }
}

class Queue<T> {
  private readonly items: T[] = []
  private readonly takers: ((item: T) => void)[] = []

  push(item: T): void {
    const taker = this.takers.shift()
    if (taker) taker(item)
    else this.items.push(item)
  }

  next(): Promise<T> {
    const item = this.items.shift()
    if (item !== undefined) return Promise.resolve(item)
    return new Promise((resolve) => this.takers.push(resolve))
  }

  get size(): number {
    return this.items.length
  }
}

export class FakeFetchCluster {
  readonly topics = new Map<string, TopicInfo>()
  /** The Fetch version the brokers support (topic ids from 13 on). */
  fetchVersion = Fetch.request.latestStableVersion
  /** How long a preferred read replica holds (the cluster's metadataMaxAgeMs). */
  metadataMaxAgeMs = 300_000
  /** What applyLeaderHint answers (whether the hint was news to the metadata). */
  acceptHints = true
  readonly refreshes: string[][] = []
  readonly hints: { topic: string; partition: number; leaderId: number; endpoints: readonly BrokerInfo[] }[] = []
  private readonly fetches = new Queue<PendingFetch>()
  private readonly lookups = new Queue<PendingListOffsets>()
  private readonly epochLookups = new Queue<PendingEpochLookup>()
  /** Requests not answered yet, queued or taken. */
  private readonly unanswered = new Set<{ fail(error: unknown): void }>()

  /** A topic led by `leaders[i]` for partition i, all at leader epoch 0 (with `followers` in sync). */
  addTopic(name: string, topicId: string, leaders: number[], followers: number[] = []): void {
    this.topics.set(name, {
      name,
      topicId,
      isInternal: false,
      errorCode: 0,
      partitions: leaders.map((leader, partition) => ({
        partition,
        leader,
        leaderEpoch: 0,
        replicas: [leader, ...followers],
        isr: [leader, ...followers],
        offlineReplicas: [],
        errorCode: 0,
      })),
    })
  }

  /** The next Fetch request sent (to any broker). */
  nextFetch(timeoutMs = 2000): Promise<PendingFetch> {
    return within('a Fetch request', this.fetches.next(), timeoutMs)
  }

  nextListOffsets(timeoutMs = 2000): Promise<PendingListOffsets> {
    return within('a ListOffsets request', this.lookups.next(), timeoutMs)
  }

  nextEpochLookup(timeoutMs = 2000): Promise<PendingEpochLookup> {
    return within('an OffsetForLeaderEpoch request', this.epochLookups.next(), timeoutMs)
  }

  /** Fetch requests sent and not yet taken by nextFetch(). */
  get queuedFetches(): number {
    return this.fetches.size
  }

  get queuedListOffsets(): number {
    return this.lookups.size
  }

  get queuedEpochLookups(): number {
    return this.epochLookups.size
  }

  /** Fails every request not answered yet (a fetcher's close() waits for its fetches). */
  abandon(error: unknown): void {
    for (const pending of [...this.unanswered]) pending.fail(error)
  }

  cluster(): Cluster {
    const metadata = {
      topics: this.topics,
      partition: (topic: string, p: number) => this.topics.get(topic)?.partitions[p],
    }
    const connection = (nodeId: number) => ({
      versionFor: (api: Api) => (api === Fetch ? this.fetchVersion : api.request.latestStableVersion),
      request: (api: Api, body: any, o: { version?: number } = {}) =>
        new Promise((resolve, reject) => {
          const pending = {
            nodeId,
            version: o.version ?? 0,
            body,
            reply: (response: unknown) => {
              this.unanswered.delete(pending)
              resolve(response)
            },
            fail: (error: unknown) => {
              this.unanswered.delete(pending)
              reject(error)
            },
          }
          this.unanswered.add(pending)
          if (api === Fetch) this.fetches.push(pending)
          else if (api === ListOffsets) this.lookups.push(pending)
          else if (api.name === 'OffsetForLeaderEpoch') this.epochLookups.push(pending)
          else reject(new Error(`the fake cluster does not answer ${api.request.name}`))
        }),
    })
    return {
      metadata,
      options: { requestTimeoutMs: 1000, metadataMaxAgeMs: this.metadataMaxAgeMs },
      retry: new RetryPolicy({ initialDelayMs: 5, maxDelayMs: 20, deadlineMs: 2000 }),
      refreshMetadata: async (topics: string[]) => {
        this.refreshes.push(topics)
        return metadata
      },
      applyLeaderHint: (
        topic: string,
        partition: number,
        leader: { leaderId: number },
        endpoints: readonly BrokerInfo[] = [],
      ) => {
        this.hints.push({ topic, partition, leaderId: leader.leaderId, endpoints })
        return this.acceptHints
      },
      leaderFor: async (topic: string, partition: number) => this.topics.get(topic)!.partitions[partition].leader,
      connectionToNode: async (nodeId: number) => connection(nodeId),
    } as unknown as Cluster
  }
}

/** The fetch offsets a Fetch request asks for, as `topic-partition@offset` (topics by name or id). */
export function asked(cluster: FakeFetchCluster, request: FetchRequest): string[] {
  const names = new Map([...cluster.topics.values()].map((t) => [t.topicId, t.name]))
  return request.topics.flatMap((t) =>
    t.partitions.map((p) => `${t.topic || names.get(t.topicId ?? '')}-${p.partition}@${p.fetchOffset}`),
  )
}

/** A Fetch answer naming topics by name (versions < 13) or by id, as the request did. */
export function fetchAnswer(
  cluster: FakeFetchCluster,
  request: Pending<FetchRequest, FetchResponse>,
  partitions: PartitionAnswer[],
  o: { errorCode?: number; sessionId?: number; nodeEndpoints?: BrokerInfo[] } = {},
): FetchResponse {
  const byTopic = new Map<string, PartitionData[]>()
  for (const p of partitions) {
    let list = byTopic.get(p.topic)
    if (!list) {
      list = []
      byTopic.set(p.topic, list)
    }
    list.push({
      partitionIndex: p.partition,
      errorCode: p.errorCode ?? 0,
      highWatermark: p.highWatermark ?? -1n,
      lastStableOffset: -1n,
      logStartOffset: 0n,
      divergingEpoch: p.divergingEpoch ?? { epoch: -1, endOffset: -1n },
      currentLeader: p.currentLeader ?? { leaderId: -1, leaderEpoch: -1 },
      snapshotId: { endOffset: -1n, epoch: -1 },
      abortedTransactions: null,
      preferredReadReplica: p.preferredReadReplica ?? -1,
      records: p.records ?? null,
    })
  }
  const byId = request.version >= 13
  return {
    throttleTimeMs: 0,
    errorCode: o.errorCode ?? 0,
    sessionId: o.sessionId ?? 0,
    responses: [...byTopic].map(([topic, list]) => ({
      topic: byId ? '' : topic,
      topicId: byId ? cluster.topics.get(topic)!.topicId : '00000000-0000-0000-0000-000000000000',
      partitions: list,
    })),
    nodeEndpoints: (o.nodeEndpoints ?? []).map((e) => ({ ...e })),
  }
}

/** A ListOffsets answer of one partition. */
export function listOffsetsAnswer(
  topic: string,
  partition: number,
  offset: bigint,
  errorCode = 0,
): ListOffsetsResponse {
  return {
    throttleTimeMs: 0,
    topics: [
      {
        name: topic,
        partitions: [{ partitionIndex: partition, errorCode, timestamp: -1n, offset, leaderEpoch: 0 }],
      },
    ],
  }
}

/** A v2 batch at `baseOffset` of one record per value. */
export async function batch(
  baseOffset: bigint,
  values: string[],
  o: { producerId?: bigint; transactional?: boolean; leaderEpoch?: number } = {},
): Promise<Buffer> {
  const b = new RecordBatchBuilder({
    producerId: o.producerId ?? -1n,
    producerEpoch: 0,
    baseSequence: 0,
    transactional: o.transactional ?? false,
    partitionLeaderEpoch: o.leaderEpoch ?? 0,
  })
  for (const v of values) b.append({ key: null, value: Buffer.from(v), timestamp: 1000 })
  const buf = await b.build()
  buf.writeBigInt64BE(baseOffset, 0) // not covered by the CRC
  return buf
}

/** Lets the event loop turn `n` times: the fetch loop runs one turn after whatever woke it. */
export async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r))
}

/** An OffsetForLeaderEpoch answer of one partition: where `leaderEpoch` ends in the leader's log. */
export function epochAnswer(
  topic: string,
  partition: number,
  leaderEpoch: number,
  endOffset: bigint,
  errorCode = 0,
): OffsetForLeaderEpochResponse {
  return { throttleTimeMs: 0, topics: [{ topic, partitions: [{ errorCode, partition, leaderEpoch, endOffset }] }] }
}
