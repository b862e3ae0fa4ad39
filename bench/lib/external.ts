// The clients that are not Node: the Java client (Kafka's ProducerPerformance/ConsumerPerformance
// and bench/java/Latency.java) and librdkafka through kcat. Each returns the same figures the Node
// clients print. Java runs with the JVM's normal JIT and heap (the harness's runTool pins tools to
// C1 and a small heap, fine for CLI calls but not for measuring the client).

import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, release } from '../../scripts/kafka/harness.ts'
import type { ClientCase } from '../clients/common.ts'
import { lastJson, type Measured, measured } from './measure.ts'
import { payloadFile, recordsFile } from './payload.ts'

/** A case as the Node clients get it, with one bootstrap address for the command-line tools. */
export type Settings = Omit<ClientCase, 'brokers' | 'mode'> & { bootstrap: string }

export type Figures = Record<string, number | undefined>

const java = (mainClassOrSource: string, args: string[]) =>
  measured('java', ['-Xmx512m', '-cp', `${release().libs}/*`, mainClassOrSource, ...args])
const kafka39 = () => release().line === '3.9'
const acks = (s: Settings) => (s.acks === 'all' ? 'all' : '1')
const outside = (m: Measured) => ({ cpuSeconds: m.cpuSeconds, peakRssMb: m.peakRssMb, wallSeconds: m.wallSeconds })

/**
 * ProducerPerformance at full speed with the case's payload lines (`extra`: more of its flags, e.g.
 * --transactional-id); throughput as it measures it.
 */
export async function javaProduce(s: Settings, extra: string[] = []): Promise<Figures> {
  const props = {
    'bootstrap.servers': s.bootstrap,
    acks: acks(s),
    'compression.type': s.compression,
    'batch.size': s.batchBytes,
    'linger.ms': s.lingerMs,
    'buffer.memory': 64 * 1024 * 1024,
  }
  const m = await java('org.apache.kafka.tools.ProducerPerformance', [
    ...['--topic', s.topic, '--num-records', String(s.records), '--throughput', '-1'],
    ...['--payload-file', payloadFile(s.size)],
    ...extra,
    kafka39() ? '--producer-props' : '--command-property',
    ...Object.entries(props).map(([k, v]) => `${k}=${v}`),
  ])
  // "N records sent, R records/sec (M MB/sec), ..."
  const summary = m.stdout.split('\n').findLast((l) => /records sent/.test(l) && /99\.9th/.test(l))
  const rate = summary && /([\d.]+) records\/sec/.exec(summary)
  if (!rate) throw new Error(`ProducerPerformance printed no summary:\n${m.stdout.slice(-2000)}`)
  const recordsPerSec = Number(rate[1])
  return { recordsPerSec, mbPerSec: (recordsPerSec * s.size) / 1e6, ...outside(m) }
}

/**
 * Transactions with the Java client: bench/java/Transactions.java for transactions of a number of
 * records (the loop the kafkax client runs), ProducerPerformance with --transactional-id and
 * --transaction-duration-ms for transactions of a duration, bench/java/ConsumeTransformProduce.java
 * for consume-transform-produce.
 */
export async function javaTransactions(mode: string, s: Settings): Promise<Figures> {
  const transactionalId = `bench-java-${s.topic}-${s.groupId}`
  if (mode === 'duration') {
    const duration = String(s.transaction!.durationMs)
    return javaProduce(s, ['--transactional-id', transactionalId, '--transaction-duration-ms', duration])
  }
  const { transaction, ...rest } = s
  const spec = {
    ...rest,
    payloadFile: payloadFile(s.size),
    transactionalId,
    per: transaction!.records ?? 0,
    durationMs: transaction!.durationMs ?? 0,
  }
  const program = mode === 'ctp' ? 'ConsumeTransformProduce.java' : 'Transactions.java'
  const m = await java(join(ROOT, 'bench/java', program), [
    Object.entries(spec)
      .map(([k, v]) => `${k}=${v}`)
      .join(';'),
  ])
  return { ...lastJson(m.stdout), ...outside(m) }
}

