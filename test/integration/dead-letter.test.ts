// The dead-letter middleware against the real broker: a message read back from a topic, a handler
// that always fails after retry({ maxRetries: 2 }), and a real Producer writing the DLQ record that
// kcat (librdkafka) then reads with every header; the composed handler resolves only after that write.

import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { ConsumedMessage, type HandlerContext, sendWithoutTransaction } from '../../src/consumer/message.ts'
import { compose, DeadLetterError, deadLetter, retry } from '../../src/consumer/middleware.ts'
import { Producer } from '../../src/producer/producer.ts'
import type { ProducerRecord, RecordMetadata } from '../../src/producer/record.ts'
import { KafkaError } from '../../src/protocol/errors.ts'
import { brokers, cli, kcat, uniqueTopic } from '../helpers/kafka.ts'

interface KcatRecord {
  partition: number
  offset: number
  ts: number
  key: string | null
  payload: string | null
  headers?: (string | null)[]
}

/** Every record of a topic as kcat's JSON envelope (-J): headers come as a flat [key, value, ...] list. */
function readWithKcat(topic: string): KcatRecord[] {
  const out = kcat(['-b', brokers()[0], '-C', '-t', topic, '-e', '-q', '-J'])
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
}

function headerPairs(record: KcatRecord): [string, string | null][] {
  const flat = record.headers ?? []
  return Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i] as string, flat[2 * i + 1]])
}

const context = (): HandlerContext => ({
  signal: new AbortController().signal,
  attempt: 1,
  send: sendWithoutTransaction,
})

describe('deadLetter with a real broker', () => {
  const producer = new Producer({ brokers: brokers() })
  after(() => producer.close())

  it('writes a message that keeps failing to the DLQ topic with every header, before the handler resolves', async () => {
    const source = uniqueTopic('dlq-source')
    const dlq = uniqueTopic('dlq')
    cli.createTopic(dlq)
    // the source topic is created on first use (the harness broker allows it): one JVM start less
    await producer.send({
      topic: source,
      key: 'order-7',
      value: 'bad payload',
      headers: [{ key: 'trace', value: 't-1' }],
    })
    // the message as a consumer would see it: offset, timestamp and headers from the broker
    const [read] = readWithKcat(source)
    const message = new ConsumedMessage(
      source,
      read.partition,
      BigInt(read.offset),
      read.ts,
      Buffer.from(read.key!),
      Buffer.from(read.payload!),
      headerPairs(read).map(([key, value]) => ({ key, value: value === null ? null : Buffer.from(value) })),
      -1,
    )

    // the real producer, noting the broker's ack so the test sees whether it came before the handler resolved
    let acked: RecordMetadata | undefined
    const noting = { send: async (r: ProducerRecord) => (acked = await producer.send(r)) }
    const attempts: number[] = []
    const handler = compose(
      [deadLetter({ producer: noting, topic: dlq }), retry({ maxRetries: 2, initialDelayMs: 10 })],
      (_m, c) => {
        attempts.push(c.attempt)
        throw new Error('cannot process order 7')
      },
    )
    const started = Date.now()
    assert.equal(await handler(message, context()), undefined)
    assert.ok(acked, 'the handler resolved before the broker acknowledged the DLQ write')
    assert.deepEqual(attempts, [1, 2, 3])

    const dead = readWithKcat(dlq)
    assert.equal(dead.length, 1)
    const [record] = dead
    assert.equal(BigInt(record.offset), acked.offset)
    assert.equal(record.key, 'order-7')
    assert.equal(record.payload, 'bad payload')
    const pairs = headerPairs(record)
    assert.deepEqual(pairs[0], ['trace', 't-1'], 'the original headers come first')
    const h = new Map(pairs)
    assert.equal(h.get('kafkax-dlq-topic'), source)
    assert.equal(h.get('kafkax-dlq-partition'), String(read.partition))
    assert.equal(h.get('kafkax-dlq-offset'), String(read.offset))
    assert.equal(h.get('kafkax-dlq-timestamp'), String(read.ts))
    assert.equal(h.get('kafkax-dlq-error-name'), 'Error')
    assert.equal(h.get('kafkax-dlq-error-message'), 'cannot process order 7')
    assert.match(h.get('kafkax-dlq-error-stack') ?? '', /^Error: cannot process order 7\n\s+at /)
    assert.equal(h.get('kafkax-dlq-attempts'), '3')
    const failedAt = Number(h.get('kafkax-dlq-failed-at'))
    assert.ok(failedAt >= started && failedAt <= Date.now(), `failed-at ${failedAt}`)
  })

  it('throws a DeadLetterError when the DLQ topic cannot be written, so the offset is not committed', async () => {
    // no auto-creation and a short wait for metadata: the write fails with the broker's answer
    const strict = new Producer({ brokers: brokers(), allowAutoTopicCreation: false, maxBlockMs: 1000 })
    try {
      const message = new ConsumedMessage('orders', 0, 5n, Date.now(), null, Buffer.from('v'), [], -1)
      const missing = uniqueTopic('dlq-missing')
      const handler = compose([deadLetter({ producer: strict, topic: missing })], () => {
        throw new Error('no')
      })
      const error = await Promise.resolve(handler(message, context())).then(
        () => assert.fail('the handler resolved without a DLQ write'),
        (e: unknown) => e,
      )
      assert.ok(error instanceof DeadLetterError, String(error))
      assert.ok(error.cause instanceof KafkaError, String(error.cause))
      assert.equal(error.cause.type, 'UNKNOWN_TOPIC_OR_PARTITION')
      assert.equal(error.handlerError.message, 'no')
    } finally {
      await strict.close()
    }
  })
})
