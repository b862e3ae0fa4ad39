// The transaction manager (KIP-98): the producer identity of a transactional producer, as the Java
// client's TransactionManager keeps it. InitProducerId through the transaction coordinator fences
// older instances with the same transactional id; each transaction adds its partitions before their
// first records are sent (AddPartitionsToTxn, batched) and ends with EndTxn once every record is
// settled. Offsets of a consumer group join with AddOffsetsToTxn + TxnOffsetCommit.
//
// Transaction protocol v2 (KIP-890), when the cluster finalized `transaction.version` >= 2: partitions
// and groups are added by Produce v12+ and TxnOffsetCommit v5 themselves, and every EndTxn bumps the
// epoch (its answer carries the new one). Under v1 the epoch stays, and is bumped by InitProducerId
// with the current id and epoch (KIP-360) after a transaction that failed, so the partitions it left
// with a gap in their sequences start at 0 again.
//
// Failures: a record or request that fails makes the transaction abortable (it can only be aborted);
// fencing and authorisation failures are fatal; retriable errors are retried until the call's
// deadline. Every call settles within `timeoutMs`; a commit, abort or init that ran out of time goes
// on in the background and the same call again waits for it (as Java's timed-out calls are retried).

import type { Cluster } from '../client/cluster.ts'
import { type RetryOptions, within } from '../client/retry.ts'
import { type OffsetToCommit, tpKey } from '../client/topic-partition.ts'
import type { Logger } from '../observability/logger.ts'
import { TimeoutError } from '../protocol/errors.ts'
import type { ProducerBatch } from './accumulator.ts'
import { PartitionSequences, type ProducerIdentity } from './idempotence.ts'
import { recordFailure, TransactionError, transactionFailure } from './transaction-error.ts'
import { type ConsumerGroupMetadata, type ProducerIdAndEpoch, TransactionRequests } from './transaction-requests.ts'
import { type TransactionState, TransactionStateMachine } from './transaction-state.ts'

export interface TransactionManagerOptions {
  transactionalId: string
  /** The coordinator aborts a transaction open longer than this (transaction.timeout.ms). */
  transactionTimeoutMs: number
  /** What every call may take at most: init, begin, commit, abort, sendOffsets (the producer's maxBlockMs). */
  timeoutMs: number
  retry: RetryOptions
  logger: Logger
  /** Sends every record accepted so far and waits until each is settled (the producer's flush). */
  flush: () => Promise<void>
  /** Wakes the sender: a partition was added, or the transaction can no longer commit. */
  wakeup: () => void
}

type Operation = 'initTransactions' | 'commitTransaction' | 'abortTransaction'

const PROTOCOL_V1_MAX_PRODUCE_VERSION = 11
/**
 * Protocol v2: how long after an EndTxn the next transaction's first Produce (or TxnOffsetCommit) may
 * wait for the coordinator to finish the markers. One that reaches a partition leader while the
 * coordinator still writes the previous transaction's markers (under a millisecond to a few on a local
 * broker) is held by the broker for its add-partitions retry backoff (add.partitions.to.txn.retry.backoff.ms,
 * 20 ms; KAFKA-18654): back-to-back transactions of 100 records met it in 25-50% of them. Waiting
 * longer than that hold cannot pay.
 */
const V2_MARKERS_MAX_WAIT_MS = 20

