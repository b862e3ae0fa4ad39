// kafkax/kafkajs's producer.transaction() against the real broker: what a transaction writes, and
// the offsets it sends, become visible to read_committed readers (kcat) at its commit and never
// after its abort; kafkajs's rules (one transaction at a time, an ended one refuses to act, no
// transaction without a transactionalId); a kafkajs 2.2.4 producer and a kafkax/kafkajs one taking
// over each other's transactionalId (the rolling migration of a transactional service: the newer
// fences the older and aborts its open transaction); and kafkajs's consume-transform-produce loop
// (eachBatch, a transaction per batch with sendOffsets) writing each input once although a batch fails.

import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { after, describe, it } from 'node:test'
import * as ours from '../../src/kafkajs/index.ts'
import { brokers, readWithKcat, uniqueTopic } from '../helpers/kafka.ts'
import { waitFor } from '../helpers/wait.ts'

const require = createRequire(import.meta.url)
const kafkajs = require('kafkajs') as unknown as typeof ours

const config = { clientId: 'transactions', brokers: brokers(), logLevel: ours.logLevel.NOTHING }
const kafka = new ours.Kafka(config)
const admin = kafka.admin()
after(() => admin.disconnect())

/** The values of `topic` a reader of `isolation` sees, sorted. */
const values = (topic: string, isolation: 'read_committed' | 'read_uncommitted') =>
  readWithKcat(topic, undefined, isolation)
    .map((r) => r.value)
    .sort()

async function committed(groupId: string, topic: string): Promise<Record<number, string>> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] })
  return Object.fromEntries(offsets.partitions.filter((p) => p.offset !== '-1').map((p) => [p.partition, p.offset]))
}

async function topic(prefix: string, numPartitions = 1): Promise<string> {
  const name = uniqueTopic(prefix)
  await admin.createTopics({ topics: [{ topic: name, numPartitions }] })
  return name
}

const producer = (lib: typeof ours, transactionalId: string) =>
  new lib.Kafka(config).producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: lib.Partitioners.DefaultPartitioner,
  })

