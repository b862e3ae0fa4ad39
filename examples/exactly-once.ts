// Consume-transform-produce exactly once: orders in, one enriched record per order out, committed
// with the input offsets in transactions; a poison order goes to the dead-letter topic in the same
// transaction. Reads the output back with read_committed.
//   KAFKA_BROKERS=127.0.0.1:9092 node --conditions=development --import tsx examples/exactly-once.ts
import { Admin, Consumer, Producer } from 'kafkax'

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')
const orders = `example-orders-${Date.now()}`
const enriched = `${orders}-enriched`
const admin = new Admin({ brokers })
await admin.createTopics([
  { topic: orders, partitions: 2 },
  { topic: enriched, partitions: 2 },
  { topic: `${orders}-dlq`, partitions: 1 },
])
const plain = new Producer({ brokers })
await plain.sendBatch([1, 2, 3, 4, 5].map((n) => ({ topic: orders, key: `o-${n}`, value: String(n * 250) })))
await plain.close()

// one transactional producer per consumer instance; a stable id lets a restart fence its predecessor
const producer = new Producer({ brokers, transactionalId: `example-enricher-${orders}` })
const consumer = new Consumer({
  brokers,
  groupId: `example-${orders}`,
  topics: [orders],
  fromBeginning: true,
  retry: { maxRetries: 1, initialDelayMs: 10 },
  dlq: { topic: `${orders}-dlq` },
  exactlyOnce: { producer },
})
const committed = async () =>
  (await admin.fetchCommittedOffsets(`example-${orders}`)).reduce((sum, c) => sum + Number(c.offset), 0)
const running = consumer.run(async (message, ctx) => {
  const cents = Number(message.value)
  if (cents === 750) throw new Error('order o-3 is invalid') // retried, then dead-lettered in the transaction
  ctx.send({ topic: enriched, key: message.key, value: JSON.stringify({ cents, euros: cents / 100 }) })
})
// the five orders' offsets commit with their transactions (every 100 ms)
while ((await committed()) < 5) await new Promise((r) => setTimeout(r, 100))
await consumer.stop()
await running
await producer.close()

// what a read_committed reader finds: one record per good order
const reader = new Consumer({
  brokers,
  assign: [0, 1].map((partition) => ({ topic: enriched, partition })),
  fromBeginning: true,
  isolationLevel: 'read_committed',
})
const seen: string[] = []
await reader.run((m) => {
  seen.push(`${m.key}: ${m.value}`)
  if (seen.length === 4) void reader.stop()
})
console.log(seen.sort().join('\n'))
console.log('input offsets committed:', await committed())
await admin.deleteTopics([orders, enriched, `${orders}-dlq`])
await admin.close()
