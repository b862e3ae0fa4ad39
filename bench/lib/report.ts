// Turns the runs into the published results: bench/results/<date>.json (every raw figure and the
// environment), latest.md (median tables with kafkax / peer ratios) and two SVG charts drawn here.

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type BenchCase, type CaseResult, LABELS } from './cases.ts'
import { median } from './stats.ts'

interface Report {
  environment: { date: string; [key: string]: unknown }
  results: CaseResult[]
  codec: Record<string, string>
}

type Medians = Record<string, number | undefined>

/** The median of every figure over a client's repetitions. */
function medians(runs: Record<string, number | undefined>[]): Medians {
  const keys = new Set(runs.flatMap((r) => Object.keys(r)))
  const out: Medians = {}
  for (const k of keys) {
    const xs = runs.map((r) => r[k]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x))
    out[k] = xs.length ? median(xs) : undefined
  }
  return out
}

const num = (x: number | undefined, digits = 3) =>
  x === undefined
    ? 'n/a'
    : x >= 1000
      ? Math.round(x).toLocaleString('en')
      : x >= 100
        ? x.toFixed(0)
        : x.toPrecision(digits)
const times = (x: number) => `${x >= 0.1 ? x.toFixed(2) : x.toPrecision(2)}x`
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? times(a / b) : '')
/** The figure a case is judged by: records/s for throughput, p99 for latency. */
const headline = (c: BenchCase) => (c.metric === 'throughput' ? 'recordsPerSec' : 'p99Ms')

const GROUP_TITLES: Record<string, string> = {
  produce:
    'Produce throughput (records pipelined: kafkax publish(); peers and kafkax sendBatch() send arrays of records)',
  'produce-single': 'Produce throughput, one record per send() call (a promise per record)',
  'produce-latency': 'Produce latency (send to acknowledgement)',
  consume: 'Consume throughput (from the beginning of a pre-filled topic, group join included)',
  e2e: 'End-to-end latency (send to handler, one process per client)',
  transactions:
    "Transactions (acks=all; each committed before the next begins): transactional produce, and consume-transform-produce (the kafkax Consumer's exactlyOnce)",
}

function tables(results: CaseResult[]): string {
  const out: string[] = []
  for (const group of Object.keys(GROUP_TITLES)) {
    const rows = results.filter((r) => r.case.group === group)
    if (!rows.length) continue
    const throughput = rows[0].case.metric === 'throughput'
    out.push(`\n### ${GROUP_TITLES[group]}\n`)
    out.push(
      throughput
        ? '| case | client | records/s | MB/s | CPU s | peak RSS MB | kafkax / client (records/s) |\n|---|---|--:|--:|--:|--:|--:|'
        : '| case | client | p50 ms | p99 ms | p99.9 ms | records/s reached | CPU s | peak RSS MB | kafkax / client (p99) |\n|---|---|--:|--:|--:|--:|--:|--:|--:|',
    )
    for (const r of rows) {
      const c = r.case
      const m = Object.fromEntries(Object.entries(r.runs).map(([k, runs]) => [k, medians(runs)]))
      const ours = m[c.clients[0]]?.[headline(c)]
      for (const client of c.clients) {
        const s = m[client]
        const failed = [
          r.errors[client]?.length ? ` (${r.errors[client].length} failed)` : '',
          s?.missing ? ` (${num(s.missing)} records not delivered in time)` : '',
        ].join('')
        if (!s) {
          out.push(`| ${c.name} | ${LABELS[client]} | failed${throughput ? ' | | | | |' : ' | | | | | | |'}`)
          continue
        }
        const own = client === c.clients[0] ? '' : ratio(ours, s[headline(c)])
        out.push(
          throughput
            ? `| ${c.name} | ${LABELS[client]}${failed} | ${num(s.recordsPerSec)} | ${num(s.mbPerSec)} | ${num(s.cpuSeconds)} | ${num(s.peakRssMb)} | ${own} |`
            : `| ${c.name} | ${LABELS[client]}${failed} | ${num(s.p50Ms)} | ${num(s.p99Ms)} | ${num(s.p999Ms)} | ${num(s.recordsPerSec)} | ${num(s.cpuSeconds)} | ${num(s.peakRssMb)} | ${own} |`,
        )
      }
      for (const [client, why] of Object.entries(c.skipped)) out.push(`| ${c.name} | ${LABELS[client]} | n/a: ${why} |`)
    }
  }
  return out.join('\n')
}

