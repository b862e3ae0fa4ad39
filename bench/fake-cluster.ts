// The fake cluster (kafkax/testing) against the real local broker, for kafkax's benchmark producer and
// consumer (bench/clients/*.ts, the compiled package): the same cases on both targets in one run,
// the targets alternating and the order rotating every repetition, medians of the repetitions. The
// fake runs compiled too, in its own process, as a user's test would start it. Besides the rates,
// the CPU time each server spent per record (from /proc, when the bench runs the harness's broker
// itself): on a shared machine the rates move with the load, the server's cost per record much less.
// A last case writes far more than retention keeps and reports the fake's peak memory, which stays
// bounded.
//
//   npm run bench:fake [-- --reps 3 --quick]
// Writes bench/results/fake-cluster.md and .json. Uses KAFKA_BROKERS for the real broker when set,
// else the harness's single node (started and stopped here when it does not run yet). Never asserts.

import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startFakeProcess } from '../scripts/kafka/fake.ts'
import { pidOf, ROOT, release, SINGLE_DIR, startSingle, stopSingle } from '../scripts/kafka/harness.ts'
import { Admin } from '../src/admin/admin.ts'
import { fill } from './lib/external.ts'
import { lastJson, measured } from './lib/measure.ts'
import { median } from './lib/stats.ts'

const { values: args } = parseArgs({
  options: { reps: { type: 'string', default: '3' }, quick: { type: 'boolean', default: false } },
})
const REPS = Number(args.reps)
const SCALE = args.quick ? 10 : 1
const PARTITIONS = 6
const BATCH_BYTES = 1_000_000

interface Case {
  name: string
  kind: 'produce' | 'consume'
  records: number
  size: number
  compression: 'none' | 'lz4'
}

const FULL: Case[] = [
  { name: '1M x 100 B, acks=all, none', kind: 'produce', records: 1_000_000, size: 100, compression: 'none' },
  { name: '1M x 100 B, acks=all, lz4', kind: 'produce', records: 1_000_000, size: 100, compression: 'lz4' },
  { name: '200k x 1 KB, acks=all, none', kind: 'produce', records: 200_000, size: 1000, compression: 'none' },
  { name: '1M x 100 B, none', kind: 'consume', records: 1_000_000, size: 100, compression: 'none' },
  { name: '200k x 1 KB, lz4', kind: 'consume', records: 200_000, size: 1000, compression: 'lz4' },
]
const CASES = FULL.map((c) => ({ ...c, records: c.records / SCALE }))

process.stderr.write('[bench] npm run build\n')
execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })

const single = process.env.KAFKA_BROKERS ? undefined : await startSingle()
const real = process.env.KAFKA_BROKERS?.split(',') ?? [single!.bootstrap]
const fake = await startFakeProcess(['--dist'])
const SERVER_PIDS: Record<Target, number | undefined> = {
  'real broker': single ? pidOf(SINGLE_DIR) : undefined,
  'fake cluster': fake.pid,
}
const TARGETS = { 'real broker': real, 'fake cluster': fake.bootstrap } as const
type Target = keyof typeof TARGETS
const admins = Object.fromEntries(Object.entries(TARGETS).map(([t, brokers]) => [t, new Admin({ brokers })])) as Record<
  Target,
  Admin
>
const topicName = (kind: string) =>
  `bench-fake-${kind}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`

function spec(c: Case, target: Target, topic: string) {
  return {
    brokers: TARGETS[target],
    topic,
    mode: c.kind === 'produce' ? 'publish' : 'run',
    records: c.records,
    size: c.size,
    acks: 'all' as const,
    compression: c.compression,
    batchBytes: BATCH_BYTES,
    lingerMs: 5,
    rate: 0,
    seconds: 0,
    groupId: `bench-${Math.random().toString(36).slice(2, 10)}`,
  }
}

/** A consume case's topic on a target, filled once (by the Java producer, as the suite does). */
const filled = new Map<string, string>()
async function consumeTopic(c: Case, target: Target): Promise<string> {
  const key = `${target}/${c.name}`
  let topic = filled.get(key)
  if (!topic) {
    topic = topicName('consume')
    await admins[target].createTopics([{ topic, partitions: PARTITIONS, replicationFactor: 1 }])
    process.stderr.write(`[bench] filling ${topic} on the ${target}\n`)
    const s = spec(c, target, topic)
    await fill({ ...s, bootstrap: TARGETS[target][0] })
    filled.set(key, topic)
  }
  return topic
}

/** CPU seconds (user + system) a process has used so far (/proc/<pid>/stat, in USER_HZ = 100 ticks). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** The client's rate, and the server's CPU time per record meanwhile (NaN when its pid is unknown). */
async function runOne(c: Case, target: Target): Promise<{ rate: number; cpuUs: number }> {
  const admin = admins[target]
  const topic = c.kind === 'consume' ? await consumeTopic(c, target) : topicName('produce')
  if (c.kind === 'produce') await admin.createTopics([{ topic, partitions: PARTITIONS, replicationFactor: 1 }])
  try {
    const cpuBefore = cpuSeconds(SERVER_PIDS[target])
    const m = await measured(process.execPath, [
      '--import',
      'tsx',
      join(ROOT, `bench/clients/${c.kind}.ts`),
      'kafkax',
      JSON.stringify(spec(c, target, topic)),
    ])
    const cpuUs = ((cpuSeconds(SERVER_PIDS[target]) - cpuBefore) * 1e6) / c.records
    return { rate: lastJson(m.stdout).recordsPerSec, cpuUs }
  } finally {
    if (c.kind === 'produce') await admin.deleteTopics([topic]).catch(() => {})
  }
}

