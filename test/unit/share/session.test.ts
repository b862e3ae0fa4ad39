// The share session without a broker (KIP-932, as the Java client's ShareSessionHandler): epoch 0
// lists every partition and carries no acknowledgements, later epochs list only what they add or
// acknowledge and forget what left, a session error or a failed request starts over at epoch 0,
// the epoch wraps to 1, and closing sends epoch -1.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ErrorCode } from '../../../src/protocol/error-codes.ts'
import type { AcknowledgementBatch } from '../../../src/protocol/messages/generated/share-fetch-request.ts'
import { FINAL_EPOCH, INITIAL_EPOCH, ShareSession } from '../../../src/share/session.ts'

const T1 = '11111111-1111-1111-1111-111111111111'
const T2 = '22222222-2222-2222-2222-222222222222'
const p = (topicId: string, partition: number) => ({ key: `${topicId}:${partition}`, topicId, partition })
const ack: AcknowledgementBatch[] = [{ firstOffset: 0n, lastOffset: 1n, acknowledgeTypes: [1] }]

describe('ShareSession', () => {
  it('opens with every partition, then sends only what it adds or acknowledges, and forgets what left', () => {
    const s = new ShareSession()
    assert.equal(s.open, false)
    const first = s.fetch([p(T1, 0), p(T1, 1), p(T2, 0)], new Map())
    assert.equal(s.epoch, INITIAL_EPOCH)
    assert.deepEqual(first.topics, [
      {
        topicId: T1,
        partitions: [
          { partitionIndex: 0, acknowledgementBatches: [] },
          { partitionIndex: 1, acknowledgementBatches: [] },
        ],
      },
      { topicId: T2, partitions: [{ partitionIndex: 0, acknowledgementBatches: [] }] },
    ])
    assert.deepEqual(first.forgottenTopicsData, [])
    assert.ok(s.answered(0))
    assert.deepEqual([s.open, s.epoch], [true, 1])

    // T1-1 acknowledged, T2-0 gone, T2-1 new; T1-0 unchanged stays out of the request
    const next = s.fetch([p(T1, 0), p(T1, 1), p(T2, 1)], new Map([[`${T1}:1`, ack]]))
    assert.deepEqual(next.topics, [
      { topicId: T1, partitions: [{ partitionIndex: 1, acknowledgementBatches: ack }] },
      { topicId: T2, partitions: [{ partitionIndex: 1, acknowledgementBatches: [] }] },
    ])
    assert.deepEqual(next.forgottenTopicsData, [{ topicId: T2, partitions: [0] }])
    assert.ok(s.has(`${T2}:1`) && !s.has(`${T2}:0`))
    assert.ok(s.answered(0))
    assert.equal(s.epoch, 2)
  })

  it('starts over at epoch 0 after a session error or a failed request, with a new generation', () => {
    const s = new ShareSession()
    s.fetch([p(T1, 0)], new Map())
    s.answered(0)
    const generation = s.generation
    assert.equal(s.answered(ErrorCode.INVALID_SHARE_SESSION_EPOCH), false)
    assert.deepEqual([s.epoch, s.open, s.has(`${T1}:0`)], [INITIAL_EPOCH, false, false])
    s.fetch([p(T1, 0)], new Map())
    s.answered(0)
    s.reset()
    assert.deepEqual([s.epoch, s.open, s.generation], [INITIAL_EPOCH, false, generation + 2])
    // a new session lists every partition again
    assert.equal(s.fetch([p(T1, 0)], new Map()).topics.length, 1)
  })

  it('moves on to the next epoch after other errors, wraps to 1, and closes with -1', () => {
    const s = new ShareSession()
    s.answered(0)
    assert.ok(s.answered(ErrorCode.GROUP_AUTHORIZATION_FAILED), 'not a session error: the session goes on')
    assert.equal(s.epoch, 2)
    s.epoch = 0x7fffffff
    s.answered(0)
    assert.equal(s.epoch, 1)
    s.close()
    assert.equal(s.epoch, FINAL_EPOCH)
    s.answered(0)
    assert.equal(s.epoch, FINAL_EPOCH)
  })
})
