// The partition cursor without a broker: its state through moves, lookups and answers, and the
// generation rule as the Fetcher applies it over a fake cluster layer: a fetch answer or an offset
// lookup begun before a seek, a reset or an unassignment never moves the partition afterwards.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RetryPolicy } from '../../../src/client/retry.ts'
import { PartitionCursor } from '../../../src/consumer/cursor.ts'
import { Fetcher, type FetcherOptions } from '../../../src/consumer/fetcher.ts'
import { ErrorCode } from '../../../src/protocol/error-codes.ts'
import { ConnectionError, KafkaError } from '../../../src/protocol/errors.ts'
import { buildControlBatch } from '../../../src/protocol/records/index.ts'
import { asked, batch, FakeFetchCluster, fetchAnswer, listOffsetsAnswer, turns } from './fake-fetch-cluster.ts'

const ID = '33333333-3333-3333-3333-333333333333'
const tp = { topic: 't', partition: 0 }

describe('PartitionCursor', () => {
  it('starts a new generation on every move, and keeps it while a lookup finds where to start', () => {
    const c = new PartitionCursor('t', 3)
    assert.deepEqual(
      [c.key, c.generation, c.fetchOffset, c.position, c.leaderEpoch],
      ['t\x003', 0, undefined, undefined, -1],
    )
    c.moveTo(5n, 7)
    assert.deepEqual([c.generation, c.fetchOffset, c.position, c.leaderEpoch], [1, 5n, 5n, 7])
    c.backoff(new RetryPolicy({ initialDelayMs: 100, jitter: 0 }))
    c.resetTo = 'earliest'
    c.moveTo(undefined)
    assert.deepEqual(
      [c.generation, c.fetchOffset, c.position, c.leaderEpoch, c.resetTo, c.failures, c.retryAt],
      [2, undefined, undefined, -1, undefined, 0, 0],
      'a move forgets the reset it waited for and its backoff',
    )
    const generation = c.generation
    c.resetTo = 'latest'
    c.failures = 2
    c.startAt(9n)
    assert.deepEqual([c.fetchOffset, c.position, c.resetTo, c.failures], [9n, 9n, undefined, 0])
    assert.ok(c.isCurrent(generation), 'a lookup applies within the generation')
    c.advance(12n, 8)
    assert.deepEqual([c.fetchOffset, c.position], [12n, 9n], 'fetched ahead of what was handed out')
    c.taken(12n, 8)
    assert.deepEqual([c.position, c.leaderEpoch], [12n, 8])
    c.retire()
    assert.ok(!c.isCurrent(generation))
  })

  it('backs off longer with every failure in a row', () => {
    const c = new PartitionCursor('t', 0)
    const retry = new RetryPolicy({ initialDelayMs: 100, multiplier: 2, maxDelayMs: 1000, jitter: 0 })
    const expected = [100, 200, 400, 800, 1000]
    for (const delay of expected) {
      const before = Date.now()
      c.backoff(retry)
      const after = Date.now()
      assert.ok(c.retryAt >= before + delay && c.retryAt <= after + delay, `${delay} ms after failure ${c.failures}`)
    }
    assert.equal(c.failures, 5)
    c.advance(1n, -1)
    assert.equal(c.failures, 0, 'an answer read ends the run of failures')
  })
})

