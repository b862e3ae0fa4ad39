// Avro with the avsc package: values are checked against the schema, then written straight after
// the wire-format header into one reused scratch buffer (a single copy out); decoding reads in place
// and resolves the writer's schema into a reader schema when one is given (Avro schema resolution).

import type * as Avsc from 'avsc'
import { ConfigError } from '../../protocol/errors.ts'
import { SerializationError } from '../errors.ts'
import { formatPackage, type ParsedSchema, type ResolvedReference } from '../schema.ts'
import { HEADER_SIZE, writeHeader } from '../wire.ts'

/** Options of avsc's Type.forSchema (logical types, union wrapping, ...), the same for every Avro schema. */
export type AvroOptions = Partial<Avsc.ForSchemaOptions>

let avsc: typeof Avsc | undefined
/** Encodes go here first; grown on demand, never shrunk. */
let scratch = Buffer.allocUnsafe(64 * 1024)

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
    const paths: string[] = []
    if (!this.avro.isValid(value, { errorHook: (path) => paths.push(path.join('.') || '(root)') })) {
      throw new SerializationError(
        `the value does not match the Avro schema ${this.recordName ?? this.avro.typeName} at ${paths.join(', ')}`,
        { schemaId, paths },
      )
    }
    let end = this.avro.encode(value, scratch, HEADER_SIZE)
    if (end < 0) {
      // avsc returns minus the bytes that were missing
      scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end))
      end = this.avro.encode(value, scratch, HEADER_SIZE)
    }
    writeHeader(scratch, schemaId)
    return Buffer.from(scratch.subarray(0, end))
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
