// One kafkax process of the share benchmark (bench/share.ts): `members` ShareConsumers of the
// compiled package in one share group, each running one 1 ms async handler at a time, until
// SIGTERM. Prints {"started":true} once they run, {"accepted":N} (records handled since the last
// line) every 100 ms, and at the end {"first", "end", "total", "cpuSeconds"}: epoch ms of the first
// and the last record handled, their count and the process's CPU time, as
// bench/java/ShareMember.java does for the Java client.
//   node bench/clients/share.ts '<json: brokers, topic, groupId, members, handlerMs>'

import { kafkaxBuild } from './kafkax.ts'

const spec = JSON.parse(process.argv[2]) as {
  brokers: string[]
  topic: string
  groupId: string
  members: number
  handlerMs: number
}
const { ShareConsumer } = await kafkaxBuild()
const consumers = Array.from(
  { length: spec.members },
  () => new ShareConsumer({ brokers: spec.brokers, groupId: spec.groupId, topics: [spec.topic] }),
)
let first = 0
let end = 0
let handled = 0
let reported = 0
// a record is accepted as its handler resolves (the acknowledgement goes with the next request)
const runs = consumers.map((c) =>
  c.run(async () => {
    first ||= Date.now()
    await new Promise((resolve) => setTimeout(resolve, spec.handlerMs))
    handled++
    end = Date.now()
  }),
)
console.log(JSON.stringify({ started: true }))
const progress = setInterval(() => {
  if (handled === reported) return
  console.log(JSON.stringify({ accepted: handled - reported }))
  reported = handled
}, 100)
await new Promise((resolve) => process.once('SIGTERM', resolve))
clearInterval(progress)
await Promise.all(consumers.map((c) => c.stop()))
await Promise.all(runs)
const { user, system } = process.cpuUsage()
console.log(JSON.stringify({ first, end, total: handled, cpuSeconds: (user + system) / 1e6 }))
process.exit(0)
