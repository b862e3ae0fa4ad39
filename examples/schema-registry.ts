// Typed events with a schema: an Avro `OrderPlaced` registered in a schema registry, written by a
// SchemaProducer in the Confluent wire format and read back decoded by a consumer middleware; then
// the schema evolves (a field with a default) and the consumer reads old and new events alike.
//   npm run kafka:start && npm run registry:start
//   KAFKA_BROKERS=127.0.0.1:9092 REGISTRY_URL=http://127.0.0.1:8081/apis/ccompat/v7 \
//     node --conditions=development --import tsx examples/schema-registry.ts
import { Admin, Consumer, Producer } from 'kafkax'
import { decoded, SchemaRegistry } from 'kafkax/schema-registry'

interface OrderPlaced {
  orderId: string
  cents: number
  channel: string
}

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')
const registry = new SchemaRegistry({ url: process.env.REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7' })
const topic = `example-orders-${Date.now()}`

const v1 = {
  type: 'record',
  name: 'OrderPlaced',
  namespace: 'shop.events',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'cents', type: 'long' },
  ],
}
const v2 = { ...v1, fields: [...v1.fields, { name: 'channel', type: 'string', default: 'web' }] }

const admin = new Admin({ brokers })
await admin.createTopics([{ topic, partitions: 1 }])
await registry.register(`${topic}-value`, { type: 'AVRO', schema: v1 })
await registry.setCompatibility('BACKWARD', `${topic}-value`)

// the service before the change writes v1 events; after it, v2 events
const producer = new Producer({ brokers })
const before = registry.producer(producer, { value: { schema: { type: 'AVRO', schema: v1 } } })
await before.send({ topic, key: 'o-1', value: { orderId: 'o-1', cents: 1250 } })
const after = registry.producer(producer, { value: { schema: { type: 'AVRO', schema: v2 } } })
await after.send({ topic, key: 'o-2', value: { orderId: 'o-2', cents: 990, channel: 'app' } })
console.log(`subject ${topic}-value has versions ${await registry.getVersions(`${topic}-value`)}`)

// an incompatible change is refused by the registry
const broken = registry.producer(producer, {
  value: { schema: { type: 'AVRO', schema: { ...v1, fields: [{ name: 'orderId', type: 'int' }] } } },
})
await broken.send({ topic, value: { orderId: 3 } }).catch((e) => console.log(`refused: ${e.type}`))
await producer.close()

// the consumer reads every event as a v2 OrderPlaced, whatever schema it was written with
const consumer = new Consumer({ brokers, groupId: `example-${topic}`, topics: [topic], fromBeginning: true })
consumer.use(registry.deserializer({ readerSchema: { type: 'AVRO', schema: v2 } }))
let seen = 0
await consumer.run(
  decoded<OrderPlaced>(async (message) => {
    const { orderId, cents, channel } = message.value
    console.log(`order ${orderId}: ${cents / 100} via ${channel} (written with schema id ${message.valueSchema?.id})`)
    if (++seen === 2) void consumer.stop()
  }),
)
await admin.deleteTopics([topic])
await admin.close()
registry.close()
