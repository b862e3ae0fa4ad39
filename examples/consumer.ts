// Consuming in a group with retries and a dead-letter topic; stops after the messages it expects.
//   KAFKA_BROKERS=127.0.0.1:9092 node --conditions=development --import tsx examples/consumer.ts
import { Admin, Consumer, logging, Producer } from 'kafkax'

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')
const topic = `example-payments-${Date.now()}`
const admin = new Admin({ brokers })
await admin.createTopics([
  { topic, partitions: 2 },
  { topic: `${topic}-dlq`, partitions: 1 },
])
const producer = new Producer({ brokers })
await producer.sendBatch([1, 2, 3, 4, 5].map((n) => ({ topic, key: `k${n}`, value: String(n) })))
await producer.close()

const consumer = new Consumer({
  brokers,
  groupId: `example-${topic}`,
  topics: [topic],
  fromBeginning: true,
  concurrency: 2,
  retry: { maxRetries: 2, initialDelayMs: 10 },
  dlq: { topic: `${topic}-dlq` },
})
consumer.use(
  logging({
    info: () => {},
    error: (o: { err?: Error; attempt?: number }) => console.log(`attempt ${o.attempt} failed: ${o.err?.message}`),
  }),
)

let seen = 0
await consumer.run(async (message) => {
  seen++
  if (message.value?.toString() === '3') throw new Error('payment 3 is invalid') // -> retried, then DLQ
  console.log(`payment ${message.value} from ${message.topic}-${message.partition}@${message.offset}`)
  if (seen >= 7) void consumer.stop() // 5 messages + 2 retries of the poison one
})
console.log('stopped; offsets committed:', (await admin.fetchCommittedOffsets(`example-${topic}`)).length > 0)
await admin.deleteTopics([topic, `${topic}-dlq`])
await admin.close()
