// The benchmark suite, `npm run bench [-- --quick] [--reps N] [--clients a,b] [--groups g,h] [--cases 'text|text'] [--all]`.
// Every case runs every client in its own process against the same broker; the clients alternate
// (the order rotates every repetition) so machine drift hits them alike; medians of the repetitions
// go to bench/results/<date>.json (with every raw figure), latest.md and the SVG charts (runs filtered by
// --groups/--cases/--clients/--no-codec: to bench/results/partial/). Never asserts.
// Uses KAFKA_BROKERS when set, else starts the harness's single node (KAFKA_PORT_BASE shifts it).

import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ROOT, release, startSingle } from '../scripts/kafka/harness.ts'
import { onNode24 } from '../scripts/runtime-fetch.ts'
import { Admin } from '../src/admin/admin.ts'
import { BATCH_BYTES, type BenchCase, buildCases, type CaseResult, estimate, LABELS } from './lib/cases.ts'
import { confluentVersions, ensureConfluent } from './lib/confluent.ts'
import {
  type Figures,
  fill,
  javaConsume,
  javaLatency,
  javaProduce,
  javaTransactions,
  kcatConsume,
  kcatProduce,
  type Settings,
} from './lib/external.ts'
import { hasGnuTime, lastJson, measured } from './lib/measure.ts'
import { writeReport } from './lib/report.ts'

// the suite and every Node client run on Node 24 (KAFKAX_ANY_NODE=1: on the shell's Node)
onNode24()

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    all: { type: 'boolean', default: false },
    reps: { type: 'string' },
    rate: { type: 'string', default: '5000' },
    clients: { type: 'string', default: '' },
    groups: { type: 'string', default: '' },
    cases: { type: 'string', default: '' },
    codec: { type: 'boolean', default: true },
  },
  allowNegative: true,
})
const REPS = Number(args.reps ?? (args.quick ? 1 : 3))
const only = (list: string) => (list ? list.split(',') : undefined)
const wantedClients = only(args.clients)
const wantedGroups = only(args.groups)
const cases = buildCases({ quick: args.quick, all: args.all, rate: Number(args.rate) })
  .filter((c) => !wantedGroups || wantedGroups.includes(c.group))
  .filter((c) => !args.cases || args.cases.split('|').some((x) => c.name.includes(x)))
  .map((c) => ({
    ...c,
    clients: c.clients.filter((k) => !c.skipped[k] && (!wantedClients || wantedClients.includes(k))),
  }))

// the kafkax clients run the compiled package (bench/clients/kafkax.ts): build it from this tree
if (cases.some((c) => c.clients.some((k) => k.startsWith('kafkax')))) {
  process.stderr.write('[bench] npm run build\n')
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
}

// @confluentinc/kafka-javascript is built here once (bench/lib/confluent.ts); without it its runs fail saying why
const confluentMissing = cases.some((c) => c.clients.includes('confluent')) ? ensureConfluent() : undefined
if (confluentMissing) process.stderr.write(`[bench] @confluentinc/kafka-javascript: ${confluentMissing}\n`)

const brokers = process.env.KAFKA_BROKERS?.split(',') ?? [(await startSingle()).bootstrap]
const admin = new Admin({ brokers })
const PARTITIONS = 6

// ---------------------------------------------------------------------------------------------
// One run of one client

/** Node client ids -> the client file, the client inside it, and its mode when the id implies one. */
const NODE: Record<string, { name: string; mode?: string }> = {
  kafkax: { name: 'kafkax' },
  'kafkax-batch': { name: 'kafkax', mode: 'batch' },
  'kafkax-send': { name: 'kafkax', mode: 'single' },
  'kafkax-raw': { name: 'kafkax-raw' },
  'kafkax-iterator': { name: 'kafkax-iterator' },
  'kafkajs-batch': { name: 'kafkajs-batch' },
  kafkajs: { name: 'kafkajs' },
  'kafkax-kafkajs': { name: 'kafkax-kafkajs' },
  'kafkax-kafkajs-batch': { name: 'kafkax-kafkajs-batch' },
  platformatic: { name: 'platformatic' },
  confluent: { name: 'confluent' },
}

