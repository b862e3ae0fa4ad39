// Peak RSS of a consumer draining a backlog with a slow handler, over time (issue 21's case, tried
// as a new user would): `npm run bench:backlog [-- --records 400000 --size 1000 --text compressible|random
// --partitions 1 --concurrency 4 --handler-ms 1]`. kcat writes the backlog with lz4 (`kcat -P -z lz4 -l`,
// its defaults otherwise); the kafkax Consumer (compiled dist/, in its own process:
// bench/clients/backlog.ts) reads it with `concurrency` handlers of `handler-ms` each per record and
// samples its memory every 250 ms. Writes bench/results/backlog-<text>[-<records>].json (every sample) and
// .svg (RSS and what the fetch buffer holds, over time) and prints the peak against the 200 MB goal.
// Uses KAFKA_BROKERS when set, else starts the harness's single node (KAFKA_PORT_BASE shifts it).

import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ROOT, startSingle } from '../scripts/kafka/harness.ts'
import { onNode24 } from '../scripts/runtime-fetch.ts'
import { Admin } from '../src/admin/admin.ts'
import { measured } from './lib/measure.ts'
import { DATA_DIR } from './lib/payload.ts'

onNode24()

const DEFAULT_RECORDS = 400_000

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: String(DEFAULT_RECORDS) },
    size: { type: 'string', default: '1000' },
    text: { type: 'string', default: 'compressible' },
    partitions: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '4' },
    'handler-ms': { type: 'string', default: '1' },
    'limit-mb': { type: 'string', default: '200' },
  },
})
const RECORDS = Number(args.records)
const SIZE = Number(args.size)
const LIMIT_MB = Number(args['limit-mb'])
if (args.text !== 'compressible' && args.text !== 'random') throw new Error('--text compressible|random')

