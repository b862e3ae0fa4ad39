// Observability against the real broker: a trace that crosses Kafka (the consumer's span is a child
// of the producer's, through the record's traceparent header), every kafkax:* tracing channel with
// its context, and logs of a lost connection and of rebalances that never carry the SASL password.

import assert from 'node:assert/strict'
import { tracingChannel } from 'node:diagnostics_channel'
import { after, describe, it } from 'node:test'
import { propagation, SpanKind, trace } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { Admin } from '../../src/admin/admin.ts'
import { Consumer } from '../../src/consumer/consumer.ts'
import type { Message } from '../../src/consumer/message.ts'
import { jsonLogger } from '../../src/observability/logger.ts'
import { otelMiddleware, otelProducer } from '../../src/otel/index.ts'
import { Producer } from '../../src/producer/producer.ts'
import { brokers, SINGLE, USERS, uniqueTopic } from '../helpers/kafka.ts'
import { waitFor } from '../helpers/wait.ts'

const admin = new Admin({ brokers: brokers() })
after(() => admin.close())

async function newTopic(prefix: string): Promise<string> {
  const topic = uniqueTopic(prefix)
  await admin.createTopics([{ topic, partitions: 1, replicationFactor: 1 }])
  return topic
}

/** Runs the consumer until `count` messages were handled, then stops it (commit, leave). */
async function consumeAll(consumer: Consumer, count: number, handler: (m: Message) => unknown = () => {}) {
  const seen: Message[] = []
  const run = consumer.run(async (m) => {
    await handler(m)
    seen.push(m)
  })
  try {
    await waitFor(`${count} messages handled`, () => seen.length >= count, {
      timeoutMs: 60_000,
      state: () => seen.length,
    })
  } finally {
    await consumer.stop()
    await run
  }
  assert.equal(seen.length, count)
  return seen
}

function captureLines() {
  const lines: string[] = []
  return {
    logger: jsonLogger('trace', (line) => lines.push(line)),
    lines,
    records: () => lines.map((l) => JSON.parse(l)),
  }
}

describe('OpenTelemetry across the broker', () => {
  it("makes the consumer's process span a child of the producer's send span", async () => {
    const exporter = new InMemorySpanExporter()
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }))
    propagation.setGlobalPropagator(new W3CTraceContextPropagator())
    try {
      const topic = await newTopic('otel')
      const producer = otelProducer(new Producer({ brokers: brokers(), clientId: 'otel-producer' }))
      const metadata = await producer.send({ topic, key: 'order-1', value: 'paid' })
      await producer.close()

      const groupId = `group-${topic}`
      const consumer = new Consumer({ brokers: brokers(), groupId, topics: [topic], fromBeginning: true })
      consumer.use(otelMiddleware({ groupId }))
      const [message] = await consumeAll(consumer, 1)
      assert.match(message.header('traceparent')!.toString(), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)

      const spans = exporter.getFinishedSpans()
      const send = spans.find((s) => s.name === `send ${topic}`)!
      const process = spans.find((s) => s.name === `process ${topic}`)!
      assert.equal(send.kind, SpanKind.PRODUCER)
      assert.equal(process.kind, SpanKind.CONSUMER)
      assert.equal(process.spanContext().traceId, send.spanContext().traceId)
      assert.equal(process.parentSpanContext?.spanId, send.spanContext().spanId)
      assert.equal(send.attributes['messaging.kafka.offset'], Number(metadata.offset))
      assert.equal(send.attributes['messaging.destination.partition.id'], '0')
      assert.equal(process.attributes['messaging.kafka.offset'], Number(metadata.offset))
      assert.equal(process.attributes['messaging.consumer.group.name'], groupId)
      assert.equal(process.attributes['messaging.kafka.message.key'], 'order-1')
    } finally {
      trace.disable()
      propagation.disable()
    }
  })
})

