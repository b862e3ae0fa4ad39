// Producer options checked before any connection (the brokers here do not exist).

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Producer } from '../../../src/producer/producer.ts'
import { ConfigError } from '../../../src/protocol/errors.ts'

describe('Producer options', () => {
  it('refuses a delivery timeout shorter than linger plus one request, as the Java client does', () => {
    assert.throws(
      () => new Producer({ brokers: ['127.0.0.1:1'], requestTimeoutMs: 3000, deliveryTimeoutMs: 2000 }),
      (e) => e instanceof ConfigError && /deliveryTimeoutMs \(2000\) must be at least .* \(3005\)/.test(e.message),
    )
    // the boundary itself is allowed
    new Producer({ brokers: ['127.0.0.1:1'], requestTimeoutMs: 3000, deliveryTimeoutMs: 3005 })
  })

  it('makes a transactional producer idempotent with acks all, and refuses options that contradict it', () => {
    const brokers = ['127.0.0.1:1']
    new Producer({ brokers, transactionalId: 'tx', transactionTimeoutMs: 30_000 })
    const refused: [object, RegExp][] = [
      [{ transactionalId: 'tx', idempotent: false }, /transactionalId does not go with idempotent: false/],
      [{ transactionalId: 'tx', acks: 'leader' }, /transactionalId needs acks: 'all' \(got acks: "leader"\)/],
      [{ transactionalId: '' }, /transactionalId: "" is not allowed: expected string/],
      [{ transactionalId: 7 }, /transactionalId: 7 is not allowed: expected string/],
      [
        { transactionalId: 'tx', transactionTimeoutMs: 0 },
        /transactionTimeoutMs: 0 is not allowed: expected duration >= 1/,
      ],
      [{ transactionTimeoutMs: 1000 }, /transactionTimeoutMs needs a transactionalId/],
    ]
    for (const [options, message] of refused) {
      assert.throws(
        () => new Producer({ brokers, ...options }),
        (e) => e instanceof ConfigError && message.test(e.message),
        JSON.stringify(options),
      )
    }
  })

  it('checks the offsets of sendOffsetsToTransaction before sending anything', async () => {
    const producer = new Producer({ brokers: ['127.0.0.1:1'], transactionalId: 'tx' })
    const bad: [unknown, unknown, RegExp][] = [
      [[{ topic: 't', partition: 0, offset: 1n }], { groupId: '' }, /groupMetadata must name its groupId/],
      [[], { groupId: 'g' }, /offsets must be a non-empty array/],
      [[{ topic: 't', partition: 0, offset: 1 }], { groupId: 'g' }, /offsets\[0\] must be .*offset: bigint/],
      [[{ topic: 't', partition: -1, offset: 1n }], { groupId: 'g' }, /offsets\[0\]/],
    ]
    for (const [offsets, group, message] of bad) {
      await assert.rejects(
        producer.sendOffsetsToTransaction(offsets as never, group as never),
        (e) => e instanceof ConfigError && message.test(e.message),
      )
    }
  })
})
