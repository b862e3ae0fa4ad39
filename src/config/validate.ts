// Checks one layer of configuration (a YAML file, the environment, code overrides) against the
// schema and returns it normalised: durations and sizes as numbers, enums in lower case, lists as
// arrays, `<name>File` options read. Problems are collected, not thrown, so that one ConfigError
// can report them all.

import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseBroker } from '../client/options.ts'
import { type Group, type Leaf, SECTIONS, type SectionName, type Spec } from './schema.ts'
import { didYouMean, parseBoolean, parseDuration, parseSize, show } from './values.ts'

export type Tree = Record<string, unknown>
export type Layer = Partial<Record<SectionName, Tree>>

export interface LayerSource {
  /** Names the layer in messages: a file name, 'environment', 'overrides'. */
  name: string
  /** Relative `<name>File` paths resolve against this directory. */
  baseDir: string
  /** Values are text (the environment): numbers, booleans and lists are parsed from strings. */
  text?: boolean
  /** Names an option in messages; default `<layer>: <path>`. */
  label?: (path: string[]) => string
}

const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/

export const isPlainObject = (v: unknown): v is Tree =>
  typeof v === 'object' && v !== null && [Object.prototype, null].includes(Object.getPrototypeOf(v))

/** What a leaf accepts, for messages and the documentation. */
export function describe(spec: Leaf): string {
  const bounds =
    spec.max !== undefined ? ` from ${spec.min} to ${spec.max}` : spec.min !== undefined ? ` >= ${spec.min}` : ''
  switch (spec.kind) {
    case 'string':
      return spec.format === 'broker' ? 'host:port' : spec.format === 'topic' ? 'topic name' : 'string'
    case 'integer':
    case 'number':
      return `${spec.kind}${bounds}`
    case 'boolean':
      return 'boolean (true/false)'
    case 'duration':
      return `duration${bounds} (ms, or 250ms, 5s, 2m, 1h)`
    case 'size':
      return `size${bounds} (bytes, or 16KiB, 1MB, 1MiB)`
    case 'enum':
      return `one of ${spec.values!.join(', ')}${spec.orFunction ? ' (or a function, in code)' : ''}`
    case 'list':
      return spec.values
        ? `list of ${spec.values.join(', ')}`
        : `list of ${spec.format === 'broker' ? 'host:port' : 'topic names'}`
    case 'assignments':
      return 'list of topic:partition[:offset]'
    case 'pem':
      return 'PEM text'
    case 'code':
      return 'function or object (code only)'
  }
}

function formatOk(spec: Leaf, text: string): boolean {
  if (spec.format === 'topic') return TOPIC.test(text) && text !== '.' && text !== '..'
  if (spec.format === 'broker') {
    try {
      parseBroker(text)
    } catch {
      return false
    }
  }
  return true
}

const NO = Symbol('invalid')

function numeric(spec: Leaf, value: unknown, text: boolean): number | typeof NO {
  let n: number | undefined
  if (typeof value === 'number') n = value
  else if (typeof value === 'string' && spec.kind === 'duration') n = parseDuration(value)
  else if (typeof value === 'string' && spec.kind === 'size') n = parseSize(value)
  else if (typeof value === 'string' && text && value.trim() !== '') n = Number(value)
  if (n === undefined || !Number.isFinite(n) || (spec.kind !== 'number' && !Number.isInteger(n))) return NO
  return (spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max) ? NO : n
}

function list(value: unknown): unknown[] | undefined {
  // Empty items are dropped, so a trailing comma is harmless.
  if (typeof value === 'string')
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
  return Array.isArray(value) ? value : undefined
}

function assignment(item: unknown): { topic: string; partition: number; offset?: bigint } | typeof NO {
  let { topic, partition, offset, ...rest } = (isPlainObject(item) ? item : {}) as Tree
  if (typeof item === 'string') {
    const m = /^\s*([^:\s]+):(\d+)(?::(\d+))?\s*$/.exec(item)
    if (!m) return NO
    ;[topic, partition, offset] = [m[1], Number(m[2]), m[3]]
  }
  if (typeof topic !== 'string' || !TOPIC.test(topic) || Object.keys(rest).length > 0) return NO
  if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0) return NO
  if (offset === undefined) return { topic, partition }
  if (typeof offset === 'number' && Number.isSafeInteger(offset)) offset = BigInt(offset)
  if (typeof offset === 'string' && /^\d+$/.test(offset)) offset = BigInt(offset)
  return typeof offset === 'bigint' && offset >= 0n ? { topic, partition, offset } : NO
}

