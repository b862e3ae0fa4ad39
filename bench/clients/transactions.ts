// One transactional producer run in its own process: `node --import tsx bench/clients/transactions.ts kafkax '<case json>'`.
// Prints one JSON line (see common.ts). Modes, as bench/java/Transactions.java and ProducerPerformance run them:
//   records    transactions of `transaction.records` records: begin, publish them all, commitTransaction
//   duration   transactions of `transaction.durationMs`: records published (CHUNK at a time) until the
//              transaction is that old, then commitTransaction (ProducerPerformance --transaction-duration-ms)
// One warm-up transaction of 100 records first, as the Java side.

import { client, report, spec, timed, values } from './common.ts'
import { kafkaxBuild } from './kafkax.ts'

const CHUNK = 1000

if (client !== 'kafkax') throw new Error(`transactions: no driver for ${client}`)
const { Producer } = await kafkaxBuild()
const producer = new Producer({
  brokers: spec.brokers,
  transactionalId: `bench-kafkax-${spec.topic}`,
  compression: spec.compression,
  batch: { maxBytes: spec.batchBytes, lingerMs: spec.lingerMs, maxMessages: 1_000_000 },
  bufferMemory: 64 * 1024 * 1024,
})
const topic = spec.topic
let acked = 0
let failure: Error | null = null
const done = (error: Error | null) => {
  if (error) failure ??= error
  else acked++
}
const publish = (i: number) => producer.publish({ topic, value: values[i % values.length] }, done)

await producer.transaction(() => {
  for (let i = 0; i < 100; i++) publish(i)
})
acked = 0
let transactions = 0
const { records, transaction } = spec
const figures = await timed(async () => {
  let sent = 0
  while (sent < records) {
    await producer.beginTransaction()
    if (transaction?.records) {
      for (let i = 0; i < transaction.records && sent < records; i++) publish(sent++)
    } else {
      const until = performance.now() + transaction!.durationMs!
      while (sent < records && performance.now() < until) {
        for (let i = 0; i < CHUNK && sent < records; i++) publish(sent++)
        // let the sender and the sockets work, as ProducerPerformance's I/O thread does beside it
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    await producer.commitTransaction()
    transactions++
  }
})
await producer.close()
if (failure) throw failure
if (acked !== records) throw new Error(`${acked} of ${records} records acknowledged`)
report({ ...figures, records, extra: { transactions, transactionsPerSec: transactions / figures.seconds } })
