// SchemaRegistry: a client of the Confluent Schema Registry REST API (Confluent's own, Apicurio's
// /apis/ccompat/v7, Redpanda's, Karapace) with caches, and the serdes of the Confluent wire format
// on top: encode(id, value) and decode(bytes) for Avro, JSON Schema and Protobuf.

import type { BatchMiddleware, Middleware } from '../consumer/message.ts'
import type { Producer } from '../producer/producer.ts'
import { ConfigError } from '../protocol/errors.ts'
import { LoadingCache } from './cache.ts'
import { SchemaRegistryError, SerializationError } from './errors.ts'
import { type AvroOptions, parseAvro } from './formats/avro.ts'
import { type JsonSchemaOptions, parseJsonSchema } from './formats/json.ts'
import { type ProtobufOptions, parseProtobuf } from './formats/protobuf.ts'
import { RegistryHttp, type RegistryHttpOptions } from './http.ts'
import { batchDeserializer, type DeserializerOptions, deserializer } from './middleware.ts'
import { SchemaProducer, type SchemaProducerOptions } from './producer.ts'
import {
  type ParsedSchema,
  type RegisteredSchema,
  type ResolvedReference,
  type Schema,
  type SchemaReference,
  type SchemaType,
  schemaText,
  schemaType,
} from './schema.ts'
import { Serializer, type SerializerOptions } from './serializer.ts'
import type { SchemaSource } from './source.ts'
import { HEADER_SIZE, schemaIdOf } from './wire.ts'

export type CompatibilityLevel =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE'

export interface SchemaRegistryOptions extends RegistryHttpOptions {
  /** How long a subject's latest version is cached (default 60 s); ids and schemas are cached for ever. */
  latestCacheTtlMs?: number
  avro?: AvroOptions
  json?: JsonSchemaOptions
  protobuf?: ProtobufOptions
}

/** A version of a subject. */
export interface SubjectVersion extends RegisteredSchema {
  subject: string
  version: number
}

export interface DecodedValue {
  value: unknown
  /** The writer's schema, as the bytes named it. */
  schema: RegisteredSchema
}

export interface DecodeOptions {
  /** An Avro reader schema: the data, written with an older or newer schema, is resolved into this one. */
  readerSchema?: Schema
  /** Named in errors. */
  topic?: string
}

interface SchemaAnswer {
  schema: string
  schemaType?: SchemaType
  references?: SchemaReference[]
}

interface VersionAnswer extends SchemaAnswer {
  subject: string
  version: number
  id: number
}

const path = (...parts: (string | number)[]) => parts.map((p) => `/${encodeURIComponent(String(p))}`).join('')
const MAX_REFERENCE_DEPTH = 32

function checkSubject(subject: string): void {
  if (typeof subject !== 'string' || subject === '')
    throw new ConfigError(`a subject must be a non-empty string, got ${JSON.stringify(subject)}`)
}

function checkVersion(version: number | 'latest'): void {
  if (version !== 'latest' && (!Number.isInteger(version) || version < 1))
    throw new ConfigError(`a version must be an integer >= 1 or 'latest', got ${JSON.stringify(version)}`)
}

function registered(id: number, answer: SchemaAnswer): RegisteredSchema {
  return { id, type: answer.schemaType ?? 'AVRO', schema: answer.schema, references: answer.references ?? [] }
}

function subjectVersion(answer: VersionAnswer): SubjectVersion {
  return { ...registered(answer.id, answer), subject: answer.subject, version: answer.version }
}

/** The request body of a schema: the registry omits the type of Avro schemas. */
function body(schema: Schema) {
  const type = schemaType(schema)
  return {
    schema: schemaText(schema),
    ...(type === 'AVRO' ? {} : { schemaType: type }),
    ...(schema.references?.length ? { references: schema.references } : {}),
  }
}

export class SchemaRegistry implements SchemaSource {
  /** How long latest versions are cached. */
  readonly latestCacheTtlMs: number
  private readonly http: RegistryHttp
  private readonly options: SchemaRegistryOptions
  private readonly schemas = new LoadingCache<number, RegisteredSchema>()
  private readonly parsed = new LoadingCache<number, ParsedSchema>()
  /** Ids by subject and schema; keys are `subject \0 schema body`. */
  private readonly ids = new LoadingCache<string, number>()
  /** Numbered versions never change; keys are `subject \0 version`. */
  private readonly versions = new LoadingCache<string, SubjectVersion>()
  private readonly latest: LoadingCache<string, SubjectVersion>
  /** Reader schemas, by their text. */
  private readonly readers = new Map<string, ParsedSchema>()

