// The kafkax Producer against the real broker: what it writes is read back by kcat (librdkafka) and
// the Java console consumer, with every codec; order per partition under concurrency; acks levels;
// a record over the limit fails alone; back-pressure and retries while the broker is unreachable
// (the fault proxy in front of the broker's PROXIED listener resets every connection and refuses
// new ones for a while), with idempotence keeping every record exactly once.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import zlib from 'node:zlib'
import { Admin } from '../../src/admin/admin.ts'
import { fnv1a32 } from '../../src/producer/partitioners.ts'
import { Producer, type ProducerOptions } from '../../src/producer/producer.ts'
import { KafkaError, TimeoutError } from '../../src/protocol/errors.ts'
import { FaultProxy } from '../helpers/fault-proxy.ts'
import { brokers, cli, readWithKcat, SINGLE, uniqueTopic } from '../helpers/kafka.ts'
import { waitFor, within } from '../helpers/wait.ts'

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const

/** Sarama's and kafka-go's hash partitioner: int32(FNV-1a) % n, negated when negative. */
function hashPartition(key: string, n: number): number {
  return Math.abs((fnv1a32(Buffer.from(key)) | 0) % n)
}

describe('Producer', () => {
  const admin = new Admin({ brokers: brokers() })
  after(() => admin.close())

  async function topicWith(partitions: number, prefix = 'producer'): Promise<string> {
    const topic = uniqueTopic(prefix)
    await admin.createTopics([{ topic, partitions, replicationFactor: 1 }])
    return topic
  }

  for (const compression of CODECS) {
    it(`writes ${compression} batches that kcat and the Java console consumer read back`, async () => {
      const topic = await topicWith(3)
      const producer = new Producer({ brokers: brokers(), compression, batch: { lingerMs: 20 } })
      try {
        const sent = await producer.sendBatch(
          Array.from({ length: 300 }, (_, i) => ({
            topic,
            key: `key-${i % 17}`,
            value: `value ${i} ${'x'.repeat(i % 50)}`,
            headers: [{ key: 'n', value: String(i) }],
          })),
        )
        const stats = producer.stats()
        assert.equal(stats.records, 300)
        assert.ok(stats.batches < 300, 'records were batched')
        const read = readWithKcat(topic)
        assert.equal(read.length, 300)
        for (const [i, m] of sent.entries()) {
          const found = read.find((r) => r.partition === m.partition && r.offset === m.offset)
          assert.ok(found, `record ${i} at ${m.partition}/${m.offset}`)
          assert.equal(found.value, `value ${i} ${'x'.repeat(i % 50)}`)
          assert.equal(found.key, `key-${i % 17}`)
        }
        const java = cli.consume(topic, 300)
        assert.equal(java.length, 300)
        assert.ok(java.includes('key-3:value 3 xxx'))
      } finally {
        await producer.close()
      }
    })
  }

  it('keyed records land where the Java client puts them, and stay in order per partition', async () => {
    const topic = await topicWith(5)
    const producer = new Producer({ brokers: brokers(), batch: { lingerMs: 1, maxMessages: 50 } })
    try {
      // many sends in flight at once, from interleaved "tasks"
      const sends = []
      for (let i = 0; i < 3000; i++) sends.push(producer.send({ topic, key: `user-${i % 40}`, value: String(i) }))
      const results = await Promise.all(sends)
      const byKey = new Map<string, number>()
      for (const [i, r] of results.entries()) {
        const key = `user-${i % 40}`
        const p = byKey.get(key)
        assert.ok(p === undefined || p === r.partition, `${key} on two partitions`)
        byKey.set(key, r.partition)
      }
      // the Java console producer puts the same keys on the same partitions (murmur2)
      const javaTopic = await topicWith(5)
      cli.produce(
        javaTopic,
        [...byKey.keys()].map((k) => `${k}:x`),
      )
      for (const r of readWithKcat(javaTopic)) assert.equal(r.partition, byKey.get(r.key), r.key)
      // per partition, offsets follow send order
      const read = readWithKcat(topic)
      for (let p = 0; p < 5; p++) {
        const values = read.filter((r) => r.partition === p).map((r) => Number(r.value))
        assert.deepEqual(
          values,
          [...values].sort((a, b) => a - b),
          `partition ${p} out of order`,
        )
      }
      assert.equal(read.length, 3000)
    } finally {
      await producer.close()
    }
  })

  it('every partitioner option places records as it says', async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `key-${i}`)
    const placed = async (partitioner: ProducerOptions['partitioner']) => {
      const topic = await topicWith(4, 'partitioner')
      const producer = new Producer({ brokers: brokers(), partitioner })
      try {
        return await producer.sendBatch(keys.map((key) => ({ topic, key, value: key })))
      } finally {
        await producer.close()
      }
    }
    const crc = await placed('crc32')
    for (const [i, m] of crc.entries()) assert.equal(m.partition, zlib.crc32(keys[i]) % 4)
    const fnv = await placed('hash')
    for (const [i, m] of fnv.entries()) assert.equal(m.partition, hashPartition(keys[i], 4))
    const rr = await placed('round-robin')
    assert.deepEqual(
      [0, 1, 2, 3].map((p) => rr.filter((m) => m.partition === p).length),
      [15, 15, 15, 15],
    )
    const least = await placed('least-bytes')
    assert.equal(new Set(least.map((m) => m.partition)).size, 4)
    const custom = await placed((record) => (record.key!.toString().endsWith('7') ? 3 : 0))
    for (const [i, m] of custom.entries()) assert.equal(m.partition, keys[i].endsWith('7') ? 3 : 0)
  })

  it('acks none, leader and all; publish reports through callback and events; sendJSON', async () => {
    const topic = await topicWith(1)
    for (const acks of ['none', 'leader', 'all'] as const) {
      const producer = new Producer({ brokers: brokers(), acks })
      try {
        const m = await producer.send({ topic, value: `acks=${acks}` })
        if (acks === 'none') assert.equal(m.offset, -1n)
        else assert.ok(m.offset >= 0n)
        await producer.sendJSON(topic, { acks, n: 1 }, { key: 'json' })
        const delivered = await new Promise<bigint>((resolve, reject) => {
          producer.publish({ topic, value: 'published' }, (error, metadata) =>
            error ? reject(error) : resolve(metadata!.offset),
          )
        })
        if (acks !== 'none') assert.ok(delivered > m.offset)
        const event = new Promise((resolve) => producer.once('delivery', resolve))
        producer.publish({ topic, value: 'published-event' })
        assert.ok(await event)
      } finally {
        await producer.close()
      }
    }
    const values = readWithKcat(topic).map((r) => r.value)
    for (const acks of ['none', 'leader', 'all']) {
      assert.ok(values.includes(`acks=${acks}`), acks)
      assert.ok(values.includes(JSON.stringify({ acks, n: 1 })), acks)
    }
  })

  it('flush() on a fresh producer waits for records still waiting for metadata', async () => {
    const topic = await topicWith(2)
    const producer = new Producer({ brokers: brokers() })
    let delivered = 0
    for (let i = 0; i < 1000; i++) producer.publish({ topic, value: String(i) }, (error) => void (error || delivered++))
    await producer.flush()
    assert.equal(delivered, 1000)
    await producer.close()
  })

  it('a publish callback or delivery listener that throws is logged; the rest of its batch is still reported', async () => {
    const topic = await topicWith(1)
    const logged: string[] = []
    const logger = { error: (fields: { err: Error }) => void logged.push(fields.err.message) }
    const producer = new Producer({ brokers: brokers(), logger, batch: { lingerMs: 50 } })
    try {
      const listenerThrows = () => {
        throw new Error('listener threw')
      }
      producer.on('delivery', listenerThrows)
      const offsets: bigint[] = []
      for (let i = 0; i < 10; i++) {
        producer.publish({ topic, value: String(i) }, (error, metadata) => {
          if (error) throw error
          offsets.push(metadata!.offset)
          if (i % 3 === 0) throw new Error(`callback ${i} threw`)
        })
      }
      // a send in the same batch as the throwing callbacks settles too
      const last = await within(
        'the send after the throwing callbacks',
        producer.send({ topic, value: 'last' }),
        10_000,
      )
      assert.deepEqual(
        offsets,
        [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n].map((o) => o + last.offset - 10n),
      )
      producer.off('delivery', listenerThrows)
      // every published record reached its callback and the listener, whichever threw before
      assert.equal(logged.filter((m) => m.startsWith('callback')).length, 4, logged.join())
      assert.equal(logged.filter((m) => m === 'listener threw').length, 10, logged.join())
    } finally {
      await producer.close()
    }
  })

  it('a record over the size limit fails alone; the others are written', async () => {
    const topic = await topicWith(1)
    const producer = new Producer({ brokers: brokers(), batch: { lingerMs: 20 } })
    try {
      const results = await Promise.allSettled([
        producer.send({ topic, value: 'before' }),
        producer.send({ topic, value: Buffer.alloc(2 * 1024 * 1024) }),
        producer.send({ topic, value: 'after' }),
      ])
      assert.equal(results[0].status, 'fulfilled')
      assert.equal(results[2].status, 'fulfilled')
      assert.equal(results[1].status, 'rejected')
      const error = (results[1] as PromiseRejectedResult).reason
      assert.ok(error instanceof KafkaError && error.type === 'MESSAGE_TOO_LARGE', String(error))
      // sendBatch: a bad record rejects the call with its typed error; the good ones are still written
      await assert.rejects(
        producer.sendBatch([
          { topic, value: 'batch-1' },
          { topic, value: 42 as never },
          { topic, value: 'batch-3' },
        ]),
        /record.value/,
      )
      await producer.flush()
      assert.deepEqual(await producer.sendBatch([]), [])
      assert.deepEqual(
        readWithKcat(topic).map((r) => r.value),
        ['before', 'after', 'batch-1', 'batch-3'],
      )
      // bad input from the caller is a typed error, never a crash
      await assert.rejects(producer.send({ topic, value: 42 as never }), /record.value/)
      await assert.rejects(producer.send({ topic: 'bad topic!', value: 'x' }), /topic/)
      // a partition the topic does not have: the record fails and gives back its buffer memory
      await assert.rejects(
        producer.send({ topic, partition: 3, value: 'x' }),
        (e) => e instanceof KafkaError && e.type === 'UNKNOWN_TOPIC_OR_PARTITION',
      )
      await producer.flush()
      assert.equal(producer.stats().bufferUsed, 0)
    } finally {
      await producer.close()
    }
  })

  describe('while the broker is unreachable', () => {
    let proxy: FaultProxy | undefined
    before(async () => {
      proxy = await FaultProxy.start({ listenPort: SINGLE.proxy, targetPort: SINGLE.proxied })
    })
    after(() => proxy?.close())
    const unreachable = () => {
      proxy!.resetAll()
      proxy!.refuse()
    }

    it('keeps memory bounded, blocks then times out, and delivers everything accepted once it is back', async () => {
      const topic = await topicWith(2, 'backpressure')
      const producer = new Producer({
        brokers: [`127.0.0.1:${SINGLE.proxy}`],
        bufferMemory: 64 * 1024,
        maxBlockMs: 1500,
        retry: { initialDelayMs: 50, maxDelayMs: 200 },
        connectTimeoutMs: 1000,
      })
      try {
        await producer.send({ topic, value: 'first' })
        unreachable()
        const accepted: Promise<unknown>[] = []
        let timedOut = 0
        let peak = 0
        for (let i = 0; i < 2000; i++) {
          const p = producer.send({ topic, key: String(i), value: Buffer.alloc(200, i % 256) })
          p.catch((e) => {
            if (e instanceof TimeoutError) timedOut++
          })
          accepted.push(p)
          peak = Math.max(peak, producer.stats().bufferUsed)
        }
        // sends beyond the buffer wait maxBlockMs (1.5 s), then fail with a TimeoutError
        await waitFor('sends beyond the buffer to time out', () => {
          peak = Math.max(peak, producer.stats().bufferUsed)
          return timedOut > 0
        })
        assert.ok(peak <= 64 * 1024 + 1024, `buffer grew to ${peak} bytes`)
        await proxy!.accept()
        const settled = await Promise.allSettled(accepted)
        const delivered = settled.filter((s) => s.status === 'fulfilled').length
        assert.ok(delivered > 0, 'nothing delivered after the broker came back')
        assert.equal(delivered + timedOut, 2000)
        // idempotence: every delivered record is in the log exactly once
        const keys = readWithKcat(topic)
          .map((r) => r.key)
          .filter((k) => k !== '')
        assert.equal(keys.length, delivered)
        assert.equal(new Set(keys).size, delivered)
      } finally {
        await producer.close()
      }
    })

    it('close() settles within the delivery timeout in a black hole, every send rejected with a TimeoutError', async () => {
      const topic = await topicWith(3, 'close-blackhole')
      const requestTimeoutMs = 2000
      const deliveryTimeoutMs = 3000
      const producer = new Producer({
        brokers: [`127.0.0.1:${SINGLE.proxy}`],
        acks: 'all',
        idempotent: true,
        requestTimeoutMs,
        deliveryTimeoutMs,
        connectTimeoutMs: 1000,
        retry: { initialDelayMs: 50, maxDelayMs: 200 },
      })
      try {
        await producer.send({ topic, value: 'first' })
        proxy!.setMode('hold')
        const outcomes: unknown[] = []
        for (let i = 0; i < 500; i++) {
          producer.send({ topic, key: `k${i}`, value: String(i) }).then(
            (metadata) => outcomes.push(metadata),
            (error: unknown) => outcomes.push(error),
          )
        }
        const started = Date.now()
        // a request already written when its batch expires gets its own timeout; then close() drops the connections
        const bound = deliveryTimeoutMs + requestTimeoutMs + 1000
        await within('close() in a black hole', producer.close(), bound + 5000)
        const took = Date.now() - started
        assert.ok(took <= bound, `close() took ${took} ms (bound ${bound} ms)`)
        await waitFor('every send() to settle', () => outcomes.length === 500, { timeoutMs: 1000 })
        const untimely = outcomes.filter((o) => !(o instanceof TimeoutError))
        assert.deepEqual(untimely, [], 'every send in the black hole failed with a TimeoutError')
      } finally {
        proxy!.setMode('pass')
        await producer.close()
      }
    })

    it('retries through dropped connections without duplicates or reordering (idempotent)', async () => {
      const topic = await topicWith(3, 'retries')
      const producer = new Producer({
        brokers: [`127.0.0.1:${SINGLE.proxy}`],
        batch: { maxMessages: 100, lingerMs: 2 },
        retry: { initialDelayMs: 20, maxDelayMs: 200 },
      })
      try {
        const sends: Promise<unknown>[] = []
        for (let round = 0; round < 5; round++) {
          const first = sends.length
          for (let i = 0; i < 2000; i++) {
            const n = round * 2000 + i
            sends.push(producer.send({ topic, key: `k${n % 30}`, value: String(n) }))
          }
          // once the first acks arrive, the rest is in flight or queued: drop every connection
          await sends[first]
          unreachable()
          await new Promise((r) => setTimeout(r, 100))
          await proxy!.accept()
        }
        await Promise.all(sends)
        const read = readWithKcat(topic)
        assert.equal(read.length, 10_000, 'every record exactly once')
        assert.equal(new Set(read.map((r) => r.value)).size, 10_000)
        for (let p = 0; p < 3; p++) {
          const values = read.filter((r) => r.partition === p).map((r) => Number(r.value))
          assert.deepEqual(
            values,
            [...values].sort((a, b) => a - b),
            `partition ${p} reordered`,
          )
        }
        assert.ok(producer.stats().retries > 0, 'the dropped connections caused retries')
      } finally {
        await producer.close()
      }
    })
  })
})
