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
  const defined = new Set<string>()
  const define = (refs: ResolvedReference[]) => {
    for (const ref of refs) {
      if (defined.has(ref.name)) continue
      defined.add(ref.name)
      define(ref.references)
      avsc!.Type.forSchema(parseJson(ref.schema, `the referenced schema ${ref.name}`), { ...options, registry })
    }
  }
  try {
    define(references)
    return new AvroSchema(avsc.Type.forSchema(parseJson(text, 'the Avro schema'), { ...options, registry }))
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause
    throw new ConfigError(`not a usable Avro schema: ${(cause as Error).message}`, { cause })
  }
}
