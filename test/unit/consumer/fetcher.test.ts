// The fetcher's pure parts: the KIP-227 fetch session (full, then incremental requests; resets
// after errors) and how one partition's answer becomes messages (position, control batches,
// aborted transactions under read_committed), drained chunk by chunk.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CompletedFetch } from '../../../src/consumer/completed-fetch.ts'
import { FetchSessionHandler, type FetchSessionPartition } from '../../../src/consumer/fetch-session.ts'
import type { ConsumedMessage } from '../../../src/consumer/message.ts'
import { ErrorCode } from '../../../src/protocol/error-codes.ts'
import type { AbortedTransaction } from '../../../src/protocol/messages/generated/fetch-response.ts'
import { buildControlBatch } from '../../../src/protocol/records/index.ts'
import { batch } from './fake-fetch-cluster.ts'

const ID_A = '11111111-1111-1111-1111-111111111111'
const ID_B = '22222222-2222-2222-2222-222222222222'

function part(topic: string, partition: number, fetchOffset: bigint, topicId = topic === 'a' ? ID_A : ID_B) {
  const p: FetchSessionPartition = {
    topic,
    topicId,
    partition,
    fetchOffset,
    currentLeaderEpoch: 3,
    lastFetchedEpoch: -1,
    partitionMaxBytes: 1024,
  }
  return [`${topic}\0${partition}`, p] as const
}

const partitions = (...entries: (readonly [string, FetchSessionPartition])[]) => new Map(entries)

