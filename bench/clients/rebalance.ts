// One kafkax member of the rebalance benchmark's group (bench/rebalance.ts), in its own process as
// a deployment runs it, driven by commands on stdin and reporting JSON lines on stdout. The Java
// member (bench/java/Rebalance.java) speaks the same:
//   out  {"event":"owned","partitions":[...]}  after every change of its assignment
//        {"event":"consumed","partition":p}     the first record of a partition since the last mark
//   in   go      a member started on standby (its process up, not yet in the group) joins
//        mark    the next record of each partition is reported again
//        resume  a member started paused (argument `paused`) starts handing records out
//        count   {"event":"count","records":n}
//        quit    stops (commits, leaves the group), prints its count, exits
// Settings come as one JSON argument: { brokers, topic, groupId, protocol, paused, standby }. A
// member joins at once, or on `go` when started on standby: it is then warmed up first (a member of
// another group until it consumed a record), so that neither process start-up nor first-run costs
// (module loading, a JIT's warm-up) are timed.

import { createInterface } from 'node:readline'
import { kafkaxBuild } from './kafkax.ts'

const settings = JSON.parse(process.argv[2]) as {
  brokers: string[]
  topic: string
  groupId: string
  protocol: 'classic' | 'consumer'
  paused: boolean
  standby: boolean
}
const { Consumer } = await kafkaxBuild()
const print = (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`)

const options = {
  brokers: settings.brokers,
  topics: [settings.topic],
  fromBeginning: true,
  groupProtocol: settings.protocol,
  // as the Java member: cooperative rebalances, 1 s heartbeats, auto commit every second
  assignors: ['cooperative-sticky' as const],
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1000,
  commit: { intervalMs: 1000 },
}

if (settings.standby) {
  const warmup = new Consumer({ ...options, groupId: `${settings.groupId}-warmup-${process.pid}` })
  let first!: () => void
  const consumedOne = new Promise<void>((resolve) => {
    first = resolve
  })
  const running = warmup.run(() => first())
  await consumedOne
  await warmup.stop()
  await running
}

let consumed = 0
let paused = settings.paused
const reported = new Set<number>()
const consumer = new Consumer({ ...options, groupId: settings.groupId })
const owned = () => print({ event: 'owned', partitions: consumer.assignment().map((tp) => tp.partition) })
consumer.on('assigned', (tps) => {
  if (paused) consumer.pause(tps)
  owned()
})
consumer.on('revoked', owned)
let run: Promise<void> | undefined
const join = () => {
  run = consumer.run((m) => {
    consumed++
    if (!reported.has(m.partition)) {
      reported.add(m.partition)
      print({ event: 'consumed', partition: m.partition })
    }
  })
}
if (!settings.standby) join()
print({ event: 'up' })

for await (const line of createInterface({ input: process.stdin })) {
  const command = line.trim()
  if (command === 'go') join()
  else if (command === 'mark') reported.clear()
  else if (command === 'resume') {
    paused = false
    consumer.resume(consumer.assignment())
  } else if (command === 'count') print({ event: 'count', records: consumed })
  else if (command === 'quit') break
}
await consumer.stop()
await run?.catch(() => {})
print({ event: 'count', records: consumed })
process.exit(0)