/** One-line headline ratios: kafkax / each peer, median over the cases of a group. */
function headlines(results: CaseResult[]): string[] {
  const lines: string[] = []
  for (const group of Object.keys(GROUP_TITLES)) {
    const rows = results.filter((r) => r.case.group === group)
    if (!rows.length) continue
    const peers = new Map<string, number[]>()
    for (const r of rows) {
      const key = headline(r.case)
      const ours = r.runs[r.case.clients[0]] && medians(r.runs[r.case.clients[0]])[key]
      for (const client of r.case.clients.slice(1)) {
        const theirs = r.runs[client] && medians(r.runs[client])[key]
        if (ours && theirs) peers.set(client, [...(peers.get(client) ?? []), ours / theirs])
      }
    }
    const what = rows[0].case.metric === 'throughput' ? 'records/s, >1 = kafkax faster' : 'p99, <1 = kafkax faster'
    const parts = [...peers].map(([k, xs]) => `${LABELS[k]} ${times(median(xs))}`)
    lines.push(`- **${group}** (kafkax / peer, ${what}, median over ${rows.length} case(s)): ${parts.join(', ')}`)
    // the same kafkajs code on both (eachMessage, and eachBatch): what changing only the import gives
    const pairs = [
      ['kafkax-kafkajs', 'kafkajs'],
      ['kafkax-kafkajs-batch', 'kafkajs-batch'],
    ]
    const imports = rows.flatMap((r) => {
      const key = headline(r.case)
      return pairs.flatMap(([mine, peer]) => {
        const ours = r.runs[mine] && medians(r.runs[mine])[key]
        const theirs = r.runs[peer] && medians(r.runs[peer])[key]
        return ours && theirs ? [ours / theirs] : []
      })
    })
    if (imports.length > 0)
      lines.push(
        `  - kafkax/kafkajs / kafkajs (the same kafkajs code, only the import changed): ${times(median(imports))}`,
      )
  }
  return lines
}

// ---------------------------------------------------------------------------------------------
// SVG charts

const COLORS: Record<string, string> = {
  kafkax: '#d62728',
  'kafkax-batch': '#ff7f0e',
  'kafkax-send': '#d62728',
  'kafkax-raw': '#ff7f0e',
  kafkajs: '#1f77b4',
  'kafkax-kafkajs': '#17becf',
  'kafkax-kafkajs-batch': '#9edae5',
  platformatic: '#2ca02c',
  confluent: '#17becf',
  java: '#9467bd',
  kcat: '#8c564b',
}
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')
const text = (x: number, y: number, s: string, extra = '') =>
  `<text x="${x.toFixed(1)}" y="${y}"${extra}>${esc(s)}</text>`

function svg(title: string, width: number, height: number, body: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">
<title>${esc(title)}</title>
<rect width="100%" height="100%" fill="white"/>
${body.join('\n')}
</svg>
`
}

/** Bars of records/s per client, scaled within each case. */
function throughputChart(results: CaseResult[], title: string): string {
  const rows = results.filter((r) => r.case.metric === 'throughput')
  const body = [text(10, 20, title, ' font-size="15" font-weight="bold"')]
  let y = 40
  const [labelW, barW] = [170, 480]
  for (const r of rows) {
    const m = Object.fromEntries(Object.entries(r.runs).map(([k, runs]) => [k, medians(runs).recordsPerSec ?? 0]))
    const max = Math.max(...Object.values(m), 1)
    body.push(text(10, y + 12, `${r.case.group}: ${r.case.name}`, ' font-weight="bold"'))
    y += 18
    for (const client of r.case.clients) {
      const v = m[client] ?? 0
      const w = (v / max) * barW
      body.push(text(20, y + 11, LABELS[client]))
      body.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="13" fill="${COLORS[client]}"/>`)
      body.push(text(labelW + w + 5, y + 11, v ? `${num(v)} records/s` : 'failed'))
      y += 16
    }
    y += 8
  }
  return svg(title, 820, y + 10, body)
}

