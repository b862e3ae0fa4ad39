// Every codec through the installed package: the producer compresses a batch with keys and headers,
// a consumer without a group reads it back byte for byte, and the admin client cleans up.

import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Admin, Consumer, type Message, Producer } from 'kafkax'
import { brokers, uniqueTopic, waitFor } from './smoke.ts'

const admin = new Admin({ brokers: brokers() })
const topics: string[] = []
after(async () => {
  if (topics.length > 0) await admin.deleteTopics(topics)
  await admin.close()
})

describe('produce and consume', () => {
  for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`round-trips a ${compression} batch`, async () => {
      const topic = uniqueTopic(compression)
      topics.push(topic)
      await admin.createTopics([{ topic, partitions: 1, replicationFactor: 1 }])
      const producer = new Producer({ brokers: brokers(), compression, batch: { lingerMs: 20 } })
      const records = Array.from({ length: 200 }, (_, i) => ({
        topic,
        key: `key-${i % 7}`,
        value: `${compression} record ${i} `.repeat(10),
        headers: [{ key: 'n', value: String(i) }],
      }))
      const sent = await producer.sendBatch(records)
      await producer.close()
      assert.deepEqual(
        sent.map((m) => m.offset),
        records.map((_, i) => BigInt(i)),
      )

      const consumer = new Consumer({ brokers: brokers(), assign: [{ topic, partition: 0, offset: 0n }] })
      const received: Message[] = []
      const running = consumer.run((message) => {
        received.push(message)
      })
      try {
        await waitFor(`${records.length} ${compression} records`, () => received.length >= records.length)
      } finally {
        await consumer.stop()
        await running
      }
      assert.equal(received.length, records.length)
      received.forEach((m, i) => {
        assert.equal(m.offset, BigInt(i))
        assert.equal(m.key?.toString(), records[i].key)
        assert.equal(m.value?.toString(), records[i].value)
        assert.equal(m.header('n')?.toString(), String(i))
      })
    })
  }
})
