// Codec micro-benchmark: RecordBatch encode/decode (100 B and 1 KB records), CRC-32C and Murmur2,
// kafkax against kafkajs's own encoder/decoder in the same process, alternating, medians of several
// repetitions. kafkajs has no built-in lz4, so lz4 is measured for kafkax alone. Prints; never asserts.

import { createRequire } from 'node:module'
import { murmur2Partition } from '../src/producer/murmur2.ts'
import { crc32c } from '../src/protocol/crc32c.ts'
import { decodeRecordBatches, RecordBatchBuilder } from '../src/protocol/records/index.ts'

const require = createRequire(import.meta.url)
const { RecordBatch: KjsRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js')
const KjsRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js')
const kjsDecodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js')
const KjsDecoder = require('kafkajs/src/protocol/decoder.js')
const kjsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C/index.js')
const { Types: KjsCodecs } = require('kafkajs/src/protocol/message/compression/index.js')
const KjsPartitioner = require('kafkajs/src/producer/partitioners/default/index.js')

const REPS = Number(process.env.BENCH_REPS ?? 7)
const BATCH = 1000

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]
}

/** Runs `fn` for ~250 ms and returns operations per second. */
async function rate(fn: () => unknown | Promise<unknown>): Promise<number> {
  let n = 0
  const start = performance.now()
  while (performance.now() - start < 250) {
    await fn()
    n++
  }
  return n / ((performance.now() - start) / 1000)
}

async function compare(name: string, unitsPerOp: number, unit: string, ours: () => unknown, theirs?: () => unknown) {
  const a: number[] = []
  const b: number[] = []
  for (let i = 0; i < REPS; i++) {
    a.push((await rate(ours)) * unitsPerOp)
    if (theirs) b.push((await rate(theirs)) * unitsPerOp)
  }
  const fmt = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(1)}k`)
  const line = `${name.padEnd(34)} kafkax ${fmt(median(a)).padStart(8)} ${unit}`
  console.log(
    theirs
      ? `${line}   kafkajs ${fmt(median(b)).padStart(8)} ${unit}   ratio ${(median(a) / median(b)).toFixed(2)}x`
      : line,
  )
}

for (const size of [100, 1024]) {
  const value = Buffer.alloc(size, 'x')
  const records = Array.from({ length: BATCH }, (_, i) => ({
    key: Buffer.from(`key-${i}`),
    value,
    timestamp: 1_700_000_000_000 + i,
  }))
  const encodeOurs = (compression: 'none' | 'gzip' | 'lz4') => async () => {
    const b = new RecordBatchBuilder({ compression })
    for (const r of records) b.append(r)
    return b.build()
  }
  const encodeTheirs = (compression: number) => async () => {
    const recs = records.map((r, i) => KjsRecord({ offsetDelta: i, timestampDelta: i, key: r.key, value: r.value }))
    const encoder = await KjsRecordBatch({ compression, records: recs, lastOffsetDelta: BATCH - 1 })
    return encoder.buffer
  }
  for (const [codec, kjs] of [
    ['none', KjsCodecs.None],
    ['gzip', KjsCodecs.GZIP],
    ['lz4', undefined],
  ] as const) {
    const ours = await encodeOurs(codec)()
    await compare(
      `encode ${size} B records, ${codec}`,
      BATCH,
      'rec/s',
      encodeOurs(codec),
      kjs === undefined ? undefined : encodeTheirs(kjs),
    )
    await compare(
      `decode ${size} B records, ${codec}`,
      BATCH,
      'rec/s',
      () => decodeRecordBatches(ours),
      // both decoders read the same bytes
      kjs === undefined ? undefined : () => kjsDecodeBatch(new KjsDecoder(ours)),
    )
  }
}

const mib = Buffer.alloc(1 << 20, 7)
await compare(
  'CRC-32C over 1 MiB',
  1,
  'MiB/s',
  () => crc32c(mib),
  () => kjsCrc32c(mib),
)
const keys = Array.from({ length: 1000 }, (_, i) => Buffer.from(`order-${i * 7919}`))
const kjsPartition = KjsPartitioner()
const metadata = Array.from({ length: 12 }, (_, i) => ({ partitionId: i, leader: 0 }))
await compare(
  'murmur2 partition (1000 keys)',
  1000,
  'keys/s',
  () => {
    for (const k of keys) murmur2Partition(k, 12)
  },
  () => {
    for (const k of keys) kjsPartition({ topic: 't', partitionMetadata: metadata, message: { key: k } })
  },
)
