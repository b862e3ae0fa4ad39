// npm run demo: an order pipeline on a real broker. Starts the local Kafka (unless KAFKA_BROKERS names
// one), creates a topic, produces a stream of order events with the kafkax Producer while a consumer
// group handles them with the retry and dead-letter middleware (a few poison orders take the DLQ
// path), shows live progress, and ends with a summary. Ctrl-C stops cleanly at any time.
// Without Java (the real broker needs it), or with KAFKAX_DEMO_BROKER=fake, it runs on the fake
// cluster of kafkax/testing in this process instead, and says so.
//
//   npm run demo [-- --events 20000 --rate 0]     (--rate: events per second, 0 = as fast as possible)

import { spawnSync } from 'node:child_process'
import { parseArgs } from 'node:util'
import { Admin, Consumer, loadConfig, type Message, Producer } from '../src/index.ts'
import { FakeCluster } from '../src/testing/index.ts'
import { release, startSingle } from './kafka/harness.ts'
import { onNode24 } from './runtime-fetch.ts'

onNode24()

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: process.env.DEMO_EVENTS ?? '20000' },
    rate: { type: 'string', default: '0' },
  },
})
const EVENTS = Number(args.events)
const RATE = Number(args.rate)
const POISON_EVERY = 997

/** Where the demo runs: the brokers named, else the local Kafka when Java is there, else the fake cluster. */
async function target(): Promise<{ brokers: string; fake?: FakeCluster; banner: string }> {
  if (process.env.KAFKA_BROKERS)
    return { brokers: process.env.KAFKA_BROKERS, banner: `Kafka at ${process.env.KAFKA_BROKERS}` }
  const forced = process.env.KAFKAX_DEMO_BROKER === 'fake'
  if (forced || spawnSync('java', ['-version'], { stdio: 'ignore' }).status !== 0) {
    const fake = await FakeCluster.start()
    const why = forced ? 'KAFKAX_DEMO_BROKER=fake' : 'Java was not found, so no real Kafka can start'
    const brokers = fake.bootstrap.join(',')
    return {
      brokers,
      fake,
      banner: `${why}: running on the fake cluster of kafkax/testing (in this process) at ${brokers}`,
    }
  }
  const { bootstrap } = await startSingle()
  return { brokers: bootstrap, banner: `Kafka ${release().version} at ${bootstrap}` }
}

const { brokers, fake, banner } = await target()
// The same configuration path users take: built-in defaults < kafkax.yaml < KAFKA_* < code.
const config = loadConfig({ overrides: { common: { brokers: brokers.split(','), clientId: 'kafkax-demo' } } })
const run = Date.now().toString(36)
const topic = `demo-orders-${run}`
const dlqTopic = `${topic}-dlq`

const admin = new Admin(config.admin)
await admin.createTopics([
  { topic, partitions: 6, replicationFactor: 1 },
  { topic: dlqTopic, partitions: 1, replicationFactor: 1 },
])
console.log(`${banner}: topic ${topic}, DLQ ${dlqTopic}`)

const CUSTOMERS = ['ada', 'grace', 'linus', 'margaret', 'ken', 'barbara', 'dennis', 'frances']
const ITEMS = ['keyboard', 'monitor', 'mouse', 'laptop', 'headset', 'dock', 'cable', 'webcam']

function order(i: number) {
  const customer = CUSTOMERS[i % CUSTOMERS.length]
  return {
    id: `order-${run}-${i}`,
    customer,
    item: ITEMS[(i * 7) % ITEMS.length],
    quantity: 1 + (i % 4),
    amountCents: 999 + ((i * 7919) % 50_000),
    // a poison order: the handler rejects it every time, so it ends in the dead-letter topic
    currency: i % POISON_EVERY === POISON_EVERY - 1 ? 'XXX' : 'EUR',
    createdAt: Date.now(),
  }
}

const producer = new Producer({ ...config.producer, compression: 'lz4' })
const consumer = new Consumer({
  ...config.consumer,
  groupId: `demo-${run}`,
  topics: [topic],
  fromBeginning: true,
  concurrency: 4,
  retry: { maxRetries: 2, initialDelayMs: 5, maxDelayMs: 20 },
  dlq: { topic: dlqTopic },
  onError: (error) => console.error(`\n${error.message}`),
})

const latencies: number[] = []
let produced = 0
let handled = 0
let revenueCents = 0
let deadLettered = 0
let stopping = false

consumer.use((next) => async (message, context) => {
  try {
    return await next(message, context)
  } catch (error) {
    // the dead-letter middleware (outside this one) writes it once retries are exhausted
    if (context.attempt === 3) deadLettered++
    throw error
  }
})

async function handle(message: Message): Promise<void> {
  const o = JSON.parse(message.value!.toString())
  if (o.currency !== 'EUR') throw new Error(`order ${o.id}: unsupported currency ${o.currency}`)
  revenueCents += o.amountCents * o.quantity
  latencies.push(Date.now() - o.createdAt)
  handled++
}

const started = Date.now()
const consuming = consumer.run(handle)

function bar(done: number, total: number, width = 28): string {
  const full = Math.round((done / total) * width)
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`
}

const progress = setInterval(() => {
  const seconds = (Date.now() - started) / 1000
  process.stdout.write(
    `\r${bar(handled + deadLettered, EVENTS)} produced ${produced}/${EVENTS} (${Math.round(produced / seconds)}/s)  handled ${handled} (${Math.round(handled / seconds)}/s)  DLQ ${deadLettered}   `,
  )
}, 200)

async function stop() {
  if (stopping) return
  stopping = true
  clearInterval(progress)
  await producer.close()
  await consumer.stop()
  await consuming
  await admin.close()
  await fake?.stop()
}
process.once('SIGINT', () => {
  console.log('\nCtrl-C: finishing what is in flight, committing, leaving the group...')
  void stop().then(summary)
})

const interval = RATE > 0 ? 1000 / RATE : 0
for (let i = 0; i < EVENTS && !stopping; i++) {
  const o = order(i)
  producer.publish(
    { topic, key: o.customer, value: JSON.stringify(o), headers: { type: 'order-created' } },
    (error) => {
      if (error) console.error(`\nnot delivered: ${error.message}`)
      else produced++
    },
  )
  if (interval > 0) await new Promise((r) => setTimeout(r, interval))
  else if (i % 1000 === 999) await new Promise((r) => setImmediate(r))
}
await producer.flush()

while (!stopping && handled + deadLettered < EVENTS) await new Promise((r) => setTimeout(r, 50))
if (!stopping) {
  await stop()
  summary()
}

function summary() {
  const seconds = (Date.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  const stats = producer.stats()
  console.log(`\n\nSummary after ${seconds.toFixed(1)} s`)
  console.log(
    `  produced      ${produced} order events (${Math.round(produced / seconds)}/s, ${stats.batches} batches, lz4)`,
  )
  console.log(
    `  handled       ${handled} (${Math.round(handled / seconds)}/s), revenue ${(revenueCents / 100).toFixed(2)} EUR`,
  )
  console.log(`  dead-lettered ${deadLettered} poison orders (3 attempts each) -> ${dlqTopic}`)
  console.log(`  produce-to-handler latency: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`)
  const expectedPoison = Math.floor(EVENTS / POISON_EVERY)
  if (!stopping || handled + deadLettered === EVENTS) {
    const ok = handled === EVENTS - expectedPoison && deadLettered === expectedPoison
    console.log(ok ? '  every order was handled or dead-lettered exactly as expected' : '  MISMATCH: see above')
    if (!ok) process.exitCode = 1
  }
}
