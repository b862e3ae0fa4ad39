// Configuration from YAML defaults + environment (KAFKA_BROKERS...) + code, and a few admin calls.
//   KAFKA_BROKERS=127.0.0.1:9092 node --conditions=development --import tsx examples/admin-and-config.ts
import { Admin, loadConfig } from 'kafkax'

const config = loadConfig({ overrides: { common: { clientId: 'example-admin' } } })
const admin = new Admin(config.admin)
console.log(`cluster reachable in ${(await admin.ping()).toFixed(1)} ms`)
const cluster = await admin.describeCluster()
console.log(`cluster ${cluster.clusterId}: ${cluster.brokers.length} broker(s), controller ${cluster.controller}`)
const topic = `example-admin-${Date.now()}`
await admin.createTopics([{ topic, partitions: 2, configs: { 'retention.ms': '3600000' } }])
const [description] = await admin.describeTopics([topic])
console.log(`${topic}: ${description.partitions.length} partitions`)
await admin.deleteTopics([topic])
await admin.close()
