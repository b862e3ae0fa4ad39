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
  /**
   * Whether new batches can be sequenced now. When not, a producer id is being obtained and
   * `onReady` runs once it is there; `onError` gets an error that will not heal by retrying.
   */
  prepare(onReady: () => void, onError: (error: Error) => void): boolean
  /** Gives a batch about to be sent for the first time its producer id, epoch and base sequence. */
  sequence(batch: ProducerBatch): void
  /** A sequenced batch failed for good: its partition's sequence has a gap. */
  failed(batch: ProducerBatch): void
  /** The broker refused a batch's sequence (it was not written): bump, and sequence it again. */
  resequence(batch: ProducerBatch): void
}

interface PartitionSequence {
  producerId: bigint
  producerEpoch: number
  next: number
}

export class IdempotentState implements ProducerIdentity {
  readonly transactionalId = null
  producerId = -1n
  producerEpoch = -1
  private readonly partitions = new Map<string, PartitionSequence>()
  private initializing: Promise<void> | undefined

  constructor(private readonly cluster: Cluster) {}

  get ready(): boolean {
    return this.producerId >= 0n
  }

  prepare(onReady: () => void, onError: (error: Error) => void): boolean {
    if (this.ready) return true
    this.initializing ??= this.init()
      .then(onReady, (error) => {
        // retriable trouble ran out the retry policy's deadline: the next drain tries again
        if (!(error instanceof KafkaxError && error.retriable)) onError(error)
        else onReady()
      })
      .finally(() => {
        this.initializing = undefined
      })
    return false
  }

  sequence(batch: ProducerBatch): void {
    const key = `${batch.topic}\0${batch.partition}`
    let p = this.partitions.get(key)
    if (!p || p.producerId !== this.producerId || p.producerEpoch !== this.producerEpoch) {
      p = { producerId: this.producerId, producerEpoch: this.producerEpoch, next: 0 }
      this.partitions.set(key, p)
    }
    const o = batch.options
    o.producerId = p.producerId
    o.producerEpoch = p.producerEpoch
    o.baseSequence = p.next
    p.next = (p.next + batch.recordCount) % (INT32_MAX + 1)
  }

  failed(batch: ProducerBatch): void {
    this.bump(batch)
  }

  resequence(batch: ProducerBatch): void {
    this.bump(batch)
    if (!this.ready) return // a new producer id first: the batch is sequenced when it is sent again
    this.sequence(batch)
    if (batch.sealed) batch.restamp()
  }

  /** Moves past the epoch `batch` was written with (once per epoch), and restarts its partition at 0. */
  private bump(batch: ProducerBatch): void {
    const o = batch.options
    if (o.producerId === this.producerId && o.producerEpoch === this.producerEpoch) {
      if (this.producerEpoch >= INT16_MAX)
        this.producerId = -1n // epochs exhausted: a new id
      else this.producerEpoch++
    }
    this.partitions.delete(`${batch.topic}\0${batch.partition}`)
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
    this.partitions.clear()
  }
}