  constructor(options: SchemaRegistryOptions) {
    this.http = new RegistryHttp(options)
    this.options = options
    const ttl = options.latestCacheTtlMs ?? 60_000
    if (!Number.isFinite(ttl) || ttl < 0) throw new ConfigError(`latestCacheTtlMs must be a number >= 0, got ${ttl}`)
    this.latestCacheTtlMs = ttl
    this.latest = new LoadingCache(ttl)
  }

  // -------------------------------------------------------------------------------------------
  // Schemas and subjects

  /**
   * Registers a schema under a subject and resolves with its id. Idempotent: a schema registered
   * before gets its id again (from the cache when this client registered or looked it up).
   */
  register(subject: string, schema: Schema, options: { normalize?: boolean } = {}): Promise<{ id: number }> {
    checkSubject(subject)
    const request = body(schema)
    const query = options.normalize ? '?normalize=true' : ''
    return this.ids
      .load(`${subject}\0${JSON.stringify(request)}`, async () => {
        const answer = await this.http.request<{ id: number }>({
          method: 'POST',
          path: `${path('subjects', subject, 'versions')}${query}`,
          body: request,
          subject,
        })
        return answer.id
      })
      .then((id) => ({ id }))
  }

  /** The version of `subject` that holds `schema` (404 SCHEMA_NOT_FOUND when none does). */
  async lookup(subject: string, schema: Schema): Promise<SubjectVersion> {
    checkSubject(subject)
    const answer = await this.http.request<VersionAnswer>({
      method: 'POST',
      path: path('subjects', subject),
      body: body(schema),
      subject,
    })
    this.ids.set(`${subject}\0${JSON.stringify(body(schema))}`, answer.id)
    return subjectVersion(answer)
  }

  /** The schema with this id (cached for ever: ids are immutable; concurrent look-ups share one request). */
  getSchema(id: number): Promise<RegisteredSchema> {
    if (!Number.isInteger(id) || id < 0) throw new ConfigError(`a schema id must be an integer >= 0, got ${id}`)
    return this.schemas.load(id, async () =>
      registered(id, await this.http.request<SchemaAnswer>({ method: 'GET', path: path('schemas', 'ids', id) })),
    )
  }

  /** The subjects and versions that use the schema with this id. */
  getSchemaUsage(id: number): Promise<{ subject: string; version: number }[]> {
    return this.http.request({ method: 'GET', path: path('schemas', 'ids', id, 'versions') })
  }

  /** The schema types the registry supports. */
  getSchemaTypes(): Promise<SchemaType[]> {
    return this.http.request({ method: 'GET', path: '/schemas/types' })
  }

  getSubjects(options: { deleted?: boolean } = {}): Promise<string[]> {
    return this.http.request({ method: 'GET', path: `/subjects${options.deleted ? '?deleted=true' : ''}` })
  }

  /** The version numbers of a subject (404 SUBJECT_NOT_FOUND when it has none). */
  getVersions(subject: string): Promise<number[]> {
    checkSubject(subject)
    return this.http.request({ method: 'GET', path: path('subjects', subject, 'versions'), subject })
  }

  /** One version of a subject; numbered versions are cached, 'latest' is asked each time (see getLatest). */
  getVersion(subject: string, version: number | 'latest'): Promise<SubjectVersion> {
    checkSubject(subject)
    checkVersion(version)
    const fetch = async () => {
      const answer = await this.http.request<VersionAnswer>({
        method: 'GET',
        path: path('subjects', subject, 'versions', version),
        subject,
      })
      const result = subjectVersion(answer)
      this.schemas.set(result.id, registered(result.id, answer))
      return result
    }
    return version === 'latest' ? fetch() : this.versions.load(`${subject}\0${version}`, fetch)
  }

  /** The latest version of a subject, cached for `latestCacheTtlMs`. */
  getLatest(subject: string): Promise<SubjectVersion> {
    return this.latest.load(subject, () => this.getVersion(subject, 'latest'))
  }

  /**
   * Whether `schema` could be registered under `subject` as a new version, by the subject's
   * compatibility level, checked against `version` (default 'latest').
   */
  async checkCompatibility(
    subject: string,
    schema: Schema,
    options: { version?: number | 'latest' } = {},
  ): Promise<{ compatible: boolean; messages: string[] }> {
    checkSubject(subject)
    const version = options.version ?? 'latest'
    checkVersion(version)
    const answer = await this.http.request<{ is_compatible: boolean; messages?: string[] }>({
      method: 'POST',
      path: `${path('compatibility', 'subjects', subject, 'versions', version)}?verbose=true`,
      body: body(schema),
      subject,
    })
    return { compatible: answer.is_compatible, messages: answer.messages ?? [] }
  }

