// One producer run in its own process: `node --import tsx bench/clients/produce.ts <client> '<case json>'`.
// Prints one JSON line (see common.ts). Modes:
//   publish    kafkax only: publish(record, callback) per record, no promise per record, at most WINDOW awaiting acks
//   batch      arrays of CHUNK records per call (kafkax sendBatch, kafkajs/kafkax-kafkajs/platformatic/confluent send), IN_FLIGHT calls at once
//   single     one record per send() call, promise per record, SINGLE_WINDOW calls in flight
//   sequential awaited sends one after another: the round trip
//   rate       `rate` records/s for `seconds`, latency from send to ack of every record

import { confluent as confluentPackage } from '../lib/confluent.ts'
import { client, kafkajsWithCodecs, kafkaNumberAcks, paced, report, require, spec, timed, values } from './common.ts'
import { kafkaxBuild } from './kafkax.ts'
import { kafkaxKafkajs } from './kafkax-kafkajs.ts'

const WINDOW = 100_000
const SINGLE_WINDOW = 1000
const IN_FLIGHT = 5
const CHUNK = Math.max(1, Math.floor(spec.batchBytes / (spec.size + 20)))
const WARMUP = 100
const latencies: number[] = []
const value = (i: number) => values[i % values.length]

/** A client as this file drives it: one record, an array of records, or pipelined records with a callback. */
interface Driver {
  send(i: number): Promise<unknown>
  sendMany(from: number, n: number): Promise<unknown>
  /** Fire and forget with a completion callback (kafkax publish); others wrap send(). */
  publish?(i: number, done: (error: Error | null) => void): void
  close(): Promise<void>
}

async function kafkax(): Promise<Driver> {
  const { Producer } = await kafkaxBuild()
  const producer = new Producer({
    brokers: spec.brokers,
    acks: spec.acks,
    compression: spec.compression,
    batch: { maxBytes: spec.batchBytes, lingerMs: spec.lingerMs, maxMessages: 1_000_000 },
    bufferMemory: 64 * 1024 * 1024,
  })
  const topic = spec.topic
  return {
    send: (i) => producer.send({ topic, value: value(i) }),
    sendMany: (from, n) => producer.sendBatch(Array.from({ length: n }, (_, k) => ({ topic, value: value(from + k) }))),
    publish: (i, done) => producer.publish({ topic, value: value(i) }, done),
    close: () => producer.close(),
  }
}

/** kafkajs's producer; with `module`, the same code on another kafkajs-compatible module (kafkax/kafkajs). */
function kafkajs(module?: unknown): Driver {
  const { kafkajs, compression } = kafkajsWithCodecs(module)
  const kafka = new kafkajs.Kafka({ brokers: spec.brokers, logLevel: kafkajs.logLevel.NOTHING })
  const producer = kafka.producer({ idempotent: spec.acks === 'all', maxInFlightRequests: IN_FLIGHT })
  const connected = producer.connect()
  const topic = spec.topic
  const acks = kafkaNumberAcks
  return {
    send: async (i) => {
      await connected
      return producer.send({ topic, acks, compression, messages: [{ value: value(i) }] })
    },
    sendMany: (from, n) =>
      producer.send({
        topic,
        acks,
        compression,
        messages: Array.from({ length: n }, (_, k) => ({ value: value(from + k) })),
      }),
    close: () => producer.disconnect(),
  }
}

function platformatic(): Driver {
  const { Producer: PProducer } = require('@platformatic/kafka')
  const producer = new PProducer({
    clientId: 'bench',
    bootstrapBrokers: spec.brokers,
    acks: kafkaNumberAcks,
    // idempotent with acks=all, as the other clients (1.35 failed concurrent idempotent sends; 2.12 does not)
    idempotent: kafkaNumberAcks === -1,
    compression: spec.compression,
  })
  const topic = spec.topic
  return {
    send: (i) => producer.send({ messages: [{ topic, value: value(i) }] }),
    sendMany: (from, n) =>
      producer.send({ messages: Array.from({ length: n }, (_, k) => ({ topic, value: value(from + k) })) }),
    close: () => producer.close(),
  }
}

