// The rebalance benchmark, `npm run bench:rebalance [-- --reps N] [--clients kafkax,java]
// [--protocols classic,consumer] [--rate N] [--backlog N]`: what a rebalance costs a group of six
// members over 48 partitions, kafkax beside the Java client, on both group protocols. Every member
// is its own process, as deployed (bench/clients/rebalance.ts, bench/java/Rebalance.java).
//   join     records flow at --rate records/s; a seventh member joins: the time until the partitions
//            are spread evenly again and every partition that changed owner was consumed by its new
//            owner (the median of --reps joins, each followed by the member leaving again)
//   restart  a backlog of --backlog records, the six members holding their partitions paused; then
//            they resume and are restarted one by one (the process stops, a new one starts and owns
//            partitions before the next goes): records consumed per second over the restart
// Both clients: cooperative-sticky with 1 s heartbeats on the classic protocol; on the consumer
// protocol the group's heartbeat interval is set to 1 s (group config) where the broker allows it.
// Uses KAFKA_BROKERS when set, else starts the harness's single node. Never asserts; writes
// bench/results/rebalance-<date>.json, with the machine's load average around each run.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { ROOT, release, startSingle } from '../scripts/kafka/harness.ts'
import { Admin } from '../src/admin/admin.ts'
import { Producer } from '../src/producer/producer.ts'

const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    clients: { type: 'string', default: 'kafkax,java' },
    protocols: { type: 'string', default: 'classic,consumer' },
    rate: { type: 'string', default: '4800' },
    backlog: { type: 'string', default: '5000000' },
  },
})
const REPS = Number(args.reps)
const RATE = Number(args.rate)
const BACKLOG = Number(args.backlog)
const PARTITIONS = 48
const MEMBERS = 6
const clients = args.clients.split(',') as Client[]
const protocols = args.protocols.split(',') as ('classic' | 'consumer')[]
type Client = 'kafkax' | 'java'

process.stderr.write('[bench] npm run build, javac\n')
execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
const classes = mkdtempSync(join(tmpdir(), 'kafkax-rebalance-'))
execFileSync('javac', ['-cp', `${release().libs}/*`, '-d', classes, join(ROOT, 'bench/java/Rebalance.java')])
const brokers = process.env.KAFKA_BROKERS?.split(',') ?? [(await startSingle()).bootstrap]
const admin = new Admin({ brokers })
const log = (text: string) => process.stderr.write(`[bench] ${text}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** One member process (either client): the partitions it owns, those it consumed since the last mark. */
class Member {
  owned: number[] = []
  readonly consumed = new Set<number>()
  private readonly child: ChildProcess
  private readonly counts: number[] = []
  readonly exited: Promise<void>

  up = false

  constructor(
    client: Client,
    settings: { topic: string; groupId: string; protocol: string; paused: boolean; standby?: boolean },
  ) {
    this.child =
      client === 'kafkax'
        ? spawn(
            process.execPath,
            [
              '--import',
              'tsx',
              join(ROOT, 'bench/clients/rebalance.ts'),
              JSON.stringify({ brokers, standby: false, ...settings }),
            ],
            { stdio: ['pipe', 'pipe', 'inherit'] },
          )
        : spawn(
            'java',
            [
              '-Xmx256m',
              '-cp',
              `${release().libs}/*:${classes}`,
              'Rebalance',
              Object.entries({ bootstrap: brokers[0], standby: false, ...settings })
                .map(([k, v]) => `${k}=${v}`)
                .join(';'),
            ],
            { stdio: ['pipe', 'pipe', 'ignore'] },
          )
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()))
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return
      const e = JSON.parse(line)
      if (e.event === 'up') this.up = true
      else if (e.event === 'owned') this.owned = e.partitions
      else if (e.event === 'consumed') this.consumed.add(e.partition)
      else if (e.event === 'count') this.counts.push(e.records)
    })
  }

  /** A member started on standby, its process up: joins the group now. */
  async go(): Promise<void> {
    await until(() => this.up)
    this.send('go')
  }

  send(command: string): void {
    this.child.stdin!.write(`${command}\n`)
  }

  /** Records consumed so far (asked and waited for). */
  async count(): Promise<number> {
    const n = this.counts.length
    this.send('count')
    await until(() => this.counts.length > n)
    return this.counts[this.counts.length - 1]
  }

  /** Stops cleanly (commit, leave); resolves with its last count once the process is gone. */
  async quit(): Promise<number> {
    const n = this.counts.length
    this.send('quit')
    await this.exited
    return this.counts.length > n ? this.counts[this.counts.length - 1] : 0
  }

  kill(): void {
    this.child.kill('SIGKILL')
  }
}

