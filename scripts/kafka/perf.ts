// Kafka's own performance tools (the Java client) as functions returning parsed figures, for tests
// and for the benchmark suite. 4.x renamed some flags; both lines are handled here.

import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { release, runTool } from './harness.ts'

export interface ProducerPerfOptions {
  bootstrap: string
  topic: string
  records: number
  recordSize: number
  /** Records per second; -1 (default) means as fast as possible. */
  throughput?: number
  /** Producer configs, e.g. { acks: 'all', 'compression.type': 'lz4', 'linger.ms': 5 }. */
  props?: Record<string, string | number | boolean>
}

export interface ProducerPerfResult {
  records: number
  recordsPerSec: number
  mbPerSec: number
  avgLatencyMs: number
  maxLatencyMs: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
  p999Ms: number
}

const isKafka39 = () => release().line === '3.9'

/** Runs ProducerPerformance and parses its summary line. */
export function producerPerformance(o: ProducerPerfOptions): ProducerPerfResult {
  const props = Object.entries({ 'bootstrap.servers': o.bootstrap, ...o.props }).map(([k, v]) => `${k}=${v}`)
  const { stdout } = runTool(
    'org.apache.kafka.tools.ProducerPerformance',
    [
      '--topic',
      o.topic,
      '--num-records',
      String(o.records),
      '--record-size',
      String(o.recordSize),
      '--throughput',
      String(o.throughput ?? -1),
      isKafka39() ? '--producer-props' : '--command-property',
      ...props,
    ],
    { timeoutMs: 600_000 },
  )
  // "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, a ms 50th, b ms 95th, c ms 99th, d ms 99.9th."
  const summary = stdout
    .split('\n')
    .reverse()
    .find((l) => /records sent/.test(l) && /99\.9th/.test(l))
  const n = (re: RegExp) => {
    const m = summary ? re.exec(summary) : null
    if (!m) throw new Error(`ProducerPerformance printed no summary:\n${stdout}`)
    return Number(m[1])
  }
  return {
    records: n(/^(\d+) records sent/),
    recordsPerSec: n(/([\d.]+) records\/sec/),
    mbPerSec: n(/\(([\d.]+) MB\/sec\)/),
    avgLatencyMs: n(/([\d.]+) ms avg latency/),
    maxLatencyMs: n(/([\d.]+) ms max latency/),
    p50Ms: n(/(\d+) ms 50th/),
    p95Ms: n(/(\d+) ms 95th/),
    p99Ms: n(/(\d+) ms 99th/),
    p999Ms: n(/(\d+) ms 99\.9th/),
  }
}

export interface ConsumerPerfOptions {
  bootstrap: string
  topic: string
  records: number
  group?: string
  timeoutMs?: number
  props?: Record<string, string | number | boolean>
}

export interface ConsumerPerfResult {
  records: number
  mb: number
  mbPerSec: number
  recordsPerSec: number
  rebalanceMs: number
  fetchMs: number
  fetchMbPerSec: number
  fetchRecordsPerSec: number
}

/** Runs ConsumerPerformance and parses its CSV line. */
export function consumerPerformance(o: ConsumerPerfOptions): ConsumerPerfResult {
  // consumer configs go through a file: the one flag both lines accept (under different names)
  const config = join(mkdtempSync(join(tmpdir(), 'kafkax-perf-')), 'consumer.properties')
  writeFileSync(
    config,
    Object.entries(o.props ?? {})
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  )
  const { stdout } = runTool(
    'org.apache.kafka.tools.ConsumerPerformance',
    [
      '--bootstrap-server',
      o.bootstrap,
      '--topic',
      o.topic,
      isKafka39() ? '--messages' : '--num-records',
      String(o.records),
      '--timeout',
      String(o.timeoutMs ?? 60_000),
      '--hide-header',
      ...(o.group ? ['--group', o.group] : []),
      isKafka39() ? '--consumer.config' : '--command-config',
      config,
    ],
    { timeoutMs: 600_000 },
  )
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
  // rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.split(',').length === 10)
  if (!line) throw new Error(`ConsumerPerformance printed no figures:\n${stdout}`)
  const f = line.split(',').map((x) => Number(x.trim()))
  return {
    mb: f[2],
    mbPerSec: f[3],
    records: f[4],
    recordsPerSec: f[5],
    rebalanceMs: f[6],
    fetchMs: f[7],
    fetchMbPerSec: f[8],
    fetchRecordsPerSec: f[9],
  }
}
