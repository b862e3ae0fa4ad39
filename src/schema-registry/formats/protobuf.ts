// Protobuf with the protobufjs package: a .proto file's text (and those it imports, as references)
// parsed at run time. The payload names its message type by its path in the file (the message
// indexes, see wire.ts); values are checked field by field before they are written, and decoded
// messages become plain objects (enums as names, 64-bit integers as strings, defaults filled in),
// which encode again as they are.

import type * as Protobuf from 'protobufjs'
import { ConfigError } from '../../protocol/errors.ts'
import { SerializationError } from '../errors.ts'
import { formatPackage, type ParsedSchema, type ResolvedReference } from '../schema.ts'
import { decodeMessageIndexes, encodeMessageIndexes, HEADER_SIZE, writeHeader } from '../wire.ts'

export interface ProtobufOptions {
  /** Keep the .proto field names (default false: camelCase, as protobufjs and @kafkajs/confluent-schema-registry). */
  keepCase?: boolean
  /** How decoded messages become objects (protobufjs' toObject options). */
  toObject?: Protobuf.IConversionOptions
  /**
   * 'confluent' (default): message indexes after the schema id, as Confluent's serializers write.
   * 'none': no message indexes, always the file's first message: what @kafkajs/confluent-schema-registry
   * writes (it reads both, when the message is the file's first).
   */
  messageIndexes?: 'confluent' | 'none'
}

const TO_OBJECT: Protobuf.IConversionOptions = { enums: String, longs: String, defaults: true }

let pb: typeof Protobuf | undefined

const INTEGER_32 = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32'])
const INTEGER_64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64'])
const DECIMAL = /^-?\d+$/

/**
 * Where `value` breaks `type`: wrong kinds of values, unknown fields. Unlike protobufjs' verify(),
 * it accepts the forms fromObject() converts and toObject() yields: enum names, 64-bit integers
 * as decimal strings, bytes as base64.
 */
function problems(type: Protobuf.Type, value: Record<string, unknown>, path: string, out: string[]): void {
  const fields = type.fields
  for (const key of Object.keys(value)) if (!(key in fields)) out.push(`${path}${key}: no such field in ${type.name}`)
  for (const field of type.fieldsArray) {
    const v = value[field.name]
    if (v === null || v === undefined) continue
    const at = `${path}${field.name}`
    if (field.map) {
      if (typeof v !== 'object' || Array.isArray(v)) out.push(`${at}: an object (map) expected`)
      else for (const [k, item] of Object.entries(v)) check(field, item, `${at}.${k}`, out)
    } else if (field.repeated) {
      if (!Array.isArray(v)) out.push(`${at}: an array expected`)
      else for (let i = 0; i < v.length; i++) check(field, v[i], `${at}.${i}`, out)
    } else check(field, v, at, out)
  }
}

function check(field: Protobuf.Field, v: unknown, at: string, out: string[]): void {
  const resolved = field.resolvedType
  let ok: boolean
  if (resolved instanceof pb!.Type) {
    ok = v !== null && typeof v === 'object'
    if (ok) problems(resolved, v as Record<string, unknown>, `${at}.`, out)
  } else if (resolved instanceof pb!.Enum)
    ok = (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && v in resolved.values)
  else if (INTEGER_32.has(field.type)) ok = Number.isInteger(v)
  else if (INTEGER_64.has(field.type))
    ok =
      Number.isInteger(v) ||
      (typeof v === 'string' && DECIMAL.test(v)) ||
      (typeof v === 'object' && v !== null && 'low' in v)
  else if (field.type === 'double' || field.type === 'float') ok = typeof v === 'number'
  else if (field.type === 'bool') ok = typeof v === 'boolean'
  else if (field.type === 'string') ok = typeof v === 'string'
  else ok = v instanceof Uint8Array || typeof v === 'string' // bytes
  if (!ok) out.push(`${at}: ${resolved ? resolved.name : field.type} expected, got ${JSON.stringify(v)?.slice(0, 40)}`)
}

class ProtobufSchema implements ParsedSchema {
  readonly type = 'PROTOBUF'
  readonly recordName: string
  private readonly first: Protobuf.Type
  private readonly toObject: Protobuf.IConversionOptions
  private readonly withIndexes: boolean

  constructor(
    private readonly root: Protobuf.Root,
    /** The file's own message types, each with its message-index bytes. */
    private readonly indexBytes: Map<Protobuf.Type, Buffer>,
    /** The same, by the indexes joined with commas. */
    private readonly byIndexes: Map<string, Protobuf.Type>,
    options: ProtobufOptions,
  ) {
    this.first = byIndexes.get('0')!
    this.recordName = this.first.fullName.replace(/^\./, '')
    this.toObject = options.toObject ?? TO_OBJECT
    this.withIndexes = (options.messageIndexes ?? 'confluent') === 'confluent'
  }