/** p50 (dark), p99 and p99.9 (light) per client on one log axis. */
function latencyChart(results: CaseResult[], title: string): string {
  const rows = results.filter((r) => r.case.metric === 'latency')
  const [labelW, barW, lo] = [170, 520, 0.1]
  const all = rows.flatMap((r) => Object.values(r.runs).map((runs) => medians(runs).p999Ms ?? lo))
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...all, 10)))
  const x = (ms: number) => labelW + (Math.log10(Math.max(ms, lo) / lo) / Math.log10(hi / lo)) * barW
  const body = [text(10, 20, title, ' font-size="15" font-weight="bold"')]
  body.push(text(10, 38, 'bars: p50 (dark), p99, p99.9 (light); log scale, milliseconds'))
  let y = 50
  for (let t = lo; t <= hi; t *= 10) body.push(text(x(t) - 8, y, `${t < 1 ? t : Math.round(t)}`, ' fill="#666"'))
  y += 8
  const top = y
  for (const r of rows) {
    body.push(text(10, y + 12, `${r.case.group}: ${r.case.name}`, ' font-weight="bold"'))
    y += 18
    for (const client of r.case.clients) {
      const s = r.runs[client] ? medians(r.runs[client]) : undefined
      body.push(text(20, y + 11, LABELS[client]))
      if (s?.p50Ms !== undefined) {
        for (const [key, opacity] of [
          ['p999Ms', 0.3],
          ['p99Ms', 0.55],
          ['p50Ms', 1],
        ] as const) {
          body.push(
            `<rect x="${labelW}" y="${y}" width="${(x(s[key] ?? lo) - labelW).toFixed(1)}" height="13" fill="${COLORS[client]}" fill-opacity="${opacity}"/>`,
          )
        }
        body.push(text(x(s.p999Ms ?? lo) + 5, y + 11, `${num(s.p50Ms)} / ${num(s.p99Ms)} / ${num(s.p999Ms)} ms`))
      } else body.push(text(labelW + 5, y + 11, 'failed'))
      y += 16
    }
    y += 8
  }
  for (let t = lo; t <= hi; t *= 10)
    body.push(
      `<line x1="${x(t).toFixed(1)}" y1="${top}" x2="${x(t).toFixed(1)}" y2="${y}" stroke="#ccc" stroke-dasharray="2,3"/>`,
    )
  return svg(title, 900, y + 10, body)
}

// ---------------------------------------------------------------------------------------------

export function writeReport(dir: string, report: Report): string[] {
  const { environment: env, results, codec } = report
  const stamp = env.date.slice(0, 16).replace(':', '')
  const files = {
    json: join(dir, `${stamp}.json`),
    md: join(dir, 'latest.md'),
    throughput: join(dir, 'throughput.svg'),
    latency: join(dir, 'latency.svg'),
  }
  writeFileSync(
    files.json,
    `${JSON.stringify(
      {
        environment: env,
        cases: results.map((r) => ({
          ...r,
          medians: Object.fromEntries(Object.entries(r.runs).map(([k, runs]) => [k, medians(runs)])),
        })),
        codec,
      },
      null,
      2,
    )}\n`,
  )
  const where = `${env.cores} x ${env.cpu}, Node ${env.node}, Kafka ${env.kafka} (single node, same machine)`
  writeFileSync(files.throughput, throughputChart(results, `kafkax throughput: ${env.date.slice(0, 10)}, ${where}`))
  writeFileSync(files.latency, latencyChart(results, `kafkax latency: ${env.date.slice(0, 10)}, ${where}`))
  const md = [
    `# Benchmark results (${env.date})`,
    '',
    `Generated by \`npm run bench\` (see bench/README.md for what each case means). ${where}; git ${env.gitCommit}.`,
    `Medians of ${(env.settings as { repetitions: number }).repetitions} repetition(s); run took ${(env.durationMinutes as number).toFixed(1)} min.`,
    'CPU s and peak RSS are of the whole client process (startup included), measured from outside with GNU time.',
    '',
    '```json',
    JSON.stringify({ clients: env.clients, settings: env.settings }, null, 1),
    '```',
    '',
    '## Headline ratios',
    '',
    ...headlines(results),
    '',
    '![throughput](throughput.svg)',
    '',
    '![latency](latency.svg)',
    '',
    '## Tables',
    tables(results),
    '',
    '## Codec micro-benchmarks',
    ...Object.entries(codec).flatMap(([file, out]) => ['', `\`${file}\``, '', '```', out, '```']),
    '',
  ].join('\n')
  writeFileSync(files.md, md)
  return Object.values(files)
}
