// Idempotent and transactional producers as one partition sees them (Kafka's ProducerStateManager
// and ProducerAppendInfo): per producer id its epoch, the metadata of its last five batches (to
// answer a retried batch with its original offset instead of writing it twice), and the first offset
// of its open transaction, from which the last stable offset follows.

import { ErrorCode } from '../protocol/error-codes.ts'

/** The broker remembers this many batches per producer (Kafka's NUM_BATCHES_TO_RETAIN). */
const BATCHES_TO_RETAIN = 5
const NO_EPOCH = -1
const INT32_MAX = 0x7fff_ffff

interface BatchMetadata {
  firstSeq: number
  lastSeq: number
  firstOffset: number
  lastOffset: number
}

interface ProducerEntry {
  epoch: number
  batches: BatchMetadata[]
  coordinatorEpoch: number
  /** First offset of the open transaction in this partition, or -1. */
  txnFirstOffset: number
}

export interface IncomingBatch {
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  lastOffsetDelta: number
  transactional: boolean
}

/** What a batch is before it is appended: new, a duplicate of a retained batch, or refused. */
export type SequenceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; firstOffset: number; lastOffset: number }
  | { kind: 'error'; errorCode: number; errorMessage: string }

export interface CompletedTransaction {
  producerId: bigint
  firstOffset: number
  lastOffset: number
  aborted: boolean
}

const inSequence = (lastSeq: number, nextSeq: number) =>
  nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX)

/** Sequence numbers wrap at Int32.MAX (DefaultRecordBatch.incrementSequence). */
const lastSequenceOf = (b: IncomingBatch) => {
  const last = b.baseSequence + b.lastOffsetDelta
  return last > INT32_MAX ? last - INT32_MAX - 1 : last
}

export class ProducerStateManager {
  private readonly producers = new Map<bigint, ProducerEntry>()
  private openTransactions = 0

  /** Checks epoch and sequence of a batch with a producer id (batches without one pass). */
  check(batch: IncomingBatch): SequenceCheck {
    if (batch.producerId < 0n) return { kind: 'append' }
    const entry = this.producers.get(batch.producerId)
    const epoch = entry?.epoch ?? NO_EPOCH
    if (batch.producerEpoch < epoch)
      return error(
        ErrorCode.INVALID_PRODUCER_EPOCH,
        `epoch ${batch.producerEpoch} of producer ${batch.producerId} is older than its current epoch ${epoch}`,
      )
    if (entry && batch.producerEpoch === entry.epoch) {
      const lastSeq = lastSequenceOf(batch)
      const duplicate = entry.batches.find((b) => b.firstSeq === batch.baseSequence && b.lastSeq === lastSeq)
      if (duplicate) return { kind: 'duplicate', firstOffset: duplicate.firstOffset, lastOffset: duplicate.lastOffset }
    }
    if (batch.baseSequence >= 0) {
      if (entry === undefined || batch.producerEpoch !== entry.epoch) {
        // a new epoch starts at sequence 0; a producer the partition does not know may start anywhere
        if (batch.baseSequence !== 0 && entry !== undefined && entry.epoch !== NO_EPOCH)
          return error(
            ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
            `producer ${batch.producerId}: sequence ${batch.baseSequence} for new epoch ${batch.producerEpoch}, expected 0`,
          )
      } else {
        const lastSeq = entry.batches.at(-1)?.lastSeq
        if (lastSeq !== undefined && !inSequence(lastSeq, batch.baseSequence))
          return error(
            ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
            `producer ${batch.producerId}: sequence ${batch.baseSequence} after ${lastSeq}`,
          )
      }
    }
    if (!batch.transactional && entry !== undefined && entry.txnFirstOffset >= 0)
      return error(
        ErrorCode.INVALID_TXN_STATE,
        `producer ${batch.producerId} wrote a non-transactional batch inside a transaction`,
      )
    return { kind: 'append' }
  }

  /** Records an appended batch. */
  update(batch: IncomingBatch, firstOffset: number, lastOffset: number): void {
    if (batch.producerId < 0n) return
    let entry = this.producers.get(batch.producerId)
    if (!entry) {
      entry = { epoch: batch.producerEpoch, batches: [], coordinatorEpoch: -1, txnFirstOffset: -1 }
      this.producers.set(batch.producerId, entry)
    }
    if (entry.epoch !== batch.producerEpoch) {
      entry.epoch = batch.producerEpoch
      entry.batches = []
    }
    if (batch.baseSequence >= 0) {
      entry.batches.push({ firstSeq: batch.baseSequence, lastSeq: lastSequenceOf(batch), firstOffset, lastOffset })
      if (entry.batches.length > BATCHES_TO_RETAIN) entry.batches.shift()
    }
    if (batch.transactional && entry.txnFirstOffset < 0) {
      entry.txnFirstOffset = firstOffset
      this.openTransactions++
    }
  }

  /** Whether `producerId` has a transaction open in this partition. */
  inTransaction(producerId: bigint): boolean {
    return (this.producers.get(producerId)?.txnFirstOffset ?? -1) >= 0
  }

  /**
   * Checks a transaction marker the coordinator is about to write: its epoch must not be older
   * than the producer's, nor its coordinator epoch older than the last marker's.
   */
  checkMarker(producerId: bigint, producerEpoch: number, coordinatorEpoch: number): number {
    const entry = this.producers.get(producerId)
    if (!entry) return ErrorCode.NONE
    if (producerEpoch < entry.epoch) return ErrorCode.INVALID_PRODUCER_EPOCH
    if (coordinatorEpoch < entry.coordinatorEpoch) return ErrorCode.TRANSACTION_COORDINATOR_FENCED
    return ErrorCode.NONE
  }

  /** Records an appended marker; returns the transaction it completes, if one was open here. */
  completeTransaction(
    producerId: bigint,
    producerEpoch: number,
    coordinatorEpoch: number,
    markerOffset: number,
    aborted: boolean,
  ): CompletedTransaction | undefined {
    let entry = this.producers.get(producerId)
    if (!entry) {
      entry = { epoch: producerEpoch, batches: [], coordinatorEpoch, txnFirstOffset: -1 }
      this.producers.set(producerId, entry)
    }
    if (producerEpoch > entry.epoch) {
      entry.epoch = producerEpoch
      entry.batches = []
    }
    entry.coordinatorEpoch = coordinatorEpoch
    const firstOffset = entry.txnFirstOffset
    entry.txnFirstOffset = -1
    if (firstOffset >= 0) this.openTransactions--
    return firstOffset < 0 ? undefined : { producerId, firstOffset, lastOffset: markerOffset, aborted }
  }

  /** The first offset of the oldest open transaction, or undefined (Kafka's firstUnstableOffset). */
  firstUnstableOffset(): number | undefined {
    if (this.openTransactions === 0) return undefined
    let first: number | undefined
    for (const entry of this.producers.values()) {
      if (entry.txnFirstOffset >= 0 && (first === undefined || entry.txnFirstOffset < first))
        first = entry.txnFirstOffset
    }
    return first
  }

  /** Producers with state here (DescribeProducers and inspection). */
  *entries(): Generator<{ producerId: bigint; epoch: number; lastSequence: number; txnFirstOffset: number }> {
    for (const [producerId, e] of this.producers)
      yield {
        producerId,
        epoch: e.epoch,
        lastSequence: e.batches.at(-1)?.lastSeq ?? -1,
        txnFirstOffset: e.txnFirstOffset,
      }
  }
}

function error(errorCode: number, errorMessage: string): SequenceCheck {
  return { kind: 'error', errorCode, errorMessage }
}
