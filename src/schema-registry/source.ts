// SchemaSource: what the serializers, the producer wrapper and the deserializer need of the registry
// client (SchemaRegistry implements it), so that they depend on this and not on the client itself.

import type { ParsedSchema, RegisteredSchema, Schema } from './schema.ts'

export interface SchemaSource {
  /** How long latest versions are cached. */
  readonly latestCacheTtlMs: number
  register(subject: string, schema: Schema): Promise<{ id: number }>
  lookup(subject: string, schema: Schema): Promise<{ id: number }>
  getLatest(subject: string): Promise<{ id: number }>
  /** A schema of the user's, parsed, its references resolved through the registry. */
  parse(schema: Schema): Promise<ParsedSchema>
  /** The parsed schema of an id (fetched once). */
  parsedSchema(id: number): Promise<ParsedSchema>
  /** A reader schema, parsed once per text. */
  readerSchema(schema: Schema): Promise<ParsedSchema>
  /** The parsed and registered schema of an id when cached: the synchronous fast path. */
  cached(id: number): { parsed: ParsedSchema; schema: RegisteredSchema } | undefined
  /** The same, fetched when not cached; an unknown id is a SerializationError. */
  writerSchema(id: number, topic?: string): Promise<{ parsed: ParsedSchema; schema: RegisteredSchema }>
  /** Decodes the payload of wire-format bytes with the writer's (and a reader's) parsed schema. */
  decodeParsed(
    bytes: Buffer,
    id: number,
    writer: ParsedSchema,
    reader: ParsedSchema | null | undefined,
    topic: string | undefined,
  ): unknown
}
