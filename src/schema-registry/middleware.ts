// The deserializing consumer middleware: handlers get the message with its value (and, if asked,
// its key) decoded from the wire format, and the writer's schema beside it. Bytes that do not
// decode (another format, an unknown schema id, a payload that does not match) throw a
// SerializationError into the normal error path: the consumer's retry, then its dead-letter topic
// (which gets the original bytes). Once a schema id is cached, decoding is synchronous, and so is
// the middleware when the handler is. In batch mode (batchDeserializer) the records that do not
// decode are reported failed, so the same retry and dead-letter path takes them.

import type {
  BatchContext,
  BatchMiddleware,
  BatchResult,
  Handler,
  HandlerContext,
  Message,
  Middleware,
} from '../consumer/message.ts'
import type { RecordHeader } from '../protocol/records/index.ts'
import type { ParsedSchema, RegisteredSchema, Schema } from './schema.ts'
import type { SchemaSource } from './source.ts'
import { schemaIdOf } from './wire.ts'

export interface DeserializerOptions {
  /** Decode values (default true). Null values (tombstones) stay null. */
  value?: boolean
  /** Decode keys too (default false: keys stay Buffers). */
  key?: boolean
  /** Avro reader schema of the values: one for every topic, or chosen per topic (undefined: the writer's). */
  readerSchema?: Schema | ((topic: string) => Schema | undefined)
}

/** A message as handlers behind the deserializer see it. */
export interface DecodedMessage<V = unknown, K = Buffer | null> extends Omit<Message, 'key' | 'value'> {
  key: K
  value: V
  /** The schema the value was written with (undefined for a null value, or when values are not decoded). */
  valueSchema: RegisteredSchema | undefined
  /** The schema the key was written with, when keys are decoded. */
  keySchema: RegisteredSchema | undefined
  /** The bytes as they were read. */
  raw: { key: Buffer | null; value: Buffer | null }
}

/** Types a handler for messages the deserializer decoded: `consumer.run(decoded<Order>(async (m) => ...))`. */
export function decoded<V, K = Buffer | null>(
  handler: (message: DecodedMessage<V, K>, context: HandlerContext) => unknown,
): Handler {
  return handler as unknown as Handler
}

class DecodedRecord implements DecodedMessage<unknown, unknown> {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  readonly timestamp: number
  readonly headers: RecordHeader[]
  readonly leaderEpoch: number
  readonly raw: { key: Buffer | null; value: Buffer | null }

  constructor(
    message: Message,
    readonly key: unknown,
    readonly value: unknown,
    readonly keySchema: RegisteredSchema | undefined,
    readonly valueSchema: RegisteredSchema | undefined,
  ) {
    this.topic = message.topic
    this.partition = message.partition
    this.offset = message.offset
    this.timestamp = message.timestamp
    this.headers = message.headers
    this.leaderEpoch = message.leaderEpoch
    this.raw = { key: message.key, value: message.value }
  }

  header(name: string): Buffer | null | undefined {
    for (const h of this.headers) if (h.key === name) return h.value
    return undefined
  }
}

interface Field {
  value: unknown
  schema: RegisteredSchema | undefined
}

const record = (message: Message, key: Field, value: Field) =>
  new DecodedRecord(message, key.value, value.value, key.schema, value.schema) as unknown as Message

export function deserializer(registry: SchemaSource, options: DeserializerOptions): Middleware {
  const values = options.value ?? true
  const keys = options.key ?? false
  const readerOf = options.readerSchema
  /** Parsed reader schemas per topic (null: none). */
  const readers = new Map<string, ParsedSchema | null>()

  async function reader(topic: string): Promise<ParsedSchema | null> {
    const schema = typeof readerOf === 'function' ? readerOf(topic) : readerOf
    const parsed = schema ? await registry.readerSchema(schema) : null
    readers.set(topic, parsed)
    return parsed
  }

  /** Decodes synchronously when the schemas are cached; else fetches them. */
  function decode(bytes: Buffer | null, topic: string, read: ParsedSchema | null | undefined): Field | Promise<Field> {
    if (bytes === null) return { value: null, schema: undefined }
    const id = schemaIdOf(bytes, topic)
    const cached = registry.cached(id)
    if (cached) return { value: registry.decodeParsed(bytes, id, cached.parsed, read, topic), schema: cached.schema }
    return registry
      .writerSchema(id, topic)
      .then(({ parsed, schema }) => ({ value: registry.decodeParsed(bytes, id, parsed, read, topic), schema }))
  }

  // synchronous while the schemas are cached, so a synchronous handler keeps the consumer's promise-free path
  const handle = (next: Handler, message: Message, context: HandlerContext): unknown => {
    const topic = message.topic
    if (readerOf !== undefined && !readers.has(topic)) return reader(topic).then(() => handle(next, message, context))
    const read = readers.get(topic)
    const value = values ? decode(message.value, topic, read) : { value: message.value, schema: undefined }
    let key: Field | Promise<Field>
    try {
      key = keys ? decode(message.key, topic, undefined) : { value: message.key, schema: undefined }
    } catch (error) {
      // the value's fetch may still fail: its rejection is not this message's error any more
      if (value instanceof Promise) value.catch(() => {})
      throw error
    }
    if (value instanceof Promise || key instanceof Promise)
      return Promise.all([value, key]).then(([v, k]) => next(record(message, k, v), context))
    return next(record(message, key, value), context)
  }
  return (next) => (message, context) => handle(next, message, context)
}

/**
 * deserializer() for batch mode (`consumer.useBatch(...)`): the handler gets the records that
 * decoded; those that did not are returned failed (with the handler's own failures) as a
 * BatchResult, for the batch retry and dead-letter middleware. The handler's `resolve()` is held
 * below the first record that failed to decode, so nothing is committed past it.
 */
export function batchDeserializer(registry: SchemaSource, options: DeserializerOptions): BatchMiddleware {
  const decodeOne = deserializer(registry, options)((message) => message)
  return (next) => async (messages, context) => {
    const decodedRecords: Message[] = []
    const undecoded: Message[] = []
    let decodeError: unknown
    for (const message of messages) {
      try {
        decodedRecords.push((await decodeOne(message, context)) as Message)
      } catch (error) {
        undecoded.push(message)
        decodeError ??= error
      }
    }
    if (undecoded.length === 0) return next(decodedRecords, context)
    const below = undecoded[0].offset - 1n
    const held: BatchContext = { ...context, resolve: (offset) => context.resolve(offset < below ? offset : below) }
    const value = decodedRecords.length > 0 ? await next(decodedRecords, held) : undefined
    const result = value as BatchResult | undefined
    const handlerFailed =
      typeof result === 'object' && result !== null && Array.isArray(result.failed) ? result.failed : []
    return {
      failed: [...undecoded, ...handlerFailed],
      error: handlerFailed.length > 0 ? (result?.error ?? decodeError) : decodeError,
    } satisfies BatchResult
  }
}
