// The backlog consumer of bench/backlog.ts in its own process:
// `node --import tsx bench/clients/backlog.ts '<json>'` reads `records` records of `topic` from the
// beginning with the kafkax Consumer (`concurrency` handlers, each waiting `handlerMs` per record, as
// a slow application does) and prints a JSON line per sample: { t, rss, heapUsed, external,
// arrayBuffers, records, decodedBytes, bufferedBytes } every `sampleMs`, then { done, maxRssMb }.

import { kafkaxBuild } from './kafkax.ts'

const spec = JSON.parse(process.argv[2]) as {
  brokers: string[]
  topic: string
  groupId: string
  records: number
  concurrency: number
  handlerMs: number
  sampleMs: number
}
const { Consumer } = await kafkaxBuild()
const consumer = new Consumer({
  brokers: spec.brokers,
  groupId: spec.groupId,
  topics: [spec.topic],
  fromBeginning: true,
  concurrency: spec.concurrency,
})
let handled = 0
let done: () => void = () => {}
const finished = new Promise<void>((resolve) => (done = resolve))
const started = performance.now()
const sample = () => {
  const m = process.memoryUsage()
  const f = consumer.stats()
  const mb = (n: number) => Math.round(n / 1e5) / 10
  const line = {
    t: Math.round(performance.now() - started),
    rss: mb(m.rss),
    heapUsed: mb(m.heapUsed),
    external: mb(m.external),
    arrayBuffers: mb(m.arrayBuffers),
    records: handled,
    decodedBytes: mb(f.decodedBytes),
    bufferedBytes: mb(f.bufferedBytes),
  }
  process.stdout.write(`${JSON.stringify(line)}\n`)
}
const sampler = setInterval(sample, spec.sampleMs)
const running = consumer.run(async (message) => {
  await new Promise((resolve) => setTimeout(resolve, spec.handlerMs))
  if (message.value === null) throw new Error('a record without a value')
  if (++handled === spec.records) done()
})
await finished
sample()
clearInterval(sampler)
await consumer.stop()
await running
const seconds = (performance.now() - started) / 1000
process.stdout.write(`${JSON.stringify({ done: true, seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`)