  /** The compatibility level of a subject (falling back to the global one), or the global one. */
  async getCompatibility(subject?: string): Promise<CompatibilityLevel> {
    if (subject !== undefined) checkSubject(subject)
    const answer = await this.http.request<{ compatibilityLevel: CompatibilityLevel }>({
      method: 'GET',
      path: subject === undefined ? '/config' : `${path('config', subject)}?defaultToGlobal=true`,
      subject,
    })
    return answer.compatibilityLevel
  }

  /** Sets the compatibility level of a subject, or the global one. */
  async setCompatibility(level: CompatibilityLevel, subject?: string): Promise<CompatibilityLevel> {
    if (subject !== undefined) checkSubject(subject)
    const answer = await this.http.request<{ compatibility: CompatibilityLevel }>({
      method: 'PUT',
      path: subject === undefined ? '/config' : path('config', subject),
      body: { compatibility: level },
      subject,
    })
    return answer.compatibility
  }

  /** Removes a subject's own compatibility level: the global one applies again. */
  async deleteCompatibility(subject: string): Promise<void> {
    checkSubject(subject)
    await this.http.request({ method: 'DELETE', path: path('config', subject), subject })
  }

  /**
   * Deletes a subject's versions: soft by default (ids keep working), `permanent` after a soft delete.
   * Resolves with the deleted version numbers.
   */
  async deleteSubject(subject: string, options: { permanent?: boolean } = {}): Promise<number[]> {
    checkSubject(subject)
    const versions = await this.http.request<number[]>({
      method: 'DELETE',
      path: `${path('subjects', subject)}${options.permanent ? '?permanent=true' : ''}`,
      subject,
    })
    this.forgetSubject(subject)
    return versions
  }

  /** Deletes one version of a subject (soft, or `permanent` after a soft delete); resolves with its number. */
  async deleteVersion(
    subject: string,
    version: number | 'latest',
    options: { permanent?: boolean } = {},
  ): Promise<number> {
    checkSubject(subject)
    checkVersion(version)
    const deleted = await this.http.request<number>({
      method: 'DELETE',
      path: `${path('subjects', subject, 'versions', version)}${options.permanent ? '?permanent=true' : ''}`,
      subject,
    })
    this.forgetSubject(subject)
    return deleted
  }

  private forgetSubject(subject: string): void {
    const prefix = `${subject}\0`
    this.ids.forget((key) => key.startsWith(prefix))
    this.versions.forget((key) => key.startsWith(prefix))
    this.latest.forget((key) => key === subject)
  }

  // -------------------------------------------------------------------------------------------
  // Serdes

  /** Parses a schema of the user's (Avro, JSON Schema or Protobuf), its references resolved through the registry. */
  async parse(schema: Schema): Promise<ParsedSchema> {
    const references = await this.resolve(schema.references ?? [], 0)
    return this.parseText(schemaType(schema), schemaText(schema), references)
  }

  private parseText(type: SchemaType, text: string, references: ResolvedReference[]): ParsedSchema {
    if (type === 'AVRO') return parseAvro(text, references, this.options.avro)
    if (type === 'JSON') return parseJsonSchema(text, references, this.options.json)
    return parseProtobuf(text, references, this.options.protobuf)
  }

  private async resolve(references: SchemaReference[], depth: number): Promise<ResolvedReference[]> {
    if (depth > MAX_REFERENCE_DEPTH)
      throw new ConfigError(`schema references nest deeper than ${MAX_REFERENCE_DEPTH}: a cycle?`)
    return Promise.all(
      references.map(async (ref) => {
        const version = await this.getVersion(ref.subject, ref.version)
        return {
          name: ref.name,
          type: version.type,
          schema: version.schema,
          references: await this.resolve(version.references, depth + 1),
        }
      }),
    )
  }

  /** The parsed and the registered schema of an id, when cached: the synchronous fast path of the serdes. */
  cached(id: number): { parsed: ParsedSchema; schema: RegisteredSchema } | undefined {
    const parsed = this.parsed.get(id)
    const schema = this.schemas.get(id)
    return parsed && schema ? { parsed, schema } : undefined
  }

