// OpenTelemetry tracing with the messaging semantic conventions: a PRODUCER span per record sent,
// whose context travels in the record's W3C `traceparent`/`tracestate` headers, and a CONSUMER
// span per message handled, child of the context those headers carry. `@opentelemetry/api` is an
// optional peer dependency, loaded on first use: users who do not trace never load it.

import { createRequire } from 'node:module'
import type * as Otel from '@opentelemetry/api'
import type { Message, Middleware } from '../consumer/message.ts'
import type { Producer } from '../producer/producer.ts'
import type { Bytes, HeadersInput, ProducerRecord, RecordMetadata } from '../producer/record.ts'
import { ConfigError } from '../protocol/errors.ts'
import type { RecordHeader } from '../protocol/records/index.ts'

const load = createRequire(import.meta.url)
const { version } = load('../../package.json') as { version: string }

let api: typeof Otel | undefined

function otelApi(): typeof Otel {
  if (api) return api
  try {
    api = load('@opentelemetry/api') as typeof Otel
  } catch (error) {
    throw new ConfigError(
      'OpenTelemetry tracing needs the @opentelemetry/api package: npm install @opentelemetry/api',
      {
        cause: error,
      },
    )
  }
  return api
}

/** Options of otelProducer. */
export interface OtelOptions {
  /** Default: the global tracer provider's tracer named 'kafkax'. */
  tracer?: Otel.Tracer
}

/** What otelProducer() wraps: a Producer, or anything with its send/publish and events. */
export type TraceableProducer = Pick<Producer, 'send' | 'sendBatch' | 'publish' | 'emit' | 'listenerCount'> & {
  readonly cluster: { readonly options: { readonly clientId: string } }
}

/** Options of otelMiddleware. */
export interface OtelConsumerOptions extends OtelOptions {
  /** Recorded as messaging.consumer.group.name. */
  groupId?: string
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** The key as text for messaging.kafka.message.key: bytes only when they are valid UTF-8 (no canonical form else). */
function keyText(key: Bytes | undefined): string | undefined {
  if (key === null || key === undefined) return undefined
  if (typeof key === 'string') return key
  try {
    return strictUtf8.decode(key)
  } catch {
    return undefined
  }
}

function headerList(headers: HeadersInput | undefined): { key: string; value: Bytes }[] {
  if (!headers) return []
  if (Array.isArray(headers)) return [...headers]
  return Object.entries(headers).flatMap(([key, v]) =>
    (Array.isArray(v) ? (v as Bytes[]) : [v as Bytes]).map((value) => ({ key, value })),
  )
}

function fail(otel: typeof Otel, span: Otel.Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error))
  span.setStatus({ code: otel.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) })
  span.setAttribute('error.type', error instanceof Error ? error.name : typeof error)
}

/**
 * Traces `producer`'s sends (send, sendBatch, sendJSON and publish): each record gets a PRODUCER
 * span `send <topic>`, child of the active context, ended on acknowledgement (with partition and
 * offset) or failure, and carries the span's context in its headers (older headers of the
 * propagator, say `traceparent` of a record copied from a consumed one, are replaced). Returns the producer.
 */
export function otelProducer<P extends TraceableProducer>(producer: P, options: OtelOptions = {}): P {
  const otel = otelApi()
  const tracer = options.tracer ?? otel.trace.getTracer('kafkax', version)
  const clientId = producer.cluster.options.clientId
  const send = producer.send.bind(producer)
  const publish = producer.publish.bind(producer)

  const start = (record: ProducerRecord): [Otel.Span, ProducerRecord] => {
    const key = keyText(record.key)
    const span = tracer.startSpan(`send ${record.topic}`, {
      kind: otel.SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'send',
        'messaging.destination.name': record.topic,
        'messaging.client.id': clientId,
        ...(key !== undefined && { 'messaging.kafka.message.key': key }),
        ...(record.value === null && { 'messaging.kafka.message.tombstone': true }),
      },
    })
    const carrier: Record<string, string> = {}
    otel.propagation.inject(otel.trace.setSpan(otel.context.active(), span), carrier)
    // every header the propagator owns goes: a stale tracestate must not outlive its traceparent
    const owned = new Set(otel.propagation.fields())
    const headers = headerList(record.headers).filter((h) => !owned.has(h.key))
    for (const [key, value] of Object.entries(carrier)) headers.push({ key, value })
    return [span, { ...record, headers }]
  }
  const end = (span: Otel.Span, error: unknown, metadata: RecordMetadata | null): void => {
    if (error) fail(otel, span, error)
    else if (metadata) {
      span.setAttribute('messaging.destination.partition.id', String(metadata.partition))
      if (metadata.offset >= 0n) span.setAttribute('messaging.kafka.offset', Number(metadata.offset))
    }
    span.end()
  }

  producer.send = async (record) => {
    const [span, traced] = start(record)
    try {
      const metadata = await send(traced)
      end(span, null, metadata)
      return metadata
    } catch (error) {
      end(span, error, null)
      throw error
    }
  }
  // sendBatch does not go through send(): each record gets its span here
  producer.sendBatch = (records) => Promise.all(records.map((r) => producer.send(r)))
  producer.publish = (record, callback) => {
    const [span, traced] = start(record)
    publish(traced, (error, metadata) => {
      end(span, error, metadata)
      if (callback) callback(error, metadata)
      // without a callback, a failure nobody listens to must still surface as an 'error' event
      else if (error && producer.listenerCount('error') === 0) producer.emit('error', error, record)
    })
  }
  return producer
}

const headerGetter: Otel.TextMapGetter<RecordHeader[]> = {
  keys: (headers) => headers.map((h) => h.key),
  get: (headers, key) => headers.find((h) => h.key === key)?.value?.toString('utf8'),
}

/**
 * A consumer middleware running each message in a CONSUMER span `process <topic>`, child of the
 * context in the message's headers (the producer's span) and active while the handler runs, so
 * spans the handler starts are its children. A handler failure is recorded on the span and rethrown.
 */
export function otelMiddleware(options: OtelConsumerOptions = {}): Middleware {
  const otel = otelApi()
  const tracer = options.tracer ?? otel.trace.getTracer('kafkax', version)
  return (next) => async (message: Message, context) => {
    const parent = otel.propagation.extract(otel.context.active(), message.headers, headerGetter)
    const key = keyText(message.key)
    const span = tracer.startSpan(
      `process ${message.topic}`,
      {
        kind: otel.SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.operation.name': 'process',
          'messaging.destination.name': message.topic,
          'messaging.destination.partition.id': String(message.partition),
          'messaging.kafka.offset': Number(message.offset),
          ...(options.groupId !== undefined && { 'messaging.consumer.group.name': options.groupId }),
          ...(key !== undefined && { 'messaging.kafka.message.key': key }),
          ...(message.value === null && { 'messaging.kafka.message.tombstone': true }),
        },
      },
      parent,
    )
    try {
      return await otel.context.with(otel.trace.setSpan(parent, span), () => next(message, context))
    } catch (error) {
      fail(otel, span, error)
      throw error
    } finally {
      span.end()
    }
  }
}
