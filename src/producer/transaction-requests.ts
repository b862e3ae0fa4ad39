// The requests of a transactional producer: InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn and
// EndTxn to the transaction coordinator of its transactional id (FindCoordinator key type 1), and
// TxnOffsetCommit to the coordinator of the consumer group. Each is retried while its answer is
// retriable (CONCURRENT_TRANSACTIONS while the previous transaction's markers are written,
// COORDINATOR_LOAD_IN_PROGRESS, NOT_COORDINATOR after a move...) until its deadline, then fails with a
// TimeoutError; any other error code is thrown as the KafkaError, for the manager to sort.
//
// Each coordinator is reached through its own CoordinatorConnection (src/client/coordinator.ts, as
// the group member's), found again when an answer or a lost connection says it moved.
//
// Under protocol v2 the producer also asks DescribeTransactions whether the previous transaction is
// complete before the next one's first request (see awaitCompletion).
//
// Versions, as the Java client picks them: AddPartitionsToTxn up to v3 (v4+ are the brokers' own);
// EndTxn and TxnOffsetCommit up to v4 under transaction protocol v1, v5 under v2 (KIP-890: EndTxn
// then bumps the epoch and answers the new one, TxnOffsetCommit adds the group implicitly).

import type { Cluster } from '../client/cluster.ts'
import { CoordinatorConnection } from '../client/coordinator.ts'
import { type RetryOptions, RetryPolicy, sleep } from '../client/retry.ts'
import { byTopic, committedOffsetTopics, type OffsetToCommit, type TopicPartition } from '../client/topic-partition.ts'
import { ErrorCode, errorCode, kafkaError } from '../protocol/error-codes.ts'
import { KafkaxError, TimeoutError } from '../protocol/errors.ts'
import {
  AddOffsetsToTxnModule,
  AddPartitionsToTxnModule,
  type Api,
  DescribeTransactionsModule,
  EndTxnModule,
  InitProducerId,
  loadApi,
  TxnOffsetCommitModule,
} from '../protocol/messages/index.ts'

export interface ProducerIdAndEpoch {
  producerId: bigint
  producerEpoch: number
}

/**
 * The consumer group whose offsets a transaction commits, as its member knows it: the generation
 * and member id let the coordinator refuse a zombie member's offsets (KIP-447). Only `groupId` is
 * required (then the coordinator checks nothing of the member).
 */
export interface ConsumerGroupMetadata {
  groupId: string
  /** The generation (classic) or member epoch (KIP-848) of the member (default -1: not checked). */
  generationId?: number
  memberId?: string
  groupInstanceId?: string | null
}

/** What a deadline-bound request needs: when to give up, and a signal that ends it early. */
export interface CallOptions {
  deadline: number
  signal?: AbortSignal
}

/**
 * The first wait after CONCURRENT_TRANSACTIONS, below Java's ADD_PARTITIONS_RETRY_BACKOFF_MS (20): the
 * previous transaction's markers take a few ms. Also for the offsets: TxnOffsetCommit v5 adds the
 * group itself and meets the same wait when a transaction follows the last one at once.
 */
const CONCURRENT_TRANSACTIONS_BACKOFF_MS = 10

/** The coordinator's states while it writes a transaction's markers (DescribeTransactions). */
const WRITING_MARKERS = new Set(['PrepareCommit', 'PrepareAbort'])

/** A transactional producer's requests to its transaction coordinator (and to its groups' coordinators). */
export class TransactionRequests {
  /** Whether the coordinator bumps an epoch on request (InitProducerId v3+, KIP-360); known after initProducerId. */
  canBumpEpoch = false

  private readonly coordinator: CoordinatorConnection
  /** The coordinators of the groups whose offsets the transactions commit (TxnOffsetCommit). */
  private readonly groupCoordinators = new Map<string, CoordinatorConnection>()

  constructor(
    private readonly cluster: Cluster,
    readonly transactionalId: string,
    private readonly transactionTimeoutMs: number,
    private readonly retry: RetryOptions,
  ) {
    this.coordinator = new CoordinatorConnection(cluster, 'transaction', transactionalId)
  }