  /** The parsed schema of an id (fetched once, cached for ever). */
  parsedSchema(id: number): Promise<ParsedSchema> {
    return this.parsed.load(id, async () => {
      const schema = await this.getSchema(id)
      return this.parseText(schema.type, schema.schema, await this.resolve(schema.references, 0))
    })
  }

  /**
   * Wire-format bytes of `value` written with the schema `id`: magic byte 0, the id, the payload.
   * A value that does not match the schema fails with a SerializationError.
   */
  async encode(id: number, value: unknown, options: { messageName?: string } = {}): Promise<Buffer> {
    const schema = this.cached(id)?.parsed ?? (await this.parsedSchema(id))
    return schema.encode(id, value, options.messageName)
  }

  /** The value of wire-format bytes. Bytes of another format, an unknown id or a bad payload fail with a SerializationError. */
  async decode(bytes: Buffer | Uint8Array, options: DecodeOptions = {}): Promise<unknown> {
    return (await this.decodeWithSchema(bytes, options)).value
  }

  /** The value of wire-format bytes and the writer's schema. */
  async decodeWithSchema(bytes: Buffer | Uint8Array, options: DecodeOptions = {}): Promise<DecodedValue> {
    if (!(bytes instanceof Uint8Array)) throw new SerializationError('decode needs a Buffer or Uint8Array', options)
    const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const id = schemaIdOf(buffer, options.topic)
    const reader = options.readerSchema && (await this.readerSchema(options.readerSchema))
    const { parsed, schema } = this.cached(id) ?? (await this.writerSchema(id, options.topic))
    return { value: this.decodeParsed(buffer, id, parsed, reader, options.topic), schema }
  }

  /**
   * The parsed and registered schema of an id, fetched when not cached. An id the registry does
   * not know (or a schema that cannot be used) is bad data: a SerializationError.
   */
  async writerSchema(id: number, topic?: string): Promise<{ parsed: ParsedSchema; schema: RegisteredSchema }> {
    try {
      const [parsed, schema] = await Promise.all([this.parsedSchema(id), this.getSchema(id)])
      return { parsed, schema }
    } catch (error) {
      const where = `${topic ?? 'record'}: schema id ${id}`
      if (error instanceof SchemaRegistryError && error.status === 404)
        throw new SerializationError(`${where} is unknown to the registry`, { topic, schemaId: id }, { cause: error })
      if (error instanceof ConfigError)
        throw new SerializationError(
          `${where} cannot be used: ${error.message}`,
          { topic, schemaId: id },
          { cause: error },
        )
      throw error
    }
  }

  /** The synchronous decode of the middleware's fast path; `writer` is the cached schema of `id`. */
  decodeParsed(
    bytes: Buffer,
    id: number,
    writer: ParsedSchema,
    reader: ParsedSchema | null | undefined,
    topic: string | undefined,
  ): unknown {
    try {
      return writer.decode(bytes, HEADER_SIZE, reader ?? undefined)
    } catch (error) {
      if (error instanceof SerializationError)
        throw new SerializationError(
          `${topic ?? 'record'} (schema id ${id}): ${error.message}`,
          {
            topic,
            schemaId: id,
            paths: error.paths,
          },
          { cause: error.cause },
        )
      throw error
    }
  }

  /** A reader schema, parsed once per text. */
  async readerSchema(schema: Schema): Promise<ParsedSchema> {
    const key = `${schemaType(schema)}\0${schemaText(schema)}\0${JSON.stringify(schema.references ?? [])}`
    let parsed = this.readers.get(key)
    if (parsed === undefined) {
      parsed = await this.parse(schema)
      this.readers.set(key, parsed)
    }
    return parsed
  }

  /** A serializer for keys or values of topics: subject naming, registration or look-up, encoding. */
  serializer(options: SerializerOptions): Serializer {
    return new Serializer(this, options)
  }

  /** Wraps a Producer: records' keys and values are serialized with the serializers configured per topic. */
  producer<V = unknown, K = unknown>(producer: Producer, options: SchemaProducerOptions): SchemaProducer<V, K> {
    return new SchemaProducer<V, K>(this, producer, options)
  }

  /** A consumer middleware that decodes message values (and keys, if asked): see DecodedMessage. */
  deserializer(options: DeserializerOptions = {}): Middleware {
    return deserializer(this, options)
  }

  /** The deserializer for batch mode (`consumer.useBatch(...)`): records that do not decode are reported failed. */
  batchDeserializer(options: DeserializerOptions = {}): BatchMiddleware {
    return batchDeserializer(this, options)
  }

  /** Closes the keep-alive connections to the registry. */
  close(): void {
    this.http.close()
  }
}