/** The fake's resident memory and its peak so far (Linux /proc). */
function fakeMemoryMb(): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${fake.pid}/status`, 'utf8')
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN)
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 }
}

const started = Date.now()
const rows: { case: Case; rates: Record<Target, number[]>; cpuUs: Record<Target, number[]> }[] = []
for (const c of CASES) {
  const rates: Record<Target, number[]> = { 'real broker': [], 'fake cluster': [] }
  const cpuUs: Record<Target, number[]> = { 'real broker': [], 'fake cluster': [] }
  for (let rep = 0; rep < REPS; rep++) {
    const order = (Object.keys(TARGETS) as Target[]).slice()
    if (rep % 2) order.reverse()
    for (const target of order) {
      const run = await runOne(c, target)
      rates[target].push(run.rate)
      cpuUs[target].push(run.cpuUs)
      process.stderr.write(
        `[bench] ${c.kind} ${c.name} | ${target} | rep ${rep + 1}/${REPS}: ${Math.round(run.rate).toLocaleString('en')} rec/s, server ${run.cpuUs.toFixed(2)} µs CPU/record\n`,
      )
    }
  }
  rows.push({ case: c, rates, cpuUs })
}
for (const [target, topic] of filled) await admins[target.split('/')[0] as Target].deleteTopics([topic]).catch(() => {})

// bounded memory: write several times what retention keeps, then read the fake's peak memory
const retentionBytes = 16 * 1024 * 1024
const flood = { records: 1_000_000 / SCALE, size: 1000 }
const floodTopic = topicName('retention')
await admins['fake cluster'].createTopics([
  {
    topic: floodTopic,
    partitions: PARTITIONS,
    replicationFactor: 1,
    configs: { 'retention.bytes': String(retentionBytes) },
  },
])
const before = fakeMemoryMb()
await measured(process.execPath, [
  '--import',
  'tsx',
  join(ROOT, 'bench/clients/produce.ts'),
  'kafkax',
  JSON.stringify({ ...spec({ ...CASES[2], ...flood }, 'fake cluster', floodTopic) }),
])
const after = fakeMemoryMb()
const starts = await admins['fake cluster'].listOffsets({ topic: floodTopic, at: 'earliest' })
const kept = await admins['fake cluster'].listOffsets({ topic: floodTopic, at: 'latest' })
const keptRecords = kept.reduce((n, p, i) => n + Number(p.offset - starts[i].offset), 0)

for (const admin of Object.values(admins)) await admin.close()
await fake.stop()
if (single?.started) await stopSingle()

const fmt = (n: number) => Math.round(n).toLocaleString('en')
const lines = [
  '# kafkax against the fake cluster and the real broker',
  '',
  `Generated by \`npm run bench:fake\` (bench/fake-cluster.ts) on ${new Date().toISOString()}: Node ${process.version}, Kafka ${release().version} (single node, same machine), medians of ${REPS} repetition(s), targets alternating; run took ${((Date.now() - started) / 60_000).toFixed(1)} min.`,
  'kafkax runs compiled (bench/clients, as in the suite); the fake cluster runs compiled in its own process.',
  '',
  '| case | real broker, records/s | fake cluster, records/s | fake / real | server CPU µs/record, real | fake |',
  '|---|--:|--:|--:|--:|--:|',
  ...rows.map((r) => {
    const realRate = median(r.rates['real broker'])
    const fakeRate = median(r.rates['fake cluster'])
    const cpu = (t: Target) => median(r.cpuUs[t]).toFixed(2)
    return `| ${r.case.kind} ${r.case.name} | ${fmt(realRate)} | ${fmt(fakeRate)} | ${(fakeRate / realRate).toFixed(2)}x | ${cpu('real broker')} | ${cpu('fake cluster')} |`
  }),
  '',
  `Bounded memory: ${fmt(flood.records)} x ${flood.size} B (${fmt((flood.records * flood.size) / 2 ** 20)} MiB) into ${PARTITIONS} partitions with retention.bytes=${retentionBytes / 2 ** 20} MiB; the fake kept ${fmt(keptRecords)} records; its resident memory went from ${fmt(before.rss)} to ${fmt(after.rss)} MiB (peak over the whole run ${fmt(after.peak)} MiB).`,
  '',
]
writeFileSync(join(ROOT, 'bench/results/fake-cluster.md'), lines.join('\n'))
writeFileSync(
  join(ROOT, 'bench/results/fake-cluster.json'),
  `${JSON.stringify({ date: new Date().toISOString(), reps: REPS, rows, memory: { before, after, keptRecords, retentionBytes } }, null, 1)}\n`,
)
process.stdout.write(lines.join('\n'))
