// Text forms of option values: durations, sizes, booleans, and the helpers that keep messages
// useful (did-you-mean) and safe (secrets are never shown).

import type { Leaf } from './schema.ts'

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
}

function withUnit(text: string, units: Record<string, number>, bare: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  const unit = m?.[2].toLowerCase() || bare
  if (!m || !(unit in units)) return undefined
  const value = Number(m[1]) * units[unit]
  return Number.isInteger(value) ? value : undefined
}

/** `250ms`, `5s`, `1.5m`, `1h`, or a bare number of milliseconds. */
export const parseDuration = (text: string) => withUnit(text, DURATION_UNITS, 'ms')

/** `512B`, `64KB` (1000), `16KiB` (1024), `1MB`, `1MiB`, `1GiB`, or a bare number of bytes. */
export const parseSize = (text: string) => withUnit(text, SIZE_UNITS, 'b')

const TRUE = ['true', '1', 'yes', 'on']
const FALSE = ['false', '0', 'no', 'off']

export function parseBoolean(text: string): boolean | undefined {
  const t = text.trim().toLowerCase()
  return TRUE.includes(t) ? true : FALSE.includes(t) ? false : undefined
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}

export function formatSize(bytes: number): string {
  for (const unit of ['GiB', 'MiB', 'KiB', 'GB', 'MB', 'KB']) {
    const size = SIZE_UNITS[unit.toLowerCase()]
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`
  }
  return String(bytes)
}

/** A value as a message may show it: secrets as `***`, long text cut. */
export function show(spec: Leaf | undefined, value: unknown): string {
  if (spec?.secret) return '***'
  if (typeof value === 'function') return '<function>'
  if (Buffer.isBuffer(value)) return '<Buffer>'
  let text: string
  if (typeof value === 'bigint') text = `${value}n`
  else if (typeof value === 'number' || typeof value === 'symbol' || value instanceof RegExp) text = String(value)
  else {
    try {
      text = JSON.stringify(value) ?? String(value)
    } catch {
      text = Object.prototype.toString.call(value) // a cycle, or a bigint inside
    }
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = row
  }
  return previous[b.length]
}

/** The closest of `candidates` to `name`, ignoring case, when it is close enough to be a typo. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1
  for (const candidate of candidates) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) [best, bestDistance] = [candidate, d]
  }
  return best
}
