// Share-group benchmark, `npm run bench:share [-- --reps N] [--per-member N] [--handler-ms N]`:
// records/s through 1, 4 and 16 members of one share group (and 4 and 16 spread over 2 processes),
// each member running a 1 ms handler one record at a time, kafkax (ShareConsumer, the compiled
// package, bench/clients/share.ts) against the Java client (KafkaShareConsumer, explicit
// acknowledgement and commitSync() per poll, bench/java/ShareMember.java), in one run against the
// same broker. Each run has its topic (4 partitions) and share group; the records (`per-member` per
// member, 100 B values) are written once the members joined, and the run is timed inside its
// processes, from the first record handled to the last one accepted: process start and the group
// join are not counted, and no member starts ahead of the others. The clients alternate and their order rotates every repetition; the
// table reports medians and the ratio kafkax / Java, and goes to bench/results/share.md. Never asserts.
// Uses KAFKA_BROKERS when set, else starts the harness's single node (KAFKA_PORT_BASE shifts it).

import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ROOT, release, startSingle, stopAll } from '../scripts/kafka/harness.ts'
import { Admin } from '../src/admin/admin.ts'
import { Producer } from '../src/producer/producer.ts'
import { lastJson } from './lib/measure.ts'
import { shareMemberArgs } from './lib/share-member.ts'
import { median } from './lib/stats.ts'

const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: '2' },
    'per-member': { type: 'string', default: '2000' },
    'handler-ms': { type: 'string', default: '1' },
  },
})
const REPS = Number(args.reps)
const PER_MEMBER = Number(args['per-member'])
const HANDLER_MS = Number(args['handler-ms'])
const PARTITIONS = 4
const CASES = [
  { members: 1, processes: 1 },
  { members: 4, processes: 1 },
  { members: 16, processes: 1 },
  { members: 4, processes: 2 },
  { members: 16, processes: 2 },
]
/** After the members started: their joins, and assignments at 1 s heartbeats. */
const JOIN_MS = 6000
const CLIENTS = ['kafkax', 'java'] as const
type Client = (typeof CLIENTS)[number]

process.stderr.write('[bench] npm run build\n')
execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
const broker = process.env.KAFKA_BROKERS ? undefined : await startSingle()
const brokers = process.env.KAFKA_BROKERS?.split(',') ?? [broker!.bootstrap]
const admin = new Admin({ brokers })
const stamp = Date.now().toString(36)
const topics: string[] = []

/** A new, empty topic of the run; the records are written once its members joined. */
async function emptyTopic(name: string): Promise<string> {
  const topic = `bench-share-${name}-${stamp}`
  await admin.createTopics([{ topic, partitions: PARTITIONS, replicationFactor: 1 }])
  topics.push(topic)
  return topic
}

/** Writes `records` 100-byte values, spread evenly over the partitions (in batches of 100 records at most). */
async function fill(topic: string, records: number): Promise<void> {
  const producer = new Producer({ brokers, batch: { maxMessages: 100 } })
  const value = 'x'.repeat(100)
  for (let i = 0; i < records; i += 10_000) {
    const n = Math.min(10_000, records - i)
    await producer.sendBatch(Array.from({ length: n }, (_, k) => ({ topic, value, partition: (i + k) % PARTITIONS })))
  }
  await producer.close()
}

/** A share group reading from the earliest offset, with as many record locks per partition as the broker allows. */
async function shareGroup(name: string): Promise<string> {
  const groupId = `bench-share-${name}-${stamp}`
  const configs = {
    'share.auto.offset.reset': 'earliest',
    'share.heartbeat.interval.ms': '1000',
    'share.partition.max.record.locks': '4000',
  }
  await admin.incrementalAlterConfigs([
    {
      type: 'group',
      name: groupId,
      ops: Object.entries(configs).map(([key, value]) => ({ key, op: 'set' as const, value })),
    },
  ])
  return groupId
}

interface Run {
  recordsPerSec: number
  /** CPU of the client processes, startup and join included (as each process reports it). */
  cpuSeconds: number
}

/**
 * One run: `processes` processes of `client` sharing the members, on an empty topic; the records
 * are written once every process started and JOIN_MS passed (the members joined and took their
 * assignment), so that no member starts ahead with the whole topic to itself. The processes report
 * what they accepted as they go; once the total is every record, they are stopped (SIGTERM) and
 * say when their first and last records were handled.
 */