function nodeMode(c: BenchCase, client: string): string {
  // peers have no publish(): their pipelined form is arrays of records per send()
  if (c.mode === 'publish') return NODE[client].mode ?? (client === 'kafkax' ? 'publish' : 'batch')
  return c.mode
}

async function runNode(c: BenchCase, client: string, s: Settings): Promise<Figures> {
  const file = { consume: 'consume', e2e: 'e2e', transactions: 'transactions' }[c.group as string] ?? 'produce'
  const spec = { ...s, brokers, mode: nodeMode(c, client) }
  const m = await measured(process.execPath, [
    '--import',
    'tsx',
    join(ROOT, `bench/clients/${file}.ts`),
    NODE[client].name,
    JSON.stringify(spec),
  ])
  return { ...lastJson(m.stdout), cpuSeconds: m.cpuSeconds!, peakRssMb: m.peakRssMb!, wallSeconds: m.wallSeconds }
}

function runExternal(c: BenchCase, client: string, s: Settings): Promise<Figures> {
  if (client === 'kcat') return c.group === 'consume' ? kcatConsume(s) : kcatProduce(s)
  if (c.group === 'consume') return javaConsume(s)
  if (c.group === 'transactions') return javaTransactions(c.mode, s)
  if (c.group === 'produce') return javaProduce(s)
  return javaLatency(c.mode, s)
}

const prefilled = new Map<string, string>()
const topicName = (kind: string) => `bench-${kind}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`

async function createTopic(topic: string) {
  await admin.createTopics([{ topic, partitions: PARTITIONS, replicationFactor: 1 }])
}

/** The pre-filled topic of a consume case, made once. */
async function consumeTopic(c: BenchCase): Promise<string> {
  const key = `${c.records}x${c.size}x${c.compression}`
  let topic = prefilled.get(key)
  if (!topic) {
    topic = topicName('consume')
    await createTopic(topic)
    process.stderr.write(`[bench] filling ${topic} with ${c.records} x ${c.size} B\n`)
    await fill(settings(c, topic))
    prefilled.set(key, topic)
  }
  return topic
}

function settings(c: BenchCase, topic: string): Settings {
  const { records, size, acks, compression, lingerMs, rate, seconds } = c
  const groupId = `bench-${Math.random().toString(36).slice(2, 10)}`
  return {
    bootstrap: brokers[0],
    topic,
    records,
    size,
    acks,
    compression,
    lingerMs,
    rate,
    seconds,
    groupId,
    batchBytes: BATCH_BYTES,
    transaction: c.transaction,
  }
}

async function runOne(c: BenchCase, client: string): Promise<Figures> {
  if (client === 'confluent' && confluentMissing) throw new Error(`not built: ${confluentMissing}`)
  // consume-transform-produce reads a pre-filled topic and writes a fresh one
  const ctp = c.mode === 'ctp'
  const fresh = c.group !== 'consume' && !ctp
  const topic = fresh ? topicName(c.group) : await consumeTopic(c)
  const output = ctp ? topicName('ctp-out') : undefined
  const written = fresh ? topic : output
  if (written) await createTopic(written)
  try {
    const s = { ...settings(c, topic), output }
    return client in NODE ? await runNode(c, client, s) : await runExternal(c, client, s)
  } finally {
    // produced data would fill the disk over a full run
    if (written) await admin.deleteTopics([written]).catch(() => {})
  }
}

// ---------------------------------------------------------------------------------------------
// The run: cases x repetitions x clients in rotating order

const started = Date.now()
const totalWeight = cases.reduce((sum, c) => sum + REPS * c.clients.reduce((s, k) => s + estimate(c, k), 0), 0)
let doneWeight = 0
let doneRuns = 0
const totalRuns = cases.reduce((sum, c) => sum + REPS * c.clients.length, 0)
const results: CaseResult[] = []
const fmt = (n = Number.NaN) => (n >= 100 ? Math.round(n).toLocaleString('en') : n.toPrecision(3))

