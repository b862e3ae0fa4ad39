// Idempotent production (KIP-98, KIP-360): a producer id and epoch from InitProducerId, and per
// partition the sequence number of the next record, so the broker writes a retried batch once.
//
// The rules, as the Java client's TransactionManager applies them to an idempotent producer:
// - a batch takes its producer id, epoch and base sequence when it is first sent and keeps them
//   through every retry (new ones could make a written attempt count twice);
// - a sequenced batch that fails for good (expired, a broker error) may or may not be in the log,
//   and leaves a gap the broker would refuse: the epoch is bumped, locally (the broker takes a
//   higher epoch of an idempotent producer at sequence 0), and that partition starts at 0 again;
// - a partition moves to the current epoch only when it has nothing sequenced unsettled, which
//   holds whenever a new batch is sequenced: one batch per partition is in flight;
// - a batch the broker refused because of its sequence (UNKNOWN_PRODUCER_ID, OUT_OF_ORDER_SEQUENCE)
//   was not written: it is bumped and sequenced again.
// Nothing here waits for requests in flight, so nothing can wait forever.

import type { Cluster } from '../client/cluster.ts'
import { tpKey } from '../client/topic-partition.ts'
import { kafkaError } from '../protocol/error-codes.ts'
import { KafkaxError } from '../protocol/errors.ts'
import { InitProducerId } from '../protocol/messages/index.ts'
import type { ProducerBatch } from './accumulator.ts'

const INT32_MAX = 0x7fffffff
const INT16_MAX = 0x7fff

/** What the sender asks of the producer's identity: an idempotent state, or a transaction manager. */
export interface ProducerIdentity {
  /** Sent with every Produce request (null unless transactional). */
  readonly transactionalId: string | null
  /** The newest Produce version this identity may use (a transaction of protocol v1 stops at 11). */
  readonly maxProduceVersion: number | undefined
  /**
   * Whether new batches can be sequenced now. When not, a producer id is being obtained and
   * `onReady` runs once it is there; `onError` gets an error that will not heal by retrying: batches
   * not sequenced yet fail with it, and with `all`, every batch not in flight.
   */
  prepare(onReady: () => void, onError: (error: Error, all: boolean) => void): boolean
  /** Whether a partition's new batches may be sent now (a transaction adds the partition first, then wakes the sender). */
  sendable(topic: string, partition: number): boolean
  /** Gives a batch about to be sent for the first time its producer id, epoch and base sequence. */
  sequence(batch: ProducerBatch): void
  /** A batch failed for good (the error its records got); if it was sequenced, its partition has a gap. */
  failed(batch: ProducerBatch, error: Error): void
  /** A sequenced batch was split before anything of it was written: its halves take new sequences. */
  split(batch: ProducerBatch): void
  /**
   * The broker refused a batch's sequence (it was not written): bump, and sequence it again. False
   * when it cannot be (a transaction's epoch is the coordinator's): the batch fails.
   */
  resequence(batch: ProducerBatch): boolean
}

interface PartitionSequence {
  producerId: bigint
  producerEpoch: number
  next: number
}

/** Per partition: the producer id and epoch its batches are written with, and its next sequence. */
export class PartitionSequences {
  private readonly partitions = new Map<string, PartitionSequence>()

  /**
   * Stamps a batch about to be sent for the first time with the producer id, epoch and the base
   * sequence of its partition; a partition moving to a new id or epoch starts at 0.
   */
  assign(batch: ProducerBatch, producerId: bigint, producerEpoch: number): void {
    const key = tpKey(batch.topic, batch.partition)
    let p = this.partitions.get(key)
    if (!p || p.producerId !== producerId || p.producerEpoch !== producerEpoch) {
      p = { producerId, producerEpoch, next: 0 }
      this.partitions.set(key, p)
    }
    const o = batch.options
    o.producerId = p.producerId
    o.producerEpoch = p.producerEpoch
    o.baseSequence = p.next
    p.next = (p.next + batch.recordCount) % (INT32_MAX + 1)
  }

  /** The batch's partition starts at 0 again. */
  forget(batch: ProducerBatch): void {
    this.partitions.delete(tpKey(batch.topic, batch.partition))
  }

  /**
   * Nothing of the batch was written and it is its partition's last sequenced one (one batch per
   * partition is in flight): the partition goes on from its base sequence.
   */
  rewind(batch: ProducerBatch): void {
    const p = this.partitions.get(tpKey(batch.topic, batch.partition))
    const o = batch.options
    if (p && p.producerId === o.producerId && p.producerEpoch === o.producerEpoch) p.next = o.baseSequence!
  }

  clear(): void {
    this.partitions.clear()
  }
}

export class IdempotentState implements ProducerIdentity {
  readonly transactionalId = null
  readonly maxProduceVersion = undefined
  producerId = -1n
  producerEpoch = -1
  private readonly sequences = new PartitionSequences()
  private initializing: Promise<void> | undefined

  constructor(private readonly cluster: Cluster) {}

  get ready(): boolean {
    return this.producerId >= 0n
  }

  prepare(onReady: () => void, onError: (error: Error, all: boolean) => void): boolean {
    if (this.ready) return true
    this.initializing ??= this.init()
      .then(onReady, (error) => {
        // retriable trouble ran out the retry policy's deadline: the next drain tries again
        if (!(error instanceof KafkaxError && error.retriable)) onError(error, false)
        else onReady()
      })
      .finally(() => {
        this.initializing = undefined
      })
    return false
  }

  sendable(): boolean {
    return true
  }

  sequence(batch: ProducerBatch): void {
    this.sequences.assign(batch, this.producerId, this.producerEpoch)
  }

  failed(batch: ProducerBatch): void {
    if (batch.options.baseSequence !== undefined) this.bump(batch)
  }

  split(batch: ProducerBatch): void {
    this.bump(batch)
  }

  resequence(batch: ProducerBatch): boolean {
    this.bump(batch)
    if (!this.ready) return true // a new producer id first: the batch is sequenced when it is sent again
    this.sequence(batch)
    if (batch.sealed) batch.restamp()
    return true
  }

  /** Moves past the epoch `batch` was written with (once per epoch), and restarts its partition at 0. */
  private bump(batch: ProducerBatch): void {
    const o = batch.options
    if (o.producerId === this.producerId && o.producerEpoch === this.producerEpoch) {
      if (this.producerEpoch >= INT16_MAX)
        this.producerId = -1n // epochs exhausted: a new id
      else this.producerEpoch++
    }
    this.sequences.forget(batch)
    // a batch sequenced again takes its new identity when it is next sent
    if (!this.ready) o.baseSequence = undefined
  }

  /** Gets a new producer id from any broker. */
  private async init(): Promise<void> {
    const response = await this.cluster.retry.run(async () => {
      const r = await (await this.cluster.anyConnection()).request(InitProducerId, {
        transactionalId: null,
        transactionTimeoutMs: 60_000,
        producerId: -1n,
        producerEpoch: -1,
      })
      if (r.errorCode !== 0) throw kafkaError(r.errorCode, 'InitProducerId')
      return r
    })
    this.producerId = response.producerId
    this.producerEpoch = response.producerEpoch
    this.sequences.clear()
  }
}