describe('Fetcher cursors over a fake cluster', () => {
  function setup(options: FetcherOptions = {}) {
    const fake = new FakeFetchCluster()
    fake.addTopic('t', ID, [1])
    const fetcher = new Fetcher(fake.cluster(), { resetPolicy: 'earliest', ...options })
    const close = async () => {
      const closing = fetcher.close()
      fake.abandon(new ConnectionError('test over'))
      await closing
    }
    return { fake, fetcher, close }
  }
  const next = (f: Fetcher) => f.next(AbortSignal.timeout(2000))

  it('drops a fetch answer begun before a seek, even a seek to the offset in flight', async () => {
    const { fake, fetcher, close } = setup()
    fetcher.assign([{ ...tp, offset: 0n }])
    const first = await fake.nextFetch()
    assert.deepEqual(asked(fake, first.body), ['t-0@0'])
    await fetcher.seek(tp, 5n)
    first.reply(fetchAnswer(fake, first, [{ ...tp, records: await batch(0n, ['a', 'b', 'c']), highWatermark: 3n }]))
    const second = await fake.nextFetch()
    assert.deepEqual(asked(fake, second.body), ['t-0@5'])
    assert.equal(fetcher.take(tp), undefined, 'nothing of the old answer is buffered')
    assert.equal(fetcher.position(tp), 5n)
    assert.equal(fetcher.highWatermark(tp), undefined, 'nor is its high watermark taken')

    // the same offset as the request in flight: a new generation all the same
    await fetcher.seek(tp, 5n)
    second.reply(fetchAnswer(fake, second, [{ ...tp, records: await batch(5n, ['f']) }]))
    const third = await fake.nextFetch()
    assert.deepEqual(asked(fake, third.body), ['t-0@5'])
    assert.equal(fetcher.take(tp), undefined)
    third.reply(fetchAnswer(fake, third, [{ ...tp, records: await batch(5n, ['f', 'g'], { leaderEpoch: 2 }) }]))
    const got = await next(fetcher)
    assert.deepEqual(
      got.messages.map((m) => [m.offset, m.value?.toString()]),
      [
        [5n, 'f'],
        [6n, 'g'],
      ],
    )
    assert.equal(fetcher.position(tp), 7n)
    await close()
  })

  it('drops a reset lookup begun before a seek', async () => {
    const { fake, fetcher, close } = setup()
    fetcher.assign([tp])
    const lookup = await fake.nextListOffsets()
    assert.equal(lookup.body.topics[0].partitions[0].timestamp, -2n, 'the earliest offset')
    await fetcher.seek(tp, 7n)
    const fetch = await fake.nextFetch()
    assert.deepEqual(asked(fake, fetch.body), ['t-0@7'])
    lookup.reply(listOffsetsAnswer('t', 0, 0n))
    await turns()
    assert.equal(fetcher.position(tp), 7n, 'the late lookup moved nothing')
    fetch.reply(fetchAnswer(fake, fetch, [{ ...tp, records: await batch(7n, ['x']) }]))
    assert.equal((await next(fetcher)).messages[0].offset, 7n)
    assert.deepEqual(asked(fake, (await fake.nextFetch()).body), ['t-0@8'])
    await close()
  })

  it('lets the later of two seeks win when the first looks its offset up', async () => {
    const { fake, fetcher, close } = setup()
    fetcher.assign([{ ...tp, offset: 0n }])
    const inFlight = await fake.nextFetch()
    const byTime = fetcher.seek(tp, { timestamp: 1000 })
    assert.equal(fetcher.position(tp), undefined, 'unknown while the lookup runs')
    const lookup = await fake.nextListOffsets()
    assert.equal(lookup.body.topics[0].partitions[0].timestamp, 1000n)
    await fetcher.seek(tp, 3n)
    lookup.reply(listOffsetsAnswer('t', 0, 10n))
    await byTime
    assert.equal(fetcher.position(tp), 3n)
    inFlight.reply(fetchAnswer(fake, inFlight, []))
    assert.deepEqual(asked(fake, (await fake.nextFetch()).body), ['t-0@3'])
    await close()
  })

  it('gives a partition assigned again a cursor of its own: the old one’s answer is dropped', async () => {
    const { fake, fetcher, close } = setup()
    fetcher.assign([{ ...tp, offset: 0n }])
    const first = await fake.nextFetch()
    fetcher.unassign([tp])
    assert.deepEqual(fetcher.assigned(), [])
    fetcher.assign([{ ...tp, offset: 0n }])
    first.reply(fetchAnswer(fake, first, [{ ...tp, records: await batch(0n, ['a']) }]))
    const second = await fake.nextFetch()
    assert.deepEqual(asked(fake, second.body), ['t-0@0'], 'fetched again for the new cursor')
    assert.equal(fetcher.take(tp), undefined)
    assert.equal(fetcher.stats().bufferedBytes, 0, 'nor kept for the old one')
    await close()
  })

  it('resets an out-of-range position by the policy, and reports it under the policy none', async () => {
    const { fake, fetcher, close } = setup()
    fetcher.assign([{ ...tp, offset: 50n }])
    const fetch = await fake.nextFetch()
    fetch.reply(fetchAnswer(fake, fetch, [{ ...tp, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE }]))
    const lookup = await fake.nextListOffsets()
    assert.equal(fetcher.position(tp), undefined)
    assert.equal(lookup.body.topics[0].partitions[0].timestamp, -2n)
    lookup.reply(listOffsetsAnswer('t', 0, 4n))
    assert.deepEqual(asked(fake, (await fake.nextFetch()).body), ['t-0@4'])
    assert.equal(fetcher.position(tp), 4n)
    await close()

    const none = setup({ resetPolicy: 'none' })
    none.fake.addTopic('u', '44444444-4444-4444-4444-444444444444', [1])
    const errors: unknown[] = []
    none.fetcher.on('error', (e) => errors.push(e))
    none.fetcher.assign([
      { ...tp, offset: 50n },
      { topic: 'u', partition: 0, offset: 0n },
    ])
    const both = await none.fake.nextFetch()
    assert.deepEqual(asked(none.fake, both.body), ['t-0@50', 'u-0@0'])
    both.reply(
      fetchAnswer(none.fake, both, [
        { ...tp, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE },
        { topic: 'u', partition: 0, records: await batch(0n, ['u0']) },
      ]),
    )
    assert.equal((await next(none.fetcher)).topic, 'u', 'the other partition is fetched on')
    assert.equal(errors.length, 1)
    assert.ok(errors[0] instanceof KafkaError && errors[0].code === ErrorCode.OFFSET_OUT_OF_RANGE, String(errors[0]))
    await turns()
    assert.equal(none.fetcher.position(tp), undefined, 'no position, and none looked up')
    assert.equal(none.fake.queuedListOffsets, 0)
    await none.close()
  })

  it('moves the position past control records without buffering anything', async () => {
    const { fake, fetcher, close } = setup({ isolationLevel: 'read_committed' })
    fetcher.assign([{ ...tp, offset: 0n }])
    const fetch = await fake.nextFetch()
    const marker = await buildControlBatch(
      { type: 'COMMIT', coordinatorEpoch: 0 },
      { producerId: 1n, producerEpoch: 0, timestamp: 1000 },
    )
    fetch.reply(fetchAnswer(fake, fetch, [{ ...tp, records: marker, highWatermark: 1n }]))
    assert.deepEqual(asked(fake, (await fake.nextFetch()).body), ['t-0@1'])
    assert.equal(fetcher.position(tp), 1n)
    assert.equal(fetcher.highWatermark(tp), 1n)
    assert.equal(fetcher.stats().bufferedBytes, 0)
    await close()
  })
})
