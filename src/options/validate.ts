// Checks options against their schema and returns them normalised: durations and sizes as numbers,
// enums in lower case, lists as arrays, `<name>File` options read. The same checks serve the
// constructors (options passed in code) and loadConfig (a YAML file, the environment, overrides).
// Problems are collected, not thrown, so that one ConfigError can report them all.

import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ConfigError } from '../protocol/errors.ts'
import {
  type Fields,
  isPlainObject,
  type Leaf,
  type OptionGroup,
  type Resolved,
  type Spec,
  TOPIC,
  type Tree,
  withDefaults,
} from './schema.ts'
import { didYouMean, parseBoolean, parseDuration, parseSize, show } from './values.ts'

/** Where options come from. */
export interface Source {
  /** Names the source in messages: a file name, 'environment', 'overrides'; none for a constructor's options. */
  name?: string
  /** `<name>File` options are read, relative to this directory; without it they are unknown options. */
  baseDir?: string
  /** Values are text (the environment): numbers, booleans and lists are parsed from strings. */
  text?: boolean
  /** Options come from code: functions, objects, RegExp items and pass-through keys are allowed. */
  code?: boolean
  /** Names an option in messages; default `<source>: <path>`. */
  label?: (path: string[]) => string
}

/** A mapping of options: in code any object but a list, a Buffer or a RegExp; in a file a plain one. */
function isMapping(v: unknown, code: boolean | undefined): v is Tree {
  if (!code) return isPlainObject(v)
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) && !(v instanceof RegExp)
}

const kindOf = (v: unknown) =>
  v === null || v === undefined ? String(v) : Array.isArray(v) ? 'a list' : `a ${typeof v}`

/** What a leaf accepts, for messages and the documentation. */
export function describe(spec: Leaf): string {
  const bounds =
    spec.max !== undefined ? ` from ${spec.min} to ${spec.max}` : spec.min !== undefined ? ` >= ${spec.min}` : ''
  switch (spec.kind) {
    case 'string':
      return spec.format?.name ?? 'string'
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
      return `list of ${spec.values ? spec.values.join(', ') : (spec.format?.plural ?? 'strings')}${spec.orRegExp ? ' (or RegExp patterns, in code)' : ''}${spec.orObject ? ' (or objects, in code)' : ''}`
    case 'assignments':
      return 'list of topic:partition[:offset]'
    case 'pem':
      return 'PEM text'
    case 'function':
      return 'function (code only)'
    case 'object':
      return `${spec.instanceOf?.name ?? 'object'} (code only)`
  }
}

const NO = Symbol('invalid')

/**
 * Durations and sizes stay below 2^31: Kafka's requests carry them as int32, and Node's timers
 * fire at once for longer delays.
 */
const INT32_MAX = 2 ** 31 - 1