async function until(condition: () => boolean, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('the group did not settle within 5 min')
    await sleep(5)
  }
}

/** Who owns each partition (member index), and whether the partitions are spread evenly over all members. */
function owners(members: Member[]): Map<number, number> {
  const map = new Map<number, number>()
  members.forEach((m, i) => {
    for (const p of m.owned) map.set(p, i)
  })
  return map
}
function even(members: Member[]): boolean {
  const sizes = members.map((m) => m.owned.length)
  return owners(members).size === PARTITIONS && Math.max(...sizes) - Math.min(...sizes) <= 1
}

async function freshTopic(name: string): Promise<string> {
  const topic = `${name}-${Date.now().toString(36)}`
  await admin.createTopics([{ topic, partitions: PARTITIONS, replicationFactor: 1 }])
  return topic
}

async function groupHeartbeats(groupId: string): Promise<void> {
  await admin
    .incrementalAlterConfigs([
      { type: 'group', name: groupId, ops: [{ key: 'consumer.heartbeat.interval.ms', op: 'set', value: '1000' }] },
    ])
    .catch((e) => log(`group heartbeat interval stays the broker's: ${(e as Error).message}`))
}

/** Records at `RATE`/s over every partition, each valued with its produce time, until stopped. */
function flow(topic: string): { stop: () => Promise<void> } {
  const producer = new Producer({ brokers, batch: { lingerMs: 5 } })
  let on = true
  const running = (async () => {
    let i = 0
    const started = Date.now()
    while (on) {
      const due = Math.floor(((Date.now() - started) / 1000) * RATE)
      for (; i < due; i++) producer.publish({ topic, partition: i % PARTITIONS, value: String(Date.now()) })
      await new Promise((r) => setTimeout(r, 5))
    }
    await producer.close()
  })()
  return {
    stop: async () => {
      on = false
      await running
    },
  }
}

