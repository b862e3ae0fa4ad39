// The transaction coordinator (KIP-98; Kafka's TransactionCoordinator and TransactionMetadata):
// producer ids and epochs per transactional id, the partitions and groups a transaction touched,
// and the end of a transaction: a COMMIT or ABORT marker written to every partition in it and the
// group's pending offsets committed or dropped. Markers are written before EndTxn is answered, so
// the Prepare* states of the real coordinator pass within one request. A transaction open longer
// than its timeout is aborted with the producer's epoch bumped (the old producer is fenced). A new
// InitProducerId aborts an open transaction the same way. Epoch-bump-per-transaction (KIP-890
// part 2, EndTxn v5) is not offered; verification of transactional produces (part 1) is, and
// Produce v12+ / TxnOffsetCommit v5 add their partition or group implicitly.

import { ErrorCode } from '../protocol/error-codes.ts'
import { buildControlBatch } from '../protocol/records/index.ts'
import type { Clock, Timer } from './clock.ts'
import type { GroupCoordinator } from './group-coordinator.ts'
import { internalPartitionOf, TRANSACTION_STATE_TOPIC } from './internal-topics.ts'
import type { Partition, TopicRegistry } from './topics.ts'

/** What the coordinator works with. */
export interface TransactionDeps {
  clock: Clock
  topics: TopicRegistry
  groups: GroupCoordinator
  /** transaction.max.timeout.ms */
  maxTimeoutMs: number
  /** The broker coordinating a transactional id. */
  coordinatorOf(transactionalId: string): number
  nextProducerId(): bigint
}

export type CoordinatorTransactionState = 'Empty' | 'Ongoing' | 'CompleteCommit' | 'CompleteAbort'

/** Short.MAX_VALUE - 1: at this epoch a transactional id gets a new producer id (isProducerEpochExhausted). */
const MAX_EPOCH = 32766

export interface TransactionMetadata {
  transactionalId: string
  producerId: bigint
  producerEpoch: number
  /** The producer id and epoch before the last bump, so that a retried InitProducerId is recognised. */
  lastProducerId: bigint
  lastProducerEpoch: number
  timeoutMs: number
  state: CoordinatorTransactionState
  /** Partitions in the open transaction: topic -> partition indexes. */
  partitions: Map<string, Set<number>>
  groups: Set<string>
  startedAt: number
  timer: Timer | undefined
}

/** What InitProducerId and the transactional APIs answer. */
export interface ProducerIdAnswer {
  errorCode: number
  producerId: bigint
  producerEpoch: number
}

export class TransactionCoordinator {
  private readonly transactions = new Map<string, TransactionMetadata>()

  constructor(private readonly deps: TransactionDeps) {}

  shutdown(): void {
    for (const t of this.transactions.values()) t.timer?.cancel()
  }

  get(transactionalId: string): TransactionMetadata | undefined {
    return this.transactions.get(transactionalId)
  }

  all(): IterableIterator<TransactionMetadata> {
    return this.transactions.values()
  }

  /** The epoch of the __transaction_state partition of an id: the coordinator epoch of its markers. */
  private coordinatorEpoch(transactionalId: string): number {
    return (
      this.deps.topics.get(TRANSACTION_STATE_TOPIC)?.partitions[internalPartitionOf(transactionalId)].leaderEpoch ?? 0
    )
  }

  /** Whether `nodeId` coordinates `transactionalId` (else the request gets NOT_COORDINATOR). */
  isCoordinator(nodeId: number, transactionalId: string): boolean {
    return this.deps.coordinatorOf(transactionalId) === nodeId
  }

