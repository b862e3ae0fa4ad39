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
})