describe('FetchSessionHandler', () => {
  it('sends the lastFetchedEpoch (KIP-320) where the version takes it, and a partition again when it changes', () => {
    const s = new FetchSessionHandler()
    const [key, p] = part('a', 0, 7n)
    const first = s.build(new Map([[key, { ...p, lastFetchedEpoch: 4 }]]), true)
    assert.equal(first.topics[0].partitions[0].lastFetchedEpoch, 4)
    s.onResponse(0, 5)
    const same = s.build(new Map([[key, { ...p, lastFetchedEpoch: 4 }]]), true)
    assert.deepEqual(same.topics, [], 'unchanged: not sent')
    s.onResponse(0, 5)
    const newer = s.build(new Map([[key, { ...p, lastFetchedEpoch: 6 }]]), true)
    assert.equal(newer.topics[0].partitions[0].lastFetchedEpoch, 6)
    // before Fetch v12 the field does not exist: -1, the default the codec accepts
    const old = new FetchSessionHandler().build(new Map([[key, { ...p, lastFetchedEpoch: 6 }]]), false, false)
    assert.equal(old.topics[0].partitions[0].lastFetchedEpoch, -1)
  })

  it('sends every partition first, then only the changed ones and the forgotten ones', () => {
    const s = new FetchSessionHandler()
    const first = s.build(partitions(part('a', 0, 0n), part('a', 1, 0n), part('b', 0, 5n)), true)
    assert.equal(first.full, true)
    assert.equal(first.sessionId, 0)
    assert.equal(first.sessionEpoch, 0)
    assert.deepEqual(first.topics, [
      {
        topicId: ID_A,
        partitions: [
          { partition: 0, currentLeaderEpoch: 3, fetchOffset: 0n, lastFetchedEpoch: -1, partitionMaxBytes: 1024 },
          { partition: 1, currentLeaderEpoch: 3, fetchOffset: 0n, lastFetchedEpoch: -1, partitionMaxBytes: 1024 },
        ],
      },
      {
        topicId: ID_B,
        partitions: [
          { partition: 0, currentLeaderEpoch: 3, fetchOffset: 5n, lastFetchedEpoch: -1, partitionMaxBytes: 1024 },
        ],
      },
    ])
    assert.deepEqual(first.forgottenTopicsData, [])
    assert.equal(s.onResponse(0, 77), true)

    // a-0 moved on, a-1 unchanged, b-0 dropped, b-1 new
    const second = s.build(partitions(part('a', 0, 10n), part('a', 1, 0n), part('b', 1, 0n)), true)
    assert.equal(second.full, false)
    assert.equal(second.sessionId, 77)
    assert.equal(second.sessionEpoch, 1)
    assert.deepEqual(
      second.topics.map((t) => [t.topicId, t.partitions.map((p) => [p.partition, p.fetchOffset])]),
      [
        [ID_A, [[0, 10n]]],
        [ID_B, [[1, 0n]]],
      ],
    )
    assert.deepEqual(second.forgottenTopicsData, [{ topicId: ID_B, partitions: [0] }])
    assert.equal(s.onResponse(0, 77), true)

    // nothing changed: an empty incremental request, next epoch
    const third = s.build(partitions(part('a', 0, 10n), part('a', 1, 0n), part('b', 1, 0n)), true)
    assert.equal(third.sessionEpoch, 2)
    assert.deepEqual(third.topics, [])
    assert.deepEqual(third.forgottenTopicsData, [])
  })

  it('names topics when topic ids are not used, and starts a new session when that changes', () => {
    const s = new FetchSessionHandler()
    const byName = s.build(partitions(part('a', 0, 0n)), false)
    assert.deepEqual(
      byName.topics.map((t) => [t.topic, t.topicId]),
      [['a', undefined]],
    )
    s.onResponse(0, 5)
    const byId = s.build(partitions(part('a', 0, 0n)), true)
    assert.equal(byId.full, true)
    assert.equal(byId.sessionEpoch, 0)
    assert.equal(byId.sessionId, 5, 'the old session is named, so the broker closes it')
  })

  it('makes the request after a failed one full again, naming the old session', () => {
    const s = new FetchSessionHandler()
    s.build(partitions(part('a', 0, 0n)), true)
    s.onResponse(0, 9)
    s.build(partitions(part('a', 0, 0n), part('a', 1, 0n)), true)
    s.onError() // the request failed: the next one is full again, with both partitions
    const again = s.build(partitions(part('a', 0, 0n), part('a', 1, 0n)), true)
    assert.equal(again.full, true)
    assert.equal(again.sessionId, 9)
    assert.equal(again.topics[0].partitions.length, 2)
  })

  it('starts over after session errors: a lost session is not named again, a wrong epoch closes it', () => {
    const s = new FetchSessionHandler()
    s.build(partitions(part('a', 0, 0n)), true)
    s.onResponse(0, 42)
    s.build(partitions(part('a', 0, 0n)), true)
    assert.equal(s.onResponse(ErrorCode.INVALID_FETCH_SESSION_EPOCH, 0), false)
    let r = s.build(partitions(part('a', 0, 0n)), true)
    assert.deepEqual([r.full, r.sessionId, r.sessionEpoch], [true, 42, 0])
    s.onResponse(0, 43)
    s.build(partitions(part('a', 0, 0n)), true)
    assert.equal(s.onResponse(ErrorCode.FETCH_SESSION_ID_NOT_FOUND, 0), false)
    r = s.build(partitions(part('a', 0, 0n)), true)
    assert.deepEqual([r.full, r.sessionId, r.sessionEpoch], [true, 0, 0])
  })

  it('stays with full requests when the broker keeps no session (session id 0)', () => {
    const s = new FetchSessionHandler()
    for (let i = 0; i < 3; i++) {
      const r = s.build(partitions(part('a', 0, BigInt(i))), true)
      assert.deepEqual([r.full, r.sessionId, r.sessionEpoch], [true, 0, 0])
      s.onResponse(0, 0)
    }
  })

  it('wraps the epoch from 2^31-1 to 1', () => {
    const s = new FetchSessionHandler()
    s.build(partitions(part('a', 0, 0n)), true)
    s.onResponse(0, 1)
    s.epoch = 0x7fffffff
    assert.equal(s.build(partitions(part('a', 0, 0n)), true).sessionEpoch, 0x7fffffff)
    s.onResponse(0, 1)
    assert.equal(s.build(partitions(part('a', 0, 0n)), true).sessionEpoch, 1)
  })
})

async function marker(offset: bigint, type: 'ABORT' | 'COMMIT', producerId: bigint): Promise<Buffer> {
  const buf = await buildControlBatch({ type, coordinatorEpoch: 0 }, { producerId, producerEpoch: 0, timestamp: 1000 })
  buf.writeBigInt64BE(offset, 0)
  return buf
}

async function decode(...parts: Buffer[]): Promise<Buffer> {
  return Buffer.concat(parts)
}

/** Every message of one partition's answer, drained chunk by chunk, and where the partition stands after. */
async function partitionRecords(
  topic: string,
  partition: number,
  records: Buffer,
  fetchOffset: bigint,
  aborted: AbortedTransaction[] | null,
): Promise<{ messages: ConsumedMessage[]; nextOffset: bigint }> {
  const marks = { highWatermark: 0n, lastStableOffset: 0n, logStartOffset: 0n }
  const answer = new CompletedFetch(topic, partition, records, fetchOffset, aborted !== null, aborted, marks, true)
  const messages: ConsumedMessage[] = []
  for (await answer.prepare(); !answer.drained; await answer.prepare()) messages.push(...answer.take()!.batch.messages)
  assert.equal(answer.position, answer.nextOffset, 'the position ends where the next fetch starts')
  return { messages, nextOffset: answer.position }
}