/** @confluentinc/kafka-javascript's KafkaJS-style API with librdkafka's own settings (bench/lib/confluent.ts). */
function confluent(): Driver {
  const { KafkaJS } = confluentPackage()
  const producer = new KafkaJS.Kafka({}).producer({
    'bootstrap.servers': spec.brokers.join(','),
    acks: kafkaNumberAcks,
    'enable.idempotence': spec.acks === 'all',
    'compression.codec': spec.compression,
    'linger.ms': spec.lingerMs,
    'batch.size': spec.batchBytes,
    'batch.num.messages': 1_000_000,
    'queue.buffering.max.kbytes': 65536,
  })
  const connected = producer.connect()
  const topic = spec.topic
  return {
    send: async (i) => {
      await connected
      return producer.send({ topic, messages: [{ value: value(i) }] })
    },
    sendMany: async (from, n) => {
      await connected
      return producer.send({ topic, messages: Array.from({ length: n }, (_, k) => ({ value: value(from + k) })) })
    },
    close: () => producer.disconnect(),
  }
}

/** Sends every record through `publish`, keeping at most `window` unacknowledged. */
async function pipelined(publish: (i: number, done: (error: Error | null) => void) => void, window: number) {
  let outstanding = 0
  let failure: Error | null = null
  let wake: (() => void) | undefined
  // one shared callback: no closure per record
  const done = (error: Error | null) => {
    if (error) failure = error
    outstanding--
    if (wake && outstanding <= window / 2) {
      wake()
      wake = undefined
    }
  }
  for (let i = 0; i < spec.records; i++) {
    outstanding++
    publish(i, done)
    if (outstanding >= window) await new Promise<void>((resolve) => (wake = resolve))
  }
  while (outstanding > 0) await new Promise<void>((resolve) => (wake = resolve))
  if (failure) throw failure
}

/** sendMany over all records in chunks, IN_FLIGHT calls at a time. */
async function chunked(d: Driver) {
  let next = 0
  const worker = async () => {
    while (next < spec.records) {
      const n = Math.min(CHUNK, spec.records - next)
      next += n
      await d.sendMany(next - n, n)
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
}

const drivers: Record<string, () => Driver | Promise<Driver>> = {
  kafkax,
  kafkajs: () => kafkajs(),
  'kafkax-kafkajs': async () => kafkajs(await kafkaxKafkajs()),
  platformatic,
  confluent,
}
const d = await drivers[client]()
const viaPromise = (i: number, done: (error: Error | null) => void) =>
  void d.send(i).then(
    () => done(null),
    (error) => done(error),
  )
const latencyMode = spec.mode === 'sequential' || spec.mode === 'rate'
// connect, fetch metadata and (for latency cases) warm the JIT before timing
for (let i = 0; i < (latencyMode ? WARMUP : 1); i++) await d.send(i)

let records = spec.records
const figures = await timed(async () => {
  if (spec.mode === 'publish') await pipelined(d.publish!, WINDOW)
  else if (spec.mode === 'single') await pipelined(viaPromise, SINGLE_WINDOW)
  else if (spec.mode === 'batch') await chunked(d)
  else if (spec.mode === 'sequential') {
    for (let i = 0; i < records; i++) {
      const sent = performance.now()
      await d.send(i)
      latencies.push(performance.now() - sent)
    }
  } else if (spec.mode === 'rate') {
    const acked: Promise<unknown>[] = []
    await paced((i) => {
      const sent = performance.now()
      acked.push(d.send(i).then(() => latencies.push(performance.now() - sent)))
    })
    await Promise.all(acked)
    records = acked.length
  } else throw new Error(`unknown mode ${spec.mode}`)
})
await d.close()
report({ ...figures, records, latencies })