/** ConsumerPerformance in a fresh group: records/s including the group join, as the Node clients. */
export async function javaConsume(s: Settings): Promise<Figures> {
  const config = join(mkdtempSync(join(tmpdir(), 'kafkax-bench-')), 'consumer.properties')
  writeFileSync(config, 'fetch.max.wait.ms=500\n')
  const m = await java('org.apache.kafka.tools.ConsumerPerformance', [
    ...['--bootstrap-server', s.bootstrap, '--topic', s.topic, '--group', s.groupId, '--timeout', '60000'],
    ...[kafka39() ? '--messages' : '--num-records', String(s.records), '--hide-header'],
    ...[kafka39() ? '--consumer.config' : '--command-config', config],
  ])
  // start, end, MB, MB/s, records, records/s, rebalance ms, fetch ms, fetch MB/s, fetch records/s
  const line = m.stdout.split('\n').findLast((l) => l.split(',').length === 10)
  if (!line) throw new Error(`ConsumerPerformance printed no figures:\n${m.stdout.slice(-2000)}`)
  const f = line.split(',').map((x) => Number(x.trim()))
  if (f[4] < s.records) throw new Error(`ConsumerPerformance read ${f[4]} of ${s.records} records`)
  return { recordsPerSec: f[5], mbPerSec: (f[5] * s.size) / 1e6, afterJoinRecordsPerSec: f[9], ...outside(m) }
}

/** bench/java/Latency.java: sequential, rate or e2e (single-file source launch, compiled at start). */
export async function javaLatency(mode: string, s: Settings): Promise<Figures> {
  const spec = { ...s, acks: acks(s), payloadFile: payloadFile(s.size) }
  const m = await java(join(ROOT, 'bench/java/Latency.java'), [
    mode,
    Object.entries(spec)
      .map(([k, v]) => `${k}=${v}`)
      .join(';'),
  ])
  return { ...lastJson(m.stdout), ...outside(m) }
}

function kcatProps(s: Settings): string[] {
  const props = {
    acks: acks(s),
    'enable.idempotence': s.acks === 'all',
    'compression.codec': s.compression,
    'linger.ms': s.lingerMs,
    'batch.size': s.batchBytes,
    'batch.num.messages': 1_000_000,
    'queue.buffering.max.kbytes': 65536,
  }
  return Object.entries(props).flatMap(([k, v]) => ['-X', `${k}=${v}`])
}

/** `kcat -P -l <file>`: wall time of the whole process (startup and metadata included). */
export async function kcatProduce(s: Settings): Promise<Figures> {
  const file = await recordsFile(s.size, s.records)
  const m = await measured('kcat', ['-P', '-b', s.bootstrap, '-t', s.topic, '-l', file, ...kcatProps(s)])
  const recordsPerSec = s.records / m.wallSeconds
  return { recordsPerSec, mbPerSec: (recordsPerSec * s.size) / 1e6, ...outside(m) }
}

/**
 * `kcat -C -o beginning -c <records>`: no group (kcat's simple consumer), wall time of the whole process.
 * It exits at the last record (`-c`) rather than at the end of the topic (`-e` waits out one more
 * empty long poll, 500 ms by default, which would count against it), and fetches that reach the end
 * of a partition early wait 10 ms at most (`fetch.wait.max.ms=10`).
 */
export async function kcatConsume(s: Settings): Promise<Figures> {
  const args = ['-C', '-b', s.bootstrap, '-t', s.topic, '-o', 'beginning', '-c', String(s.records), '-q']
  const m = await measured('kcat', [...args, '-X', 'fetch.wait.max.ms=10'], { discardStdout: true })
  const recordsPerSec = s.records / m.wallSeconds
  return { recordsPerSec, mbPerSec: (recordsPerSec * s.size) / 1e6, ...outside(m) }
}

/** Fills a topic for the consume cases with ProducerPerformance (acks=1, no compression). */
export async function fill(s: Settings): Promise<void> {
  await javaProduce({ ...s, acks: 'leader' })
}
