// Emits src/protocol/messages/generated/: one module per request, response and data message of
// Kafka's JSON message definitions (common/message/*.json inside the kafka-clients jar the harness
// resolves), with a TypeScript interface per struct and a reader and writer that take the version.
// The definitions' schema (validVersions, flexibleVersions, nullableVersions, taggedVersions/tag,
// default, ignorable, commonStructs) is described in the README of that directory in Kafka's sources.

import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { clientsJar, fetchLibs, ROOT, release } from '../kafka/harness.ts'

export const MESSAGES_DIR = join(ROOT, 'src/protocol/messages/generated')

export interface FieldSpec {
  name: string
  type: string
  versions?: string
  nullableVersions?: string
  taggedVersions?: string
  tag?: number
  default?: string | number | boolean
  ignorable?: boolean
  flexibleVersions?: string
  about?: string
  fields?: FieldSpec[]
}

export interface MessageSpec {
  apiKey?: number
  type: 'request' | 'response' | 'data' | 'header'
  name: string
  validVersions: string
  flexibleVersions: string
  latestVersionUnstable?: boolean
  fields: FieldSpec[]
  commonStructs?: { name: string; versions: string; fields: FieldSpec[] }[]
}

/** The definitions of the jar, keyed by file name; the files carry `//` comment lines. */
export function loadDefinitions(jar: string): MessageSpec[] {
  const dir = mkdtempSync(join(tmpdir(), 'kafkax-messages-'))
  try {
    execFileSync('jar', ['xf', jar, 'common/message'], { cwd: dir })
    const messageDir = join(dir, 'common/message')
    return readdirSync(messageDir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => {
        const text = readFileSync(join(messageDir, f), 'utf8')
        return JSON.parse(
          text
            .split('\n')
            .filter((line) => !/^\s*\/\//.test(line))
            .join('\n'),
        ) as MessageSpec
      })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------------------------
// Version ranges

interface Range {
  lo: number
  hi: number
}

export function parseRange(s: string | undefined, what: string): Range | null {
  if (s === undefined || s === 'none') return null
  const m = /^(\d+)(\+|-(\d+))?$/.exec(s)
  if (!m) throw new Error(`bad version range ${JSON.stringify(s)} in ${what}`)
  const lo = Number(m[1])
  return { lo, hi: m[2] === '+' ? Number.POSITIVE_INFINITY : m[3] !== undefined ? Number(m[3]) : lo }
}

function intersect(a: Range | null, b: Range | null): Range | null {
  if (!a || !b) return null
  const lo = Math.max(a.lo, b.lo)
  const hi = Math.min(a.hi, b.hi)
  return lo <= hi ? { lo, hi } : null
}

/** `a` without `b`, where `b` is a suffix of `a` (tagged versions always run to the end). */
function minusSuffix(a: Range | null, b: Range | null, what: string): Range | null {
  if (!a || !b) return a
  if (b.hi < a.hi) throw new Error(`${what}: tagged versions must extend to the field's last version`)
  return b.lo <= a.lo ? null : { lo: a.lo, hi: b.lo - 1 }
}

/** A JS condition on `v` meaning "v is in range", simplified for a code path only reached in `ctx`. */
function cond(range: Range | null, ctx: Range): string {
  const r = intersect(range, ctx)
  if (!r) return 'false'
  const parts: string[] = []
  if (r.lo > ctx.lo) parts.push(`v >= ${r.lo}`)
  if (r.hi < ctx.hi) parts.push(`v <= ${r.hi}`)
  return parts.length === 0 ? 'true' : parts.join(' && ')
}

const and = (a: string, b: string) =>
  a === 'false' || b === 'false' ? 'false' : a === 'true' ? b : b === 'true' ? a : `${a} && ${b}`

function pickStmt(c: string, a: string, b: string): string {
  if (c === 'true') return a
  if (c === 'false') return b
  const then = a.includes('\n') && !a.startsWith('{') ? `{\n    ${a}\n    }` : a
  return b === '{}' ? `if (${c}) ${then}` : `if (${c}) ${then}\n    else ${b}`
}

function pickExpr(c: string, a: string, b: string): string {
  if (c === 'true') return a
  if (c === 'false') return b
  return `(${c} ? ${a} : ${b})`
}

// ---------------------------------------------------------------------------------------------
// Model

const PRIMITIVES: Record<string, { ts: string; method: string; size: number }> = {
  bool: { ts: 'boolean', method: 'boolean', size: 1 },
  int8: { ts: 'number', method: 'int8', size: 1 },
  int16: { ts: 'number', method: 'int16', size: 2 },
  uint16: { ts: 'number', method: 'uint16', size: 2 },
  int32: { ts: 'number', method: 'int32', size: 4 },
  uint32: { ts: 'number', method: 'uint32', size: 4 },
  int64: { ts: 'bigint', method: 'int64', size: 8 },
  float64: { ts: 'number', method: 'float64', size: 8 },
  uuid: { ts: 'string', method: 'uuid', size: 16 },
}

interface Field {
  spec: FieldSpec
  name: string
  /** The element type of an array, else the type itself. */
  base: string
  array: boolean
  struct?: Struct
  versions: Range | null
  nullable: Range | null
  tagged: Range | null
  flexible: Range | null
}

interface Struct {
  name: string
  ctx: Range
  fields: Field[]
}

/** Kafka's PascalCase field names as camelCase: ErrorCode -> errorCode, ISRInfo -> isrInfo. */
export function camelCase(name: string): string {
  const run = /^[A-Z]+/.exec(name)?.[0] ?? ''
  if (run.length <= 1) return name.charAt(0).toLowerCase() + name.slice(1)
  if (run.length === name.length) return name.toLowerCase()
  return run.slice(0, -1).toLowerCase() + name.slice(run.length - 1)
}

export function kebabCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase()
}

class MessageModel {
  readonly valid: Range
  readonly flexible: Range | null
  readonly structs = new Map<string, Struct>()
  readonly root: Struct
  private readonly common = new Map<string, { versions: string; fields: FieldSpec[] }>()

  constructor(readonly spec: MessageSpec) {
    this.valid = parseRange(spec.validVersions, spec.name)!
    this.flexible = parseRange(spec.flexibleVersions, spec.name)
    for (const c of spec.commonStructs ?? []) this.common.set(c.name, c)
    this.root = this.struct(spec.name, this.valid, spec.fields ?? [])
  }

  private struct(name: string, ctx: Range, specs: FieldSpec[]): Struct {
    if (this.structs.has(name)) throw new Error(`${this.spec.name}: struct ${name} defined twice`)
    const s: Struct = { name, ctx, fields: [] }
    this.structs.set(name, s)
    for (const f of specs) s.fields.push(this.field(f, ctx))
    return s
  }

  private field(f: FieldSpec, ctx: Range): Field {
    const what = `${this.spec.name}.${f.name}`
    const array = f.type.startsWith('[]')
    const base = array ? f.type.slice(2) : f.type
    const versions = parseRange(f.versions, what)
    const field: Field = {
      spec: f,
      name: camelCase(f.name),
      base,
      array,
      versions,
      nullable: parseRange(f.nullableVersions, what),
      tagged: parseRange(f.taggedVersions, what),
      flexible: f.flexibleVersions !== undefined ? parseRange(f.flexibleVersions, what) : this.flexible,
    }
    if (!(base in PRIMITIVES) && !['string', 'bytes', 'records'].includes(base)) {
      const inner = intersect(versions, ctx) ?? ctx
      if (f.fields) field.struct = this.struct(base, inner, f.fields)
      else {
        const existing = this.structs.get(base)
        const common = this.common.get(base)
        if (existing) field.struct = existing
        else if (common) {
          const cv = intersect(parseRange(common.versions, base), this.valid) ?? this.valid
          field.struct = this.struct(base, cv, common.fields)
        } else throw new Error(`${what}: unknown type ${f.type}`)
      }
    }
    return field
  }
}

// ---------------------------------------------------------------------------------------------
// Emitter

function tsBase(f: Field): string {
  if (f.struct) return f.struct.name
  if (f.base === 'string') return 'string'
  if (f.base === 'bytes' || f.base === 'records') return 'Buffer'
  return PRIMITIVES[f.base].ts
}

function tsType(f: Field): string {
  const t = f.array ? `${tsBase(f)}[]` : tsBase(f)
  return f.nullable ? `${t} | null` : t
}

class Emitter {
  private readonly uses = new Set<string>()
  private readonly needNew = new Set<string>()
  private readonly needIsDefault = new Set<string>()

  constructor(private readonly m: MessageModel) {}

  private rt(name: string): string {
    this.uses.add(name)
    return name
  }

  /** Fields of a message users build may be left out when they have a default or depend on the version. */
  private optional(s: Struct, f: Field): boolean {
    if (this.m.spec.type === 'response') return false
    if (f.spec.default !== undefined || f.tagged) return true
    const present = intersect(f.versions, s.ctx)
    return !present || present.lo > s.ctx.lo || present.hi < s.ctx.hi
  }

  private defaultValue(f: Field): string {
    const d = f.spec.default
    if (d === 'null') return 'null'
    if (f.array) return '[]'
    if (f.struct) {
      this.needNew.add(f.struct.name)
      return `new${f.struct.name}()`
    }
    switch (f.base) {
      case 'string':
        return JSON.stringify(d ?? '')
      case 'bytes':
        return this.rt('EMPTY_BYTES')
      case 'records':
        return f.nullable ? 'null' : this.rt('EMPTY_BYTES')
      case 'bool':
        return String(d === true || d === 'true')
      case 'uuid':
        if (d !== undefined) throw new Error(`${f.spec.name}: uuid defaults are not supported`)
        return this.rt('ZERO_UUID')
      case 'int64':
        return `${BigInt(d ?? 0)}n`
      default:
        return String(Number(d ?? 0))
    }
  }

  /** An expression that is true when `x` holds the field's default (what Java leaves out or rejects). */
  private isDefault(f: Field, x: string): string {
    const d = f.spec.default
    if (d === 'null') return `${x} === null`
    if (f.array || f.base === 'bytes' || f.base === 'records') return `(${x} !== null && ${x}.length === 0)`
    if (f.struct) {
      this.needIsDefault.add(f.struct.name)
      return `(${x} !== null && isDefault${f.struct.name}(${x}))`
    }
    return `${x} === ${this.defaultValue(f)}`
  }

  private elementWriter(f: Field): string {
    if (f.struct) return `write${f.struct.name}`
    const name = { string: 'String', bytes: 'Bytes' }[f.base] ?? f.base.charAt(0).toUpperCase() + f.base.slice(1)
    return this.rt(`write${name}Element`)
  }

  private elementReader(f: Field): string {
    if (f.struct) return `read${f.struct.name}`
    return this.rt(`${f.base}Element`)
  }

  private minSize(f: Field, flex: string): string {
    if (f.struct) return '1'
    if (f.base === 'string') return pickExpr(flex, '1', '2')
    if (f.base === 'bytes') return pickExpr(flex, '1', '4')
    return String(PRIMITIVES[f.base].size)
  }

  private write(s: Struct, f: Field, x: string): string {
    const nc = cond(f.nullable, s.ctx)
    const fc = cond(f.flexible, s.ctx)
    if (f.array) {
      const check =
        f.nullable && nc !== 'true'
          ? `if (${x} === null${nc === 'false' ? '' : ` && !(${nc})`}) ${this.rt('nullField')}('${s.name}', '${f.name}')\n    `
          : ''
      return `${check}${this.rt('writeArray')}(w, v, ${fc}, ${x}, ${this.elementWriter(f)})`
    }
    if (f.struct) {
      const plain = `write${f.struct.name}(w, v, ${x}${f.nullable ? '!' : ''})`
      if (!f.nullable) return plain
      return pickStmt(nc, `{ if (${x} === null) w.int8(-1)\n    else { w.int8(1); ${plain} } }`, plain)
    }
    if (f.base === 'string' || f.base === 'bytes' || f.base === 'records') {
      const kind = f.base === 'string' ? 'String' : 'Bytes'
      const call = (m: string) => `w.${m}(${x}${f.nullable && !m.includes('ullable') ? '!' : ''})`
      return pickStmt(
        nc,
        pickStmt(fc, call(`compactNullable${kind}`), call(`nullable${kind}`)),
        pickStmt(fc, call(`compact${kind}`), call(kind.toLowerCase())),
      )
    }
    return `w.${PRIMITIVES[f.base].method}(${x})`
  }

  private read(s: Struct, f: Field, r: string): string {
    const nc = cond(f.nullable, s.ctx)
    const fc = cond(f.flexible, s.ctx)
    if (f.array) {
      const nonNull = `${this.rt('readArray')}(${r}, v, ${fc}, ${this.elementReader(f)}, ${this.minSize(f, fc)})`
      if (nc === 'true') return nonNull
      const checked = `(${nonNull} ?? ${this.rt('nullField')}('${s.name}', '${f.name}'))`
      return pickExpr(nc, nonNull, checked)
    }
    if (f.struct) {
      const plain = `read${f.struct.name}(${r}, v)`
      return f.nullable ? pickExpr(nc, `(${r}.int8() < 0 ? null : ${plain})`, plain) : plain
    }
    if (f.base === 'string' || f.base === 'bytes' || f.base === 'records') {
      const kind = f.base === 'string' ? 'String' : 'Bytes'
      return pickExpr(
        nc,
        pickExpr(fc, `${r}.compactNullable${kind}()`, `${r}.nullable${kind}()`),
        pickExpr(fc, `${r}.compact${kind}()`, `${r}.${kind.toLowerCase()}()`),
      )
    }
    return `${r}.${PRIMITIVES[f.base].method}()`
  }

  private interfaceOf(s: Struct): string {
    const lines = s.fields.map((f) => {
      const about = f.spec.about ? `  /** ${f.spec.about.replaceAll('*/', '* /')} */\n` : ''
      return `${about}  ${f.name}${this.optional(s, f) ? '?' : ''}: ${tsType(f)}`
    })
    if (this.m.flexible)
      lines.push('  /** Tagged fields this version of kafkax does not know, kept to be written back. */')
    if (this.m.flexible) lines.push(`  unknownTaggedFields?: ${this.rt('TaggedField')}[]`)
    return `export interface ${s.name} {\n${lines.join('\n')}\n}\n`
  }

  private writer(s: Struct): string {
    const body: string[] = []
    const tagged: string[] = []
    for (const f of s.fields) {
      const present = intersect(f.versions, s.ctx)
      const taggedR = intersect(f.tagged, present)
      const inBody = cond(minusSuffix(present, taggedR, `${s.name}.${f.name}`), s.ctx)
      const inTags = cond(taggedR, s.ctx)
      const isPresent = cond(present, s.ctx)
      const optional = this.optional(s, f)
      const x = optional ? `$${f.name}` : `s.${f.name}`
      const value = `(s.${f.name} === undefined ? ${this.defaultValue(f)} : s.${f.name})`
      const lines: string[] = []
      if (inBody !== 'false') lines.push(pickStmt(inBody, this.write(s, f, x), '{}'))
      // Java rejects a non-default value the version cannot carry, unless the field is ignorable.
      if (isPresent !== 'true' && !f.spec.ignorable) {
        const absent = isPresent === 'false' ? '' : `!(${isPresent}) && `
        lines.push(
          `if (${absent}!(${this.isDefault(f, x)})) ${this.rt('unsupportedField')}('${s.name}', '${f.name}', v)`,
        )
      }
      if (lines.length > 0 && optional) body.push(`  {\n    const ${x} = ${value}\n    ${lines.join('\n    ')}\n  }`)
      else if (lines.length > 0) body.push(`  ${lines.join('\n  ')}`)
      if (inTags !== 'false') {
        const write = `tags.push({ tag: ${f.spec.tag}, data: ${this.rt('taggedValue')}((w) => { ${this.write(s, f, x)} }) })`
        const declare = optional ? `const ${x} = ${value}\n      ` : ''
        tagged.push(`    {\n      ${declare}if (${and(inTags, `!(${this.isDefault(f, x)})`)}) ${write}\n    }`)
      }
    }
    const flex = cond(this.m.flexible, s.ctx)
    if (flex !== 'false') {
      const section =
        tagged.length === 0
          ? `${this.rt('writeUnknownTags')}(w, s.unknownTaggedFields)`
          : `{\n    const tags: ${this.rt('TaggedField')}[] = []\n${tagged.join('\n')}\n    ${this.rt('writeTags')}(w, tags, s.unknownTaggedFields)\n  }`
      body.push(`  ${pickStmt(flex, section, '{}')}`)
    }
    return `function write${s.name}(w: Writer, v: number, s: ${s.name}): void {\n${body.join('\n')}\n}\n`
  }

  private reader(s: Struct): string {
    const body: string[] = []
    const cases: string[] = []
    for (const f of s.fields) {
      const present = intersect(f.versions, s.ctx)
      const taggedR = intersect(f.tagged, present)
      const inBody = cond(minusSuffix(present, taggedR, `${s.name}.${f.name}`), s.ctx)
      const inTags = cond(taggedR, s.ctx)
      const x = `$${f.name}`
      if (inBody === 'true') {
        body.push(`  const ${x} = ${this.read(s, f, 'r')}`)
        continue
      }
      body.push(`  let ${x}: ${tsType(f)} = ${this.defaultValue(f)}`)
      if (inBody !== 'false') body.push(`  if (${inBody}) ${x} = ${this.read(s, f, 'r')}`)
      if (inTags !== 'false') {
        cases.push(
          `        case ${f.spec.tag}:\n          if (!(${inTags})) return false\n          ${x} = ${this.read(s, f, 'f')}\n          return true`,
        )
      }
    }
    const fields = s.fields.map((f) => `${f.name}: $${f.name}`)
    if (this.m.flexible) {
      const flex = cond(this.m.flexible, s.ctx)
      body.push(`  let unknownTaggedFields: ${this.rt('TaggedField')}[] | undefined`)
      const section =
        cases.length === 0
          ? `unknownTaggedFields = ${this.rt('readUnknownTags')}(r)`
          : `unknownTaggedFields = ${this.rt('readTags')}(r, (tag, f) => {\n      switch (tag) {\n${cases.join('\n')}\n        default:\n          return false\n      }\n    })`
      body.push(`  ${pickStmt(flex, section, '{}')}`)
      fields.push('unknownTaggedFields')
    }
    return `function read${s.name}(r: Reader, v: number): ${s.name} {\n${body.join('\n')}\n  return { ${fields.join(', ')} }\n}\n`
  }

  private factory(s: Struct): string {
    const fields = s.fields.map((f) => `${f.name}: ${this.defaultValue(f)}`)
    return `function new${s.name}(): ${s.name} {\n  return { ${fields.join(', ')} }\n}\n`
  }

  private defaultTest(s: Struct): string {
    const tests = s.fields.map((f) =>
      this.optional(s, f)
        ? `(s.${f.name} === undefined || ${this.isDefault(f, `s.${f.name}`)})`
        : this.isDefault(f, `s.${f.name}`),
    )
    return `function isDefault${s.name}(s: ${s.name}): boolean {\n  return ${tests.join(' &&\n    ') || 'true'}\n}\n`
  }

  module(version: string): string {
    const m = this.m
    const spec = m.spec
    const structs = [...m.structs.values()]
    const parts: string[] = []
    for (const s of structs) parts.push(this.interfaceOf(s))
    const flexibleVersion = m.flexible ? m.flexible.lo : 'Number.POSITIVE_INFINITY'
    const stable = spec.latestVersionUnstable ? m.valid.hi - 1 : m.valid.hi
    parts.push(`export const ${spec.name}: ${this.rt('MessageCodec')}<${spec.name}> = {
  name: '${spec.name}',
  apiKey: ${spec.apiKey ?? -1},
  type: '${spec.type}',
  minVersion: ${m.valid.lo},
  maxVersion: ${m.valid.hi},
  latestStableVersion: ${stable},
  flexibleVersion: ${flexibleVersion},
  write(w, version, message) {
    ${this.rt('checkVersion')}(this, version)
    write${spec.name}(w, version, message)
  },
  read(r, version) {
    ${this.rt('checkVersion')}(this, version)
    return read${spec.name}(r, version)
  },
}
`)
    for (const s of structs) parts.push(this.writer(s), this.reader(s))
    // Default factories and tests, including those of the structs they reach.
    const emitted = new Set<string>()
    for (;;) {
      const pending = [
        ...[...this.needNew].map((n) => `new:${n}`),
        ...[...this.needIsDefault].map((n) => `isDefault:${n}`),
      ].filter((k) => !emitted.has(k))
      if (pending.length === 0) break
      for (const key of pending) {
        emitted.add(key)
        const [kind, name] = key.split(':')
        const s = m.structs.get(name)!
        parts.push(kind === 'new' ? this.factory(s) : this.defaultTest(s))
      }
    }
    const runtime = [...this.uses].sort()
    const typeOnly = new Set(['MessageCodec', 'TaggedField'])
    const imports = runtime.map((n) => (typeOnly.has(n) ? `type ${n}` : n)).join(', ')
    return `// GENERATED by \`npm run generate\` from common/message/${spec.name}.json of kafka-clients-${version}.
// Do not edit.

import type { Reader, Writer } from '../../primitives/index.ts'
import { ${imports} } from '../runtime.ts'

${parts.join('\n')}`
  }
}

/** Every request, response and data message of the kafka-clients jar of the 4.3 line, and the API table. */
export function messageSources(): Map<string, string> {
  const rel = release('4.3')
  fetchLibs(rel)
  // Headers are hand-written (src/protocol/headers.ts); `validVersions: none` marks removed APIs.
  const specs = loadDefinitions(clientsJar(rel)).filter((s) => s.type !== 'header' && s.validVersions !== 'none')
  const files = new Map<string, string>()
  for (const spec of specs) {
    const model = new MessageModel(spec)
    files.set(`${kebabCase(spec.name)}.ts`, new Emitter(model).module(rel.version))
  }
  files.set('apis.ts', apiTable(specs, rel.version))
  return format(files)
}

/** Runs the project's formatter (pinned biome, the project's settings) over the sources at once. */
function format(files: Map<string, string>): Map<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'kafkax-format-'))
  try {
    const config = JSON.parse(readFileSync(join(ROOT, 'biome.json'), 'utf8'))
    delete config.$schema
    delete config.files
    writeFileSync(join(dir, 'biome.json'), JSON.stringify(config))
    mkdirSync(join(dir, 'src'))
    for (const [name, text] of files) writeFileSync(join(dir, 'src', name), text)
    execFileSync(join(ROOT, 'node_modules/.bin/biome'), ['format', '--write', 'src'], { cwd: dir, stdio: 'pipe' })
    return new Map([...files.keys()].map((name) => [name, readFileSync(join(dir, 'src', name), 'utf8')]))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The registry: each API key's name and a loader of its request and response codecs, as one typed
 * handle per API (`CreateTopicsModule`), so code loading an API lazily gets its body types too.
 */
function apiTable(specs: MessageSpec[], version: string): string {
  const responses = new Map(specs.filter((s) => s.type === 'response').map((s) => [s.apiKey, s]))
  const requests = specs.filter((s) => s.type === 'request').sort((a, b) => a.apiKey! - b.apiKey!)
  const imports: string[] = []
  const handles: string[] = []
  for (const q of requests) {
    const p = responses.get(q.apiKey)
    if (!p) throw new Error(`no response for ${q.name}`)
    const name = q.name.replace(/Request$/, '')
    imports.push(`import type { ${q.name} } from './${kebabCase(q.name)}.ts'`)
    imports.push(`import type { ${p.name} } from './${kebabCase(p.name)}.ts'`)
    handles.push(`export const ${name}Module: ApiModule<${q.name}, ${p.name}> = {
  apiKey: ${q.apiKey},
  name: '${name}',
  load: async () => {
    const [q, p] = await Promise.all([import('./${kebabCase(q.name)}.ts'), import('./${kebabCase(p.name)}.ts')])
    return { request: q.${q.name}, response: p.${p.name} }
  },
}`)
  }
  return `// GENERATED by \`npm run generate\` from common/message/*.json of kafka-clients-${version}.
// Do not edit. Every API key with a loader of its codecs, so rarely used APIs cost nothing until used.

import type { MessageCodec } from '../runtime.ts'
${imports.join('\n')}

/** An API whose codecs load on first use: \`loadApi(handle)\` gives them typed. */
export interface ApiModule<Req = any, Res = any> {
  apiKey: number
  name: string
  load: () => Promise<{ request: MessageCodec<Req>; response: MessageCodec<Res> }>
}

${handles.join('\n\n')}

export const API_MODULES: readonly ApiModule[] = [
${requests.map((q) => `  ${q.name.replace(/Request$/, '')}Module,`).join('\n')}
]
`
}