/** Lines of SIZE bytes: a repeated phrase (lz4: about 100:1), or random letters (barely compressible). */
async function backlogFile(): Promise<string> {
  mkdirSync(DATA_DIR, { recursive: true })
  const file = join(DATA_DIR, `backlog-${args.text}-${RECORDS}x${SIZE}.txt`)
  const out = createWriteStream(file)
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
  for (let i = 0; i < RECORDS; i++) {
    let line = `{"id":${i},"text":"`
    if (args.text === 'compressible') line += 'the backlog waits for its slow handler '.repeat(Math.ceil(SIZE / 39))
    else for (let k = line.length; k < SIZE; k++) line += letters[Math.floor(Math.random() * letters.length)]
    if (!out.write(`${line.slice(0, SIZE - 2)}"}\n`)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'close')
  return file
}

process.stderr.write('[backlog] npm run build\n')
execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
const brokers = process.env.KAFKA_BROKERS?.split(',') ?? [(await startSingle()).bootstrap]
const admin = new Admin({ brokers })
const topic = `backlog-${Date.now().toString(36)}`
await admin.createTopics([{ topic, partitions: Number(args.partitions), replicationFactor: 1 }])
try {
  const file = await backlogFile()
  process.stderr.write(`[backlog] kcat -P -z lz4: ${RECORDS} x ${SIZE} B (${args.text}) into ${topic}\n`)
  execFileSync('kcat', ['-P', '-b', brokers[0], '-t', topic, '-z', 'lz4', '-l', file], { stdio: 'inherit' })
  const spec = {
    brokers,
    topic,
    groupId: `backlog-${Math.random().toString(36).slice(2, 8)}`,
    records: RECORDS,
    concurrency: Number(args.concurrency),
    handlerMs: Number(args['handler-ms']),
    sampleMs: 250,
  }
  process.stderr.write(`[backlog] consuming: concurrency ${spec.concurrency}, ${spec.handlerMs} ms per record\n`)
  const child = ['--import', 'tsx', join(ROOT, 'bench/clients/backlog.ts'), JSON.stringify(spec)]
  // a slow handler on a busy machine: 400k records take many minutes
  const m = await measured(process.execPath, child, { timeoutMs: 60 * 60_000 })
  const lines = m.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  const samples = lines.filter((l) => !l.done)
  const end = lines.find((l) => l.done)
  const peak = Math.max(...samples.map((s) => s.rss))
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    case: {
      ...spec,
      brokers: undefined,
      size: SIZE,
      text: args.text,
      partitions: Number(args.partitions),
      writer: 'kcat -P -z lz4',
    },
    seconds: end?.seconds,
    peakRssMb: peak,
    maxRssMb: end?.maxRssMb,
    peakRssFromOutsideMb: m.peakRssMb,
    peakDecodedMb: Math.max(...samples.map((s) => s.decodedBytes)),
    peakBufferedMb: Math.max(...samples.map((s) => s.bufferedBytes)),
    limitMb: LIMIT_MB,
    samples,
  }
  const dir = join(ROOT, 'bench/results')
  mkdirSync(dir, { recursive: true })
  // the default size keeps the plain name; another size (e.g. the 1 GiB backlog) gets its own files
  const name = `backlog-${args.text}${RECORDS === DEFAULT_RECORDS ? '' : `-${RECORDS}`}`
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(result, null, 1)}\n`)
  writeFileSync(join(dir, `${name}.svg`), chart(result))
  const verdict = (m.peakRssMb ?? peak) <= LIMIT_MB ? 'within' : 'OVER'
  process.stdout.write(
    `backlog ${RECORDS} x ${SIZE} B lz4 (${args.text}), ${args.partitions} partition(s), concurrency ${spec.concurrency}, ${spec.handlerMs} ms/record: ` +
      `peak RSS ${(m.peakRssMb ?? peak).toFixed(0)} MB (sampled ${peak} MB), ${verdict} ${LIMIT_MB} MB; ` +
      `held decoded at most ${result.peakDecodedMb} MB, buffered (as received) at most ${result.peakBufferedMb} MB; ${end?.seconds?.toFixed(1)} s\n`,
  )
} finally {
  await admin.deleteTopics([topic]).catch(() => {})
  await admin.close()
}

/** RSS, heap and the fetch buffer (as received, and decoded) over time, with the limit drawn. */
function chart(r: {
  samples: { t: number; rss: number; heapUsed: number; bufferedBytes: number; decodedBytes: number }[]
  limitMb: number
  peakRssMb: number
  case: { text?: string }
}): string {
  const W = 720
  const H = 320
  const pad = 48
  const tMax = Math.max(1, ...r.samples.map((s) => s.t))
  const yMax = Math.max(r.limitMb * 1.2, r.peakRssMb * 1.1)
  const x = (t: number) => pad + ((W - 2 * pad) * t) / tMax
  const y = (mb: number) => H - pad - ((H - 2 * pad) * mb) / yMax
  const line = (key: 'rss' | 'heapUsed' | 'bufferedBytes' | 'decodedBytes', color: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${r.samples.map((s) => `${x(s.t).toFixed(1)},${y(s[key]).toFixed(1)}`).join(' ')}"/>`
  const legend = [
    ['rss', '#d62728', 'RSS'],
    ['heapUsed', '#1f77b4', 'JS heap used'],
    ['bufferedBytes', '#2ca02c', 'fetch buffer, as received'],
    ['decodedBytes', '#9467bd', 'fetch buffer, decoded'],
  ] as const
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">
<text x="${pad}" y="16">kafkax consumer memory over time: backlog (${r.case.text}), peak RSS ${r.peakRssMb} MB</text>
<line x1="${pad}" y1="${y(r.limitMb)}" x2="${W - pad}" y2="${y(r.limitMb)}" stroke="#888" stroke-dasharray="4 3"/>
<text x="${W - pad - 60}" y="${y(r.limitMb) - 4}" fill="#888">${r.limitMb} MB</text>
<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#000"/>
<line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#000"/>
<text x="${W / 2}" y="${H - 12}">seconds (0-${(tMax / 1000).toFixed(0)})</text>
<text x="6" y="${pad - 6}">MB (0-${yMax.toFixed(0)})</text>
${legend.map(([k, c]) => line(k, c)).join('\n')}
${legend.map(([, c, name], i) => `<text x="${pad + 8 + i * 160}" y="${pad - 14}" fill="${c}">${name}</text>`).join('\n')}
</svg>
`
}
