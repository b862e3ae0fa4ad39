// The share consumer's acknowledgement bookkeeping without a broker: acknowledgements encoded as
// the protocol's AcknowledgementBatches, one outcome per delivery, outcomes that come after the lock
// (or within the margin before it) dropped, lock renewals queued once and extending the deadline,
// a record delivered again superseding the old delivery, and a lost session losing everything.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KafkaxError } from '../../../src/protocol/errors.ts'
import { ACK, type AckCode, acknowledgementBatches, HeldPartition } from '../../../src/share/acknowledgements.ts'
import { SharedMessage } from '../../../src/share/message.ts'

const message = (offset: bigint, deliveryCount = 1) =>
  new SharedMessage('t', 0, offset, 0, null, Buffer.from(String(offset)), [], 0, deliveryCount)

const held = () => new HeldPartition('t', 0, '55555555-5555-5555-5555-555555555555', 1)

describe('acknowledgementBatches', () => {
  it('makes one batch per run of consecutive offsets, with one type when the run has one', () => {
    const acks: [bigint, AckCode][] = [
      [5n, ACK.accept],
      [3n, ACK.accept],
      [4n, ACK.accept],
      [9n, ACK.reject],
      [10n, ACK.reject],
    ]
    assert.deepEqual(acknowledgementBatches(acks), [
      { firstOffset: 3n, lastOffset: 5n, acknowledgeTypes: [ACK.accept] },
      { firstOffset: 9n, lastOffset: 10n, acknowledgeTypes: [ACK.reject] },
    ])
  })

  it('lists one type per offset when a run mixes types, gaps included', () => {
    const acks: [bigint, AckCode][] = [
      [20n, ACK.accept],
      [21n, ACK.gap],
      [22n, ACK.release],
      [23n, ACK.accept],
    ]
    assert.deepEqual(acknowledgementBatches(acks), [
      { firstOffset: 20n, lastOffset: 23n, acknowledgeTypes: [ACK.accept, ACK.gap, ACK.release, ACK.accept] },
    ])
  })

  it('is empty for no acknowledgements, and refuses an offset twice', () => {
    assert.deepEqual(acknowledgementBatches([]), [])
    assert.throws(
      () =>
        acknowledgementBatches([
          [1n, ACK.accept],
          [1n, ACK.release],
        ]),
      (e: unknown) => e instanceof KafkaxError && e.code === 'EACKNOWLEDGED',
    )
  })
})

describe('HeldPartition', () => {
  const now = 1_000_000
  const margin = 100

  it('sends each outcome once, in batches, and counts what it acknowledged', () => {
    const p = held()
    const [a, b, c] = [0n, 1n, 2n].map((o) => p.acquire(message(o), now + 5000))
    p.settle(3n, now + 5000)
    assert.equal(p.deliveries.size, 3)
    assert.ok(p.acknowledge(a, ACK.accept, now, margin))
    assert.ok(p.acknowledge(c, ACK.release, now, margin))
    assert.throws(() => p.acknowledge(a, ACK.reject, now, margin), /acknowledged already/)
    assert.equal(p.deliveries.size, 1, 'b is still held')
    const taken = p.take(now, margin)
    assert.deepEqual(taken.batches, [
      { firstOffset: 0n, lastOffset: 0n, acknowledgeTypes: [ACK.accept] },
      { firstOffset: 2n, lastOffset: 3n, acknowledgeTypes: [ACK.release, ACK.gap] },
    ])
    assert.deepEqual([taken.acknowledged, taken.renew, taken.renewals.length], [2, false, 0])
    assert.equal(p.hasAcks, false, 'taken acknowledgements leave the partition')
    assert.equal(p.idle, false, 'b still held')
    assert.ok(p.acknowledge(b, ACK.accept, now, margin))
    p.take(now, margin)
    assert.equal(p.idle, true)
  })

  it('drops an outcome that comes within the margin before the lock runs out', () => {
    const p = held()
    const late = p.acquire(message(7n), now + 50)
    assert.equal(p.acknowledge(late, ACK.accept, now, margin), false)
    assert.equal(late.state, 'lost')
    assert.equal(p.hasAcks, false)
    // queued in time, but the request goes after the lock ran out: not sent either
    const queued = p.acquire(message(8n), now + 500)
    assert.ok(p.acknowledge(queued, ACK.accept, now, margin))
    assert.deepEqual(p.take(now + 450, margin).batches, [])
    assert.equal(queued.state, 'lost')
  })

  it('loses held deliveries whose lock runs out, whatever their handler does later', () => {
    const p = held()
    const soon = p.acquire(message(1n), now + 80)
    const later = p.acquire(message(2n), now + 5000)
    assert.deepEqual(p.expire(now, margin), [soon])
    assert.equal(soon.state, 'lost')
    assert.equal(p.acknowledge(soon, ACK.accept, now, margin), false, 'a lost delivery is not acknowledged')
    assert.deepEqual([...p.deliveries.values()], [later])
  })

  it('queues a renewal once per delivery, extends the lock when granted, and lets a final outcome replace it', () => {
    const p = held()
    const slow = p.acquire(message(1n), now + 1000)
    const fresh = p.acquire(message(2n), now + 5000)
    assert.equal(p.renewDue(now, 2000), 1, 'only the record within the window')
    assert.equal(p.renewDue(now, 2000), 0, 'not twice')
    assert.ok(p.hasRenewals)
    const taken = p.take(now, margin)
    assert.deepEqual(taken.batches, [{ firstOffset: 1n, lastOffset: 1n, acknowledgeTypes: [ACK.renew] }])
    assert.deepEqual([taken.renew, taken.renewals, taken.acknowledged], [true, [slow], 0])
    p.renewed(taken.renewals, now + 10, 4000)
    assert.deepEqual([slow.deadline, slow.renewing, slow.state], [now + 4010, false, 'held'])
    // a renewal queued, then the handler finishes: its outcome is sent instead
    p.renewDue(now + 3000, 2000)
    assert.ok(p.acknowledge(fresh, ACK.accept, now + 3000, margin))
    assert.ok(p.acknowledge(slow, ACK.accept, now + 3000, margin))
    assert.deepEqual(p.take(now + 3000, margin).batches, [
      { firstOffset: 1n, lastOffset: 2n, acknowledgeTypes: [ACK.accept] },
    ])
  })

  it('lets a delivery of the same offset supersede one still held (the record came back)', () => {
    const p = held()
    const first = p.acquire(message(4n, 1), now + 100)
    const second = p.acquire(message(4n, 2), now + 5000)
    assert.equal(first.state, 'lost')
    assert.equal(p.acknowledge(first, ACK.accept, now, margin), false, 'the old outcome is dropped')
    assert.ok(p.acknowledge(second, ACK.reject, now, margin))
    assert.deepEqual(p.take(now, margin).batches, [{ firstOffset: 4n, lastOffset: 4n, acknowledgeTypes: [ACK.reject] }])
  })

  it('loses everything held and queued when the session is lost', () => {
    const p = held()
    const a = p.acquire(message(1n), now + 5000)
    const b = p.acquire(message(2n), now + 5000)
    p.acknowledge(a, ACK.accept, now, margin)
    assert.equal(p.reset(), 1, 'one delivery was still held')
    assert.deepEqual([a.state, b.state], ['acknowledged', 'lost'])
    assert.equal(p.idle, true)
    assert.equal(p.acknowledge(b, ACK.accept, now, margin), false)
  })
})
