// What every Node client process shares: the case it was given, the payloads, fixed-rate pacing,
// the peers' codec plug-ins, and the one JSON line it prints at the end.

import { createRequire } from 'node:module'
import { payloads } from '../lib/payload.ts'
import { percentiles } from '../lib/stats.ts'

export const require = createRequire(import.meta.url)

export interface ClientCase {
  brokers: string[]
  topic: string
  mode: string
  records: number
  size: number
  acks: 'all' | 'leader'
  compression: 'none' | 'lz4' | 'zstd'
  batchBytes: number
  lingerMs: number
  /** Fixed-rate cases: records per second for `seconds`. */
  rate: number
  seconds: number
  groupId: string
  /** Transactional cases: commit every `records` records, or `durationMs` after the transaction began. */
  transaction?: { records?: number; durationMs?: number }
  /** Consume-transform-produce: the topic written to (`topic` is the pre-filled input). */
  output?: string
}

export const [client, json] = process.argv.slice(2)
export const spec: ClientCase = JSON.parse(json)
export const values = payloads(spec.size)
export const kafkaNumberAcks = spec.acks === 'all' ? -1 : 1

/** Calls `send(i)` `rate` times per second for `seconds`, in bursts every millisecond (as the Java harness). */
export async function paced(send: (i: number) => void): Promise<void> {
  const total = Math.round(spec.rate * spec.seconds)
  const start = performance.now()
  let sent = 0
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * spec.rate) / 1000) + 1)
    while (sent < due) send(sent++)
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}

/**
 * kafkajs ships neither lz4 nor zstd: it gets codecs on the same native libraries kafkax uses
 * (lz4-napi, @mongodb-js/zstd), the way its users plug them in. `kafkajs` is kafkajs, or kafkax/kafkajs
 * (which accepts the registration and uses its own built-in codecs).
 */
export function kafkajsWithCodecs(kafkajs = require('kafkajs')) {
  const lz4 = require('lz4-napi')
  const zstd = require('@mongodb-js/zstd')
  const { CompressionCodecs, CompressionTypes } = kafkajs
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (encoder: { buffer: Buffer }) => lz4.compressFrame(encoder.buffer),
    decompress: (buffer: Buffer) => lz4.decompressFrame(buffer),
  })
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    compress: (encoder: { buffer: Buffer }) => zstd.compress(encoder.buffer, 3),
    decompress: (buffer: Buffer) => zstd.decompress(buffer),
  })
  const compression = { none: CompressionTypes.None, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD }[
    spec.compression
  ]
  return { kafkajs, compression }
}

/** Runs the measured part of a case: wall seconds and CPU seconds of this process meanwhile. */
export async function timed(work: () => Promise<void>): Promise<{ seconds: number; cpuSeconds: number }> {
  const cpu = process.cpuUsage()
  const started = performance.now()
  await work()
  const used = process.cpuUsage(cpu)
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6 }
}

/** Prints the result line the runner parses, then exits (peers may leave timers behind). */
export function report(figures: {
  seconds: number
  cpuSeconds: number
  records: number
  latencies?: number[]
  extra?: object
}): never {
  const { seconds, records, latencies } = figures
  console.log(
    JSON.stringify({
      seconds,
      records,
      recordsPerSec: records / seconds,
      mbPerSec: (records * spec.size) / seconds / 1e6,
      ...(latencies?.length ? percentiles(latencies) : {}),
      ...figures.extra,
      timedCpuSeconds: figures.cpuSeconds,
      selfPeakRssMb: process.resourceUsage().maxRSS / 1024,
    }),
  )
  process.exit(0)
}