  async initProducerId(
    transactionalId: string | null,
    timeoutMs: number,
    producerId: bigint,
    producerEpoch: number,
  ): Promise<ProducerIdAnswer> {
    const fail = (errorCode: number) => ({ errorCode, producerId: -1n, producerEpoch: -1 })
    // an idempotent producer always gets a fresh producer id
    if (transactionalId === null)
      return { errorCode: ErrorCode.NONE, producerId: this.deps.nextProducerId(), producerEpoch: 0 }
    if (transactionalId === '') return fail(ErrorCode.INVALID_REQUEST)
    if (timeoutMs <= 0 || timeoutMs > this.deps.maxTimeoutMs) return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT)
    let txn = this.transactions.get(transactionalId)
    if (!txn) {
      txn = {
        transactionalId,
        producerId: this.deps.nextProducerId(),
        producerEpoch: 0,
        lastProducerId: -1n,
        lastProducerEpoch: -1,
        timeoutMs,
        state: 'Empty',
        partitions: new Map(),
        groups: new Set(),
        startedAt: -1,
        timer: undefined,
      }
      this.transactions.set(transactionalId, txn)
      return { errorCode: ErrorCode.NONE, producerId: txn.producerId, producerEpoch: 0 }
    }
    if (producerId >= 0n) {
      // KIP-360: a producer names itself; a retry of a bump it already got is answered again
      const retried = producerId === txn.lastProducerId && producerEpoch === txn.lastProducerEpoch
      if (producerId === txn.producerId && producerEpoch !== txn.producerEpoch) return fail(ErrorCode.PRODUCER_FENCED)
      if (producerId !== txn.producerId && !retried) return fail(ErrorCode.INVALID_PRODUCER_ID_MAPPING)
      if (retried && txn.state === 'Empty')
        return { errorCode: ErrorCode.NONE, producerId: txn.producerId, producerEpoch: txn.producerEpoch }
    }
    if (txn.state === 'Ongoing') await this.abortFenced(txn)
    txn.lastProducerId = txn.producerId
    txn.lastProducerEpoch = txn.producerEpoch
    if (txn.producerEpoch >= MAX_EPOCH) {
      txn.producerId = this.deps.nextProducerId()
      txn.producerEpoch = 0
    } else txn.producerEpoch++
    txn.timeoutMs = timeoutMs
    txn.state = 'Empty'
    return { errorCode: ErrorCode.NONE, producerId: txn.producerId, producerEpoch: txn.producerEpoch }
  }

  /** The checks every transactional request makes: known id, same producer id, same epoch. */
  check(
    transactionalId: string,
    producerId: bigint,
    producerEpoch: number,
  ): { txn: TransactionMetadata } | { errorCode: number } {
    const txn = this.transactions.get(transactionalId)
    if (!txn || txn.producerId !== producerId) return { errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING }
    if (txn.producerEpoch !== producerEpoch) return { errorCode: ErrorCode.PRODUCER_FENCED }
    return { txn }
  }

  /** AddPartitionsToTxn for one partition list: per partition errors (all fail if one is unknown). */
  addPartitions(
    txn: TransactionMetadata,
    topics: { name: string; partitions: number[] }[],
  ): Map<string, Map<number, number>> {
    const results = new Map<string, Map<number, number>>()
    const unknown = topics.some((t) => t.partitions.some((p) => !this.deps.topics.get(t.name)?.partitions[p]))
    for (const t of topics) {
      const byPartition = new Map<number, number>()
      for (const p of t.partitions) {
        // as the broker: if any partition is unknown, the others are not attempted
        const known = this.deps.topics.get(t.name)?.partitions[p] !== undefined
        byPartition.set(
          p,
          !known ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : unknown ? ErrorCode.OPERATION_NOT_ATTEMPTED : ErrorCode.NONE,
        )
      }
      results.set(t.name, byPartition)
    }
    if (!unknown) for (const t of topics) for (const p of t.partitions) this.addPartition(txn, t.name, p)
    return results
  }

  private addPartition(txn: TransactionMetadata, topic: string, partition: number): void {
    let set = txn.partitions.get(topic)
    if (!set) {
      set = new Set()
      txn.partitions.set(topic, set)
    }
    set.add(partition)
    this.begin(txn)
  }

  addGroup(txn: TransactionMetadata, groupId: string): void {
    txn.groups.add(groupId)
    this.begin(txn)
  }

  /** Moves to Ongoing and arms the transaction timeout. */
  private begin(txn: TransactionMetadata): void {
    if (txn.state === 'Ongoing') return
    txn.state = 'Ongoing'
    txn.startedAt = this.deps.clock.now()
    txn.timer?.cancel()
    txn.timer = this.deps.clock.schedule(txn.timeoutMs, () => {
      if (txn.state === 'Ongoing') void this.abortFenced(txn)
    })
  }

  /**
   * Checks a transactional batch about to be appended (KIP-890 part 1 verification): the producer
   * owns the transactional id and the partition is in its transaction; with `implicitAdd` (TV2
   * clients, Produce v12+) the partition joins the transaction here.
   */
  verifyProduce(
    transactionalId: string | null,
    batch: { producerId: bigint; producerEpoch: number },
    topic: string,
    partition: number,
    implicitAdd: boolean,
  ): number {
    if (transactionalId === null) return ErrorCode.INVALID_RECORD
    const txn = this.transactions.get(transactionalId)
    if (!txn || txn.producerId !== batch.producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING
    if (batch.producerEpoch < txn.producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH
    if (txn.partitions.get(topic)?.has(partition)) return ErrorCode.NONE
    if (implicitAdd && batch.producerEpoch === txn.producerEpoch) {
      this.addPartition(txn, topic, partition)
      return ErrorCode.NONE
    }
    return ErrorCode.INVALID_TXN_STATE
  }

  /** EndTxn: commits or aborts; a retried end in the state it led to succeeds again. */
  async end(txn: TransactionMetadata, commit: boolean): Promise<number> {
    if (txn.state === 'CompleteCommit' || txn.state === 'CompleteAbort') {
      return (txn.state === 'CompleteCommit') === commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE
    }
    if (txn.state !== 'Ongoing') return ErrorCode.INVALID_TXN_STATE
    await this.complete(txn, commit, txn.producerEpoch)
    return ErrorCode.NONE
  }

  /** Aborts an open transaction with the epoch bumped first, fencing the producer that opened it. */
  private async abortFenced(txn: TransactionMetadata): Promise<void> {
    txn.lastProducerId = txn.producerId
    txn.lastProducerEpoch = txn.producerEpoch
    txn.producerEpoch++
    await this.complete(txn, false, txn.producerEpoch)
  }

  /** Writes the markers, settles the groups' offsets and closes the transaction. */
  private async complete(txn: TransactionMetadata, commit: boolean, markerEpoch: number): Promise<void> {
    txn.timer?.cancel()
    txn.timer = undefined
    const partitions = txn.partitions
    const groups = txn.groups
    txn.partitions = new Map()
    txn.groups = new Set()
    txn.state = commit ? 'CompleteCommit' : 'CompleteAbort'
    const coordinatorEpoch = this.coordinatorEpoch(txn.transactionalId)
    for (const [topicName, indexes] of partitions) {
      const topic = this.deps.topics.get(topicName)
      if (!topic) continue
      for (const index of indexes) {
        const p = topic.partitions[index]
        if (p) await this.writeMarker(p, txn.producerId, markerEpoch, coordinatorEpoch, commit)
      }
    }
    for (const groupId of groups) this.deps.groups.completeTransaction(groupId, txn.producerId, commit)
  }

  private async writeMarker(
    p: Partition,
    producerId: bigint,
    epoch: number,
    coordinatorEpoch: number,
    commit: boolean,
  ): Promise<void> {
    if (p.producers.checkMarker(producerId, epoch, coordinatorEpoch) !== ErrorCode.NONE) return
    const now = this.deps.clock.now()
    const batch = await buildControlBatch(
      { type: commit ? 'COMMIT' : 'ABORT', coordinatorEpoch },
      { producerId, producerEpoch: epoch, timestamp: now },
    )
    const { baseOffset } = p.log.append(batch, p.leaderEpoch, now, false)
    const completed = p.producers.completeTransaction(producerId, epoch, coordinatorEpoch, baseOffset, !commit)
    if (completed?.aborted) p.log.addAborted(completed)
    // the last stable offset moved: a read_committed fetch may now answer
    p.log.notify()
  }
}
