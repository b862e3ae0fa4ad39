// Fetch on the fake broker, on the wire: sessions (KIP-227) answer only partitions with news and
// check their epochs; a fetch waits for data up to maxWaitMs (long polling) and answers as soon as a
// produce arrives; read_committed stops at the last stable offset; stale leader epochs are fenced.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Connection } from '../../../src/client/connection.ts'
import { ErrorCode } from '../../../src/protocol/error-codes.ts'
import { Fetch, Produce } from '../../../src/protocol/messages/index.ts'
import { FakeCluster } from '../../../src/testing/index.ts'
import { connectTo, recordBatch } from './helpers.ts'

describe('Fetch on the fake broker', () => {
  let cluster: FakeCluster
  let conn: Connection
  let topicId: string
  before(async () => {
    cluster = await FakeCluster.start({ listen: false, topics: [{ name: 't', partitions: 2 }] })
    topicId = cluster.topics.get('t')!.id
    conn = await connectTo(cluster)
  })
  after(async () => {
    conn.close()
    await cluster.stop()
  })

  const produce = async (partition: number, values: string[]) => {
    const response = await conn.request(Produce, {
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name: 't', topicId, partitionData: [{ index: partition, records: await recordBatch(values) }] }],
    })
    return response.responses[0].partitionResponses[0]
  }
  const fetch = (sessionId: number, sessionEpoch: number, offsets: Record<number, bigint>, extra: object = {}) =>
    conn.request(Fetch, {
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId,
      sessionEpoch,
      topics: Object.keys(offsets).length
        ? [
            {
              topicId,
              partitions: Object.entries(offsets).map(([p, fetchOffset]) => ({
                partition: Number(p),
                fetchOffset,
                partitionMaxBytes: 1 << 20,
              })),
            },
          ]
        : [],
      forgottenTopicsData: [],
      ...extra,
    })

  it('opens a session with a full fetch; incremental fetches answer only partitions with news', async () => {
    await produce(0, ['a', 'b'])
    const full = await fetch(0, 0, { 0: 0n, 1: 0n })
    assert.equal(full.errorCode, ErrorCode.NONE)
    assert.ok(full.sessionId > 0, 'a session was opened')
    assert.deepEqual(
      full.responses[0].partitions.map((p) => [p.partitionIndex, p.highWatermark]),
      [
        [0, 2n],
        [1, 0n],
      ],
    )
    const quiet = await fetch(full.sessionId, 1, { 0: 2n })
    assert.equal(quiet.responses.length, 0, 'nothing new anywhere')
    await produce(1, ['c'])
    const news = await fetch(full.sessionId, 2, {})
    assert.deepEqual(
      news.responses.flatMap((t) =>
        t.partitions.map((p) => [p.partitionIndex, p.highWatermark, (p.records?.length ?? 0) > 0]),
      ),
      [[1, 1n, true]],
    )
    const stale = await fetch(full.sessionId, 2, {})
    assert.equal(stale.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH)
    const unknown = await fetch(123456, 1, {})
    assert.equal(unknown.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND)
    const closed = await fetch(full.sessionId, -1, { 0: 0n })
    assert.equal(closed.sessionId, 0, 'epoch -1 closes the session: a sessionless answer')
  })

  it('long polling: a fetch waits up to maxWaitMs, and answers when a produce arrives', async () => {
    const started = Date.now()
    const empty = await fetch(0, -1, { 0: 2n }, { maxWaitMs: 300 })
    assert.ok(Date.now() - started >= 290, 'waited maxWaitMs for nothing')
    assert.equal(empty.responses[0].partitions[0].records?.length, 0)

    const other = await connectTo(cluster)
    const waiting = other.request(Fetch, {
      maxWaitMs: 10_000,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topicId, partitions: [{ partition: 0, fetchOffset: 2n, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [],
    })
    const sent = Date.now()
    await new Promise((r) => setTimeout(r, 100))
    await produce(0, ['woken'])
    const answer = await waiting
    other.close()
    assert.ok(Date.now() - sent < 5000, 'answered on the produce, not at maxWaitMs')
    assert.ok((answer.responses[0].partitions[0].records?.length ?? 0) > 0)
  })

  it('out of range offsets and stale leader epochs are partition errors', async () => {
    const far = await fetch(0, -1, { 0: 99n })
    assert.equal(far.responses[0].partitions[0].errorCode, ErrorCode.OFFSET_OUT_OF_RANGE)
    const epoch = cluster.leaderOf('t', 0).leaderEpoch
    cluster.moveLeader('t', 0, 1)
    const fenced = await conn.request(Fetch, {
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topicId,
          partitions: [{ partition: 0, fetchOffset: 0n, currentLeaderEpoch: epoch, partitionMaxBytes: 1 << 20 }],
        },
      ],
    })
    assert.equal(fenced.responses[0].partitions[0].errorCode, ErrorCode.FENCED_LEADER_EPOCH)
  })
})
