// Idempotence and transactions as a partition of the fake broker checks them: a retried batch is
// answered with its first offsets, sequences must follow, older epochs are fenced, a new epoch
// starts at 0, and an open transaction holds the last stable offset back.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ErrorCode } from '../../../src/protocol/error-codes.ts'
import { type IncomingBatch, ProducerStateManager } from '../../../src/testing/producer-state.ts'

const batch = (baseSequence: number, records = 3, producerEpoch = 0, transactional = false): IncomingBatch => ({
  producerId: 7n,
  producerEpoch,
  baseSequence,
  lastOffsetDelta: records - 1,
  transactional,
})

describe('ProducerStateManager', () => {
  it('accepts sequences in order and answers a retried batch with its original offsets', () => {
    const s = new ProducerStateManager()
    assert.deepEqual(s.check(batch(0)), { kind: 'append' })
    s.update(batch(0), 0, 2)
    s.update(batch(3), 3, 5)
    assert.deepEqual(s.check(batch(0)), { kind: 'duplicate', firstOffset: 0, lastOffset: 2 })
    assert.deepEqual(s.check(batch(6)), { kind: 'append' })
    const gap = s.check(batch(9))
    assert.equal(gap.kind === 'error' && gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
  })

  it('remembers five batches: an older retry is out of order, not a duplicate', () => {
    const s = new ProducerStateManager()
    for (let i = 0; i < 6; i++) s.update(batch(i * 3), i * 3, i * 3 + 2)
    const old = s.check(batch(0))
    assert.equal(old.kind === 'error' && old.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
    assert.equal(s.check(batch(3)).kind, 'duplicate')
  })

  it('fences older epochs; a newer epoch must start at sequence 0', () => {
    const s = new ProducerStateManager()
    s.update(batch(0, 3, 1), 0, 2)
    const older = s.check(batch(3, 3, 0))
    assert.equal(older.kind === 'error' && older.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH)
    const notZero = s.check(batch(5, 3, 2))
    assert.equal(notZero.kind === 'error' && notZero.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
    assert.deepEqual(s.check(batch(0, 3, 2)), { kind: 'append' })
    assert.deepEqual(
      new ProducerStateManager().check(batch(42)),
      { kind: 'append' },
      'an unknown producer may start anywhere',
    )
  })

  it('an open transaction holds the first unstable offset until its marker', () => {
    const s = new ProducerStateManager()
    assert.equal(s.firstUnstableOffset(), undefined)
    s.update(batch(0, 2, 0, true), 10, 11)
    s.update(batch(2, 2, 0, true), 12, 13)
    assert.equal(s.firstUnstableOffset(), 10)
    const plain = s.check(batch(4, 1, 0, false))
    assert.equal(
      plain.kind === 'error' && plain.errorCode,
      ErrorCode.INVALID_TXN_STATE,
      'no plain writes inside a transaction',
    )
    assert.equal(s.checkMarker(7n, 0, 0), ErrorCode.NONE)
    assert.deepEqual(s.completeTransaction(7n, 0, 0, 14, true), {
      producerId: 7n,
      firstOffset: 10,
      lastOffset: 14,
      aborted: true,
    })
    assert.equal(s.firstUnstableOffset(), undefined)
    assert.equal(s.checkMarker(7n, 0, -1), ErrorCode.TRANSACTION_COORDINATOR_FENCED)
  })
})
