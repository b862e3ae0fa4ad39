// A consumer in its own process, for tests that kill it with SIGKILL: joins `group` on `topic`,
// prints one JSON line per handled message ({ value }) and never commits on its own (the test kills
// it before the auto-commit interval), handling each message slowly; the group protocol is
// 'classic' unless named.
//   node --import tsx test/helpers/child-consumer.ts <brokers> <topic> <group> [classic|consumer]

import { Consumer } from '../../src/consumer/consumer.ts'

const [brokers, topic, groupId, groupProtocol = 'classic'] = process.argv.slice(2)
const consumer = new Consumer({
  brokers: brokers.split(','),
  groupId,
  topics: [topic],
  fromBeginning: true,
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 500,
  commit: { intervalMs: 600_000 },
  groupProtocol: groupProtocol as 'classic' | 'consumer',
})
consumer.on('assigned', () => process.stdout.write('{"assigned":true}\n'))
await consumer.run(async (message) => {
  await new Promise((r) => setTimeout(r, 20))
  process.stdout.write(`${JSON.stringify({ value: message.value!.toString() })}\n`)
})
