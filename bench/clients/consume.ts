// One consumer run in its own process: `node --import tsx bench/clients/consume.ts <client> '<case json>'`.
// Reads `records` records of a pre-filled topic from the beginning, touching every value, and prints
// one JSON line (see common.ts). The clock starts before the consumer is created, so joining the
// group is included, as in ConsumerPerformance's records/sec; `firstRecordMs` says how long that took.
//   kafkax       the Consumer: run(handler) in a group, one handler call per message
//   kafkax-raw   the Fetcher alone: assigned partitions, no group, no handler, batches as fetched
//   kafkax-iterator  the Consumer's iterator form: for await (const message of consumer)
//   kafkajs      consumer.run({ eachMessage }) in a group
//   kafkajs-batch    consumer.run({ eachBatch }) in a group
//   kafkax-kafkajs, kafkax-kafkajs-batch   the same two on kafkax/kafkajs (only the module differs)
//   platformatic consumer.consume() stream in a group, one 'data' event per message
//   confluent    @confluentinc/kafka-javascript's KafkaJS-style consumer.run({ eachMessage }) in a group

import { confluent as confluentPackage } from '../lib/confluent.ts'
import { client, kafkajsWithCodecs, report, require, spec, timed } from './common.ts'
import { kafkaxBuild } from './kafkax.ts'
import { kafkaxKafkajs } from './kafkax-kafkajs.ts'

const PARTITIONS = 6
const MAX_WAIT_MS = 500
let count = 0
let bytes = 0
let firstAt = 0
let started = 0
let finish: () => void = () => {}
const finished = new Promise<void>((resolve) => (finish = resolve))
const seen = (value: Buffer | null) => {
  if (count++ === 0) firstAt = performance.now()
  bytes += value?.length ?? 0
  if (count === spec.records) finish()
}

const clients: Record<string, () => Promise<void>> = {
  async kafkax() {
    const { Consumer } = await kafkaxBuild()
    const consumer = new Consumer({
      brokers: spec.brokers,
      groupId: spec.groupId,
      topics: [spec.topic],
      fromBeginning: true,
      fetch: { maxWaitMs: MAX_WAIT_MS },
    })
    const running = consumer.run((message) => seen(message.value))
    await finished
    await consumer.stop()
    await running
  },
  async 'kafkax-iterator'() {
    const { Consumer } = await kafkaxBuild()
    const consumer = new Consumer({
      brokers: spec.brokers,
      groupId: spec.groupId,
      topics: [spec.topic],
      fromBeginning: true,
      fetch: { maxWaitMs: MAX_WAIT_MS },
    })
    for await (const message of consumer) {
      seen(message.value)
      if (count === spec.records) break
    }
  },
  async 'kafkax-raw'() {
    const { Cluster, Fetcher } = await kafkaxBuild()
    const cluster = new Cluster({ brokers: spec.brokers })
    const fetcher = new Fetcher(cluster, { resetPolicy: 'earliest', maxWaitMs: MAX_WAIT_MS })
    fetcher.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: spec.topic, partition })))
    while (count < spec.records) for (const m of (await fetcher.next()).messages) seen(m.value)
    await fetcher.close()
    await cluster.close()
  },
  kafkajs: () => kafkajsEachMessage(),
  'kafkajs-batch': () => kafkajsEachBatch(),
  'kafkax-kafkajs': async () => kafkajsEachMessage(await kafkaxKafkajs()),
  'kafkax-kafkajs-batch': async () => kafkajsEachBatch(await kafkaxKafkajs()),
  async confluent() {
    const { KafkaJS } = confluentPackage()
    const consumer = new KafkaJS.Kafka({}).consumer({
      'bootstrap.servers': spec.brokers.join(','),
      'group.id': spec.groupId,
      'auto.offset.reset': 'earliest',
      'fetch.wait.max.ms': MAX_WAIT_MS,
    })
    await consumer.connect()
    await consumer.subscribe({ topics: [spec.topic] })
    await consumer.run({
      eachMessage: async ({ message }: { message: { value: Buffer | null } }) => seen(message.value),
    })
    await finished
    await consumer.disconnect()
  },
  async platformatic() {
    const { Consumer: PConsumer } = require('@platformatic/kafka')
    const consumer = new PConsumer({
      clientId: 'bench',
      groupId: spec.groupId,
      bootstrapBrokers: spec.brokers,
      maxWaitTime: MAX_WAIT_MS,
    })
    const stream = await consumer.consume({ topics: [spec.topic], mode: 'earliest' })
    stream.on('data', (message: { value: Buffer | null }) => seen(message.value))
    await finished
    await stream.close()
    await consumer.close(true)
  },
}

/** A kafkajs consumer of the topic, from its beginning; `module` is kafkajs, or kafkax/kafkajs. */
async function kafkajsConsumer(module?: unknown) {
  const { Kafka, logLevel } = kafkajsWithCodecs(module).kafkajs
  const consumer = new Kafka({ brokers: spec.brokers, logLevel: logLevel.NOTHING }).consumer({
    groupId: spec.groupId,
    maxWaitTimeInMs: MAX_WAIT_MS,
  })
  await consumer.connect()
  await consumer.subscribe({ topic: spec.topic, fromBeginning: true })
  return consumer
}

async function kafkajsEachMessage(module?: unknown) {
  const consumer = await kafkajsConsumer(module)
  await consumer.run({
    eachMessage: async ({ message }: { message: { value: Buffer | null } }) => seen(message.value),
  })
  await finished
  await consumer.disconnect()
}

async function kafkajsEachBatch(module?: unknown) {
  const consumer = await kafkajsConsumer(module)
  await consumer.run({
    eachBatch: async ({ batch }: { batch: { messages: { value: Buffer | null }[] } }) => {
      for (const message of batch.messages) seen(message.value)
    },
  })
  await finished
  await consumer.disconnect()
}

let lastAt = 0
const figures = await timed(async () => {
  started = performance.now()
  const done = clients[client]()
  await Promise.race([finished, done])
  lastAt = performance.now()
  await done
})
if (count < spec.records) throw new Error(`read ${count} of ${spec.records} records`)
// the clock stops at the last record, not after the client's shutdown
const seconds = (lastAt - started) / 1000
report({
  ...figures,
  seconds,
  records: spec.records,
  extra: {
    firstRecordMs: firstAt - started,
    afterFirstRecordsPerSec: spec.records / ((lastAt - firstAt) / 1000),
    bytes,
  },
})
