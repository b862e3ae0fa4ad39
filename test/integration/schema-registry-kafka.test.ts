// Schema-registry serdes through the real broker: a SchemaProducer writes typed records in each format,
// a Consumer with the deserializer middleware reads them decoded; a v2 schema evolves a topic that
// a v2 reader consumes from the beginning; an incompatible change is refused at registration; bytes
// that do not decode go to the dead-letter topic untouched while the partition moves on.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Admin } from '../../src/admin/admin.ts'
import { Consumer, type ConsumerOptions } from '../../src/consumer/consumer.ts'
import type { Handler, Message } from '../../src/consumer/message.ts'
import { Producer } from '../../src/producer/producer.ts'
import {
  type DecodedMessage,
  decoded,
  IncompatibleSchemaError,
  type Schema,
  SchemaRegistry,
  SerializationError,
} from '../../src/schema-registry/index.ts'
import { brokers, uniqueTopic } from '../helpers/kafka.ts'
import { registryUrl } from '../helpers/registry.ts'
import { waitFor } from '../helpers/wait.ts'

const plain = (value: unknown) => JSON.parse(JSON.stringify(value))

const orderV1 = {
  type: 'record',
  name: 'OrderPlaced',
  namespace: 'kafkax.it',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'cents', type: 'long' },
  ],
}
const orderV2 = { ...orderV1, fields: [...orderV1.fields, { name: 'channel', type: 'string', default: 'web' }] }

const FORMATS: { type: NonNullable<Schema['type']>; schema: Schema; value: (i: number) => unknown }[] = [
  { type: 'AVRO', schema: { type: 'AVRO', schema: orderV1 }, value: (i) => ({ orderId: `o-${i}`, cents: i * 100 }) },
  {
    type: 'JSON',
    schema: {
      type: 'JSON',
      schema: {
        title: 'OrderPlaced',
        type: 'object',
        properties: { orderId: { type: 'string' }, cents: { type: 'integer' } },
        required: ['orderId', 'cents'],
      },
    },
    value: (i) => ({ orderId: `o-${i}`, cents: i * 100 }),
  },
  {
    type: 'PROTOBUF',
    schema: {
      type: 'PROTOBUF',
      schema: 'syntax = "proto3";\npackage kafkax.it;\nmessage OrderPlaced { string order_id = 1; int64 cents = 2; }\n',
    },
    value: (i) => ({ orderId: `o-${i}`, cents: String(i * 100) }),
  },
]