  /** Closes the coordinator connections (requests in flight fail). */
  close(): void {
    this.coordinator.close()
    for (const c of this.groupCoordinators.values()) c.close()
    this.groupCoordinators.clear()
  }

  /** A producer id and epoch for the transactional id; with the current ones, the epoch bumped (KIP-360). */
  async initProducerId(current: ProducerIdAndEpoch | undefined, o: CallOptions): Promise<ProducerIdAndEpoch> {
    const r = await this.call(
      this.coordinator,
      InitProducerId,
      (r) => r.errorCode,
      o,
      (version) => {
        this.canBumpEpoch = version >= 3
        return {
          transactionalId: this.transactionalId,
          transactionTimeoutMs: this.transactionTimeoutMs,
          producerId: current?.producerId ?? -1n,
          producerEpoch: current?.producerEpoch ?? -1,
        }
      },
    )
    return { producerId: r.producerId, producerEpoch: r.producerEpoch }
  }

  /** Adds partitions to the open transaction (protocol v1: before their first records are sent). */
  async addPartitions(id: ProducerIdAndEpoch, partitions: readonly TopicPartition[], o: CallOptions): Promise<void> {
    const api = await loadApi(AddPartitionsToTxnModule)
    await this.call(
      this.coordinator,
      api,
      (r) => {
        // OPERATION_NOT_ATTEMPTED marks the partitions the coordinator skipped for another one's error
        let skipped = 0
        for (const t of r.resultsByTopicV3AndBelow)
          for (const p of t.resultsByPartition) {
            if (p.partitionErrorCode === ErrorCode.OPERATION_NOT_ATTEMPTED) skipped = p.partitionErrorCode
            else if (p.partitionErrorCode !== 0) return p.partitionErrorCode
          }
        return skipped
      },
      { ...o, maxVersion: 3, backoffMs: CONCURRENT_TRANSACTIONS_BACKOFF_MS },
      () => ({
        v3AndBelowTransactionalId: this.transactionalId,
        v3AndBelowProducerId: id.producerId,
        v3AndBelowProducerEpoch: id.producerEpoch,
        v3AndBelowTopics: [...byTopic(partitions)].map(([name, list]) => ({
          name,
          partitions: list.map((p) => p.partition),
        })),
      }),
    )
  }

  /** Adds a group's offsets topic partition to the transaction (protocol v1), before TxnOffsetCommit. */
  async addOffsets(id: ProducerIdAndEpoch, groupId: string, o: CallOptions): Promise<void> {
    const api = await loadApi(AddOffsetsToTxnModule)
    await this.call(
      this.coordinator,
      api,
      (r) => r.errorCode,
      { ...o, backoffMs: CONCURRENT_TRANSACTIONS_BACKOFF_MS },
      () => ({
        transactionalId: this.transactionalId,
        producerId: id.producerId,
        producerEpoch: id.producerEpoch,
        groupId,
      }),
    )
  }

  /** Commits offsets of a group in the transaction: they take effect when it commits. */
  async commitOffsets(
    id: ProducerIdAndEpoch,
    group: ConsumerGroupMetadata,
    offsets: readonly OffsetToCommit[],
    tv2: boolean,
    o: CallOptions,
  ): Promise<void> {
    const api = await loadApi(TxnOffsetCommitModule)
    await this.call(
      this.groupCoordinator(group.groupId),
      api,
      (r) => {
        for (const t of r.topics) for (const p of t.partitions) if (p.errorCode !== 0) return p.errorCode
        return 0
      },
      { ...o, maxVersion: tv2 ? 5 : 4, backoffMs: CONCURRENT_TRANSACTIONS_BACKOFF_MS },
      () => ({
        transactionalId: this.transactionalId,
        groupId: group.groupId,
        producerId: id.producerId,
        producerEpoch: id.producerEpoch,
        generationId: group.generationId ?? -1,
        memberId: group.memberId ?? '',
        groupInstanceId: group.groupInstanceId ?? null,
        topics: committedOffsetTopics(offsets),
      }),
    )
  }