describe('kafkax/kafkajs transactions', { timeout: 120_000 }, () => {
  it('commit: records and offsets become visible together; an ended transaction refuses; one at a time', async () => {
    const out = await topic('txn-out', 3)
    const input = await topic('txn-in')
    const groupId = `g-${input}`
    const p = producer(ours, `txn-${out}`)
    await p.connect()
    try {
      const tx = await p.transaction()
      assert.equal(tx.isActive(), true)
      await assert.rejects(p.transaction(), /already an ongoing transaction/)
      const written = await tx.send({
        topic: out,
        messages: Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
      })
      assert.ok(written.length > 0 && written.every((m) => m.topicName === out && /^\d+$/.test(String(m.baseOffset))))
      await assert.rejects(
        tx.sendOffsets(undefined as never),
        (e: Error) => e instanceof ours.KafkaJSNonRetriableError && /Missing consumerGroupId/.test(e.message),
      )
      await tx.sendOffsets({
        consumerGroupId: groupId,
        topics: [{ topic: input, partitions: [{ partition: 0, offset: '7' }] }],
      })
      // written, not committed: only a read_uncommitted reader sees them, and the offsets wait too
      assert.deepEqual(values(out, 'read_committed'), [])
      assert.equal(values(out, 'read_uncommitted').length, 6)
      assert.deepEqual(await committed(groupId, input), {})
      await tx.commit()
      assert.equal(tx.isActive(), false)
      assert.deepEqual(values(out, 'read_committed'), ['v0', 'v1', 'v2', 'v3', 'v4', 'v5'])
      await waitFor(
        'the offsets committed with the transaction',
        async () => (await committed(groupId, input))[0] === '7',
      )
      for (const late of [
        () => tx.send({ topic: out, messages: [{ value: 'late' }] }),
        () => tx.commit(),
        () => tx.abort(),
      ]) {
        await assert.rejects(
          late(),
          (e: Error) =>
            e instanceof ours.KafkaJSNonRetriableError &&
            /Cannot continue to use transaction once ended/.test(e.message),
        )
      }
      // the next one, aborted: its records stay invisible to read_committed readers
      const next = await p.transaction()
      await next.sendBatch({ topicMessages: [{ topic: out, messages: [{ value: 'aborted' }] }] })
      await assert.rejects(next.send({ topic: out, acks: 1, messages: [{ value: 'x' }] }), /invalidates the idempotent/)
      await next.abort()
      assert.equal(next.isActive(), false)
      assert.equal(values(out, 'read_committed').length, 6)
      assert.deepEqual(
        values(out, 'read_uncommitted').filter((v) => v === 'aborted'),
        ['aborted'],
      )
      // a send outside a transaction is not part of one, as in kafkajs
      await p.send({ topic: out, messages: [{ value: 'plain' }] })
      assert.ok(values(out, 'read_committed').includes('plain'))
    } finally {
      await p.disconnect()
    }
    await assert.rejects(
      kafka.producer({ createPartitioner: ours.Partitioners.DefaultPartitioner }).transaction(),
      (e: Error) => e instanceof ours.KafkaJSNonRetriableError && /Must provide transactional id/.test(e.message),
    )
  })

  it('kafkajs 2.2.4 and kafkax/kafkajs taking over one transactionalId: the newer fences the older, whose open transaction is aborted', async () => {
    const out = await topic('txn-takeover')
    const id = `takeover-${out}`
    const theirs = producer(kafkajs, id)
    const mine = producer(ours, id)
    const rollback = producer(kafkajs, id)
    try {
      await theirs.connect()
      const old = await theirs.transaction()
      await old.send({ topic: out, messages: [{ value: 'kafkajs, left open' }] })
      // the migrated instance starts: its first transaction fences the kafkajs one
      await mine.connect()
      const tx = await mine.transaction()
      await tx.send({ topic: out, messages: [{ value: 'kafkax/kafkajs' }] })
      await tx.commit()
      await assert.rejects(old.commit(), (e: Error) => e instanceof kafkajs.KafkaJSError)
      // and the rollback: a kafkajs instance takes the id back while the kafkax/kafkajs one has a transaction open
      const open = await mine.transaction()
      await open.send({ topic: out, messages: [{ value: 'kafkax/kafkajs, left open' }] })
      await rollback.connect()
      const back = await rollback.transaction()
      await back.send({ topic: out, messages: [{ value: 'kafkajs again' }] })
      await back.commit()
      await assert.rejects(
        open.commit(),
        (e: Error) =>
          e instanceof ours.KafkaJSProtocolError && e.retriable === false && /fenced|epoch/i.test(e.message),
      )
      assert.deepEqual(values(out, 'read_committed'), ['kafkajs again', 'kafkax/kafkajs'])
    } finally {
      await Promise.allSettled([theirs.disconnect(), mine.disconnect(), rollback.disconnect()])
    }
  })

  it('consume-transform-produce: a transaction per eachBatch with sendOffsets; a failed batch is aborted and read again; each input once', async () => {
    const input = await topic('ctp-in', 3)
    const out = await topic('ctp-out', 3)
    const groupId = `g-${input}`
    const count = 300
    const feeder = kafka.producer({ createPartitioner: ours.Partitioners.DefaultPartitioner })
    await feeder.connect()
    // in 30 sends: record batches of 10, so that the consumer's batches (maxBytesPerPartition) are many
    for (let i = 0; i < count; i += 10) {
      await feeder.send({
        topic: input,
        messages: Array.from({ length: 10 }, (_, j) => ({ key: `k${i + j}`, value: String(i + j) })),
      })
    }
    await feeder.disconnect()
    const p = producer(ours, `ctp-${input}`)
    await p.connect()
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, maxBytesPerPartition: 2000 })
    let failed = false
    let batches = 0
    try {
      await consumer.connect()
      await consumer.subscribe({ topic: input, fromBeginning: true })
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const tx = await p.transaction()
          try {
            await tx.send({
              topic: out,
              messages: batch.messages.map((m) => ({ key: m.key, value: `out-${m.value}` })),
            })
            // one batch fails after its records were written: the abort must hide them
            if (!failed && batches === 1) {
              failed = true
              throw new Error('transform failed')
            }
            await tx.sendOffsets({
              consumerGroupId: groupId,
              topics: [
                {
                  topic: batch.topic,
                  partitions: [{ partition: batch.partition, offset: String(BigInt(batch.lastOffset()) + 1n) }],
                },
              ],
            })
            await tx.commit()
            batches++
          } catch (error) {
            await tx.abort()
            throw error
          }
        },
      })
      await waitFor('every input transformed and committed', () => values(out, 'read_committed').length >= count, {
        state: () => values(out, 'read_committed').length,
      })
    } finally {
      await consumer.disconnect()
      await p.disconnect()
    }
    assert.equal(failed, true)
    assert.ok(batches > 3, `${batches} transactions committed`)
    const committedOut = values(out, 'read_committed')
    assert.deepEqual(committedOut, Array.from({ length: count }, (_, i) => `out-${i}`).sort())
    // the failed batch's records were written, and aborted
    assert.ok(values(out, 'read_uncommitted').length > count)
    const ends = await admin.fetchTopicOffsets(input)
    assert.deepEqual(await committed(groupId, input), Object.fromEntries(ends.map((e) => [e.partition, e.high])))
  })
})
