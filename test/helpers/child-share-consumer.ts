// A share consumer in its own process, for tests that kill it with SIGKILL while it holds records:
// joins `group` on `topic` and starts one handler that never finishes, so what it fetched stays
// acquired by it; prints {"held": n} whenever the records it holds change.
//   node --import tsx test/helpers/child-share-consumer.ts <brokers> <topic> <group>

import { ShareConsumer } from '../../src/share/consumer.ts'

const [brokers, topic, groupId] = process.argv.slice(2)
const consumer = new ShareConsumer({ brokers: brokers.split(','), groupId, topics: [topic] })
let held = -1
setInterval(() => {
  const now = consumer.stats().held
  if (now !== held) process.stdout.write(`${JSON.stringify({ held: now })}\n`)
  held = now
}, 50)
await consumer.run(() => new Promise(() => {}))
