// Avro with the avsc package: values are checked against the schema, then written straight after
// the wire-format header into a slab that records are carved from (as Node's Buffer pool does: no
// copy, no allocation per record); decoding reads in place and resolves the writer's schema into a
// reader schema when one is given (Avro schema resolution).

import type * as Avsc from 'avsc'
import { ConfigError } from '../../protocol/errors.ts'
import { SerializationError } from '../errors.ts'
import { formatPackage, type ParsedSchema, type ResolvedReference } from '../schema.ts'
import { HEADER_SIZE, writeHeader } from '../wire.ts'

/** Options of avsc's Type.forSchema (logical types, union wrapping, ...), the same for every Avro schema. */
export type AvroOptions = Partial<Avsc.ForSchemaOptions>

let avsc: typeof Avsc | undefined

const SLAB_BYTES = 256 * 1024
/** Encoded records are views of this slab, from `slabUsed` on; a full slab is left to the records using it. */
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES)
let slabUsed = 0

function parseJson(text: string, what: string): Avsc.Schema {
  try {
    return JSON.parse(text)
  } catch (cause) {
    // a bare name ("string", "com.acme.Order") is a valid Avro schema too
    if (/^[A-Za-z_][\w.]*$/.test(text.trim())) return text.trim() as Avsc.Schema
    throw new ConfigError(`${what} is not JSON`, { cause })
  }
}

/** What the bounded block readers use of avsc's read cursor. */
interface Tap {
  buf: Buffer
  pos: number
  readLong(): number
  skipLong(): void
  readString(): string
}
type Readable = { _read(tap: Tap): unknown }

/**
 * Items a block may announce beyond the bytes left: only items of no bytes (null) fit there, and
 * avsc would loop that many times (a map's block of 2^40 entries in a corrupt payload never ended).
 */
const MAX_ITEMS_BEYOND_BYTES = 1_000_000

/** The item count of the next block of an array or map (Avro spec: negative when its byte size follows). */
function blockSize(tap: Tap): number {
  let n = tap.readLong()
  if (n < 0) {
    n = -n
    tap.skipLong()
  }
  if (n > tap.buf.length - tap.pos && n > MAX_ITEMS_BEYOND_BYTES)
    throw new Error(`a block of ${n} items with ${Math.max(0, tap.buf.length - tap.pos)} bytes left`)
  return n
}

function readArray(this: { itemsType: Readable }, tap: Tap): unknown[] {
  const items = this.itemsType
  const value: unknown[] = []
  for (let n = blockSize(tap); n > 0; n = blockSize(tap)) while (n--) value.push(items._read(tap))
  return value
}

function readMap(this: { valuesType: Readable }, tap: Tap): Record<string, unknown> {
  const values = this.valuesType
  const value: Record<string, unknown> = {}
  for (let n = blockSize(tap); n > 0; n = blockSize(tap)) {
    while (n--) {
      const key = tap.readString()
      value[key] = values._read(tap)
    }
  }
  return value
}

type TypeClass = new (schema: unknown, options: unknown) => Avsc.Type
let boundedTypes: { array: TypeClass; map: TypeClass } | undefined

/**
 * A typeHook (the user's first) making array and map types that read with the block readers above
 * instead of avsc's, which trust a block's item count; resolvers take their reader from the type.
 */
function boundedBlocks(
  userHook: AvroOptions['typeHook'],
  logicalTypes: AvroOptions['logicalTypes'] = {},
): NonNullable<AvroOptions['typeHook']> {
  if (boundedTypes === undefined) {
    const builtins = avsc!.types as unknown as { ArrayType: TypeClass; MapType: TypeClass }
    const array = class BoundedArrayType extends builtins.ArrayType {}
    const map = class BoundedMapType extends builtins.MapType {}
    Object.assign(array.prototype, { _read: readArray })
    Object.assign(map.prototype, { _read: readMap })
    boundedTypes = { array, map }
  }
  const types = boundedTypes
  return (schema, options) => {
    const own = userHook?.(schema, options)
    if (own) return own
    if (typeof schema !== 'object' || schema === null) return undefined
    const { type: kind, logicalType } = schema as { type?: unknown; logicalType?: unknown }
    // a logical type the user registered is avsc's to build (its underlying type then reads as avsc's)
    if (typeof logicalType === 'string' && logicalType in logicalTypes) return undefined
    return kind === 'array' || kind === 'map' ? new types[kind](schema, options) : undefined
  }
}

