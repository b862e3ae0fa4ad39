// A consume-transform-produce worker in its own process, for the tests that kill it with SIGKILL:
// reads `input` as a static member of `groupId` and writes one record per input to `output` (the
// same key, value `out-<value>`) with the Consumer's exactlyOnce option. Its transactional id and
// group instance id are stable, so a restarted worker fences the one before and takes its place.
// Prints `{"handled":n}` every 500 messages; stops cleanly on SIGTERM.
//   node --import tsx test/helpers/eos-worker.ts '<json: brokers, input, output, groupId, id>'

import { Consumer } from '../../src/consumer/consumer.ts'
import { Producer } from '../../src/producer/producer.ts'

interface WorkerConfig {
  brokers: string[]
  input: string
  output: string
  groupId: string
  /** The transactional id and group instance id. */
  id: string
  concurrency?: number
}

const config = JSON.parse(process.argv[2]) as WorkerConfig
const retry = { deadlineMs: 120_000, maxAttempts: 1000 }
const producer = new Producer({ brokers: config.brokers, transactionalId: config.id, retry })
const consumer = new Consumer({
  brokers: config.brokers,
  groupId: config.groupId,
  groupInstanceId: config.id,
  topics: [config.input],
  fromBeginning: true,
  concurrency: config.concurrency ?? 4,
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1000,
  clientRetry: retry,
  exactlyOnce: { producer },
  onError: (error) => process.stderr.write(`${error.message}\n`),
})
let handled = 0
await consumer.run(
  (message, ctx) => {
    ctx.send({ topic: config.output, key: message.key, value: `out-${message.value}` })
    if (++handled % 500 === 0) process.stdout.write(`${JSON.stringify({ handled })}\n`)
  },
  { handleSignals: true },
)
await producer.close()