export class TransactionManager implements ProducerIdentity {
  readonly transactionalId: string
  private readonly machine = new TransactionStateMachine()
  private readonly coordinator: TransactionRequests
  private readonly sequences = new PartitionSequences()
  private producerId = -1n
  private producerEpoch = -1
  /** Transaction protocol v2 (KIP-890), from the finalized `transaction.version` of the cluster. */
  private tv2 = false
  private featuresEpoch = -1n
  /** Protocol v1 after a failed transaction, or a move to v2: InitProducerId bumps the epoch when it ends. */
  private epochBumpRequired = false
  /** Something was added to the transaction (a partition or a group's offsets): it needs an EndTxn. */
  private started = false
  /** Protocol v2: until when (performance.now()) the last EndTxn's markers may hold up the next transaction. */
  private markersUntil = 0
  /** Protocol v2: the coordinator asked whether the last transaction is complete (awaitCompletion). */
  private markersWait: Promise<void> | undefined
  /** The sender is woken when markersWait resolves. */
  private senderWaits = false
  /** Partitions in the transaction, by topic (protocol v1: added by the coordinator). */
  private readonly partitions = new Map<string, Set<number>>()
  /** Protocol v1: partitions to add with the next AddPartitionsToTxn, and those of the one in flight. */
  private readonly newPartitions = new Map<string, { topic: string; partition: number }>()
  private readonly addingPartitions = new Set<string>()
  private adding: Promise<void> | undefined
  private addScheduled = false
  private readonly offsetCommits = new Set<Promise<void>>()
  private operation: { name: Operation; done: Promise<void> } | undefined
  /** Ends the requests of the open transaction (AddPartitionsToTxn, offsets) once it cannot commit. */
  private ending = new AbortController()
  private openedAt = 0
  /** Counts transactions begun, so that a handle of one refuses to act in another. */
  generation = 0

  constructor(
    private readonly cluster: Cluster,
    private readonly options: TransactionManagerOptions,
  ) {
    this.transactionalId = options.transactionalId
    this.coordinator = new TransactionRequests(
      cluster,
      options.transactionalId,
      options.transactionTimeoutMs,
      options.retry,
    )
  }

  get state(): TransactionState {
    return this.machine.state
  }

  /** Transaction protocol v2 in use (KIP-890). */
  get protocolV2(): boolean {
    return this.tv2
  }

  // ------------------------------------------------------------------------------------------
  // The producer's calls

  /** Gets the producer id and epoch, fencing any older producer with this transactional id. */
  initialize(): Promise<void> {
    const s = this.machine.state
    if (s === 'UNINITIALIZED') this.machine.to('INITIALIZING')
    else if (s === 'FATAL_ERROR') return Promise.reject(this.machine.error)
    else if (s !== 'INITIALIZING') return Promise.resolve()
    return this.run('initTransactions', (deadline) => this.initProducerId(deadline))
  }

  /** Opens a transaction (initializing first if needed); resolves with its generation. */
  async begin(): Promise<number> {
    if (this.machine.state === 'UNINITIALIZED' || this.machine.state === 'INITIALIZING') await this.initialize()
    if (this.operation) throw this.pending('beginTransaction')
    if (this.machine.state !== 'READY') throw this.refused('beginTransaction')
    this.machine.to('IN_TRANSACTION')
    this.ending = new AbortController()
    this.openedAt = Date.now()
    return ++this.generation
  }

  /** Throws unless records may be sent now: only in an open transaction that can still commit. */
  checkSend(): void {
    if (this.machine.state !== 'IN_TRANSACTION') throw this.refused('send')
  }

  /** Whether `generation` is the open transaction. */
  isOpen(generation: number): boolean {
    return generation === this.generation && this.machine.state === 'IN_TRANSACTION'
  }

  /** A record was appended for a partition: it joins the transaction (protocol v1: AddPartitionsToTxn soon). */
  addPartition(topic: string, partition: number): void {
    if (this.tv2) {
      this.joined(topic, partition)
      this.started = true
      return
    }
    if (this.partitions.get(topic)?.has(partition)) return
    const key = tpKey(topic, partition)
    if (this.newPartitions.has(key) || this.addingPartitions.has(key)) return
    this.newPartitions.set(key, { topic, partition })
    this.scheduleAdd()
  }

