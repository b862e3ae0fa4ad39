// The fetch buffer without a broker: answers come out in arrival order or per partition, and the
// Fetcher keeps its bounds over a fake cluster layer: a partition with an untaken answer is not
// fetched again, nothing is fetched while the buffered bytes are at the total bound, a request asks
// for no more than the room left, onData is called once per answer, and a long poll of caught-up
// partitions (or of a first fetch while other positions are looked up) does not hold up the others.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CHUNK_BYTES, CHUNK_RECORDS, CompletedFetch } from '../../../src/consumer/completed-fetch.ts'
import { PartitionCursor } from '../../../src/consumer/cursor.ts'
import { FetchBuffer, type FetchBufferEvents } from '../../../src/consumer/fetch-buffer.ts'
import { Fetcher, type FetcherOptions } from '../../../src/consumer/fetcher.ts'
import { ConnectionError, ProtocolError } from '../../../src/protocol/errors.ts'
import { RecordBatchBuilder, splitBatches } from '../../../src/protocol/records/index.ts'
import { within } from '../../helpers/wait.ts'
import { asked, batch, FakeFetchCluster, fetchAnswer, listOffsetsAnswer, turns } from './fake-fetch-cluster.ts'

const ID = '55555555-5555-5555-5555-555555555555'

const MARKS = { highWatermark: 0n, lastStableOffset: 0n, logStartOffset: 0n }
const quiet: FetchBufferEvents = { changed: () => {}, failed: () => {} }

/** A partition's answer of one record at `offset` (its first chunk decoded, as the fetch source adds it). */
async function answerOf(cursor: PartitionCursor, offset: bigint, leaderEpoch: number): Promise<CompletedFetch> {
  const records = await batch(offset, ['v'], { leaderEpoch })
  const answer = new CompletedFetch(cursor.topic, cursor.partition, records, offset, false, null, MARKS, true)
  await answer.prepare()
  return answer
}

/** `count` uncompressed batches of `perBatch` 1-byte records, offsets from 0 on. */
async function tinyBatches(count: number, perBatch: number): Promise<Buffer> {
  const parts: Buffer[] = []
  for (let b = 0; b < count; b++) {
    const builder = new RecordBatchBuilder({ compression: 'none' })
    for (let i = 0; i < perBatch; i++) builder.append({ key: null, value: Buffer.from('x'), timestamp: 1000 })
    const built = await builder.build()
    built.writeBigInt64BE(BigInt(b * perBatch), 0)
    parts.push(built)
  }
  return Buffer.concat(parts)
}

