// CRC-32C micro-benchmark: kafkax (with @node-rs/crc32 where it loads, and its JavaScript loop alone)
// against kafkajs's implementation in the same process, alternating, medians of 7 repetitions of
// CPU-time rates, on 1 KiB, 16 KiB and 1 MiB. The checksummed range starts at byte 21 of a
// buffer, as in a RecordBatch (attributes..end), so it is not 4-byte aligned. Prints; never asserts.

import { createRequire } from 'node:module'
import { crc32c, crc32cSoftware, nativeCrc32c } from '../src/protocol/crc32c.ts'

const require = createRequire(import.meta.url)
const kjsCrc32c: (b: Buffer) => number = require('kafkajs/src/protocol/recordBatch/crc32C/index.js')

const REPS = Number(process.env.BENCH_REPS ?? 7)
const ATTRIBUTES_OFFSET = 21

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[s.length >> 1]
}

/** Milliseconds of CPU time this process has used: steadier than wall time when other work shares the machine. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

/** Runs `fn` for ~200 ms of CPU time and returns MB/s (10^6 bytes per CPU second). */
function rate(fn: () => number, bytes: number): number {
  // enough calls between clock reads (~1 MiB) that reading the clock costs nothing measurable
  const calls = Math.max(4, (1 << 20) / bytes)
  let n = 0
  let sink = 0
  const start = cpuMs()
  let now = start
  while (now - start < 200) {
    for (let k = 0; k < calls; k++) sink ^= fn()
    n += calls
    now = cpuMs()
  }
  if (sink === 0.5) console.log('unreachable: keeps the results alive')
  return (n * bytes) / ((now - start) / 1000) / 1e6
}

for (const size of [1024, 16 * 1024, 1024 * 1024]) {
  const batch = Buffer.alloc(ATTRIBUTES_OFFSET + size)
  for (let i = 0; i < batch.length; i++) batch[i] = (i * 2654435761) >>> 24
  const ours = () => crc32c(batch, ATTRIBUTES_OFFSET)
  const loop = () => crc32cSoftware(batch, ATTRIBUTES_OFFSET)
  // kafkajs checksums a slice of the batch, as its encoder does
  const theirs = () => kjsCrc32c(batch.subarray(ATTRIBUTES_OFFSET))
  if (ours() !== theirs() || loop() !== theirs()) throw new Error(`the implementations disagree on ${size} bytes`)
  const a: number[] = []
  const js: number[] = []
  const b: number[] = []
  for (let r = 0; r < REPS; r++) {
    a.push(rate(ours, size))
    js.push(rate(loop, size))
    b.push(rate(theirs, size))
  }
  const label = size >= 1 << 20 ? `${size >> 20} MiB` : `${size >> 10} KiB`
  const mbs = (xs: number[]) => median(xs).toFixed(0).padStart(5)
  console.log(
    `CRC-32C ${label.padStart(6)}   kafkax ${mbs(a)} MB/s (${nativeCrc32c ? '@node-rs/crc32' : 'no native package'}; its loop ${mbs(js)})   kafkajs ${mbs(b)} MB/s   ratio ${(median(a) / median(b)).toFixed(2)}x`,
  )
}