async function backlog(topic: string): Promise<void> {
  const producer = new Producer({ brokers, batch: { lingerMs: 20 } })
  for (let i = 0; i < BACKLOG; i++) {
    producer.publish({ topic, partition: i % PARTITIONS, value: '0' })
    if (i % 50_000 === 49_999) await producer.flush()
  }
  await producer.close()
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const results: Record<string, unknown>[] = []

for (const protocol of protocols) {
  for (const client of clients) {
    const label = `${client} ${protocol}`
    // the machine may be shared: the 1-minute load average before and after each client's run
    const loadBefore = loadavg()[0]
    // the join: a seventh member into a group of six, records flowing
    const joinTopic = await freshTopic('rebalance-join')
    const joinGroup = `bench-${joinTopic}`
    if (protocol === 'consumer') await groupHeartbeats(joinGroup)
    const live = flow(joinTopic)
    const settings = { topic: joinTopic, groupId: joinGroup, protocol, paused: false }
    const members = Array.from({ length: MEMBERS }, () => new Member(client, settings))
    const joins: number[] = []
    try {
      await until(() => even(members))
      await sleep(3000)
      for (let rep = 0; rep < REPS; rep++) {
        const before = owners(members)
        for (const m of members) {
          m.consumed.clear()
          m.send('mark')
        }
        const joining = new Member(client, { ...settings, standby: true })
        await until(() => joining.up)
        const started = Date.now()
        await joining.go()
        members.push(joining)
        // every partition that moved flows at its new owner
        await until(() => {
          if (!even(members)) return false
          for (const [partition, owner] of owners(members))
            if (owner !== before.get(partition) && !members[owner].consumed.has(partition)) return false
          return true
        })
        joins.push(Date.now() - started)
        await members.pop()!.quit()
        await until(() => even(members))
        await sleep(2000)
      }
    } finally {
      for (const m of members) m.kill()
      await live.stop()
      await admin.deleteTopics([joinTopic]).catch(() => {})
    }
    log(`${label}: join ${joins.join(', ')} ms`)

    // the rolling restart, on a backlog
    const restartTopic = await freshTopic('rebalance-restart')
    const restartGroup = `bench-${restartTopic}`
    if (protocol === 'consumer') await groupHeartbeats(restartGroup)
    await backlog(restartTopic)
    const restart = { topic: restartTopic, groupId: restartGroup, protocol }
    const group = Array.from({ length: MEMBERS }, () => new Member(client, { ...restart, paused: true }))
    let ms = 0
    let records = 0
    /** Per restarted member: ms until its process was gone, then until its replacement owned partitions. */
    const steps: [number, number][] = []
    // the replacements' processes are up before the restart begins: start-up is not timed
    const replacements = group.map(() => new Member(client, { ...restart, paused: false, standby: true }))
    try {
      await until(() => even(group))
      const baseline = (await Promise.all(group.map((m) => m.count()))).reduce((a, b) => a + b, 0)
      await until(() => replacements.every((r) => r.up))
      const started = Date.now()
      for (const m of group) m.send('resume')
      let gone = 0
      for (let i = 0; i < group.length; i++) {
        const t0 = Date.now()
        gone += await group[i].quit()
        const t1 = Date.now()
        const next = replacements[i]
        await next.go()
        group[i] = next
        await until(() => next.owned.length > 0)
        steps.push([t1 - t0, Date.now() - t1])
      }
      ms = Date.now() - started
      records = gone + (await Promise.all(group.map((m) => m.count()))).reduce((a, b) => a + b, 0) - baseline
    } finally {
      for (const m of [...group, ...replacements]) m.kill()
      await admin.deleteTopics([restartTopic]).catch(() => {})
    }
    const recordsPerSec = records / (ms / 1000)
    const drained = records >= BACKLOG
    log(
      `${label}: restart ${ms} ms, ${Math.round(recordsPerSec)} records/s${drained ? ' (backlog drained)' : ''}; quit + rejoin per member: ${steps.map(([q, j]) => `${q}+${j}`).join(', ')} ms`,
    )
    results.push({
      client,
      protocol,
      joinMs: joins,
      joinMedianMs: median(joins),
      restartMs: ms,
      restartSteps: steps,
      records,
      recordsPerSec,
      drained,
      load: [loadBefore, loadavg()[0]].map((l) => Math.round(l * 10) / 10),
    })
  }
}
await admin.close()

const rows = results.map(
  (r) =>
    `| ${r.client} | ${r.protocol} | ${r.joinMedianMs} (${(r.joinMs as number[]).join(', ')}) | ${r.restartMs} | ${Math.round(r.recordsPerSec as number)}${r.drained ? ' (drained)' : ''} | ${(r.load as number[]).join(' to ')} |`,
)
const table = [
  `Rebalance cost: ${MEMBERS} members over ${PARTITIONS} partitions, Kafka ${release().version}, Node ${process.versions.node}`,
  '',
  '| client | protocol | join: ms until every partition flows again (median, all) | rolling restart ms | records/s during it | load average |',
  '|---|---|---|---|---|---|',
  ...rows,
].join('\n')
process.stdout.write(`${table}\n`)
mkdirSync(join(ROOT, 'bench/results'), { recursive: true })
const file = join(ROOT, 'bench/results', `rebalance-${new Date().toISOString().slice(0, 10)}.json`)
writeFileSync(file, `${JSON.stringify({ rate: RATE, backlog: BACKLOG, reps: REPS, results }, null, 2)}\n`)
log(`wrote ${file}`)
