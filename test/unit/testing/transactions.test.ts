// The fake transaction coordinator on the wire: InitProducerId, AddPartitionsToTxn, transactional
// produces (verified against the transaction), TxnOffsetCommit, EndTxn writing markers; read_committed
// fetches stop at the last stable offset and learn the aborted transactions; a transaction past its
// timeout is aborted and its producer fenced (driven by a ManualClock).

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Connection } from '../../../src/client/connection.ts'
import { ErrorCode } from '../../../src/protocol/error-codes.ts'
import { AddOffsetsToTxnRequest } from '../../../src/protocol/messages/generated/add-offsets-to-txn-request.ts'
import { AddOffsetsToTxnResponse } from '../../../src/protocol/messages/generated/add-offsets-to-txn-response.ts'
import { AddPartitionsToTxnRequest } from '../../../src/protocol/messages/generated/add-partitions-to-txn-request.ts'
import { AddPartitionsToTxnResponse } from '../../../src/protocol/messages/generated/add-partitions-to-txn-response.ts'
import { EndTxnRequest } from '../../../src/protocol/messages/generated/end-txn-request.ts'
import { EndTxnResponse } from '../../../src/protocol/messages/generated/end-txn-response.ts'
import { TxnOffsetCommitRequest } from '../../../src/protocol/messages/generated/txn-offset-commit-request.ts'
import { TxnOffsetCommitResponse } from '../../../src/protocol/messages/generated/txn-offset-commit-response.ts'
import { api, Fetch, InitProducerId, OffsetFetch, Produce } from '../../../src/protocol/messages/index.ts'
import { FakeCluster, ManualClock } from '../../../src/testing/index.ts'
import { connectTo, recordBatch } from './helpers.ts'

const AddPartitionsToTxn = api(AddPartitionsToTxnRequest, AddPartitionsToTxnResponse)
const AddOffsetsToTxn = api(AddOffsetsToTxnRequest, AddOffsetsToTxnResponse)
const EndTxn = api(EndTxnRequest, EndTxnResponse)
const TxnOffsetCommit = api(TxnOffsetCommitRequest, TxnOffsetCommitResponse)