  /** Commits a consumer group's offsets as part of the open transaction (consume-transform-produce). */
  async sendOffsets(offsets: readonly OffsetToCommit[], group: ConsumerGroupMetadata): Promise<void> {
    if (this.machine.state !== 'IN_TRANSACTION') throw this.refused('sendOffsetsToTransaction')
    const id = this.id()
    const o = { deadline: Date.now() + this.options.timeoutMs, signal: this.ending.signal }
    const tv2 = this.tv2
    // under v2 TxnOffsetCommit adds the group itself; the transaction needs its EndTxn either way
    if (tv2) this.started = true
    const commit = (async () => {
      if (!tv2) {
        await this.coordinator.addOffsets(id, group.groupId, o)
        this.started = true
      } else await this.markersWritten()
      await this.coordinator.commitOffsets(id, group, offsets, tv2, o)
    })().catch((error) => {
      // whether the offsets are in the transaction is not known: it must not commit
      const failure = this.requestFailure(error, 'sendOffsetsToTransaction')
      this.fail(failure)
      throw failure
    })
    this.offsetCommits.add(commit)
    commit.then(
      () => this.offsetCommits.delete(commit),
      () => this.offsetCommits.delete(commit),
    )
    await commit
  }

  /** Sends every record, then commits (EndTxn). A commit that timed out is retried by calling this again. */
  commit(): Promise<void> {
    const s = this.machine.state
    if (s === 'IN_TRANSACTION') this.machine.to('COMMITTING')
    else if (s !== 'COMMITTING') return Promise.reject(this.refused('commitTransaction'))
    return this.run('commitTransaction', async (deadline) => {
      await this.options.flush()
      await this.requestsSettled()
      // a record or the offsets failed meanwhile
      if (this.machine.state !== 'COMMITTING') throw this.refused('commitTransaction')
      await this.end(true, deadline)
    })
  }

  /** Fails what was not sent yet, waits for what is in flight, then aborts (EndTxn). */
  abort(): Promise<void> {
    const s = this.machine.state
    if (s === 'IN_TRANSACTION' || s === 'ABORTABLE_ERROR') {
      this.machine.to('ABORTING')
      this.ending.abort(new TransactionError('the transaction was aborted', 'abortable'))
      this.newPartitions.clear()
      this.options.wakeup()
    } else if (s !== 'ABORTING') return Promise.reject(this.refused('abortTransaction'))
    return this.run('abortTransaction', async (deadline) => {
      await this.options.flush()
      await this.requestsSettled()
      if (this.machine.state === 'FATAL_ERROR') throw this.machine.error
      await this.end(false, deadline)
    })
  }

  /** Closes the coordinator connections (the producer closes). */
  close(): void {
    this.coordinator.close()
  }

  // ------------------------------------------------------------------------------------------
  // The sender's seam (ProducerIdentity)

  get maxProduceVersion(): number | undefined {
    // Produce v12+ adds partitions to the transaction implicitly: protocol v2 only
    return this.tv2 ? undefined : PROTOCOL_V1_MAX_PRODUCE_VERSION
  }

  prepare(onReady: () => void, onError: (error: Error, all: boolean) => void): boolean {
    switch (this.machine.state) {
      case 'IN_TRANSACTION':
      case 'COMMITTING': {
        const wait = this.markersWritten()
        if (!wait) return true
        if (!this.senderWaits) {
          this.senderWaits = true
          void wait.then(() => {
            this.senderWaits = false
            onReady()
          })
        }
        return false
      }
      case 'ABORTABLE_ERROR':
      case 'FATAL_ERROR':
        // nothing not in flight yet will be written: what waits fails now (Java's abortUndrainedBatches)
        onError(this.machine.error!, true)
        return false
      case 'ABORTING':
        onError(this.ending.signal.reason as Error, true)
        return false
      default:
        // no transaction open: sends are refused, so no batch is waiting
        return false
    }
  }

  sendable(topic: string, partition: number): boolean {
    if (this.tv2 || this.partitions.get(topic)?.has(partition)) return true
    this.addPartition(topic, partition)
    return false
  }

  sequence(batch: ProducerBatch): void {
    this.sequences.assign(batch, this.producerId, this.producerEpoch)
    batch.options.transactional = true
  }

