// One schema-registry run in its own process: `node --import tsx bench/clients/schema-registry.ts <client> '<case json>'`
// (bench/schema-registry.ts runs them). `mode` 'produce': serialize `records` Avro records (the bench
// payload lines as objects, ~1 KB each) and produce them, until every one is acknowledged; 'consume':
// read them from the beginning in a group and deserialize each. Prints one JSON line (see common.ts).
//   kafkax   SchemaProducer.publish(record, callback) per record / Consumer + the deserializer middleware
//   kafkajs  @kafkajs/confluent-schema-registry encode() per record, arrays of ~1 MB per send(), 5 in flight /
//            consumer.run({ eachMessage }) with decode() per message

import { BENCH_SCHEMA, benchEvents } from '../lib/avro-events.ts'
import { client, kafkaNumberAcks, report, require, spec, timed } from './common.ts'
import { kafkaxBuild } from './kafkax.ts'

const registryUrl = (spec as unknown as { registry: string }).registry
const subject = `${spec.topic}-value`
const events = benchEvents(spec.size)
const event = (i: number) => events[i % events.length]
const IN_FLIGHT = 5
const CHUNK = Math.max(1, Math.floor(spec.batchBytes / (spec.size + 20)))

let count = 0
let started = 0
let firstAt = 0
let finish: () => void = () => {}
const finished = new Promise<void>((resolve) => (finish = resolve))
const seen = () => {
  if (count++ === 0) firstAt = performance.now()
  if (count === spec.records) finish()
}

async function kafkaxSchemaRegistry() {
  const dist = new URL('../../dist/schema-registry/index.js', import.meta.url)
  return (await import(dist.href)) as typeof import('../../src/schema-registry/index.ts')
}

const clients: Record<string, () => Promise<void>> = {
  async 'kafkax-produce'() {
    const [{ Producer }, { SchemaRegistry }] = await Promise.all([kafkaxBuild(), kafkaxSchemaRegistry()])
    const registry = new SchemaRegistry({ url: registryUrl })
    const producer = new Producer({
      brokers: spec.brokers,
      acks: spec.acks,
      batch: { maxBytes: spec.batchBytes, lingerMs: spec.lingerMs, maxMessages: 1_000_000 },
      bufferMemory: 64 * 1024 * 1024,
    })
    const orders = registry.producer(producer, { value: { schema: { type: 'AVRO', schema: BENCH_SCHEMA } } })
    let failed: Error | null = null
    for (let i = 0; i < spec.records; i++) {
      orders.publish({ topic: spec.topic, value: event(i) }, (error) => {
        failed ??= error
        seen()
      })
    }
    await finished
    if (failed) throw failed
    await orders.close()
    registry.close()
  },

  async 'kafkajs-produce'() {
    const kafkajs = require('kafkajs')
    const { SchemaRegistry } = require('@kafkajs/confluent-schema-registry')
    const registry = new SchemaRegistry({ host: registryUrl })
    const kafka = new kafkajs.Kafka({ brokers: spec.brokers, logLevel: kafkajs.logLevel.NOTHING })
    const producer = kafka.producer({ idempotent: spec.acks === 'all', maxInFlightRequests: IN_FLIGHT })
    await producer.connect()
    const { id } = await registry.register({ type: 'AVRO', schema: JSON.stringify(BENCH_SCHEMA) }, { subject })
    let next = 0
    const worker = async () => {
      while (next < spec.records) {
        const from = next
        const n = Math.min(CHUNK, spec.records - from)
        next += n
        const messages = await Promise.all(
          Array.from({ length: n }, async (_, k) => ({ value: await registry.encode(id, event(from + k)) })),
        )
        await producer.send({ topic: spec.topic, acks: kafkaNumberAcks, messages })
      }
    }
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
    await producer.disconnect()
  },

  async 'kafkax-consume'() {
    const [{ Consumer }, { SchemaRegistry }] = await Promise.all([kafkaxBuild(), kafkaxSchemaRegistry()])
    const registry = new SchemaRegistry({ url: registryUrl })
    const consumer = new Consumer({
      brokers: spec.brokers,
      groupId: spec.groupId,
      topics: [spec.topic],
      fromBeginning: true,
      fetch: { maxWaitMs: 500 },
    })
    consumer.use(registry.deserializer())
    const running = consumer.run((message) => {
      if ((message.value as unknown as { id?: number }).id === undefined) throw new Error('not decoded')
      seen()
    })
    await finished
    await consumer.stop()
    await running
    registry.close()
  },

  async 'kafkajs-consume'() {
    const kafkajs = require('kafkajs')
    const { SchemaRegistry } = require('@kafkajs/confluent-schema-registry')
    const registry = new SchemaRegistry({ host: registryUrl })
    const kafka = new kafkajs.Kafka({ brokers: spec.brokers, logLevel: kafkajs.logLevel.NOTHING })
    const consumer = kafka.consumer({ groupId: spec.groupId, maxWaitTimeInMs: 500 })
    await consumer.connect()
    await consumer.subscribe({ topic: spec.topic, fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ message }: { message: { value: Buffer } }) => {
        const value = await registry.decode(message.value)
        if (value.id === undefined) throw new Error('not decoded')
        seen()
      },
    })
    await finished
    await consumer.disconnect()
  },
}

const run = clients[`${client}-${spec.mode}`]
if (!run) throw new Error(`unknown client ${client} for mode ${spec.mode}`)
started = performance.now()
const { seconds, cpuSeconds } = await timed(run)
// until the first acknowledgement or record: registration, connections, metadata, the group join
report({ seconds, cpuSeconds, records: spec.records, extra: { firstRecordMs: firstAt - started } })