describe('transactions on the fake cluster', () => {
  const clock = new ManualClock()
  let cluster: FakeCluster
  let conn: Connection
  before(async () => {
    cluster = await FakeCluster.start({ listen: false, clock, topics: [{ name: 'tx', partitions: 1 }] })
    conn = await connectTo(cluster)
  })
  after(async () => {
    conn.close()
    await cluster.stop()
  })

  const init = (transactionalId: string, producerId = -1n, producerEpoch = -1) =>
    conn.request(InitProducerId, { transactionalId, transactionTimeoutMs: 10_000, producerId, producerEpoch })
  const add = (transactionalId: string, producerId: bigint, producerEpoch: number) =>
    conn.request(AddPartitionsToTxn, {
      v3AndBelowTransactionalId: transactionalId,
      v3AndBelowProducerId: producerId,
      v3AndBelowProducerEpoch: producerEpoch,
      v3AndBelowTopics: [{ name: 'tx', partitions: [0] }],
    })
  const produce = async (
    transactionalId: string | null,
    producerId: bigint,
    producerEpoch: number,
    baseSequence: number,
    values: string[],
  ) => {
    const records = await recordBatch(values, {
      producerId,
      producerEpoch,
      baseSequence,
      transactional: transactionalId !== null,
    })
    const r = await conn.request(
      Produce,
      {
        transactionalId,
        acks: -1,
        timeoutMs: 1000,
        topicData: [{ name: 'tx', partitionData: [{ index: 0, records }] }],
      },
      { version: 11 },
    )
    return r.responses[0].partitionResponses[0]
  }
  const readCommitted = async (fetchOffset = 0n) => {
    const r = await conn.request(Fetch, {
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topicId: cluster.topics.get('tx')!.id,
          partitions: [{ partition: 0, fetchOffset, partitionMaxBytes: 1 << 20 }],
        },
      ],
    })
    return r.responses[0].partitions[0]
  }

  it('an aborted transaction: the LSO waits for the marker, read_committed learns what was aborted', async () => {
    const { producerId, producerEpoch, errorCode } = await init('tx-a')
    assert.equal(errorCode, ErrorCode.NONE)
    const refused = await produce('tx-a', producerId, producerEpoch, 0, ['too early'])
    assert.equal(
      refused.errorCode,
      ErrorCode.INVALID_TXN_STATE,
      'a partition must be added first (KIP-890 verification)',
    )
    const added = await add('tx-a', producerId, producerEpoch)
    assert.equal(added.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode, ErrorCode.NONE)
    assert.equal((await produce('tx-a', producerId, producerEpoch, 0, ['a1', 'a2'])).errorCode, ErrorCode.NONE)
    const open = await readCommitted()
    assert.equal(open.lastStableOffset, 0n, 'the open transaction holds the LSO at its first offset')
    assert.equal(open.highWatermark, 2n)
    assert.equal(open.records?.length, 0, 'read_committed reads nothing past the LSO')
    const ended = await conn.request(EndTxn, { transactionalId: 'tx-a', producerId, producerEpoch, committed: false })
    assert.equal(ended.errorCode, ErrorCode.NONE)
    const done = await readCommitted()
    assert.equal(done.lastStableOffset, 3n, 'past the ABORT marker')
    assert.deepEqual(
      done.abortedTransactions?.map((t) => [t.producerId, t.firstOffset]),
      [[producerId, 0n]],
    )
    const records = await cluster.records('tx')
    assert.deepEqual(
      records.map((r) => (r.control ? 'ABORT-marker' : String(r.value))),
      ['a1', 'a2', 'ABORT-marker'],
    )
    const again = await conn.request(EndTxn, { transactionalId: 'tx-a', producerId, producerEpoch, committed: false })
    assert.equal(again.errorCode, ErrorCode.NONE, 'a retried end is answered alike')
    const wrong = await conn.request(EndTxn, { transactionalId: 'tx-a', producerId, producerEpoch, committed: true })
    assert.equal(wrong.errorCode, ErrorCode.INVALID_TXN_STATE)
  })

  it('a committed transaction makes its offsets visible to the group; requireStable waits for it', async () => {
    const { producerId, producerEpoch } = await init('tx-b')
    await add('tx-b', producerId, producerEpoch)
    await produce('tx-b', producerId, producerEpoch, 0, ['b1'])
    const addOffsets = await conn.request(AddOffsetsToTxn, {
      transactionalId: 'tx-b',
      producerId,
      producerEpoch,
      groupId: 'g',
    })
    assert.equal(addOffsets.errorCode, ErrorCode.NONE)
    const commit = await conn.request(TxnOffsetCommit, {
      transactionalId: 'tx-b',
      groupId: 'g',
      producerId,
      producerEpoch,
      topics: [{ name: 'tx', partitions: [{ partitionIndex: 0, committedOffset: 42n, committedMetadata: 'm' }] }],
    })
    assert.equal(commit.topics[0].partitions[0].errorCode, ErrorCode.NONE)
    const fetchOffsets = (requireStable: boolean) =>
      conn.request(OffsetFetch, {
        groups: [{ groupId: 'g', topics: [{ topicId: cluster.topics.get('tx')!.id, partitionIndexes: [0] }] }],
        requireStable,
      })
    assert.equal(
      (await fetchOffsets(true)).groups[0].topics[0].partitions[0].errorCode,
      ErrorCode.UNSTABLE_OFFSET_COMMIT,
    )
    assert.equal((await fetchOffsets(false)).groups[0].topics[0].partitions[0].committedOffset, -1n, 'not visible yet')
    await conn.request(EndTxn, { transactionalId: 'tx-b', producerId, producerEpoch, committed: true })
    assert.equal((await fetchOffsets(true)).groups[0].topics[0].partitions[0].committedOffset, 42n)
    assert.deepEqual(cluster.committedOffsets('g'), [{ topic: 'tx', partition: 0, offset: 42n, metadata: 'm' }])
  })

  it('a transaction open past its timeout is aborted and its producer fenced', async () => {
    const { producerId, producerEpoch } = await init('tx-c')
    await add('tx-c', producerId, producerEpoch)
    await produce('tx-c', producerId, producerEpoch, 0, ['c1'])
    clock.advance(10_001)
    await new Promise((r) => setImmediate(r))
    const fenced = await conn.request(EndTxn, { transactionalId: 'tx-c', producerId, producerEpoch, committed: true })
    assert.equal(fenced.errorCode, ErrorCode.PRODUCER_FENCED)
    const late = await produce('tx-c', producerId, producerEpoch, 1, ['c2'])
    assert.equal(late.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH)
    const lastRecord = (await cluster.records('tx')).at(-1)!
    assert.equal(lastRecord.control, true, 'the abort marker was written')
    const reinit = await init('tx-c', producerId, producerEpoch + 1)
    assert.equal(reinit.errorCode, ErrorCode.NONE)
    assert.equal(reinit.producerEpoch, producerEpoch + 2, 'the fenced epoch, bumped once more')
  })

  it('a new InitProducerId aborts the open transaction of the same transactional id', async () => {
    const first = await init('tx-d')
    await add('tx-d', first.producerId, first.producerEpoch)
    await produce('tx-d', first.producerId, first.producerEpoch, 0, ['d1'])
    const second = await init('tx-d')
    assert.equal(second.producerId, first.producerId)
    assert.ok(second.producerEpoch > first.producerEpoch)
    const r = await readCommitted()
    assert.equal(r.lastStableOffset, r.highWatermark, 'nothing left open')
    const zombie = await add('tx-d', first.producerId, first.producerEpoch)
    assert.equal(zombie.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode, ErrorCode.PRODUCER_FENCED)
  })
})
