// OpenTelemetry with a fake producer and fake handlers: PRODUCER spans with the messaging attributes
// and the W3C headers they inject, CONSUMER spans that are children of the producer's span, errors
// recorded on spans. Spans go to the SDK's InMemorySpanExporter; the W3C propagator is registered.

import assert from 'node:assert/strict'
import { AsyncLocalStorage } from 'node:async_hooks'
import { EventEmitter } from 'node:events'
import { beforeEach, describe, it } from 'node:test'
import {
  type Context,
  type ContextManager,
  context,
  createTraceState,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { ConsumedMessage, type HandlerContext, sendWithoutTransaction } from '../../../src/consumer/message.ts'
import { otelMiddleware, otelProducer } from '../../../src/otel/index.ts'
import type { ProducerRecord, RecordMetadata } from '../../../src/producer/record.ts'
import { normalizeRecord } from '../../../src/producer/record.ts'

/** Context propagation across awaits (what @opentelemetry/context-async-hooks does), for active spans. */
class AsyncContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>()
  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(ctx, () => fn.apply(thisArg, args))
  }
  bind<T>(_ctx: Context, target: T): T {
    return target
  }
  enable(): this {
    return this
  }
  disable(): this {
    return this
  }
}

const exporter = new InMemorySpanExporter()
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }))
propagation.setGlobalPropagator(new W3CTraceContextPropagator())
context.setGlobalContextManager(new AsyncContextManager())

/** Acts like Producer.send/publish: records what it was given, settles when the test says so. */
class FakeProducer extends EventEmitter {
  readonly cluster = { options: { clientId: 'test-client' } }
  readonly sent: ProducerRecord[] = []
  outcome: Error | RecordMetadata = { topic: 'orders', partition: 2, offset: 41n, timestamp: 1 }

  async send(record: ProducerRecord): Promise<RecordMetadata> {
    this.sent.push(record)
    await new Promise((r) => setImmediate(r))
    if (this.outcome instanceof Error) throw this.outcome
    return this.outcome
  }

  /** As the real one, it does not go through send(): otelProducer must trace it itself. */
  async sendBatch(records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    this.sent.push(...records)
    return records.map(() => this.outcome as RecordMetadata)
  }

  publish(record: ProducerRecord, callback?: (error: Error | null, metadata: RecordMetadata | null) => void): void {
    this.send(record).then(
      (m) => callback?.(null, m),
      (e) => callback?.(e, null),
    )
  }
}

const signal = new AbortController().signal
const handlerContext: HandlerContext = { signal, attempt: 1, send: sendWithoutTransaction }

/** What the consumer would read back: the record as normalised, at the offset the fake acknowledged. */
function consumed(record: ProducerRecord, offset = 41n): ConsumedMessage {
  const r = normalizeRecord(record)
  return new ConsumedMessage(r.topic, 2, offset, r.timestamp, r.key, r.value, r.headers, 0)
}

const headerValue = (record: ProducerRecord, key: string) =>
  (record.headers as { key: string; value: unknown }[]).filter((h) => h.key === key).map((h) => String(h.value))

beforeEach(() => exporter.reset())

