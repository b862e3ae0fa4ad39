// Idempotent production (KIP-98, KIP-360): a producer id and epoch from InitProducerId, and per
// partition the sequence number of the next record. The broker keeps the last sequences of each
// producer, so a retried batch is written once. After a batch fails for good its sequences leave a
// gap the broker would refuse: the epoch is bumped and every partition starts again at 0.

import type { Cluster } from '../client/cluster.ts'
import { kafkaError } from '../protocol/error-codes.ts'
import { InitProducerId } from '../protocol/messages/index.ts'

const INT32_MAX = 0x7fffffff

export class IdempotentState {
  producerId = -1n
  producerEpoch = -1
  private readonly sequences = new Map<string, number>()
  private initializing: Promise<void> | undefined

  get ready(): boolean {
    return this.producerId >= 0n
  }

  /** Gets a producer id (or a bumped epoch of the current one when `bump` is set) from any broker. */
  init(cluster: Cluster, bump = false): Promise<void> {
    this.initializing ??= (async () => {
      const connection = await cluster.anyConnection()
      const version = connection.versionFor(InitProducerId)
      // KIP-360: v3+ bumps the epoch of the current id; older brokers hand out a new id.
      const current = bump && version >= 3 ? { producerId: this.producerId, producerEpoch: this.producerEpoch } : {}
      const response = await cluster.retry.run(async () => {
        const r = await (await cluster.anyConnection()).request(InitProducerId, {
          transactionalId: null,
          transactionTimeoutMs: 60_000,
          ...current,
        })
        if (r.errorCode !== 0) throw kafkaError(r.errorCode, 'InitProducerId')
        return r
      })
      this.producerId = response.producerId
      this.producerEpoch = response.producerEpoch
      this.sequences.clear()
    })().finally(() => {
      this.initializing = undefined
    })
    return this.initializing
  }

  /** The base sequence for `count` records of a partition, advancing it (wrapping at 2^31 as Java does). */
  take(topic: string, partition: number, count: number): number {
    const key = `${topic}\0${partition}`
    const base = this.sequences.get(key) ?? 0
    this.sequences.set(key, (base + count) % (INT32_MAX + 1))
    return base
  }
}