  failed(batch: ProducerBatch, error: Error): void {
    // sequences that may or may not be in the log: under v1 the epoch must be bumped at the end
    if (batch.options.baseSequence !== undefined && !this.tv2) this.epochBumpRequired = true
    const failure = recordFailure(error, batch.topic, batch.partition)
    // a gap in the sequences that no new epoch will close
    const unrecoverable = failure.abortable && this.epochBumpRequired && !this.coordinator.canBumpEpoch
    this.fail(
      unrecoverable
        ? new TransactionError(
            `${failure.message}; the broker cannot bump the epoch to recover (InitProducerId < v3): close the producer`,
            'fatal',
            { cause: failure },
          )
        : failure,
    )
  }

  /** A record failed before it reached a batch (no metadata or memory in time, refused): the transaction cannot commit. */
  rejected(error: Error, topic: string): void {
    this.fail(recordFailure(error, topic))
  }

  split(batch: ProducerBatch): void {
    this.sequences.rewind(batch)
  }

  resequence(): boolean {
    // the epoch is the coordinator's: the batch fails, and so does the transaction
    return false
  }

  // ------------------------------------------------------------------------------------------

  private id(): ProducerIdAndEpoch {
    return { producerId: this.producerId, producerEpoch: this.producerEpoch }
  }

  /** An abortable error can be left: the epoch can be bumped (KIP-360), or EndTxn bumps it (KIP-890). */
  private canRecover(): boolean {
    return this.tv2 || this.coordinator.canBumpEpoch
  }

  /**
   * Runs one of the calls that may outlast the caller's patience: its promise settles within
   * `timeoutMs`, and calling it again while it goes on waits for the same work (started afresh
   * when that work ran out of its own time).
   */
  private run(name: Operation, work: (deadline: number) => Promise<void>): Promise<void> {
    if (this.operation && this.operation.name !== name) return Promise.reject(this.pending(name))
    const ms = this.options.timeoutMs
    const call = async () => {
      const deadline = Date.now() + ms
      for (;;) {
        if (!this.operation) {
          const done: Promise<void> = work(deadline).finally(() => {
            if (this.operation?.done === done) this.operation = undefined
          })
          done.catch(() => {}) // observed below, or by the next call
          this.operation = { name, done }
        }
        try {
          return await this.operation.done
        } catch (error) {
          // the work of an earlier call ran out of its time: this call goes on with its own
          if (!(error instanceof TimeoutError) || Date.now() >= deadline) throw error
        }
      }
    }
    return within(
      call(),
      ms,
      () => new TimeoutError(`${name} did not complete within ${ms} ms: call ${name}() again to wait for it`),
    )
  }

  private async initProducerId(deadline: number): Promise<void> {
    const bump = this.producerId >= 0n
    try {
      const next = await this.coordinator.initProducerId(bump ? this.id() : undefined, { deadline })
      this.producerId = next.producerId
      this.producerEpoch = next.producerEpoch
    } catch (error) {
      // the state stays INITIALIZING: calling again retries (an abortable answer has no transaction to abort)
      if (error instanceof TimeoutError) throw error
      const failure = transactionFailure(error, 'InitProducerId', this.canRecover())
      if (failure.fatal) this.fail(failure)
      throw failure
    }
    this.sequences.clear()
    this.epochBumpRequired = false
    if (!bump) this.refreshProtocol(true)
    this.options.logger.info?.(
      {
        transactionalId: this.transactionalId,
        producerId: this.producerId,
        producerEpoch: this.producerEpoch,
        v2: this.tv2,
      },
      bump ? 'producer epoch bumped' : 'transactional producer initialized',
    )
    this.machine.to('READY')
  }

  /** Protocol v2: resolves when the last transaction's markers are written (undefined: nothing to wait for). */
  private markersWritten(): Promise<void> | undefined {
    if (performance.now() >= this.markersUntil) return undefined
    this.markersWait ??= this.coordinator.awaitCompletion(this.markersUntil).then(() => {
      this.markersWait = undefined
      this.markersUntil = 0
    })
    return this.markersWait
  }