  private messageType(name: string | undefined): Protobuf.Type {
    if (name === undefined) return this.first
    let type: Protobuf.Type
    try {
      type = this.root.lookupType(name)
    } catch (cause) {
      throw new ConfigError(`no message ${name} in the Protobuf schema`, { cause })
    }
    if (!this.indexBytes.has(type)) throw new ConfigError(`message ${name} is not defined in the schema's own file`)
    return type
  }

  encode(schemaId: number, value: unknown, messageName?: string): Buffer {
    const type = this.messageType(messageName)
    const found: string[] = []
    if (value === null || typeof value !== 'object') found.push(`a ${type.name} object expected, got ${value}`)
    else problems(type, value as Record<string, unknown>, '', found)
    if (found.length > 0) {
      throw new SerializationError(`the value does not match the Protobuf message ${type.name}: ${found.join('; ')}`, {
        schemaId,
        paths: found,
      })
    }
    const body = type.encode(type.fromObject(value as Record<string, unknown>)).finish()
    const indexes = this.withIndexes ? this.indexBytes.get(type)! : Buffer.alloc(0)
    const out = Buffer.allocUnsafe(HEADER_SIZE + indexes.length + body.length)
    writeHeader(out, schemaId)
    indexes.copy(out, HEADER_SIZE)
    out.set(body, HEADER_SIZE + indexes.length)
    return out
  }

  decode(bytes: Buffer, offset: number, reader?: ParsedSchema): unknown {
    if (reader !== undefined) throw new ConfigError('reader schemas apply to Avro data only')
    let type = this.first
    let start = offset
    if (this.withIndexes) {
      const read = decodeMessageIndexes(bytes, offset)
      const found = this.byIndexes.get(read.indexes.join(','))
      if (found === undefined)
        throw new SerializationError(`no message at indexes [${read.indexes}] in the Protobuf schema`)
      type = found
      start = read.offset
    }
    try {
      return type.toObject(type.decode(bytes.subarray(start)), this.toObject)
    } catch (cause) {
      throw new SerializationError(
        `the Protobuf payload does not decode as ${type.name}: ${(cause as Error).message}`,
        {},
        { cause },
      )
    }
  }
}

/** The message types a namespace defines itself, in the order of the file. */
const messagesOf = (ns: Protobuf.NamespaceBase) =>
  ns.nestedArray.filter((t): t is Protobuf.Type => t instanceof pb!.Type)

/** Parses a .proto file; its references (imports) are parsed into the same root, well-known types added. */
export function parseProtobuf(
  text: string,
  references: ResolvedReference[],
  options: ProtobufOptions = {},
): ParsedSchema {
  pb ??= formatPackage<typeof Protobuf>('protobufjs', 'PROTOBUF')
  const parseOptions = { keepCase: options.keepCase ?? false }
  const root = new pb.Root()
  try {
    const main = pb.parse(text, root, parseOptions)
    // the indexes of the file's own messages, taken before imports add theirs to shared packages
    const indexBytes = new Map<Protobuf.Type, Buffer>()
    const byIndexes = new Map<string, Protobuf.Type>()
    const walk = (types: Protobuf.Type[], path: number[]) =>
      types.forEach((type, i) => {
        const indexes = [...path, i]
        indexBytes.set(type, encodeMessageIndexes(indexes))
        byIndexes.set(indexes.join(','), type)
        walk(messagesOf(type), indexes)
      })
    walk(messagesOf(main.package ? (root.lookup(main.package) as Protobuf.Namespace) : root), [])
    if (byIndexes.size === 0) throw new ConfigError('the Protobuf schema defines no message')
    const imports = new Set(main.imports ?? [])
    const parsed = new Set<string>()
    const add = (refs: ResolvedReference[]) => {
      for (const ref of refs) {
        if (parsed.has(ref.name)) continue
        parsed.add(ref.name)
        add(ref.references)
        for (const name of pb!.parse(ref.schema, root, parseOptions).imports ?? []) imports.add(name)
      }
    }
    add(references)
    for (const name of imports) {
      const known = parsed.has(name) ? undefined : pb.common.get(name)
      if (known) root.addJSON(known.nested as Record<string, Protobuf.AnyNestedObject>)
    }
    root.resolveAll()
    return new ProtobufSchema(root, indexBytes, byIndexes, options)
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause
    throw new ConfigError(`not a usable Protobuf schema: ${(cause as Error).message}`, { cause })
  }
}