describe('FetchBuffer', () => {
  it('hands answers out in arrival order, skipping paused partitions unless taken by name', async () => {
    const buffer = new FetchBuffer(1000, quiet)
    const [a, b, c] = [0, 1, 2].map((p) => new PartitionCursor('t', p))
    const answers = [await answerOf(b, 10n, 1), await answerOf(a, 20n, 2), await answerOf(c, 30n, 3)]
    buffer.add(b, answers[0])
    buffer.add(a, answers[1])
    buffer.add(c, answers[2])
    const total = answers.reduce((sum, x) => sum + x.bytes, 0)
    assert.deepEqual([buffer.bytes, buffer.room()], [total, 1000 - total])
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

  it('keeps the arrival order of a partition buffered again after it was taken', async () => {
    const buffer = new FetchBuffer(1000, quiet)
    const [a, b] = [0, 1].map((p) => new PartitionCursor('t', p))
    buffer.add(a, await answerOf(a, 0n, 0))
    buffer.add(b, await answerOf(b, 0n, 0))
    buffer.take(a)
    buffer.add(a, await answerOf(a, 1n, 0))
    assert.deepEqual([buffer.poll()?.partition, buffer.poll()?.partition, buffer.poll()], [1, 0, undefined])
  })

  it('counts what it holds against the total bound, and forgets all on clear', async () => {
    const [a, b] = [0, 1].map((p) => new PartitionCursor('t', p))
    const [x, y] = [await answerOf(a, 0n, 0), await answerOf(b, 0n, 0)]
    const buffer = new FetchBuffer(x.bytes + 10, quiet)
    buffer.add(a, x)
    buffer.add(b, y)
    assert.equal(buffer.room(), 10 - y.bytes, 'one answer may go past the bound; then there is no room')
    buffer.clear()
    assert.deepEqual([buffer.bytes, buffer.room(), buffer.has(a), buffer.poll()], [0, x.bytes + 10, false, undefined])
  })
})

describe('FetchBuffer: what is held decompressed', () => {
  const RECORDS_PER_BATCH = 100
  const line = (i: number) => `{"n":${i},"text":"${'the same words again and '.repeat(40)}"}`.slice(0, 1000)

  /** `batches` lz4 batches of 100 records of 1000 bytes of text that compresses about 50:1. */
  async function compressible(batches: number): Promise<{ records: Buffer; batchBytes: number }> {
    const parts: Buffer[] = []
    for (let b = 0; b < batches; b++) {
      const builder = new RecordBatchBuilder({ compression: 'lz4' })
      for (let i = 0; i < RECORDS_PER_BATCH; i++)
        builder.append({ key: null, value: Buffer.from(line(b * RECORDS_PER_BATCH + i)), timestamp: 1000 })
      const built = await builder.build()
      built.writeBigInt64BE(BigInt(b * RECORDS_PER_BATCH), 0)
      parts.push(built)
    }
    return { records: Buffer.concat(parts), batchBytes: RECORDS_PER_BATCH * 1000 }
  }

  it('holds one chunk of a compressed answer decoded, not the answer, while it is drained', async () => {
    const { records, batchBytes } = await compressible(200)
    const decompressed = 200 * batchBytes
    assert.ok(records.length * 20 < decompressed, `the answer compresses: ${records.length} of ${decompressed} bytes`)
    let changed: () => void = () => {}
    const buffer = new FetchBuffer(1 << 20, { changed: () => changed(), failed: (_, e) => assert.fail(String(e)) })
    const cursor = new PartitionCursor('t', 0)
    cursor.moveTo(0n)
    const answer = new CompletedFetch('t', 0, records, 0n, false, null, MARKS, true)
    await answer.prepare()
    buffer.add(cursor, answer)
    // a chunk stops at the record that reaches CHUNK_BYTES, inside a batch
    const bound = CHUNK_BYTES + batchBytes / RECORDS_PER_BATCH
    let next = 0n
    let most = 0
    while (buffer.has(cursor)) {
      most = Math.max(most, buffer.decodedBytes)
      assert.ok(buffer.decodedBytes <= bound, `${buffer.decodedBytes} bytes held decoded, bound ${bound}`)
      const decoded = new Promise<void>((resolve) => (changed = resolve))
      const chunk = buffer.take(cursor)
      if (chunk === undefined) {
        await decoded // the next chunk is being decompressed
        continue
      }
      const bytes = chunk.messages.reduce((sum, m) => sum + (m.value?.length ?? 0), 0)
      assert.ok(bytes <= bound && chunk.messages.length <= bound / 1000, `a chunk of ${bytes} bytes`)
      for (const m of chunk.messages) assert.equal(m.offset, next++, 'every record once, in order')
      assert.equal(cursor.position, next, 'the position follows the chunks taken')
    }
    assert.equal(next, 20_000n)
    assert.ok(most > 0 && most <= bound)
    assert.deepEqual([buffer.bytes, buffer.decodedBytes], [0, 0], 'nothing held once drained')
  })

  it('loses no chunk when the next is taken as soon as it is decoded (before the last decode is told done)', async () => {
    const records = await tinyBatches(3, CHUNK_RECORDS)
    const cursor = new PartitionCursor('t', 0)
    cursor.moveTo(0n)
    const answer = new CompletedFetch('t', 0, records, 0n, false, null, MARKS, true)
    await answer.prepare()
    const buffer = new FetchBuffer(10 * 1024 * 1024, quiet)
    buffer.add(cursor, answer)
    // a consumer polling at every microtask, as a tight `await fetcher.next()` loop does
    const firsts: bigint[] = []
    for (let hop = 0; hop < 100 && firsts.length < 3; hop++) {
      const taken = buffer.poll()
      if (taken) firsts.push(taken.messages[0].offset)
      await Promise.resolve()
    }
    assert.deepEqual(firsts, [0n, BigInt(CHUNK_RECORDS), BigInt(2 * CHUNK_RECORDS)])
    assert.equal(cursor.position, BigInt(3 * CHUNK_RECORDS))
  })

  it('ends a chunk of tiny records at CHUNK_RECORDS, inside a batch, not at CHUNK_BYTES of them', async () => {
    const perBatch = 1000
    const records = await tinyBatches(30, perBatch)
    const answer = new CompletedFetch('t', 0, records, 0n, false, null, MARKS, true)
    const sizes: number[] = []
    const firsts: bigint[] = []
    for (await answer.prepare(); answer.ready; await answer.prepare()) {
      const { messages } = answer.take()!.batch
      sizes.push(messages.length)
      firsts.push(messages[0].offset)
    }
    assert.ok(CHUNK_RECORDS % perBatch !== 0, 'chunks end inside batches')
    assert.deepEqual(sizes.slice(0, -1), Array(sizes.length - 1).fill(CHUNK_RECORDS))
    assert.deepEqual(
      firsts,
      sizes.map((_, i) => BigInt(i * CHUNK_RECORDS)),
    )
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      30 * perBatch,
      'every record once',
    )
  })

  it('hands out the records before a corrupt batch, then drops the answer with the position at that batch', async () => {
    const { records } = await compressible(6)
    const entries = splitBatches(records)
    entries[4][entries[4].length - 1] ^= 0xff // breaks batch 4's CRC
    let failure: { cursor: PartitionCursor; error: unknown } | undefined
    let event: () => void = () => {}
    const buffer = new FetchBuffer(1 << 20, {
      changed: () => event(),
      failed: (cursor, error) => {
        failure = { cursor, error }
        event()
      },
    })
    const cursor = new PartitionCursor('t', 0)
    cursor.moveTo(0n)
    const answer = new CompletedFetch('t', 0, records, 0n, false, null, MARKS, true)
    await answer.prepare()
    buffer.add(cursor, answer)
    const offsets: bigint[] = []
    while (failure === undefined) {
      const next = new Promise<void>((resolve) => (event = resolve))
      const chunk = buffer.take(cursor)
      if (chunk) offsets.push(...chunk.messages.map((m) => m.offset))
      else await within('the next chunk or the failure', next, 5000)
    }
    assert.deepEqual(
      offsets,
      Array.from({ length: 400 }, (_, i) => BigInt(i)),
      'batches 0-3, then nothing',
    )
    assert.ok(failure?.error instanceof ProtocolError && /CRC/.test(failure.error.message), String(failure?.error))
    assert.equal(failure?.cursor, cursor)
    assert.equal(cursor.position, 400n, 'the position stays at the corrupt batch')
    assert.ok(!buffer.has(cursor))
  })
  it('without CRC checks, hands out the records before a malformed one, then fails with the position at it', async () => {
    const records = await tinyBatches(1, 10)
    const [entry] = splitBatches(records)
    // the records section starts at byte 61; each record of a 1-byte value takes 8 bytes, its
    // length prefix first: a length past the batch at record 6
    entry[61 + 6 * 8] = 0x7e
    const answer = new CompletedFetch('t', 0, records, 0n, false, null, MARKS, false)
    await answer.prepare()
    const taken = answer.take()!
    assert.deepEqual(
      taken.batch.messages.map((m) => m.offset),
      [0n, 1n, 2n, 3n, 4n, 5n],
    )
    assert.equal(taken.end, 6n, 'the position is at the malformed record')
    await assert.rejects(answer.prepare(), (e) => e instanceof ProtocolError && /runs past/.test(e.message))
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

  it('holds the first fetch back while other partitions of the broker still look up their positions', async () => {
    const { fake, fetcher, close } = setup(2, { maxWaitMs: 300 })
    fetcher.assign([0, 1].map(tp))
    const lookups = [await fake.nextListOffsets(), await fake.nextListOffsets()]
    const partitionOf = (l: (typeof lookups)[0]) => l.body.topics[0].partitions[0].partitionIndex
    const [zero, one] = partitionOf(lookups[0]) === 0 ? lookups : [lookups[1], lookups[0]]
    // an empty partition's position comes first: alone, its fetch would be a long poll of maxWaitMs,
    // and partition 1, whose records wait at the broker, could not be fetched before it returned
    zero.reply(listOffsetsAnswer('t', 0, 0n))
    await turns()
    assert.equal(fake.queuedFetches, 0, 'no fetch of partition 0 alone while partition 1 looks up its position')
    one.reply(listOffsetsAnswer('t', 1, 5n))
    const first = await fake.nextFetch()
    assert.deepEqual(asked(fake, first.body), ['t-0@0', 't-1@5'], 'both in one request')
    await close()
  })

  it('sends a fetch held back for a position lookup after maxWaitMs, if the lookup takes that long', async () => {
    const { fake, fetcher, close } = setup(2, { maxWaitMs: 300 })
    fetcher.assign([0, 1].map(tp))
    const lookups = [await fake.nextListOffsets(), await fake.nextListOffsets()]
    const zero = lookups.find((l) => l.body.topics[0].partitions[0].partitionIndex === 0)!
    zero.reply(listOffsetsAnswer('t', 0, 0n))
    const startedAt = Date.now()
    const first = await fake.nextFetch()
    assert.deepEqual(asked(fake, first.body), ['t-0@0'], 'partition 1 still looks up its position')
    assert.ok(Date.now() - startedAt >= 250, `held back ${Date.now() - startedAt} ms, up to maxWaitMs (300)`)
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