  /** EndTxn (when anything was added), then READY, or a new epoch first. */
  private async end(commit: boolean, deadline: number): Promise<void> {
    if (this.started) {
      let next: ProducerIdAndEpoch | undefined
      try {
        next = await this.coordinator.endTxn(this.id(), commit, this.tv2, { deadline })
      } catch (error) {
        const what = commit ? 'commitTransaction' : 'abortTransaction'
        // the outcome is not known: the state stays, and only the same call again can finish it
        if (error instanceof TimeoutError)
          throw new TimeoutError(`${what}: ${error.message}; call ${what}() again`, { cause: error })
        const failure = transactionFailure(error, what, this.canRecover())
        this.fail(failure)
        throw this.machine.error ?? failure
      }
      if (next) {
        this.producerId = next.producerId
        this.producerEpoch = next.producerEpoch
        this.sequences.clear()
      }
      if (this.tv2) this.markersUntil = performance.now() + V2_MARKERS_MAX_WAIT_MS
    }
    // a cluster that moved to protocol v2 since: the next transaction uses it, after an epoch bump
    this.refreshProtocol(false)
    this.started = false
    this.partitions.clear()
    this.newPartitions.clear()
    if (!this.epochBumpRequired) {
      this.machine.to('READY')
      return
    }
    this.machine.to('INITIALIZING')
    // the transaction ended as asked; a bump that fails now is tried again by the next beginTransaction()
    await this.initProducerId(deadline).catch((error) =>
      this.options.logger.warn?.({ transactionalId: this.transactionalId, err: error }, 'epoch bump failed'),
    )
  }

  /** Waits for the open transaction's requests (AddPartitionsToTxn, offsets) to settle. */
  private async requestsSettled(): Promise<void> {
    while (this.adding || this.offsetCommits.size > 0) {
      await Promise.allSettled([this.adding, ...this.offsetCommits])
    }
  }

  private scheduleAdd(): void {
    if (this.adding || this.addScheduled) return
    this.addScheduled = true
    // after the current turn: the partitions of a sendBatch() go in one request
    queueMicrotask(() => {
      this.addScheduled = false
      this.sendAddPartitions()
    })
  }

  private sendAddPartitions(): void {
    const s = this.machine.state
    if (this.newPartitions.size === 0 || (s !== 'IN_TRANSACTION' && s !== 'COMMITTING')) return
    const partitions = [...this.newPartitions.values()]
    for (const key of this.newPartitions.keys()) this.addingPartitions.add(key)
    this.newPartitions.clear()
    const o = { deadline: Date.now() + this.options.timeoutMs, signal: this.ending.signal }
    this.adding = this.coordinator
      .addPartitions(this.id(), partitions, o)
      .then(
        () => {
          for (const { topic, partition } of partitions) this.joined(topic, partition)
          this.started = true
        },
        (error) => this.fail(this.requestFailure(error, 'AddPartitionsToTxn')),
      )
      .finally(() => {
        this.addingPartitions.clear()
        this.adding = undefined
        this.options.wakeup()
        if (this.newPartitions.size > 0) this.scheduleAdd()
      })
  }

  private joined(topic: string, partition: number): void {
    const set = this.partitions.get(topic)
    if (set) set.add(partition)
    else this.partitions.set(topic, new Set([partition]))
  }

  /** Reads the cluster's `transaction.version` when it changed (Java's maybeUpdateTransactionV2Enabled). */
  private refreshProtocol(initializing: boolean): void {
    const features = this.cluster.finalizedFeatures
    if (features.epoch <= this.featuresEpoch) return
    this.featuresEpoch = features.epoch
    const was = this.tv2
    this.tv2 = (features.levels.get('transaction.version') ?? 0) >= 2
    // v2 does not add partitions explicitly: a fresh epoch keeps v1's partitions out of v2's transactions
    if (!initializing && !was && this.tv2) this.epochBumpRequired = true
  }