function numeric(spec: Leaf, value: unknown, text: boolean): number | typeof NO {
  let n: number | undefined
  if (typeof value === 'number') n = value
  else if (typeof value === 'string' && spec.kind === 'duration') n = parseDuration(value)
  else if (typeof value === 'string' && spec.kind === 'size') n = parseSize(value)
  else if (typeof value === 'string' && text && value.trim() !== '') n = Number(value)
  if (n === undefined || !Number.isFinite(n) || (spec.kind !== 'number' && !Number.isInteger(n))) return NO
  const max = spec.max ?? (spec.kind === 'duration' || spec.kind === 'size' ? INT32_MAX : undefined)
  return (spec.min !== undefined && n < spec.min) || (max !== undefined && n > max) ? NO : n
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

const isPem = (v: unknown) => (typeof v === 'string' && v !== '') || ArrayBuffer.isView(v)

/** The normalised value of a leaf, or NO. */
function leafValue(spec: Leaf, value: unknown, source: Source): unknown {
  const text = source.text ?? false
  switch (spec.kind) {
    case 'string':
      return typeof value === 'string' && value !== '' && (spec.format?.test(value) ?? true) ? value : NO
    case 'pem':
      // Node also takes a list of them (and key objects `{ pem, passphrase }`), from code
      if (isPem(value)) return value
      return source.code && Array.isArray(value) && value.every((v) => isPem(v) || isPlainObject(v)) ? value : NO
    case 'boolean':
      if (typeof value === 'boolean') return value
      return text && typeof value === 'string' ? (parseBoolean(value) ?? NO) : NO
    case 'integer':
    case 'number':
    case 'duration':
    case 'size':
      return numeric(spec, value, text)
    case 'enum': {
      if (spec.orFunction && source.code && typeof value === 'function') return value
      if (typeof value !== 'string' && typeof value !== 'number') return NO
      const name = String(value).trim().toLowerCase()
      const canonical = spec.aliases?.[name] ?? name
      return spec.values!.includes(canonical) ? canonical : NO
    }
    case 'list': {
      const items = list(value)?.map((i) => (typeof i === 'string' && spec.values ? i.toLowerCase() : i))
      const ok = (i: unknown) =>
        (typeof i === 'string' &&
          i !== '' &&
          (spec.format?.test(i) ?? true) &&
          (!spec.values || spec.values.includes(i))) ||
        (spec.orRegExp === true && source.code === true && i instanceof RegExp) ||
        (spec.orObject === true && source.code === true && typeof i === 'object' && i !== null && !Array.isArray(i))
      return items && items.length > 0 && items.every(ok) ? items : NO
    }
    case 'assignments': {
      const items = list(value)?.map(assignment)
      return items && items.length > 0 && !items.includes(NO) ? items : NO
    }
    case 'function':
      return source.code && typeof value === 'function' ? value : NO
    case 'object':
      if (!source.code || typeof value !== 'object' || value === null || Array.isArray(value)) return NO
      return spec.instanceOf && !(value instanceof spec.instanceOf) ? NO : value
  }
}

/** describe(), with the cap of durations and sizes (documented once, in docs/configuration.md). */
const expected = (spec: Leaf) =>
  describe(spec) + (spec.max === undefined && ['duration', 'size'].includes(spec.kind) ? `, at most ${INT32_MAX}` : '')

/** Reads a secret or certificate file; one final newline is dropped (files written by `echo`). */
export function readValueFile(path: string): string {
  return readFileSync(path, 'utf8').replace(/\r?\n$/, '')
}

export class Validator {
  constructor(
    private readonly source: Source,
    private readonly problems: string[],
  ) {}

  private where(path: string[]): string {
    return this.source.label?.(path) ?? (this.source.name ? `${this.source.name}: ${path.join('.')}` : path.join('.'))
  }

  private push(problem: string): void {
    this.problems.push(this.source.name ? `${this.source.name}: ${problem}` : problem)
  }

  group(
    spec: Pick<OptionGroup, 'fields' | 'shorthand' | 'passThrough' | 'unknownHint'>,
    raw: unknown,
    path: string[],
  ): Tree | undefined {
    if (spec.shorthand && typeof raw === 'boolean') return { enabled: raw }
    if (!isMapping(raw, this.source.code)) {
      // The value is not shown: a group may hold secrets (`sasl: user:password`).
      const where = path.length > 0 ? this.where(path) : (this.source.name ?? 'options')
      this.problems.push(`${where}: must be a mapping of options, got ${kindOf(raw)}`)
      return undefined
    }
    const passThrough = (this.source.code && spec.passThrough) || []
    const out: Tree = {}
    for (let [key, value] of Object.entries(raw)) {
      if (value === undefined) continue
      const own = (name: string): Spec | undefined => (Object.hasOwn(spec.fields, name) ? spec.fields[name] : undefined)
      let field = own(key)
      const fileOf = this.source.baseDir !== undefined && key.endsWith('File') ? own(key.slice(0, -4)) : undefined
      if (!field && fileOf && fileOf.kind !== 'group' && (fileOf.file || fileOf.secret)) {
        key = key.slice(0, -4)
        field = fileOf
        value = this.readFile(value, raw[key], [...path, `${key}File`])
        if (value === undefined) continue
      }
      if (!field && passThrough.includes(key)) {
        out[key] = value
        continue
      }
      if (!field) {
        this.unknown(spec.fields, passThrough, [...path, key], spec.unknownHint?.(key))
        continue
      }
      const checked =
        field.kind === 'group' ? this.group(field, value, [...path, key]) : this.leaf(field, value, [...path, key])
      if (checked !== undefined) out[key] = checked
    }
    return out
  }

  /** An unknown option, with the closest known name when it looks like a typo of one. */
  private unknown(fields: Fields, passThrough: readonly string[], path: string[], otherwise = ''): void {
    const hint = didYouMean(path.at(-1)!, [...Object.keys(fields), ...passThrough])
    this.push(`unknown option ${path.join('.')}${hint ? `; did you mean ${hint}?` : otherwise}`)
  }

  private readFile(file: unknown, inline: unknown, path: string[]): string | undefined {
    const where = this.where(path)
    if (inline !== undefined)
      this.problems.push(`${where}: set ${path.at(-1)!.slice(0, -4)} or ${path.at(-1)}, not both`)
    else if (typeof file !== 'string' || file === '') this.problems.push(`${where}: must be a file path`)
    else {
      try {
        return readValueFile(resolve(this.source.baseDir!, file))
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
        this.problems.push(`${where}: cannot read ${file} (${code})`)
      }
    }
    return undefined
  }

  private leaf(spec: Leaf, value: unknown, path: string[]): unknown {
    const result = leafValue(spec, value, this.source)
    if (result !== NO) return result
    this.problems.push(`${this.where(path)}: ${show(spec, value)} is not allowed: expected ${expected(spec)}`)
    return undefined
  }
}

/** Fields of set groups that must be set too (`sasl.mechanism`, `dlq.topic`). */
export function checkRequired(fields: Fields, tree: Tree, path: string[], problems: string[]): void {
  for (const [key, spec] of Object.entries(fields)) {
    const value = tree[key]
    if (spec.kind !== 'group' || !isPlainObject(value)) continue
    const at = [...path, key].join('.')
    for (const name of spec.required ?? []) {
      if (value[name] === undefined) problems.push(`${at}.${name}: required when ${at} is set`)
    }
    checkRequired(spec.fields, value, [...path, key], problems)
  }
}

/**
 * A shorthand group (tls) in the form its client takes: `{ enabled: false, ... }` is off
 * (undefined), `{ enabled: true }` alone is `true`, any other setting turns it on as the object.
 */
export function settle(fields: Fields, tree: Tree): Tree {
  for (const [key, spec] of Object.entries(fields)) {
    const value = tree[key]
    if (spec.kind !== 'group' || !spec.shorthand || !isPlainObject(value)) continue
    const { enabled, ...rest } = value
    if (enabled === false) delete tree[key]
    else tree[key] = Object.keys(rest).length > 0 ? rest : true
  }
  return tree
}

/** One ConfigError naming every problem. */
export function problemsError(title: string, problems: string[]): ConfigError {
  const text = problems.length === 1 ? problems[0] : `${problems.length} problems:\n- ${problems.join('\n- ')}`
  return new ConfigError(`${title}: ${text}`)
}

/**
 * Options passed to a constructor, checked against their schema before any network work: unknown
 * options, wrong types and values out of bounds are one ConfigError. Returns them normalised,
 * without defaults (so that the caller still sees what was set).
 */
export function checkOptions<T>(schema: OptionGroup, options: T, what: string): T {
  const problems: string[] = []
  if (!isMapping(options, true)) {
    throw new ConfigError(`${what} needs an object of options, got ${kindOf(options)}`)
  }
  const tree = new Validator({ code: true }, problems).group(schema, options, []) ?? {}
  for (const name of schema.required ?? []) if (tree[name] === undefined) problems.push(`${name}: required`)
  checkRequired(schema.fields, tree, [], problems)
  if (problems.length > 0) throw problemsError(`invalid ${what} options`, problems)
  return settle(schema.fields, tree) as T
}

/** checkOptions, then the defaults of every option left unset. */
export function resolveOptions<T extends object, F extends Fields>(
  schema: OptionGroup<F>,
  options: T,
  what: string,
): Resolved<T, F> {
  return withDefaults(schema.fields, checkOptions(schema, options, what))
}

/** One value checked against a leaf description (an argument, not an option): a ConfigError names it. */
export function checkValue<T>(spec: Omit<Leaf, 'doc'>, value: T, at: string): T {
  const result = leafValue({ doc: '', ...spec }, value, { code: true })
  if (result === NO)
    throw new ConfigError(`${at}: ${show(undefined, value)} is not allowed: expected ${expected({ doc: '', ...spec })}`)
  return result as T
}
