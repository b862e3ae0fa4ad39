// Schema registry benchmark, `npm run bench:schema-registry [-- --reps N] [--records N] [--size N]`:
// serialize + produce, and consume + deserialize, of 100k Avro records of ~1 KB, kafkax (SchemaProducer,
// the deserializer middleware) against kafkajs with @kafkajs/confluent-schema-registry, in one run,
// against the same broker and registry. Each run is its own process (bench/clients/schema-registry.ts),
// the clients alternate and their order rotates every repetition; the tables report medians and
// the ratio kafkax / kafkajs, and go to bench/results/schema-registry.md. Never asserts.
// Uses KAFKA_BROKERS and REGISTRY_URL when set, else starts the harness broker and registry.

import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ROOT, startSingle, stopAll } from '../scripts/kafka/harness.ts'
import { startRegistry, stopRegistry } from '../scripts/registry/harness.ts'
import { Admin } from '../src/admin/admin.ts'
import { parseAvro } from '../src/schema-registry/formats/avro.ts'
import { BENCH_SCHEMA, benchEvents } from './lib/avro-events.ts'
import { BATCH_BYTES } from './lib/cases.ts'
import { lastJson, measured } from './lib/measure.ts'
import { median } from './lib/stats.ts'

const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    records: { type: 'string', default: '100000' },
    size: { type: 'string', default: '1000' },
  },
})
const REPS = Number(args.reps)
const RECORDS = Number(args.records)
const SIZE = Number(args.size)
const PARTITIONS = 6
const CLIENTS = ['kafkax', 'kafkajs']
const MODES = ['produce', 'consume'] as const

process.stderr.write('[bench] npm run build\n')
execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
const broker = process.env.KAFKA_BROKERS ? undefined : await startSingle()
const brokers = process.env.KAFKA_BROKERS?.split(',') ?? [broker!.bootstrap]
const registry = process.env.REGISTRY_URL ? undefined : await startRegistry()
const registryUrl = process.env.REGISTRY_URL ?? registry!.url
const admin = new Admin({ brokers })
const stamp = Date.now().toString(36)
const topics: string[] = []

async function topic(name: string): Promise<string> {
  const t = `bench-sr-${name}-${stamp}`
  await admin.createTopics([{ topic: t, partitions: PARTITIONS, replicationFactor: 1 }])
  topics.push(t)
  return t
}

interface Figures {
  recordsPerSec: number
  timedCpuSeconds: number
  cpuSeconds?: number
  peakRssMb?: number
}

async function runClient(client: string, mode: string, t: string, groupId: string): Promise<Figures> {
  const spec = {
    brokers,
    registry: registryUrl,
    topic: t,
    mode,
    records: RECORDS,
    size: SIZE,
    acks: 'all',
    compression: 'none',
    batchBytes: BATCH_BYTES,
    lingerMs: 5,
    rate: 0,
    seconds: 0,
    groupId,
  }
  const m = await measured(process.execPath, [
    '--import',
    'tsx',
    join(ROOT, 'bench/clients/schema-registry.ts'),
    client,
    JSON.stringify(spec),
  ])
  return { ...(lastJson(m.stdout) as unknown as Figures), cpuSeconds: m.cpuSeconds, peakRssMb: m.peakRssMb }
}

const results: Record<string, Record<string, Figures[]>> = { produce: {}, consume: {} }
try {
  // the consume runs read one topic that kafkax filled once, each in a group of its own
  const filled = await topic('filled')
  await runClient('kafkax', 'produce', filled, '')
  for (let rep = 0; rep < REPS; rep++) {
    const order = CLIENTS.map((_, i) => CLIENTS[(i + rep) % CLIENTS.length])
    for (const mode of MODES) {
      for (const client of order) {
        const t = mode === 'produce' ? await topic(`${client}-${rep}`) : filled
        const figures = await runClient(client, mode, t, `bench-sr-${client}-${rep}-${stamp}`)
        results[mode][client] ??= []
        results[mode][client].push(figures)
        process.stderr.write(
          `[bench] ${mode} ${client} rep ${rep + 1}/${REPS}: ${Math.round(figures.recordsPerSec)} records/s\n`,
        )
      }
    }
  }
} finally {
  await admin.deleteTopics(topics).catch(() => {})
  await admin.close()
  if (registry?.started) await stopRegistry()
  if (broker?.started) await stopAll()
}

const encoded = parseAvro(JSON.stringify(BENCH_SCHEMA), []).encode(1, benchEvents(SIZE)[0]).length
const med = (xs: Figures[], pick: (f: Figures) => number | undefined) => median(xs.map((f) => pick(f) ?? Number.NaN))
const rows = MODES.map((mode) => {
  const [x, j] = CLIENTS.map((c) => results[mode][c])
  const rate = (f: Figures[]) => med(f, (r) => r.recordsPerSec)
  const cpu = (f: Figures[]) => med(f, (r) => r.timedCpuSeconds)
  const rss = (f: Figures[]) => med(f, (r) => r.peakRssMb)
  const label = mode === 'produce' ? 'serialize + produce' : 'consume + deserialize'
  return `| ${label} | ${Math.round(rate(x)).toLocaleString('en')} | ${Math.round(rate(j)).toLocaleString('en')} | ${(rate(x) / rate(j)).toFixed(2)} | ${cpu(x).toFixed(2)} / ${cpu(j).toFixed(2)} | ${Math.round(rss(x))} / ${Math.round(rss(j))} |`
})
const report = `# Schema registry: kafkax vs kafkajs + @kafkajs/confluent-schema-registry

${RECORDS.toLocaleString('en')} Avro records (${encoded} bytes each in the wire format) per run, ${PARTITIONS} partitions, acks=all, no compression;
medians of ${REPS} repetitions; Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}); ${new Date().toISOString()}.
Apicurio Registry (Confluent-compatible API) on the same machine; records/s from the start of the process's
measured part (registration or group join included) to the last acknowledgement or handled record.

| case | kafkax records/s | kafkajs records/s | kafkax / kafkajs | CPU s (measured part) kafkax / kafkajs | peak RSS MB kafkax / kafkajs |
|---|---|---|---|---|---|
${rows.join('\n')}

Runs (records/s): ${MODES.map((m) => `${m}: ${CLIENTS.map((c) => `${c} ${results[m][c].map((f) => Math.round(f.recordsPerSec)).join(', ')}`).join('; ')}`).join(' | ')}
`
writeFileSync(join(ROOT, 'bench/results/schema-registry.md'), report)
console.log(report)