process.stderr.write(
  `[bench] ${cases.length} cases, ${totalRuns} runs, ${REPS} repetition(s), about ${Math.ceil(totalWeight / 60)} min, broker ${brokers[0]}\n`,
)
for (const c of cases) {
  const result: CaseResult = { case: c, runs: {}, errors: {} }
  results.push(result)
  for (let rep = 0; rep < REPS; rep++) {
    const order = c.clients.map((_, i) => c.clients[(i + rep) % c.clients.length])
    for (const client of order) {
      const elapsed = (Date.now() - started) / 1000
      const eta = doneWeight ? (elapsed * (totalWeight - doneWeight)) / doneWeight : totalWeight
      process.stderr.write(
        `[bench ${doneRuns + 1}/${totalRuns}, ${Math.round(elapsed / 60)} min, ETA ${Math.ceil(eta / 60)} min] ${c.group}: ${c.name} | ${LABELS[client]} | rep ${rep + 1}/${REPS}`,
      )
      try {
        const f = await runOne(c, client)
        result.runs[client] = [...(result.runs[client] ?? []), f]
        const figure =
          c.metric === 'throughput'
            ? `${fmt(f.recordsPerSec)} rec/s`
            : `p50 ${fmt(f.p50Ms)} ms, p99 ${fmt(f.p99Ms)} ms at ${fmt(f.recordsPerSec)} rec/s${f.missing ? `, ${f.missing} missing` : ''}`
        process.stderr.write(
          ` -> ${figure}, CPU ${f.cpuSeconds?.toFixed(1) ?? '?'} s, RSS ${f.peakRssMb?.toFixed(0) ?? '?'} MB\n`,
        )
      } catch (error) {
        const message = (error as Error).message.slice(0, 1500)
        result.errors[client] = [...(result.errors[client] ?? []), message]
        process.stderr.write(` -> FAILED: ${message.split('\n').slice(0, 3).join(' / ')}\n`)
      }
      doneWeight += estimate(c, client)
      doneRuns++
    }
  }
}
if (prefilled.size) await admin.deleteTopics([...prefilled.values()]).catch(() => {})
await admin.close()

// ---------------------------------------------------------------------------------------------
// Codec micro-benchmarks and the environment

function micro(file: string): string {
  process.stderr.write(`[bench] ${file}\n`)
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, file)], {
    encoding: 'utf8',
    env: { ...process.env, ...(args.quick ? { BENCH_REPS: '3' } : {}) },
    timeout: 900_000,
  })
  return run.status === 0 ? run.stdout.trim() : `failed (${run.status}): ${run.stderr.slice(-1000)}`
}
const codec: Record<string, string> = args.codec
  ? { 'bench/codec.ts': micro('bench/codec.ts'), 'bench/crc32c.ts': micro('bench/crc32c.ts') }
  : {}

const version = (pkg: string) =>
  JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version
const firstLine = (cmd: string, argv: string[]) => {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' })
  return `${r.stdout}${r.stderr}`.trim().split('\n')[0]
}
const environment = {
  date: new Date(started).toISOString(),
  durationMinutes: (Date.now() - started) / 60_000,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  memoryGb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  kafka: release().version,
  gitCommit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim(),
  clients: {
    kafkax: version('..'),
    kafkajs: version('kafkajs'),
    '@platformatic/kafka': version('@platformatic/kafka'),
    '@confluentinc/kafka-javascript': confluentVersions(),
    'kafka-clients (Java)': release().version,
    java: firstLine('java', ['-version']),
    kcat: firstLine('kcat', ['-V']),
    librdkafka: /librdkafka ([\d.]+)/.exec(spawnSync('kcat', ['-V'], { encoding: 'utf8' }).stdout)?.[1],
  },
  settings: {
    repetitions: REPS,
    quick: args.quick,
    partitions: PARTITIONS,
    batchBytes: BATCH_BYTES,
    gnuTime: hasGnuTime,
  },
}

// a run of some cases only must not replace the published results
const partial = Boolean(args.groups || args.cases || args.clients || !args.codec)
const dir = join(ROOT, partial ? 'bench/results/partial' : 'bench/results')
mkdirSync(dir, { recursive: true })
const written = writeReport(dir, { environment, results, codec })
process.stderr.write(`[bench] done in ${environment.durationMinutes.toFixed(1)} min: ${written.join(', ')}\n`)
