// The Fetcher against the real broker: records written by the kafkax Producer (every codec) and a
// Java transactional producer come back in order per partition; offset resets, seeks by offset and
// by timestamp, pause/resume, bounded prefetch, read_committed, and incremental fetch sessions.

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ROOT, release } from '../../scripts/kafka/harness.ts'
import { Admin } from '../../src/admin/admin.ts'
import { Cluster } from '../../src/client/cluster.ts'
import { Fetcher, type FetcherOptions } from '../../src/consumer/fetcher.ts'
import type { ConsumedMessage } from '../../src/consumer/message.ts'
import { Producer } from '../../src/producer/producer.ts'
import { KafkaError } from '../../src/protocol/errors.ts'
import { brokers, uniqueTopic } from '../helpers/kafka.ts'
import { holdsFor, waitFor } from '../helpers/wait.ts'

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const

describe('Fetcher', () => {
  const admin = new Admin({ brokers: brokers() })
  const fetchers: [Fetcher, Cluster][] = []
  after(async () => {
    for (const [f, c] of fetchers) await f.close().then(() => c.close())
    await admin.close()
  })

  async function topicWith(partitions: number): Promise<string> {
    const topic = uniqueTopic('fetcher')
    await admin.createTopics([{ topic, partitions, replicationFactor: 1 }])
    return topic
  }

  /**
   * A fetcher with its own connections, as each consumer has: the broker answers the requests of a
   * connection one at a time, so another fetcher's long poll would hold this one's fetches back.
   */
  function fetcher(options: FetcherOptions = {}): Fetcher {
    const cluster = new Cluster({ brokers: brokers() })
    const f = new Fetcher(cluster, { resetPolicy: 'earliest', ...options })
    fetchers.push([f, cluster])
    return f
  }

  async function produce(
    topic: string,
    records: { partition: number; value: string; timestamp?: number }[],
    compression: (typeof CODECS)[number] = 'none',
    batchBytes?: number,
  ): Promise<void> {
    const producer = new Producer({ brokers: brokers(), compression, batch: { lingerMs: 5, maxBytes: batchBytes } })
    try {
      await producer.sendBatch(records.map((r) => ({ topic, ...r })))
    } finally {
      await producer.close()
    }
  }

  /** Takes batches until `count` messages came (or fails after `timeoutMs`, saying how many did). */
  async function take(f: Fetcher, count: number, timeoutMs = 15_000): Promise<ConsumedMessage[]> {
    const signal = AbortSignal.timeout(timeoutMs)
    const messages: ConsumedMessage[] = []
    try {
      while (messages.length < count) messages.push(...(await f.next(signal)).messages)
    } catch (error) {
      if (!signal.aborted) throw error
      assert.fail(`took ${messages.length} of ${count} messages in ${timeoutMs} ms`)
    }
    return messages
  }

  function byPartition(messages: ConsumedMessage[]): Map<number, ConsumedMessage[]> {
    const map = new Map<number, ConsumedMessage[]>()
    for (const m of messages) map.set(m.partition, [...(map.get(m.partition) ?? []), m])
    return map
  }

  it('reads back 10k records from 3 partitions, in order per partition, in incremental fetch sessions', async () => {
    const topic = await topicWith(3)
    const sent = Array.from({ length: 10_000 }, (_, i) => ({ partition: i % 3, value: `record-${i}` }))
    await produce(topic, sent)
    const f = fetcher()
    f.assign([0, 1, 2].map((partition) => ({ topic, partition })))
    const messages = await take(f, 10_000)
    assert.equal(messages.length, 10_000)
    for (const [partition, list] of byPartition(messages)) {
      const expected = sent.filter((r) => r.partition === partition).map((r) => r.value)
      assert.deepEqual(
        list.map((m) => m.value?.toString()),
        expected,
        `partition ${partition} in order`,
      )
      assert.deepEqual(
        list.map((m) => m.offset),
        expected.map((_, i) => BigInt(i)),
      )
      assert.ok(list.every((m) => m.leaderEpoch >= 0 && m.topic === topic))
      assert.equal(f.position({ topic, partition }), BigInt(expected.length))
      assert.equal(f.highWatermark({ topic, partition }), BigInt(expected.length))
    }
    const stats = f.stats()
    assert.equal(stats.records, 10_000)
    // every fetch after the first is incremental
    assert.equal(stats.incrementalFetches, stats.fetches - 1)
    // idle long polls stay incremental too
    await waitFor('two idle long polls', () => f.stats().fetches >= stats.fetches + 2, { state: () => f.stats() })
    assert.equal(f.stats().incrementalFetches, f.stats().fetches - 1)
  })

  for (const compression of CODECS) {
    it(`reads ${compression} batches`, async () => {
      const topic = await topicWith(2)
      const sent = Array.from({ length: 500 }, (_, i) => ({
        partition: i % 2,
        value: `${compression} ${i} ${'x'.repeat(i % 40)}`,
      }))
      await produce(topic, sent, compression)
      const f = fetcher()
      f.assign([0, 1].map((partition) => ({ topic, partition })))
      const messages = await take(f, 500)
      for (const [partition, list] of byPartition(messages)) {
        assert.deepEqual(
          list.map((m) => m.value?.toString()),
          sent.filter((r) => r.partition === partition).map((r) => r.value),
        )
      }
    })
  }

  it('starts at the earliest or the latest offset by the reset policy, and resets an out-of-range position', async () => {
    const topic = await topicWith(1)
    await produce(
      topic,
      [0, 1, 2].map((i) => ({ partition: 0, value: `old-${i}` })),
    )
    const latest = fetcher({ resetPolicy: 'latest' })
    const earliest = fetcher({ resetPolicy: 'earliest' })
    latest.assign([{ topic, partition: 0 }])
    earliest.assign([{ topic, partition: 0 }])
    assert.deepEqual(
      (await take(earliest, 3)).map((m) => m.value?.toString()),
      ['old-0', 'old-1', 'old-2'],
    )
    // the latest fetcher has its position once the lookup is done: then new records come
    await waitFor('the latest offset lookup', () => latest.position({ topic, partition: 0 }) !== undefined)
    assert.equal(latest.position({ topic, partition: 0 }), 3n)
    await produce(topic, [{ partition: 0, value: 'new-3' }])
    const [m] = await take(latest, 1)
    assert.equal(m.value?.toString(), 'new-3')
    assert.equal(m.offset, 3n)
    // far past the end: OFFSET_OUT_OF_RANGE, then the reset policy (earliest) starts over
    await earliest.seek({ topic, partition: 0 }, 1_000_000n)
    assert.deepEqual(
      (await take(earliest, 4)).map((m) => m.offset),
      [0n, 1n, 2n, 3n],
    )
  })

  it("reports a partition without a position under reset policy 'none', and keeps fetching the others", async () => {
    const topic = await topicWith(2)
    await produce(
      topic,
      [0, 1].map((partition) => ({ partition, value: `p${partition}` })),
    )
    const f = fetcher({ resetPolicy: 'none' })
    const errors: unknown[] = []
    f.on('error', (e) => errors.push(e))
    f.assign([
      { topic, partition: 0 },
      { topic, partition: 1, offset: 0n },
    ])
    const [m] = await take(f, 1)
    assert.equal(m.partition, 1)
    assert.equal(errors.length, 1)
    assert.ok(errors[0] instanceof KafkaError && errors[0].type === 'OFFSET_OUT_OF_RANGE', String(errors[0]))
  })

  it('seeks to an offset, to a timestamp, to the earliest and the latest offset', async () => {
    const topic = await topicWith(1)
    const base = Date.now() - 60_000
    await produce(
      topic,
      Array.from({ length: 20 }, (_, i) => ({ partition: 0, value: `v${i}`, timestamp: base + i * 1000 })),
    )
    const tp = { topic, partition: 0 }
    const f = fetcher()
    f.assign([{ ...tp, offset: 0n }])
    assert.equal((await take(f, 1))[0].offset, 0n)
    await f.seek(tp, 15n)
    assert.equal(f.position(tp), 15n)
    assert.deepEqual(
      (await take(f, 5)).map((m) => m.offset),
      [15n, 16n, 17n, 18n, 19n],
    )
    // the first record at or after the timestamp
    await f.seek(tp, { timestamp: base + 7500 })
    assert.equal(f.position(tp), 8n)
    const [at] = await take(f, 1)
    assert.equal(at.offset, 8n)
    assert.equal(at.timestamp, base + 8000)
    await f.seek(tp, 'earliest')
    assert.equal(f.position(tp), 0n)
    assert.equal((await take(f, 1))[0].offset, 0n)
    await f.seek(tp, 'latest')
    assert.equal(f.position(tp), 20n)
    // after every record: the end
    await f.seek(tp, { timestamp: Date.now() + 60_000 })
    assert.equal(f.position(tp), 20n)
  })

  it('fetches nothing for a paused partition until it is resumed', async () => {
    const topic = await topicWith(2)
    const f = fetcher()
    f.assign([0, 1].map((partition) => ({ topic, partition, offset: 0n })))
    f.pause([{ topic, partition: 1 }])
    await produce(
      topic,
      Array.from({ length: 40 }, (_, i) => ({ partition: i % 2, value: `v${i}` })),
    )
    const taken = await take(f, 20)
    assert.ok(
      taken.every((m) => m.partition === 0),
      'only the unpaused partition',
    )
    // a fetch of the paused partition would be answered within maxWaitMs (500 ms): two of them
    await holdsFor('nothing of the paused partition', () => f.poll() === undefined, 2 * 500)
    f.resume([{ topic, partition: 1 }])
    const resumed = await take(f, 20)
    assert.ok(resumed.every((m) => m.partition === 1))
  })

  it('keeps prefetched data within maxBufferedBytes (plus one fetch) however large the backlog', async () => {
    const topic = await topicWith(3)
    const value = 'y'.repeat(500)
    const total = 15_000 // about 7.5 MB
    await produce(
      topic,
      Array.from({ length: total }, (_, i) => ({ partition: i % 3, value: `${i} ${value}` })),
      'none',
      16 * 1024, // the broker hands out whole batches (KIP-74): small ones keep "one fetch" small
    )
    const limit = 256 * 1024
    const maxBytes = 128 * 1024
    const f = fetcher({ maxBufferedBytes: limit, maxBytes, partitionMaxBytes: 64 * 1024 })
    f.assign([0, 1, 2].map((partition) => ({ topic, partition })))
    // not taking anything: once each partition has an answer waiting the fetcher stops (one answer
    // per partition, within the total bound); fetches are answered within maxWaitMs (500 ms): two
    // of them would show
    await waitFor('an answer for each partition', () =>
      [0, 1, 2].every((partition) => f.highWatermark({ topic, partition }) !== undefined),
    )
    await holdsFor(
      'the buffer within maxBufferedBytes plus one fetch',
      () => f.stats().bufferedBytes <= limit + maxBytes,
      2 * 500,
      { state: () => f.stats() },
    )
    const idle = f.stats()
    assert.ok(idle.bufferedBytes > 0)
    assert.ok(idle.bufferedBytes <= limit + maxBytes, `buffered ${idle.bufferedBytes}`)
    assert.ok(idle.bytes < 2 * (limit + maxBytes), `received ${idle.bytes} while nothing was taken`)
    let peak = 0
    let count = 0
    const signal = AbortSignal.timeout(30_000)
    while (count < total) {
      count += (await f.next(signal)).messages.length
      peak = Math.max(peak, f.stats().bufferedBytes)
    }
    assert.equal(count, total)
    assert.ok(peak <= limit + maxBytes, `peak ${peak}`)
  })

  it('hides aborted transactions under read_committed, and control records always', async () => {
    const topic = await topicWith(1)
    const java = spawnSync(
      'java',
      ['-cp', `${release().libs}/*`, join(ROOT, 'scripts/java/AbortedTransaction.java'), brokers()[0], topic],
      { encoding: 'utf8', timeout: 120_000 },
    )
    assert.equal(java.status, 0, java.stderr)
    // committed 0-4, marker 5, aborted 6-10, marker 11, committed 12-16, marker 17
    const committed = fetcher({ isolationLevel: 'read_committed' })
    const uncommitted = fetcher({ isolationLevel: 'read_uncommitted' })
    for (const f of [committed, uncommitted]) f.assign([{ topic, partition: 0 }])
    const values = (ms: ConsumedMessage[]) => ms.map((m) => m.value?.toString())
    const c = await take(committed, 10)
    assert.deepEqual(
      values(c),
      Array.from({ length: 10 }, (_, i) => `committed-${i}`),
    )
    assert.deepEqual(
      c.map((m) => m.offset),
      [0n, 1n, 2n, 3n, 4n, 12n, 13n, 14n, 15n, 16n],
    )
    const u = await take(uncommitted, 15)
    assert.deepEqual(values(u), [
      ...[0, 1, 2, 3, 4].map((i) => `committed-${i}`),
      ...[0, 1, 2, 3, 4].map((i) => `aborted-${i}`),
      ...[5, 6, 7, 8, 9].map((i) => `committed-${i}`),
    ])
    // both positions pass the last marker, and nothing more came (no control records)
    await waitFor(
      'both positions past the last marker (18)',
      () =>
        committed.position({ topic, partition: 0 }) === 18n && uncommitted.position({ topic, partition: 0 }) === 18n,
    )
    assert.equal(committed.poll(), undefined)
    assert.equal(uncommitted.poll(), undefined)
  })
})
