// The fetch buffer without a broker: answers come out in arrival order or per partition, and the
// Fetcher keeps its bounds over a fake cluster layer: a partition with an untaken answer is not
// fetched again, nothing is fetched while the buffered bytes are at the total bound, a request asks
// for no more than the room left, onData is called once per answer, and a long poll of caught-up
// partitions does not hold up the others.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PartitionCursor } from '../../../src/consumer/cursor.ts'
import { FetchBuffer, type FetchedBatch } from '../../../src/consumer/fetch-buffer.ts'
import { Fetcher, type FetcherOptions } from '../../../src/consumer/fetcher.ts'
import { ConsumedMessage } from '../../../src/consumer/message.ts'
import { ConnectionError } from '../../../src/protocol/errors.ts'
import { asked, batch, FakeFetchCluster, fetchAnswer, turns } from './fake-fetch-cluster.ts'

const ID = '55555555-5555-5555-5555-555555555555'

function answerOf(cursor: PartitionCursor, offset: bigint, leaderEpoch: number): FetchedBatch {
  const message = new ConsumedMessage(cursor.topic, cursor.partition, offset, 0, null, null, [], leaderEpoch)
  return {
    topic: cursor.topic,
    partition: cursor.partition,
    messages: [message],
    highWatermark: offset + 1n,
    lastStableOffset: offset + 1n,
    logStartOffset: 0n,
  }
}

describe('FetchBuffer', () => {
  it('hands answers out in arrival order, skipping paused partitions unless taken by name', () => {
    const buffer = new FetchBuffer(1000)
    const [a, b, c] = [0, 1, 2].map((p) => new PartitionCursor('t', p))
    buffer.add(b, answerOf(b, 10n, 1), 100, 11n)
    buffer.add(a, answerOf(a, 20n, 2), 300, 21n)
    buffer.add(c, answerOf(c, 30n, 3), 50, 31n)
    assert.deepEqual([buffer.bytes, buffer.room()], [450, 550])
    assert.ok(buffer.has(a) && buffer.has(b) && buffer.has(c))
    b.paused = true
    assert.equal(buffer.poll()?.partition, 0, 'the oldest unpaused answer')
    assert.deepEqual([a.position, a.leaderEpoch], [21n, 2], 'taking moves the position past the answer')
    assert.ok(!buffer.has(a))
    assert.equal(buffer.take(b)?.partition, 1, 'a paused partition is taken when asked for by name')
    assert.equal(b.position, 11n)
    assert.equal(buffer.take(b), undefined)
    buffer.drop(c)
    assert.equal(c.position, undefined, 'a dropped answer moves nothing')
    assert.deepEqual([buffer.bytes, buffer.room(), buffer.poll()], [0, 1000, undefined])
  })

  it('keeps the arrival order of a partition buffered again after it was taken', () => {
    const buffer = new FetchBuffer(1000)
    const [a, b] = [0, 1].map((p) => new PartitionCursor('t', p))
    buffer.add(a, answerOf(a, 0n, 0), 10, 1n)
    buffer.add(b, answerOf(b, 0n, 0), 10, 1n)
    buffer.take(a)
    buffer.add(a, answerOf(a, 1n, 0), 10, 2n)
    assert.deepEqual([buffer.poll()?.partition, buffer.poll()?.partition, buffer.poll()], [1, 0, undefined])
  })

  it('counts what it holds against the total bound, and forgets all on clear', () => {
    const buffer = new FetchBuffer(100)
    const [a, b] = [0, 1].map((p) => new PartitionCursor('t', p))
    buffer.add(a, answerOf(a, 0n, 0), 70, 1n)
    buffer.add(b, answerOf(b, 0n, 0), 70, 1n)
    assert.equal(buffer.room(), -40, 'one answer may go past the bound; then there is no room')
    buffer.clear()
    assert.deepEqual([buffer.bytes, buffer.room(), buffer.has(a), buffer.poll()], [0, 100, false, undefined])
  })
})