class AvroSchema implements ParsedSchema {
  readonly type = 'AVRO'
  readonly recordName: string | undefined
  /** Resolvers from writer schemas, when this is the reader. */
  private readonly resolvers = new WeakMap<AvroSchema, Avsc.Resolver>()

  constructor(readonly avro: Avsc.Type) {
    this.recordName = avro.name
  }

  encode(schemaId: number, value: unknown): Buffer {
    // isValid() without a hook is several times faster: the paths are collected only for the error
    if (!this.avro.isValid(value)) {
      const paths: string[] = []
      this.avro.isValid(value, { errorHook: (path) => paths.push(path.join('.') || '(root)') })
      throw new SerializationError(
        `the value does not match the Avro schema ${this.recordName ?? this.avro.typeName} at ${paths.join(', ')}`,
        { schemaId, paths },
      )
    }
    let start = slabUsed
    let end = this.avro.encode(value, slab, start + HEADER_SIZE)
    if (end < 0) {
      // avsc returns minus the bytes that were missing: a new slab, large enough for this record
      slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, HEADER_SIZE + slab.length - start - end))
      start = 0
      end = this.avro.encode(value, slab, HEADER_SIZE)
    }
    writeHeader(slab.subarray(start), schemaId)
    // the next record starts 8-aligned, as the Buffer pool's do
    slabUsed = (end + 7) & ~7
    return slab.subarray(start, end)
  }

  decode(bytes: Buffer, offset: number, reader?: ParsedSchema): unknown {
    let target: Avsc.Type = this.avro
    let resolver: Avsc.Resolver | undefined
    if (reader !== undefined) {
      if (!(reader instanceof AvroSchema)) throw new ConfigError('a reader schema for Avro data must be an Avro schema')
      target = reader.avro
      resolver = reader.resolverFrom(this)
    }
    let result: { value: unknown; offset: number }
    try {
      result = target.decode(bytes, offset, resolver)
    } catch (cause) {
      throw new SerializationError(`the Avro payload does not decode: ${(cause as Error).message}`, {}, { cause })
    }
    if (result.offset < 0) throw new SerializationError('the Avro payload is truncated')
    if (result.offset !== bytes.length)
      throw new SerializationError(`${bytes.length - result.offset} bytes after the end of the Avro payload`)
    return result.value
  }

  private resolverFrom(writer: AvroSchema): Avsc.Resolver {
    let resolver = this.resolvers.get(writer)
    if (resolver === undefined) {
      try {
        resolver = this.avro.createResolver(writer.avro)
      } catch (cause) {
        throw new SerializationError(
          `the reader schema ${this.recordName ?? ''} cannot read data written with ${writer.recordName ?? 'the writer schema'}: ${(cause as Error).message}`,
          {},
          { cause },
        )
      }
      this.resolvers.set(writer, resolver)
    }
    return resolver
  }
}

/** Parses an Avro schema; the named types of its references (and theirs) are defined first. */
export function parseAvro(text: string, references: ResolvedReference[], options: AvroOptions = {}): ParsedSchema {
  avsc ??= formatPackage<typeof Avsc>('avsc', 'AVRO')
  const registry: Record<string, Avsc.Type> = {}
  const typeHook = boundedBlocks(options.typeHook, options.logicalTypes)
  const defined = new Set<string>()
  const define = (refs: ResolvedReference[]) => {
    for (const ref of refs) {
      if (defined.has(ref.name)) continue
      defined.add(ref.name)
      define(ref.references)
      avsc!.Type.forSchema(parseJson(ref.schema, `the referenced schema ${ref.name}`), {
        ...options,
        registry,
        typeHook,
      })
    }
  }
  try {
    define(references)
    return new AvroSchema(avsc.Type.forSchema(parseJson(text, 'the Avro schema'), { ...options, registry, typeHook }))
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause
    throw new ConfigError(`not a usable Avro schema: ${(cause as Error).message}`, { cause })
  }
}
