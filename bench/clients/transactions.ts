// One transactional run in its own process: `node --import tsx bench/clients/transactions.ts kafkax '<case json>'`.
// Prints one JSON line (see common.ts). Modes, as bench/java/Transactions.java, ProducerPerformance and
// bench/java/ConsumeTransformProduce.java run them:
//   records    transactions of `transaction.records` records: begin, publish them all, commitTransaction
//   duration   transactions of `transaction.durationMs`: records published (CHUNK at a time) until the
//              transaction is that old, then commitTransaction (ProducerPerformance --transaction-duration-ms)
//   ctp        consume-transform-produce: the Consumer's exactlyOnce option reads `records` records of
//              a pre-filled topic and writes each to `output`, in transactions of `transaction.records`
//              messages or `transaction.durationMs`; the clock runs from creating the consumer (group
//              join included) to the commit of the last transaction
// The produce modes send one warm-up transaction of 100 records first, as the Java side.

import { client, report, spec, timed, values } from './common.ts'
import { kafkaxBuild } from './kafkax.ts'

const CHUNK = 1000

if (client !== 'kafkax') throw new Error(`transactions: no driver for ${client}`)
const { Producer, Consumer } = await kafkaxBuild()
const producer = new Producer({
  brokers: spec.brokers,
  transactionalId: `bench-kafkax-${spec.topic}-${spec.groupId}`,
  compression: spec.compression,
  batch: { maxBytes: spec.batchBytes, lingerMs: spec.lingerMs, maxMessages: 1_000_000 },
  bufferMemory: 64 * 1024 * 1024,
})
const { records, transaction } = spec

async function produceInTransactions(): Promise<never> {
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
  return report({ ...figures, records, extra: { transactions, transactionsPerSec: transactions / figures.seconds } })
}

async function consumeTransformProduce(): Promise<never> {
  const output = spec.output!
  let handled = 0
  let finish: () => void = () => {}
  const finished = new Promise<void>((resolve) => (finish = resolve))
  let consumer: InstanceType<typeof Consumer> | undefined
  const figures = await timed(async () => {
    consumer = new Consumer({
      brokers: spec.brokers,
      groupId: spec.groupId,
      topics: [spec.topic],
      fromBeginning: true,
      fetch: { maxWaitMs: 500 },
      exactlyOnce: {
        producer,
        // one bound or the other, as the Java loop
        maxMessages: transaction?.records ?? 1_000_000_000,
        intervalMs: transaction?.durationMs ?? 600_000,
      },
      onError: (error) => console.error(error),
    })
    const running = consumer.run((message, ctx) => {
      ctx.send({ topic: output, key: message.key, value: message.value })
      if (++handled === records) finish()
    })
    await Promise.race([finished, running])
    // the last transaction, before the clock stops
    await consumer.commit()
  })
  const transactions = consumer!.stats().commits
  await consumer!.stop()
  await producer.close()
  if (handled !== records) throw new Error(`${handled} of ${records} records handled`)
  return report({ ...figures, records, extra: { transactions, transactionsPerSec: transactions / figures.seconds } })
}

await (spec.mode === 'ctp' ? consumeTransformProduce() : produceInTransactions())