  /** The error of a request within the transaction; one that ran out of time leaves its outcome unknown: abortable. */
  private requestFailure(error: unknown, what: string): TransactionError {
    if (error instanceof TimeoutError)
      return new TransactionError(`${what}: ${error.message}`, 'abortable', { cause: error })
    return transactionFailure(error, what, this.canRecover())
  }

  /** Moves to the error state `failure` calls for (fatal from anywhere; abortable while the transaction runs). */
  private fail(error: TransactionError): void {
    const s = this.machine.state
    const failure = this.explained(error)
    if (failure.fatal) {
      if (s === 'FATAL_ERROR') return
      this.machine.to('FATAL_ERROR', failure)
    } else if (failure.abortable && (s === 'IN_TRANSACTION' || s === 'COMMITTING')) {
      this.machine.to('ABORTABLE_ERROR', failure)
    } else return
    this.options.logger.warn?.({ transactionalId: this.transactionalId, err: failure }, 'transaction failed')
    if (!this.ending.signal.aborted) this.ending.abort(failure)
    this.options.wakeup()
  }

  /** Whether the open transaction ran longer than its timeout: the coordinator may have aborted it. */
  private pastTimeout(): boolean {
    const s = this.machine.state
    const open = s === 'IN_TRANSACTION' || s === 'COMMITTING' || s === 'ABORTING' || s === 'ABORTABLE_ERROR'
    return open && Date.now() - this.openedAt > this.options.transactionTimeoutMs
  }

  /** The answers to a transaction the coordinator aborted for its timeout (and fenced that epoch). */
  private static readonly TIMED_OUT = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'INVALID_TXN_STATE'])

  /** Whether `failure` is how the coordinator answers a transaction it aborted for its timeout. */
  private timedOut(failure: TransactionError): boolean {
    return this.pastTimeout() && TransactionManager.TIMED_OUT.has(failure.type ?? '')
  }

  /**
   * A failure of a transaction that ran past its timeout, said so (the likely cause). Under protocol
   * v2 an abort takes the producer back (EndTxn accepts the epoch the timeout's abort bumped): it is
   * abortable; under v1 the coordinator fenced the epoch for good (Kafka 3.9 refuses even KIP-360's
   * InitProducerId with it): fatal.
   */
  private explained(failure: TransactionError): TransactionError {
    if (!this.timedOut(failure)) return failure
    const kind = this.tv2 && this.machine.state !== 'ABORTING' ? 'abortable' : 'fatal'
    const openMs = Date.now() - this.openedAt
    const then = kind === 'fatal' ? 'close the producer' : 'abort it here too, and run it again'
    const detail = failure.cause instanceof Error ? failure.cause.message : failure.message
    return new TransactionError(
      `the transaction was open ${openMs} ms, longer than transactionTimeoutMs (${this.options.transactionTimeoutMs} ms): the coordinator aborted it; ${then} (${detail})`,
      kind,
      { cause: failure.cause, type: failure.type },
    )
  }

  /** Why a call does not fit now: the stored error of an error state, else a state error. */
  private refused(call: string): TransactionError {
    const s = this.machine.state
    if (s === 'FATAL_ERROR' || (s === 'ABORTABLE_ERROR' && call !== 'abortTransaction')) return this.machine.error!
    const why: Partial<Record<TransactionState, string>> = {
      UNINITIALIZED: 'no transaction is open (beginTransaction() or transaction() opens one)',
      INITIALIZING: 'the producer id is being obtained',
      READY: 'no transaction is open (beginTransaction() or transaction() opens one)',
      IN_TRANSACTION: 'a transaction is already open',
      COMMITTING: 'the transaction is being committed',
      ABORTING: 'the transaction is being aborted',
    }
    return new TransactionError(`${call}: ${why[s] ?? `not possible in state ${s}`}`, 'state')
  }

  private pending(call: string): TransactionError {
    return new TransactionError(
      `${call}: ${this.operation!.name} has not completed; call ${this.operation!.name}() again first`,
      'state',
    )
  }
}