/** The normalised value of a leaf, or NO. */
function leafValue(spec: Leaf, value: unknown, text: boolean): unknown {
  switch (spec.kind) {
    case 'string':
      return typeof value === 'string' && value !== '' && formatOk(spec, value) ? value : NO
    case 'pem':
      return (typeof value === 'string' && value !== '') || Buffer.isBuffer(value) ? value : NO
    case 'boolean':
      if (typeof value === 'boolean') return value
      return text && typeof value === 'string' ? (parseBoolean(value) ?? NO) : NO
    case 'integer':
    case 'number':
    case 'duration':
    case 'size':
      return numeric(spec, value, text)
    case 'enum': {
      if (spec.orFunction && typeof value === 'function') return value
      if (typeof value !== 'string' && typeof value !== 'number') return NO
      const name = String(value).trim().toLowerCase()
      const canonical = spec.aliases?.[name] ?? name
      return spec.values!.includes(canonical) ? canonical : NO
    }
    case 'list': {
      const items = list(value)?.map((i) => (typeof i === 'string' && spec.values ? i.toLowerCase() : i))
      const ok = (i: unknown) =>
        typeof i === 'string' && i !== '' && formatOk(spec, i) && (!spec.values || spec.values.includes(i))
      return items && items.length > 0 && items.every(ok) ? items : NO
    }
    case 'assignments': {
      const items = list(value)?.map(assignment)
      return items && items.length > 0 && !items.includes(NO) ? items : NO
    }
    case 'code':
      return typeof value === 'function' || (typeof value === 'object' && value !== null) ? value : NO
  }
}

/** Reads a secret or certificate file; one final newline is dropped (files written by `echo`). */
export function readValueFile(path: string): string {
  return readFileSync(path, 'utf8').replace(/\r?\n$/, '')
}

class Validator {
  constructor(
    private readonly source: LayerSource,
    private readonly problems: string[],
  ) {}

  private where(path: string[]): string {
    if (path.length === 0) return this.source.name
    return this.source.label?.(path) ?? `${this.source.name}: ${path.join('.')}`
  }

  group(spec: Pick<Group, 'fields' | 'shorthand'>, raw: unknown, path: string[]): Tree | undefined {
    if (spec.shorthand && typeof raw === 'boolean') return { enabled: raw }
    if (!isPlainObject(raw)) {
      // The value is not shown: a group may hold secrets (`sasl: user:password`).
      const got = raw === null ? 'null' : Array.isArray(raw) ? 'a list' : `a ${typeof raw}`
      this.problems.push(`${this.where(path)}: must be a mapping of options, got ${got}`)
      return undefined
    }
    const out: Tree = {}
    for (let [key, value] of Object.entries(raw)) {
      if (value === undefined) continue
      let field: Spec | undefined = spec.fields[key]
      const fileOf = key.endsWith('File') ? spec.fields[key.slice(0, -4)] : undefined
      if (!field && fileOf && fileOf.kind !== 'group' && (fileOf.file || fileOf.secret)) {
        key = key.slice(0, -4)
        field = fileOf
        value = this.readFile(value, raw[key], [...path, `${key}File`])
        if (value === undefined) continue
      }
      if (!field) {
        const hint = didYouMean(key, Object.keys(spec.fields))
        const name = [...path, key].join('.')
        this.problems.push(`${this.source.name}: unknown option ${name}${hint ? ` (did you mean ${hint}?)` : ''}`)
        continue
      }
      const checked =
        field.kind === 'group' ? this.group(field, value, [...path, key]) : this.leaf(field, value, [...path, key])
      if (checked !== undefined) out[key] = checked
    }
    return out
  }

  private readFile(file: unknown, inline: unknown, path: string[]): string | undefined {
    const where = this.where(path)
    if (inline !== undefined)
      this.problems.push(`${where}: set ${path.at(-1)!.slice(0, -4)} or ${path.at(-1)}, not both`)
    else if (typeof file !== 'string' || file === '') this.problems.push(`${where}: must be a file path`)
    else {
      try {
        return readValueFile(resolve(this.source.baseDir, file))
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
        this.problems.push(`${where}: cannot read ${file} (${code})`)
      }
    }
    return undefined
  }

  private leaf(spec: Leaf, value: unknown, path: string[]): unknown {
    const result = leafValue(spec, value, this.source.text ?? false)
    if (result !== NO) return result
    this.problems.push(`${this.where(path)}: ${show(spec, value)} is not allowed: expected ${describe(spec)}`)
    return undefined
  }
}

/** Validates a whole layer: `{ common?, producer?, consumer?, admin? }`. */
export function validateLayer(raw: unknown, source: LayerSource, problems: string[]): Layer {
  const sections = Object.fromEntries(
    Object.entries(SECTIONS).map(([name, fields]) => [name, { kind: 'group', doc: name, fields } as Group]),
  )
  return (new Validator(source, problems).group({ fields: sections }, raw ?? {}, []) ?? {}) as Layer
}
