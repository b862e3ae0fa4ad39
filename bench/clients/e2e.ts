// End-to-end latency in one process: `node --import tsx bench/clients/e2e.ts <client> '<case json>'`.
// The client's own producer sends `rate` records/s for `seconds` to a fresh topic that its own
// consumer (in a group) reads; each value starts with its send time (performance.now(), float64),
// and the handler records now - send time. Warm-up records (send time -1) flow first until the
// consumer sees one, so joining the group is not measured. Prints one JSON line (see common.ts);
// `records` counts what arrived, `missing` what had not 15 s after the last send.

import { kafkaNumberAcks, paced, report, require, spec, timed, values } from './common.ts'
import { kafkaxBuild } from './kafkax.ts'
import { kafkaxKafkajs } from './kafkax-kafkajs.ts'

const STRAGGLER_MS = 15_000
const latencies: number[] = []
const total = Math.round(spec.rate * spec.seconds)
let warm: () => void = () => {}
const warmed = new Promise<void>((resolve) => (warm = resolve))
let finish: () => void = () => {}
const finished = new Promise<void>((resolve) => (finish = resolve))

function received(value: Buffer | null) {
  const sent = value!.readDoubleLE(0)
  if (sent < 0) return warm()
  latencies.push(performance.now() - sent)
  if (latencies.length === total) finish()
}

function stamped(i: number, at: number): Buffer {
  const value = Buffer.from(values[i % values.length])
  value.writeDoubleLE(at, 0)
  return value
}

interface Pair {
  send(value: Buffer): void
  close(): Promise<void>
}

const clients: Record<string, () => Promise<Pair>> = {
  async kafkax() {
    const { Consumer, Producer } = await kafkaxBuild()
    const producer = new Producer({
      brokers: spec.brokers,
      acks: spec.acks,
      compression: spec.compression,
      batch: { maxBytes: spec.batchBytes, lingerMs: spec.lingerMs },
    })
    const consumer = new Consumer({
      brokers: spec.brokers,
      groupId: spec.groupId,
      topics: [spec.topic],
      fromBeginning: true,
      fetch: { maxWaitMs: 500 },
    })
    const running = consumer.run((message) => received(message.value))
    return {
      send: (value) => producer.publish({ topic: spec.topic, value }),
      close: async () => {
        await Promise.all([producer.close(), consumer.stop()])
        await running
      },
    }
  },
  kafkajs: () => kafkajsPair(require('kafkajs')),
  'kafkax-kafkajs': async () => kafkajsPair(await kafkaxKafkajs()),
  async platformatic() {
    const { Producer: PProducer, Consumer: PConsumer } = require('@platformatic/kafka')
    const producer = new PProducer({
      clientId: 'bench',
      bootstrapBrokers: spec.brokers,
      acks: kafkaNumberAcks,
      // idempotent with acks=all, as the other clients (1.35 failed concurrent idempotent sends; 2.12 does not)
      idempotent: kafkaNumberAcks === -1,
    })
    const consumer = new PConsumer({
      clientId: 'bench',
      groupId: spec.groupId,
      bootstrapBrokers: spec.brokers,
      maxWaitTime: 500,
    })
    const stream = await consumer.consume({ topics: [spec.topic], mode: 'earliest' })
    stream.on('data', (message: { value: Buffer }) => received(message.value))
    return {
      send: (value) => void producer.send({ messages: [{ topic: spec.topic, value }] }),
      close: async () => {
        await stream.close()
        await Promise.all([producer.close(), consumer.close(true)])
      },
    }
  },
}

/** kafkajs's producer and consumer; `kafkajs` is kafkajs, or kafkax/kafkajs (only the module differs). */
async function kafkajsPair(kafkajs: any): Promise<Pair> {
  const { Kafka, logLevel } = kafkajs
  const kafka = new Kafka({ brokers: spec.brokers, logLevel: logLevel.NOTHING })
  const producer = kafka.producer({ idempotent: spec.acks === 'all', maxInFlightRequests: 5 })
  const consumer = kafka.consumer({ groupId: spec.groupId, maxWaitTimeInMs: 500 })
  await Promise.all([producer.connect(), consumer.connect()])
  await consumer.subscribe({ topic: spec.topic, fromBeginning: true })
  await consumer.run({ eachMessage: async ({ message }: { message: { value: Buffer } }) => received(message.value) })
  return {
    send: (value) => void producer.send({ topic: spec.topic, acks: kafkaNumberAcks, messages: [{ value }] }),
    close: async () => {
      await Promise.all([producer.disconnect(), consumer.disconnect()])
    },
  }
}

const pair = await clients[process.argv[2]]()
// warm up until a record made the whole trip (group joined, connections open)
const warming = setInterval(() => pair.send(stamped(0, -1)), 50)
await warmed
clearInterval(warming)
const figures = await timed(async () => {
  await paced((i) => pair.send(stamped(i, performance.now())))
  // a client that cannot keep up gets STRAGGLER_MS more, then is reported with what arrived
  await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, STRAGGLER_MS))])
})
const arrived = latencies.length
await pair.close()
report({ ...figures, records: arrived, latencies, extra: { sent: total, missing: total - arrived } })
