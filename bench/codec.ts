// Codec micro-benchmark: RecordBatch encode/decode (100 B and 1 KB records), CRC-32C and Murmur2,
// kafkax against kafkajs's own encoder/decoder in the same process, alternating, medians of several
// repetitions, per CPU second. Prints; never asserts.
//
// Fairness: kafkajs has no built-in lz4, so it gets an LZ4 codec on the same native library we use
// (lz4-napi), the way its users plug one in. Both decoders' records are read in full (offset,
// timestamp, key, value, headers), since ours computes the bigint offset lazily. kafkajs never checks
// the batch CRC: "decode" lines show ours checking it anyway, "decode, no CRC" lines the same work on
// both sides. Values are JSON-like text that compresses about 2:1 with lz4, 4:1 with gzip (repeated
// bytes would flatter every codec).

import { createRequire } from 'node:module'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import lz4 from 'lz4-napi'
import { murmur2Partition } from '../src/producer/murmur2.ts'
import { crc32c } from '../src/protocol/crc32c.ts'
import { decodeRecordBatches, type KafkaRecord, RecordBatchBuilder } from '../src/protocol/records/index.ts'

const require = createRequire(import.meta.url)
const { RecordBatch: KjsRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js')
const KjsRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js')
const kjsDecodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js')
const KjsDecoder = require('kafkajs/src/protocol/decoder.js')
const kjsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C/index.js')
const { Types: KjsCodecs, Codecs: kjsCodecTable } = require('kafkajs/src/protocol/message/compression/index.js')
const KjsPartitioner = require('kafkajs/src/producer/partitioners/default/index.js')

kjsCodecTable[KjsCodecs.LZ4] = () => ({
  compress: (encoder: { buffer: Buffer }) => lz4.compressFrame(encoder.buffer),
  decompress: (buffer: Buffer) => lz4.decompressFrame(buffer),
})

// A full collection before each measurement, so each side pays for its own garbage, not the other's.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const REPS = Number(process.env.BENCH_REPS ?? 7)
const BATCH = 1000

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]
}

/**
 * Runs `fn` for ~250 ms and returns operations per CPU second of this process (every thread, so
 * codec work on the libuv pool counts): other load on a shared machine skews that less than wall time.
 */
async function rate(fn: () => unknown | Promise<unknown>): Promise<number> {
  let n = 0
  const start = performance.now()
  const cpu = process.cpuUsage()
  while (performance.now() - start < 250) {
    await fn()
    n++
  }
  const used = process.cpuUsage(cpu)
  return n / ((used.user + used.system) / 1e6)
}

async function compare(name: string, unitsPerOp: number, unit: string, ours: () => unknown, theirs?: () => unknown) {
  const a: number[] = []
  const b: number[] = []
  for (let i = 0; i < REPS; i++) {
    gc()
    a.push((await rate(ours)) * unitsPerOp)
    if (!theirs) continue
    gc()
    b.push((await rate(theirs)) * unitsPerOp)
  }
  const fmt = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(1)}k`)
  const line = `${name.padEnd(38)} kafkax ${fmt(median(a)).padStart(8)} ${unit}`
  console.log(
    theirs
      ? `${line}   kafkajs ${fmt(median(b)).padStart(8)} ${unit}   ratio ${(median(a) / median(b)).toFixed(2)}x`
      : line,
  )
}

/** Deterministic text of `size` bytes: words from a small vocabulary and numbers, like JSON payloads. */
function payload(size: number, seed: number): Buffer {
  const words = ['order', 'customer', 'amount', 'currency', 'EUR', 'status', 'shipped', 'item', 'sku', 'qty']
  let x = seed * 2654435761 + 1
  let s = ''
  while (s.length < size) {
    x = (x * 1103515245 + 12345) % 2147483648
    s += `"${words[x % words.length]}":${x % 100000},`
  }
  return Buffer.from(s.slice(0, size))
}

// Both sides read every field of every decoded record; the stores keep the reads from being optimised away.
let sink: unknown
let bytes = 0
function readOurs(records: KafkaRecord[]): void {
  for (const r of records) {
    sink = r.offset
    sink = r.timestamp
    sink = r.headers
    bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0)
  }
}
function readTheirs(records: { offset: string; timestamp: string; key: Buffer; value: Buffer; headers: object }[]) {
  for (const r of records) {
    sink = r.offset
    sink = r.timestamp
    sink = r.headers
    bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0)
  }
}

for (const size of [100, 1024]) {
  const records = Array.from({ length: BATCH }, (_, i) => ({
    key: Buffer.from(`key-${i}`),
    value: payload(size, i),
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
    ['lz4', KjsCodecs.LZ4],
  ] as const) {
    const ours = await encodeOurs(codec)()
    const decodeOurs = (checkCrcs: boolean) => async () => {
      for (const batch of await decodeRecordBatches(ours, { checkCrcs })) readOurs(batch.records)
    }
    // both decoders read the same bytes
    const decodeTheirs = async () => readTheirs((await kjsDecodeBatch(new KjsDecoder(ours))).records)
    await compare(`encode ${size} B records, ${codec}`, BATCH, 'rec/s', encodeOurs(codec), encodeTheirs(kjs))
    await compare(`decode ${size} B records, ${codec}`, BATCH, 'rec/s', decodeOurs(true), decodeTheirs)
    await compare(`decode ${size} B records, ${codec}, no CRC`, BATCH, 'rec/s', decodeOurs(false), decodeTheirs)
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
if (bytes === -1) console.log(sink)