describe('schema registry serdes through Kafka', () => {
  const sr = new SchemaRegistry({ url: registryUrl() })
  const admin = new Admin({ brokers: brokers() })
  const producer = new Producer({ brokers: brokers(), batch: { lingerMs: 2 } })
  before(() => producer.connect())
  after(async () => {
    await producer.close()
    await admin.close()
    sr.close()
  })

  const consumer = (topic: string, options: Partial<ConsumerOptions> = {}) =>
    new Consumer({
      brokers: brokers(),
      groupId: `group-${topic}`,
      topics: [topic],
      fromBeginning: true,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1000,
      ...options,
    })

  /** Runs until `done()` (or 60 s), then stops; says what it waited for when it timed out. */
  async function consumeUntil(c: Consumer, handler: Handler, done: () => boolean, what: string) {
    const run = c.run(handler)
    try {
      await waitFor(what, done, { timeoutMs: 60_000, intervalMs: 50 })
    } finally {
      await c.stop()
      await run
    }
  }

  for (const format of FORMATS) {
    it(`${format.type}: typed records in, decoded records out, with the writer's schema`, async () => {
      const topic = uniqueTopic(`sr-${format.type.toLowerCase()}`)
      await admin.createTopics([{ topic, partitions: 2 }])
      const orders = sr.producer(producer, {
        value: { schema: format.schema },
        key: { schema: { type: 'AVRO', schema: '"string"' } },
      })
      const count = 50
      await orders.sendBatch(
        Array.from({ length: count }, (_, i) => ({ topic, key: `k-${i}`, value: format.value(i) })),
      )
      const { id } = await sr.getLatest(`${topic}-value`)
      const keySubject = await sr.getLatest(`${topic}-key`)

      const seen = new Map<string, DecodedMessage<unknown, string>>()
      const c = consumer(topic).use(sr.deserializer({ key: true }))
      await consumeUntil(
        c,
        decoded<unknown, string>((m) => {
          seen.set(m.key, m)
        }),
        () => seen.size === count,
        `${count} decoded records`,
      )
      for (let i = 0; i < count; i++) {
        const m = seen.get(`k-${i}`)!
        assert.deepEqual(plain(m.value), format.value(i))
        assert.equal(m.valueSchema?.id, id)
        assert.equal(m.valueSchema?.type, format.type)
        assert.equal(m.keySchema?.id, keySubject.id)
        assert.equal(m.raw.value?.readInt32BE(1), id)
        assert.equal(m.topic, topic)
      }
    })
  }

  it('Avro evolution: v1 and v2 records in one topic, a v2 reader reads both; an incompatible v3 is refused', async () => {
    const topic = uniqueTopic('sr-evolution')
    await admin.createTopics([{ topic, partitions: 1 }])
    await sr.register(`${topic}-value`, { schema: orderV1 })
    await sr.setCompatibility('BACKWARD', `${topic}-value`)
    const v1 = sr.producer(producer, { value: { schema: { schema: orderV1 } } })
    const v2 = sr.producer(producer, { value: { schema: { schema: orderV2 } } })
    await v1.send({ topic, value: { orderId: 'old', cents: 1 } })
    await v2.send({ topic, value: { orderId: 'new', cents: 2, channel: 'app' } })
    assert.deepEqual(await sr.getVersions(`${topic}-value`), [1, 2])

    const v3 = sr.producer(producer, {
      value: { schema: { schema: { ...orderV1, fields: [{ name: 'orderId', type: 'int' }] } } },
    })
    await assert.rejects(v3.send({ topic, value: { orderId: 3 } }), IncompatibleSchemaError)

    const values: unknown[] = []
    const c = consumer(topic).use(sr.deserializer({ readerSchema: { schema: orderV2 } }))
    await consumeUntil(
      c,
      decoded((m) => {
        values.push(plain(m.value))
      }),
      () => values.length === 2,
      'the v1 and the v2 record',
    )
    assert.deepEqual(values, [
      { orderId: 'old', cents: 1, channel: 'web' },
      { orderId: 'new', cents: 2, channel: 'app' },
    ])
  })

  it('useLatestVersion writes with the registered schema; the RecordName strategies name subjects by type', async () => {
    const topic = uniqueTopic('sr-strategies')
    await sr.register(`${topic}-value`, { schema: orderV2 })
    const locked = sr.producer(producer, { value: { useLatestVersion: true } })
    await locked.send({ topic, value: { orderId: 'x', cents: 5, channel: 'pos' } })
    assert.deepEqual(await sr.getVersions(`${topic}-value`), [1])

    const byRecord = sr.serializer({ schema: { schema: orderV1 }, subjectNameStrategy: 'TopicRecordName' })
    const bytes = await byRecord.serialize(topic, { orderId: 'y', cents: 6 })
    const subject = `${topic}-kafkax.it.OrderPlaced`
    assert.equal((await sr.getLatest(subject)).id, bytes.readInt32BE(1))
    const noRegistering = sr.serializer({ schema: { schema: orderV2 }, autoRegister: false })
    await assert.rejects(noRegistering.serialize(uniqueTopic('sr-unregistered'), {}), (e) => {
      assert.ok(e instanceof Error && 'type' in e)
      assert.equal(e.type, 'SUBJECT_NOT_FOUND')
      return true
    })
  })

  it('a value that does not fit its schema fails the send with a SerializationError; nothing is written', async () => {
    const topic = uniqueTopic('sr-bad-value')
    await admin.createTopics([{ topic, partitions: 1 }])
    const orders = sr.producer(producer, { value: { schema: { schema: orderV1 } } })
    await assert.rejects(orders.send({ topic, value: { orderId: 7 } }), SerializationError)
    const errors: Error[] = []
    await new Promise<void>((resolve) =>
      orders.publish({ topic, value: { cents: 'x' } }, (error) => {
        errors.push(error!)
        resolve()
      }),
    )
    assert.ok(errors[0] instanceof SerializationError)
    await orders.send({ topic, value: { orderId: 'fine', cents: 1 } })
    const [end] = await admin.listOffsets({ topic, partitions: [0], at: 'latest' })
    assert.equal(end.offset, 1n)
  })

  it('records that do not decode are dead-lettered with their bytes, the others handled, the offsets committed', async () => {
    const topic = uniqueTopic('sr-poison')
    const dlq = uniqueTopic('sr-poison-dlq')
    await admin.createTopics([
      { topic, partitions: 1 },
      { topic: dlq, partitions: 1 },
    ])
    const orders = sr.producer(producer, { value: { schema: { schema: orderV1 } } })
    const garbage = Buffer.from('{"orderId":"not-avro"}')
    const unknownId = Buffer.from([0, 0x7f, 0xff, 0xff, 0x01, 2, 4])
    await orders.send({ topic, value: { orderId: 'a', cents: 1 } })
    await producer.send({ topic, value: garbage })
    await producer.send({ topic, value: unknownId })
    await orders.send({ topic, value: { orderId: 'b', cents: 2 } })

    const handled: string[] = []
    const errors: unknown[] = []
    const c = consumer(topic, { retry: { maxRetries: 1, initialDelayMs: 10 }, dlq: { topic: dlq } })
    // outside the deserializer: sees what it throws
    c.use((next) => async (m, ctx) => {
      try {
        return await next(m, ctx)
      } catch (error) {
        errors.push(error)
        throw error
      }
    })
    c.use(sr.deserializer())
    await consumeUntil(
      c,
      decoded<{ orderId: string }>((m) => {
        handled.push(m.value.orderId)
      }),
      () => handled.length === 2,
      'the two good records',
    )
    assert.deepEqual(handled, ['a', 'b'])
    assert.ok(errors.length > 0 && errors.every((e) => e instanceof SerializationError), String(errors))
    const offsets = await admin.fetchCommittedOffsets(`group-${topic}`)
    assert.equal(offsets.find((o: { partition: number }) => o.partition === 0)?.offset, 4n)

    const dead: Message[] = []
    const reader = new Consumer({ brokers: brokers(), assign: [{ topic: dlq, partition: 0, offset: 0n }] })
    await consumeUntil(
      reader,
      (m) => void dead.push(m),
      () => dead.length === 2,
      'two dead-lettered records',
    )
    assert.deepEqual(
      dead.map((m) => m.value),
      [garbage, unknownId],
    )
    for (const m of dead) assert.equal(m.header('kafkax-dlq-error-name')?.toString(), 'SerializationError')
    const message = dead[1].header('kafkax-dlq-error-message')?.toString() ?? ''
    assert.match(message, new RegExp(`schema id ${unknownId.readInt32BE(1)} is unknown`))
  })

  it('batch mode: records that do not decode are dead-lettered, the rest handled in batches, the offsets committed', async () => {
    const topic = uniqueTopic('sr-poison-batch')
    const dlq = uniqueTopic('sr-poison-batch-dlq')
    await admin.createTopics([
      { topic, partitions: 1 },
      { topic: dlq, partitions: 1 },
    ])
    const orders = sr.producer(producer, { value: { schema: { schema: orderV1 } } })
    const garbage = Buffer.from('not the wire format')
    for (const id of ['a', 'b']) await orders.send({ topic, value: { orderId: id, cents: 1 } })
    await producer.send({ topic, value: garbage })
    for (const id of ['c', 'd']) await orders.send({ topic, value: { orderId: id, cents: 1 } })

    const handled: string[] = []
    const batches: number[] = []
    const c = consumer(topic, {
      batch: { size: 5, timeoutMs: 200 },
      retry: { maxRetries: 1, initialDelayMs: 10 },
      dlq: { topic: dlq },
    })
    c.useBatch(sr.batchDeserializer())
    const run = c.run(async (messages: Message[]) => {
      batches.push(messages.length)
      for (const m of messages) handled.push((m.value as unknown as { orderId: string }).orderId)
    })
    await waitFor('the four good records handled', () => handled.length === 4, {
      timeoutMs: 60_000,
      state: () => ({ handled, batches }),
    })
    await waitFor(
      'the offsets committed past the poison record',
      async () => (await admin.fetchCommittedOffsets(`group-${topic}`)).find((o) => o.partition === 0)?.offset === 5n,
      { timeoutMs: 30_000 },
    )
    await c.stop()
    await run
    assert.deepEqual(handled, ['a', 'b', 'c', 'd'], 'each good record once: a retry re-decodes only the failed one')

    const dead: Message[] = []
    const reader = new Consumer({ brokers: brokers(), assign: [{ topic: dlq, partition: 0, offset: 0n }] })
    await consumeUntil(
      reader,
      (m) => void dead.push(m),
      () => dead.length === 1,
      'the dead-lettered record',
    )
    assert.deepEqual(dead[0].value, garbage)
    assert.equal(dead[0].header('kafkax-dlq-error-name')?.toString(), 'SerializationError')
  })
})