async function run(client: Client, name: string, members: number, processes: number): Promise<Run> {
  const topic = await emptyTopic(name)
  const groupId = await shareGroup(name)
  const records = members * PER_MEMBER
  const perProcess = members / processes
  const children: ChildProcess[] = []
  let started = 0
  let accepted = 0
  const signals = { ready: () => {}, done: () => {} }
  const ready = new Promise<void>((resolve) => {
    signals.ready = resolve
  })
  const done = new Promise<void>((resolve) => {
    signals.done = resolve
  })
  const onLine = (line: string) => {
    if (line.includes('"started":true') && ++started === processes) signals.ready()
    const count = /^\{"accepted":(\d+)\}/.exec(line)
    if (!count) return
    accepted += Number(count[1])
    if (accepted >= records) signals.done()
  }
  const launch = async () => {
    const [command, argv] =
      client === 'kafkax'
        ? [
            process.execPath,
            [
              '--import',
              'tsx',
              join(ROOT, 'bench/clients/share.ts'),
              JSON.stringify({ brokers, topic, groupId, handlerMs: HANDLER_MS, members: perProcess }),
            ],
          ]
        : [
            'java',
            await shareMemberArgs([brokers[0], groupId, topic, String(HANDLER_MS), 'counts', String(perProcess)], 512),
          ]
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child)
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      const from = stdout.lastIndexOf('\n') + 1
      stdout += chunk
      const lines = stdout.slice(from).split('\n')
      lines.pop()
      for (const line of lines) onLine(line)
    })
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-4000)
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    // the JVM exits with 128 + SIGTERM once its shutdown hook ran
    if (code !== 0 && code !== 143) throw new Error(`${client} exited ${code}:\n${stderr}`)
    return lastJson(stdout)
  }
  const running = Promise.all(Array.from({ length: processes }, launch))
  await Promise.race([ready, running])
  await new Promise((resolve) => setTimeout(resolve, JOIN_MS))
  await fill(topic, records)
  await Promise.race([done, running])
  for (const child of children) child.kill('SIGTERM')
  const results = await running
  // a process whose members got nothing has no first and last record
  const figures = results.filter((f) => f.total > 0)
  const total = figures.reduce((n, f) => n + f.total, 0)
  const seconds = (Math.max(...figures.map((f) => f.end)) - Math.min(...figures.map((f) => f.first))) / 1000
  return { recordsPerSec: total / seconds, cpuSeconds: results.reduce((n, f) => n + f.cpuSeconds, 0) }
}

const label = (c: (typeof CASES)[number]) =>
  `${c.members} member${c.members > 1 ? 's' : ''}${c.processes > 1 ? `, ${c.processes} processes` : ''}`
const results = new Map<string, Record<Client, Run[]>>()
try {
  for (const c of CASES) {
    const runs: Record<Client, Run[]> = { kafkax: [], java: [] }
    results.set(label(c), runs)
    for (let rep = 0; rep < REPS; rep++) {
      for (const client of rep % 2 === 0 ? CLIENTS : [...CLIENTS].reverse()) {
        const r = await run(client, `${client}-${c.members}-${c.processes}-${rep}`, c.members, c.processes)
        runs[client].push(r)
        process.stderr.write(
          `[bench] ${label(c)} ${client} rep ${rep + 1}/${REPS}: ${Math.round(r.recordsPerSec)} records/s\n`,
        )
      }
    }
  }
} finally {
  await admin.deleteTopics(topics).catch(() => {})
  await admin.close()
  if (broker?.started) await stopAll()
}

const rate = (runs: Run[]) => median(runs.map((r) => r.recordsPerSec))
const cpu = (runs: Run[]) => median(runs.map((r) => r.cpuSeconds))
const rows = [...results].map(([name, { kafkax, java }]) => {
  const x = rate(kafkax)
  const j = rate(java)
  return `| ${name} | ${Math.round(x).toLocaleString('en')} | ${Math.round(j).toLocaleString('en')} | ${(x / j).toFixed(2)} | ${cpu(kafkax).toFixed(1)} / ${cpu(java).toFixed(1)} |`
})
const report = `# Share groups: kafkax ShareConsumer vs the Java KafkaShareConsumer

Records/s through N members of one share group, each member handling one record at a time with a
${HANDLER_MS} ms handler (kafkax: \`await\` of a ${HANDLER_MS} ms timer, concurrency 1; Java: \`Thread.sleep(${HANDLER_MS})\` then
\`acknowledge(ACCEPT)\`, \`commitSync()\` per poll); ${PER_MEMBER.toLocaleString('en')} records of 100 B per member,
a fresh topic of ${PARTITIONS} partitions and share group per run, medians of ${REPS} repetitions, the clients alternating. Timed inside the client processes, from the first
record handled to the last accepted (kafkax: queued for the broker as the handler resolved; Java:
confirmed by commitSync()). The records are written once every member joined (${JOIN_MS / 1000} s after their
processes started). Members of one process share it (kafkax: one Node process; Java: one JVM,
a thread per member). Kafka ${release().version} single node; Node ${process.version}; ${cpus().length} cores
(${cpus()[0]?.model ?? '?'}), load average ${loadavg()[0].toFixed(1)} at the end; ${new Date().toISOString()}.

| members | kafkax records/s | Java records/s | kafkax / Java | CPU s of the processes kafkax / Java |
|---|---|---|---|---|
${rows.join('\n')}

Runs (records/s): ${[...results].map(([name, r]) => `${name}: ${CLIENTS.map((c) => `${c} ${r[c].map((x) => Math.round(x.recordsPerSec)).join(', ')}`).join('; ')}`).join(' | ')}
`
writeFileSync(join(ROOT, 'bench/results/share.md'), report)
console.log(report)