describe('tracing channels', () => {
  it('publish connects, requests, produce and fetch requests, handler runs, rebalances and commits', async () => {
    const names = ['connect', 'request', 'produce', 'fetch', 'handler', 'rebalance', 'commit']
    const events = new Map<string, { phase: string; context: any }[]>(names.map((n) => [n, []]))
    const subscriptions = names.map((name) => {
      const channel = tracingChannel(`kafkax:${name}`)
      const on = (phase: string) => (context: unknown) => events.get(name)!.push({ phase, context })
      const handlers = {
        start: on('start'),
        end: on('end'),
        asyncStart: on('asyncStart'),
        asyncEnd: on('asyncEnd'),
        error: on('error'),
      }
      channel.subscribe(handlers)
      return () => channel.unsubscribe(handlers)
    })
    const topic = await newTopic('channels')
    const groupId = `group-${topic}`
    try {
      const producer = new Producer({ brokers: brokers() })
      await producer.sendBatch([
        { topic, value: 'a' },
        { topic, value: 'b' },
      ])
      await producer.close()
      const consumer = new Consumer({ brokers: brokers(), groupId, topics: [topic], fromBeginning: true })
      await consumeAll(consumer, 2)
    } finally {
      for (const unsubscribe of subscriptions) unsubscribe()
    }
    const finished = (name: string) =>
      events
        .get(name)!
        .filter((e) => e.phase === 'asyncEnd')
        .map((e) => e.context)

    const [host, port] = brokers()[0].split(':')
    assert.ok(finished('connect').some((c) => c.host === host && c.port === Number(port) && c.tls === false))
    const apis = new Set(finished('request').map((c) => c.apiName))
    for (const api of ['ApiVersions', 'Metadata', 'Produce', 'Fetch', 'JoinGroup', 'OffsetCommit']) {
      assert.ok(apis.has(api) || (api === 'JoinGroup' && apis.has('ConsumerGroupHeartbeat')), `${api} in ${[...apis]}`)
    }
    assert.ok(finished('request').every((c) => c.result !== undefined))

    const produced = finished('produce').flatMap((c) => c.batches)
    assert.equal(
      produced.filter((b: any) => b.topic === topic).reduce((n: number, b: any) => n + b.records, 0),
      2,
    )
    assert.ok(finished('fetch').some((c) => c.partitions.some((p: any) => p.topic === topic && p.partition === 0)))

    const handled = finished('handler').flatMap((c) => c.messages)
    assert.deepEqual(
      handled.map((m: Message) => [m.topic, m.offset, m.value?.toString()]),
      [
        [topic, 0n, 'a'],
        [topic, 1n, 'b'],
      ],
    )
    assert.ok(finished('handler').every((c) => c.groupId === groupId))

    const rebalances = finished('rebalance').map((c) => [c.type, c.partitions.map((p: any) => p.topic)])
    assert.deepEqual(rebalances[0], ['assigned', [topic]])
    assert.ok(
      rebalances.some(([type]) => type === 'revoked'),
      JSON.stringify(rebalances),
    )

    const committed = finished('commit').flatMap((c) => c.offsets)
    assert.ok(
      committed.some((o: any) => o.topic === topic && o.offset === 2n),
      'the last commit is past both messages',
    )
    assert.ok(finished('commit').every((c) => c.groupId === groupId))
  })
})

describe('logging', () => {
  it('logs a lost connection and the retry of its batch, never the SASL password', async () => {
    const topic = await newTopic('logging')
    const { logger, lines, records } = captureLines()
    const producer = new Producer({
      brokers: [`${brokers()[0].split(':')[0]}:${SINGLE.saslPlaintext}`],
      sasl: { mechanism: 'scram-sha-256', username: 'alice', password: USERS.alice },
      logger,
    })
    // cut the connection as soon as the first Produce request is on its way
    const requests = tracingChannel<unknown, any>('kafkax:request')
    let cut = false
    const onStart = (context: any) => {
      if (context.apiName !== 'Produce' || cut) return
      cut = true
      producer.cluster
        .connectionTo({ host: context.host, port: context.port })
        // in a microtask: sooner than any answer can arrive, so the request always fails
        .then((c) => c.destroy(new Error('cut by the test')))
    }
    requests.start.subscribe(onStart)
    try {
      const metadata = await producer.send({ topic, value: 'survives' })
      assert.equal(metadata.offset, 0n)
    } finally {
      requests.start.unsubscribe(onStart)
      await producer.close()
    }
    assert.ok(cut)
    const logged = records()
    const failed = logged.find((r) => r.msg === 'produce request failed')
    assert.ok(failed, lines.join(''))
    assert.equal(failed.level, 'warn')
    assert.equal(failed.err.type, 'ConnectionError')
    assert.equal(typeof failed.nodeId, 'number')
    const retried = logged.find((r) => r.msg === 'retrying batch')
    assert.deepEqual([retried.level, retried.topic, retried.partition], ['warn', topic, 0])
    assert.ok(logged.every((r) => r.clientId === 'kafkax'))
    assert.ok(!lines.join('').includes(USERS.alice), 'no line carries the password')
  })

  it("logs the consumer's rebalances with its group", async () => {
    const topic = await newTopic('logging')
    const { logger, records } = captureLines()
    const producer = new Producer({ brokers: brokers() })
    await producer.send({ topic, value: 'x' })
    await producer.close()
    const groupId = `group-${topic}`
    await consumeAll(new Consumer({ brokers: brokers(), groupId, topics: [topic], fromBeginning: true, logger }), 1)
    const assigned = records().find((r) => r.msg === 'partitions assigned')
    assert.deepEqual([assigned.level, assigned.groupId, assigned.partitions], ['info', groupId, [`${topic}-0`]])
    assert.ok(records().some((r) => r.msg === 'partitions revoked' && r.groupId === groupId))
  })
})
