// Producing: awaited sends, fire-and-forget publish with a callback, JSON, headers, keys.
//   KAFKA_BROKERS=127.0.0.1:9092 node --conditions=development --import tsx examples/producer.ts
import { Admin, Producer } from 'kafkax'

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')
const topic = `example-orders-${Date.now()}`
const admin = new Admin({ brokers })
await admin.createTopics([{ topic, partitions: 3 }])

const producer = new Producer({ brokers, acks: 'all', compression: 'gzip', batch: { lingerMs: 10 } })
// resolves once the broker has the record (acks=all: every in-sync replica)
const metadata = await producer.send({ topic, key: 'customer-42', value: 'hello', headers: { source: 'example' } })
console.log(`written to ${metadata.topic}-${metadata.partition} at offset ${metadata.offset}`)

// returns at once; the callback reports the delivery
producer.publish({ topic, key: 'customer-42', value: 'fire and forget' }, (error, m) => {
  if (error) console.error('not delivered', error)
  else console.log(`published at offset ${m?.offset}`)
})
await producer.sendJSON(topic, { id: 1, total: 12.5 }, { key: 'customer-7' })
await producer.close() // delivers everything accepted before it
console.log('records:', producer.stats().records)
await admin.deleteTopics([topic])
await admin.close()