  /** Commits or aborts the transaction; under protocol v2 the answer carries the bumped epoch (or a new id). */
  async endTxn(
    id: ProducerIdAndEpoch,
    committed: boolean,
    tv2: boolean,
    o: CallOptions,
  ): Promise<ProducerIdAndEpoch | undefined> {
    const api = await loadApi(EndTxnModule)
    const r = await this.call(
      this.coordinator,
      api,
      (r) => r.errorCode,
      { ...o, maxVersion: tv2 ? 5 : 4 },
      () => ({
        transactionalId: this.transactionalId,
        producerId: id.producerId,
        producerEpoch: id.producerEpoch,
        committed,
      }),
    )
    return r.producerId >= 0n ? { producerId: r.producerId, producerEpoch: r.producerEpoch } : undefined
  }

  /**
   * Resolves once the coordinator has written the last transaction's markers (DescribeTransactions
   * answers a state past PrepareCommit / PrepareAbort), at `until` (a performance.now() time), or when
   * the question fails: it only saves a wait, so a caller that goes on without the answer is at worst
   * held by the broker.
   */
  async awaitCompletion(until: number): Promise<void> {
    try {
      const api = await loadApi(DescribeTransactionsModule)
      while (performance.now() < until) {
        const answer = this.coordinator.request(api, Number.POSITIVE_INFINITY, () => ({
          transactionalIds: [this.transactionalId],
        }))
        const bound = new AbortController()
        const r = await Promise.race([answer, sleep(until - performance.now(), bound.signal)]).finally(() =>
          bound.abort(),
        )
        if (!r) {
          answer.catch(() => {})
          return
        }
        const s = r.transactionStates[0]
        if (s?.errorCode !== 0 || !WRITING_MARKERS.has(s.transactionState)) return
      }
    } catch {
      // unanswered (no connection, a moved coordinator): the caller goes on without knowing
    }
  }

  private groupCoordinator(groupId: string): CoordinatorConnection {
    let c = this.groupCoordinators.get(groupId)
    if (!c) {
      c = new CoordinatorConnection(this.cluster, 'group', groupId)
      this.groupCoordinators.set(groupId, c)
    }
    return c
  }

  /**
   * One request to a coordinator, retried with backoff while the answer (or the connection) fails
   * retriably, until the deadline; a non-retriable error code is thrown as its KafkaError.
   */
  private async call<Req, Res>(
    coordinator: CoordinatorConnection,
    api: Api<Req, Res>,
    codeOf: (response: Res) => number,
    o: CallOptions & { maxVersion?: number; backoffMs?: number },
    body: (version: number) => Req,
  ): Promise<Res> {
    const budget = Math.max(0, o.deadline - Date.now())
    const retry = new RetryPolicy({
      ...this.retry,
      maxAttempts: Number.MAX_SAFE_INTEGER,
      deadlineMs: budget,
      ...(o.backoffMs === undefined ? {} : { initialDelayMs: o.backoffMs }),
    })
    const what = `${api.name} for ${coordinator.type === 'group' ? 'group' : 'transactional id'} ${coordinator.key}`
    const requestTimeoutMs = this.cluster.options.requestTimeoutMs
    let response: Res
    try {
      response = await retry.run(
        async () => {
          const timeoutMs = Math.max(1, Math.min(requestTimeoutMs, o.deadline - Date.now()))
          const r = await coordinator.request(api, o.maxVersion ?? Number.POSITIVE_INFINITY, body, timeoutMs)
          const code = codeOf(r)
          // a moved coordinator is looked up again; CONCURRENT_TRANSACTIONS, LOAD_IN_PROGRESS... wait
          if (code !== 0 && (coordinator.checkError(code) || errorCode(code).retriable)) throw kafkaError(code, what)
          return r
        },
        { signal: o.signal },
      )
    } catch (error) {
      if (error instanceof KafkaxError && error.retriable)
        throw new TimeoutError(`${what} did not succeed within ${budget} ms: ${error.message}`, { cause: error })
      throw error
    }
    const code = codeOf(response)
    if (code !== 0) throw kafkaError(code, what)
    return response
  }
}