describe('otelProducer', () => {
  it('creates a PRODUCER span per send with the messaging attributes, and injects traceparent', async () => {
    const producer = otelProducer(new FakeProducer())
    const headers = { a: 'b', tracestate: 'stale=1' }
    const metadata = await producer.send({ topic: 'orders', key: 'order-7', value: 'v', headers })
    assert.equal(metadata.offset, 41n)
    const [span] = exporter.getFinishedSpans()
    assert.equal(span.name, 'send orders')
    assert.equal(span.kind, SpanKind.PRODUCER)
    assert.deepEqual(span.attributes, {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': 'orders',
      'messaging.client.id': 'test-client',
      'messaging.kafka.message.key': 'order-7',
      'messaging.destination.partition.id': '2',
      'messaging.kafka.offset': 41,
    })
    const { traceId, spanId } = span.spanContext()
    const sent = producer.sent[0]
    assert.deepEqual(headerValue(sent, 'a'), ['b'], 'the headers given are kept (object form becomes a list)')
    assert.deepEqual(headerValue(sent, 'traceparent'), [`00-${traceId}-${spanId}-01`])
    assert.deepEqual(headerValue(sent, 'tracestate'), [], 'a tracestate of another trace is dropped')
  })

  it('gives every record of a sendBatch its own span and traceparent', async () => {
    const producer = otelProducer(new FakeProducer())
    const written = await producer.sendBatch([
      { topic: 'orders', value: 'a' },
      { topic: 'refunds', value: 'b' },
    ])
    assert.equal(written.length, 2)
    const spans = exporter.getFinishedSpans()
    assert.deepEqual(spans.map((s) => s.name).sort(), ['send orders', 'send refunds'])
    for (const [i, sent] of producer.sent.entries()) {
      const span = spans.find((s) => s.name === `send ${sent.topic}`)!
      const { traceId, spanId } = span.spanContext()
      assert.deepEqual(headerValue(sent, 'traceparent'), [`00-${traceId}-${spanId}-01`], `record ${i}`)
    }
  })

  it('makes the span a child of the active one, carries its tracestate, replaces an older traceparent', async () => {
    const producer = otelProducer(new FakeProducer())
    const parent = trace.wrapSpanContext({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      traceState: createTraceState('vendor=opaque'),
    })
    await context.with(trace.setSpan(context.active(), parent), () =>
      producer.send({
        topic: 'orders',
        value: null,
        headers: [
          { key: 'traceparent', value: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
          { key: 'tracestate', value: 'old=1' },
        ],
      }),
    )
    const [span] = exporter.getFinishedSpans()
    const { traceId, spanId } = span.spanContext()
    assert.equal(traceId, '4bf92f3577b34da6a3ce929d0e0e4736')
    assert.equal(span.parentSpanContext?.spanId, '00f067aa0ba902b7')
    assert.equal(span.attributes['messaging.kafka.message.tombstone'], true)
    assert.equal(span.attributes['messaging.kafka.message.key'], undefined, 'no key, no key attribute')
    assert.deepEqual(headerValue(producer.sent[0], 'traceparent'), [`00-${traceId}-${spanId}-01`])
    assert.deepEqual(headerValue(producer.sent[0], 'tracestate'), ['vendor=opaque'])
  })

  it('records a failed send on its span and rethrows the error', async () => {
    const fake = new FakeProducer()
    const error = new Error('broker said no')
    fake.outcome = error
    const producer = otelProducer(fake)
    await assert.rejects(producer.send({ topic: 'orders', value: 'v' }), (e) => e === error)
    const [span] = exporter.getFinishedSpans()
    assert.equal(span.status.code, SpanStatusCode.ERROR)
    assert.equal(span.status.message, 'broker said no')
    assert.equal(span.attributes['error.type'], 'Error')
    assert.equal(span.events[0].name, 'exception')
    assert.equal(span.attributes['messaging.kafka.offset'], undefined)
  })

  it('traces publish: the callback gets the outcome once the span ended', async () => {
    const producer = otelProducer(new FakeProducer())
    const metadata = await new Promise<RecordMetadata | null>((resolve, reject) =>
      producer.publish({ topic: 'orders', key: Buffer.from('k'), value: 'v' }, (e, m) => (e ? reject(e) : resolve(m))),
    )
    assert.equal(metadata?.partition, 2)
    const [span] = exporter.getFinishedSpans()
    assert.equal(span.attributes['messaging.kafka.message.key'], 'k', 'UTF-8 byte keys are recorded as text')
    assert.equal(span.attributes['messaging.destination.partition.id'], '2')
  })

  it('leaves keys that are not UTF-8 out', async () => {
    const producer = otelProducer(new FakeProducer())
    await producer.send({ topic: 'orders', key: Buffer.from([0xff, 0xfe]), value: 'v' })
    assert.equal(exporter.getFinishedSpans()[0].attributes['messaging.kafka.message.key'], undefined)
  })
})

describe('otelMiddleware', () => {
  it("makes a CONSUMER span per message, child of the producer's span, active while the handler runs", async () => {
    const producer = otelProducer(new FakeProducer())
    await producer.send({ topic: 'orders', key: 'order-7', value: 'v' })
    let activeInHandler: string | undefined
    const handler = otelMiddleware({ groupId: 'billing' })(async () => {
      activeInHandler = trace.getActiveSpan()?.spanContext().spanId
    })
    await handler(consumed(producer.sent[0]), handlerContext)
    const [send, process] = exporter.getFinishedSpans()
    assert.equal(process.name, 'process orders')
    assert.equal(process.kind, SpanKind.CONSUMER)
    assert.equal(process.spanContext().traceId, send.spanContext().traceId)
    assert.equal(process.parentSpanContext?.spanId, send.spanContext().spanId)
    assert.equal(activeInHandler, process.spanContext().spanId)
    assert.deepEqual(process.attributes, {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': 'orders',
      'messaging.destination.partition.id': '2',
      'messaging.kafka.offset': 41,
      'messaging.consumer.group.name': 'billing',
      'messaging.kafka.message.key': 'order-7',
    })
    assert.equal(process.status.code, SpanStatusCode.UNSET)
  })

  it('starts a new trace for a message without trace headers', async () => {
    const handler = otelMiddleware()(() => 'done')
    assert.equal(await handler(consumed({ topic: 'orders', value: 'v' }), handlerContext), 'done')
    const [span] = exporter.getFinishedSpans()
    assert.equal(span.parentSpanContext, undefined)
  })

  it('records a handler failure and rethrows it, also for thrown non-Errors', async () => {
    const error = new TypeError('bad payload')
    const failing = otelMiddleware()(() => {
      throw error
    })
    await assert.rejects(Promise.resolve(failing(consumed({ topic: 'orders', value: 'v' }), handlerContext)), error)
    const odd = otelMiddleware()(() => Promise.reject('a string'))
    await assert.rejects(Promise.resolve(odd(consumed({ topic: 'orders', value: 'v' }), handlerContext)), /a string/)
    const [first, second] = exporter.getFinishedSpans()
    assert.equal(first.status.code, SpanStatusCode.ERROR)
    assert.equal(first.status.message, 'bad payload')
    assert.equal(first.attributes['error.type'], 'TypeError')
    assert.equal(first.events[0].name, 'exception')
    assert.equal(second.status.message, 'a string')
    assert.equal(second.attributes['error.type'], 'string')
  })
})
