// What a schema is to the adapter: as users write it and the registry stores it, and parsed into
// something that encodes and decodes payloads (one implementation per format, in formats/).

import { createRequire } from 'node:module'
import { ConfigError } from '../protocol/errors.ts'

export type SchemaType = 'AVRO' | 'JSON' | 'PROTOBUF'
export const SCHEMA_TYPES: readonly SchemaType[] = ['AVRO', 'JSON', 'PROTOBUF']

/** A schema of another subject this one uses: an Avro named type, a Protobuf import, a JSON Schema `$ref`. */
export interface SchemaReference {
  /** How the schema refers to it: the Avro full name, the .proto import path, the `$ref` URL. */
  name: string
  subject: string
  version: number
}

export interface Schema {
  /** Default 'AVRO', as the registry's. */
  type?: SchemaType
  /** The schema's text; Avro and JSON Schema may be given as objects. */
  schema: string | object
  references?: SchemaReference[]
}

/** A schema as the registry stores it: its text, always. */
export interface RegisteredSchema {
  id: number
  type: SchemaType
  schema: string
  references: SchemaReference[]
}

/** A reference with the text of the schema it names, and that schema's own references. */
export interface ResolvedReference {
  name: string
  type: SchemaType
  schema: string
  references: ResolvedReference[]
}

/** A schema ready to encode values into wire-format bytes and decode them back. */
export interface ParsedSchema {
  readonly type: SchemaType
  /** The full name of the record, message or (JSON Schema) title: the RecordName strategies use it. */
  readonly recordName: string | undefined
  /** The whole wire-format record: header with `schemaId`, then the payload. Throws a SerializationError. */
  encode(schemaId: number, value: unknown, messageName?: string): Buffer
  /** The value of the payload that starts at `offset`; `reader` is an Avro reader schema. */
  decode(bytes: Buffer, offset: number, reader?: ParsedSchema): unknown
}

export function schemaText(schema: Schema): string {
  if (typeof schema.schema === 'string') return schema.schema
  if (schema.type === 'PROTOBUF') throw new ConfigError('a PROTOBUF schema is the text of a .proto file')
  if (schema.schema === null || typeof schema.schema !== 'object')
    throw new ConfigError(
      `schema must be a string or an object, got ${schema.schema === null ? 'null' : typeof schema.schema}`,
    )
  return JSON.stringify(schema.schema)
}

export function schemaType(schema: Schema): SchemaType {
  const type = schema.type ?? 'AVRO'
  if (!SCHEMA_TYPES.includes(type))
    throw new ConfigError(`schema type must be ${SCHEMA_TYPES.join(', ')}, got ${JSON.stringify(schema.type)}`)
  return type
}

const load = createRequire(import.meta.url)

/** A format's package (optional peer dependencies of kafkax), with an error that says what to install. */
export function formatPackage<T>(name: string, type: SchemaType): T {
  try {
    return load(name) as T
  } catch (cause) {
    throw new ConfigError(`${type} schemas need the ${name} package: npm install ${name}`, { cause })
  }
}
