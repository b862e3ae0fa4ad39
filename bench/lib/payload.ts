// The record values every client sends: JSON-like text lines of an exact size, varied enough that
// lz4 compresses them about 2:1 (repeated bytes would flatter every codec). The same lines feed the
// Java ProducerPerformance (--payload-file) and kcat (-l), so every client sends comparable bytes.

import { once } from 'node:events'
import { createWriteStream, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const WORDS = 'order payment user click view cart item price stock region alpha beta gamma delta shipped pending'.split(
  ' ',
)
export const DATA_DIR = join(tmpdir(), 'kafkax-bench')

/** `count` distinct ASCII payloads of exactly `size` bytes, the same on every call (seeded). */
export function payloads(size: number, count = 1000): Buffer[] {
  let seed = size * 7919 + 1
  const rand = (n: number) => {
    // mulberry32: deterministic, so every client process builds the same lines
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t)
    return (((t ^ (t >>> 14)) >>> 0) % n) as number
  }
  return Array.from({ length: count }, (_, i) => {
    let text = `{"id":${i},"user":"u${rand(100000)}","amount":${rand(10000) / 100},"text":"`
    while (text.length < size) text += `${WORDS[rand(WORDS.length)]}${rand(1000)} `
    return Buffer.from(`${text.slice(0, Math.max(0, size - 2))}"}`.slice(0, size), 'latin1')
  })
}

/** The payload lines, one per line, for ProducerPerformance --payload-file. */
export function payloadFile(size: number): string {
  const file = join(DATA_DIR, `payloads-${size}.txt`)
  if (!existsSync(file)) {
    mkdirSync(DATA_DIR, { recursive: true })
    writeFileSync(file, `${payloads(size).join('\n')}\n`)
  }
  return file
}

/** `records` lines cycling through the payloads, for `kcat -P -l`; cached between runs. */
export async function recordsFile(size: number, records: number): Promise<string> {
  const file = join(DATA_DIR, `records-${size}-${records}.txt`)
  if (existsSync(file)) return file
  mkdirSync(DATA_DIR, { recursive: true })
  const lines = payloads(size).map((p) => `${p}\n`)
  const out = createWriteStream(`${file}.tmp`)
  const chunk = Buffer.from(lines.join(''), 'latin1')
  const full = Math.floor(records / lines.length)
  for (let i = 0; i < full; i++) if (!out.write(chunk)) await once(out, 'drain')
  out.write(lines.slice(0, records % lines.length).join(''))
  out.end()
  await once(out, 'finish')
  renameSync(`${file}.tmp`, file)
  return file
}