const valuesOf = (r: { messages: ConsumedMessage[] }) => r.messages.map((m) => m.value?.toString())

describe('CompletedFetch: one partition answer as messages', () => {
  it('skips records below the fetch position and carries the batch leader epoch', async () => {
    const batches = await decode(await batch(10n, ['a', 'b', 'c', 'd'], { leaderEpoch: 7 }), await batch(14n, ['e']))
    const r = await partitionRecords('t', 2, batches, 12n, null)
    assert.deepEqual(valuesOf(r), ['c', 'd', 'e'])
    assert.deepEqual(
      r.messages.map((m) => [m.topic, m.partition, m.offset, m.leaderEpoch]),
      [
        ['t', 2, 12n, 7],
        ['t', 2, 13n, 7],
        ['t', 2, 14n, 0],
      ],
    )
    assert.equal(r.nextOffset, 15n)
  })

  it('leaves batches wholly below the position out', async () => {
    const r = await partitionRecords('t', 0, await decode(await batch(0n, ['a', 'b'])), 2n, null)
    assert.deepEqual(r.messages, [])
    assert.equal(r.nextOffset, 2n)
  })

  it('hides control batches and moves past them', async () => {
    const batches = await decode(
      await batch(0n, ['a', 'b'], { producerId: 5n, transactional: true }),
      await marker(2n, 'COMMIT', 5n),
    )
    const r = await partitionRecords('t', 0, batches, 0n, null)
    assert.deepEqual(valuesOf(r), ['a', 'b'])
    assert.equal(r.nextOffset, 3n)
    const onlyMarker = await partitionRecords('t', 0, batches, 2n, null)
    assert.deepEqual(onlyMarker.messages, [])
    assert.equal(onlyMarker.nextOffset, 3n)
  })

  it('drops aborted transactions under read_committed, keeps them under read_uncommitted', async () => {
    // producer 1 aborts (0-1, marker 4), producer 2 commits (2-3, marker 5), producer 1 again commits (6, marker 7),
    // and a non-transactional batch at 8
    const batches = await decode(
      await batch(0n, ['p1-aborted-0', 'p1-aborted-1'], { producerId: 1n, transactional: true }),
      await batch(2n, ['p2-0', 'p2-1'], { producerId: 2n, transactional: true }),
      await marker(4n, 'ABORT', 1n),
      await marker(5n, 'COMMIT', 2n),
      await batch(6n, ['p1-committed'], { producerId: 1n, transactional: true }),
      await marker(7n, 'COMMIT', 1n),
      await batch(8n, ['plain']),
    )
    const aborted = [{ producerId: 1n, firstOffset: 0n }]
    const committed = await partitionRecords('t', 0, batches, 0n, aborted)
    assert.deepEqual(valuesOf(committed), ['p2-0', 'p2-1', 'p1-committed', 'plain'])
    assert.equal(committed.nextOffset, 9n)
    const uncommitted = await partitionRecords('t', 0, batches, 0n, null)
    assert.deepEqual(valuesOf(uncommitted), ['p1-aborted-0', 'p1-aborted-1', 'p2-0', 'p2-1', 'p1-committed', 'plain'])
    assert.equal(uncommitted.nextOffset, 9n)
  })

  it('takes the aborted transactions in offset order whatever order the broker lists them in', async () => {
    const batches = await decode(
      await batch(0n, ['x'], { producerId: 1n, transactional: true }),
      await marker(1n, 'ABORT', 1n),
      await batch(2n, ['y'], { producerId: 1n, transactional: true }),
      await marker(3n, 'COMMIT', 1n),
      await batch(4n, ['z'], { producerId: 1n, transactional: true }),
      await marker(5n, 'ABORT', 1n),
    )
    const r = await partitionRecords('t', 0, batches, 0n, [
      { producerId: 1n, firstOffset: 4n },
      { producerId: 1n, firstOffset: 0n },
    ])
    assert.deepEqual(valuesOf(r), ['y'])
    assert.equal(r.nextOffset, 6n)
  })
})