describe('Fetcher prefetch bounds over a fake cluster', () => {
  function setup(partitions: number, options: FetcherOptions = {}) {
    const fake = new FakeFetchCluster()
    fake.addTopic('t', ID, Array(partitions).fill(1))
    const fetcher = new Fetcher(fake.cluster(), { resetPolicy: 'earliest', ...options })
    let answers = 0
    fetcher.onData = () => answers++
    const close = async () => {
      const closing = fetcher.close()
      fake.abandon(new ConnectionError('test over'))
      await closing
    }
    return { fake, fetcher, close, answers: () => answers }
  }
  const tp = (partition: number) => ({ topic: 't', partition })

  it('does not fetch a partition again while its answer waits, and calls onData once per answer', async () => {
    const { fake, fetcher, close, answers } = setup(2)
    fetcher.assign([0, 1].map((p) => ({ ...tp(p), offset: 0n })))
    const first = await fake.nextFetch()
    assert.deepEqual(asked(fake, first.body), ['t-0@0', 't-1@0'])
    // both partitions have more records at the broker (their fetches are no long polls)
    first.reply(
      fetchAnswer(fake, first, [
        { ...tp(0), records: await batch(0n, ['a', 'b']), highWatermark: 10n },
        { ...tp(1), records: await batch(0n, ['x']), highWatermark: 10n },
      ]),
    )
    await turns()
    assert.equal(answers(), 1, 'one call for an answer of two partitions')
    assert.equal(fake.queuedFetches, 0, 'both partitions wait to be taken: nothing to fetch')

    assert.equal(fetcher.take(tp(1))?.messages.length, 1)
    const second = await fake.nextFetch()
    assert.deepEqual(asked(fake, second.body), ['t-1@1'], 'only the partition taken')
    assert.equal(fetcher.position(tp(0)), 0n, 'partition 0 still waits to be taken')
    second.reply(fetchAnswer(fake, second, [{ ...tp(1), highWatermark: 10n }]))
    const third = await fake.nextFetch()
    assert.equal(answers(), 2, 'called for an answer that buffered nothing too')
    assert.deepEqual(asked(fake, third.body), ['t-1@1'], 'partition 0 still waits to be taken')

    assert.deepEqual(
      fetcher.poll()?.messages.map((m) => m.offset),
      [0n, 1n],
    )
    third.reply(fetchAnswer(fake, third, []))
    const fourth = await fake.nextFetch()
    assert.deepEqual(asked(fake, fourth.body), ['t-0@2', 't-1@1'])
    await close()
  })

  it('holds a long poll of caught-up partitions back while others of the broker wait to be taken, up to maxWaitMs', async () => {
    const { fake, fetcher, close } = setup(2, { maxWaitMs: 300 })
    fetcher.assign([0, 1].map((p) => ({ ...tp(p), offset: 0n })))
    const first = await fake.nextFetch()
    first.reply(
      fetchAnswer(fake, first, [
        { ...tp(0), records: await batch(0n, ['a', 'b']), highWatermark: 10n },
        { ...tp(1), records: await batch(0n, ['x']), highWatermark: 1n },
      ]),
    )
    await turns()
    fetcher.take(tp(1))
    await turns()
    // partition 1 is at its high watermark: alone, its fetch would wait maxWaitMs at the broker,
    // and partition 0, taken meanwhile, could not be fetched before it returned
    assert.equal(fake.queuedFetches, 0, 'no long poll of partition 1 alone while partition 0 waits to be taken')
    fetcher.take(tp(0))
    const second = await fake.nextFetch()
    assert.deepEqual(asked(fake, second.body), ['t-0@2', 't-1@1'], 'both in one request')
    second.reply(
      fetchAnswer(fake, second, [
        { ...tp(0), records: await batch(2n, ['c']), highWatermark: 10n },
        { ...tp(1), highWatermark: 1n },
      ]),
    )
    // partition 0 waits to be taken again, for longer than maxWaitMs: partition 1 goes alone then
    const third = await fake.nextFetch()
    assert.deepEqual(asked(fake, third.body), ['t-1@1'])
    assert.equal(fetcher.position(tp(0)), 2n, 'partition 0 was not taken')
    await close()
  })

  it('fetches nothing while the buffered bytes are at the bound, and asks for no more than the room left', async () => {
    const value = 'v'.repeat(200)
    const [r0, r1] = [await batch(0n, [value]), await batch(0n, [value, value])]
    const limit = r0.length + r1.length - 10
    const { fake, fetcher, close } = setup(3, { maxBufferedBytes: limit, maxBytes: 10_000 })
    fetcher.assign([0, 1, 2].map((p) => ({ ...tp(p), offset: 0n })))
    const first = await fake.nextFetch()
    assert.equal(first.body.maxBytes, limit, 'the room left, below maxBytes')
    first.reply(
      fetchAnswer(fake, first, [
        { ...tp(0), records: r0 },
        { ...tp(1), records: r1 },
      ]),
    )
    await turns()
    assert.equal(fetcher.stats().bufferedBytes, r0.length + r1.length)
    assert.equal(fake.queuedFetches, 0, 'partition 2 has nothing buffered, but there is no room')

    fetcher.take(tp(0))
    const second = await fake.nextFetch()
    assert.deepEqual(asked(fake, second.body), ['t-0@1', 't-2@0'])
    assert.equal(second.body.maxBytes, limit - r1.length)
    await close()
  })
})
