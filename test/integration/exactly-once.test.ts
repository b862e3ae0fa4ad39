// Consume-transform-produce with the Consumer's exactlyOnce option against the real broker: what the
// handlers write with context.send() and the input offsets commit in one transaction, so a
// read_committed reader sees exactly one output per input: with concurrency, retries (a failed
// attempt's records never visible) and dead letters (in the same transaction), an output that fails
// (the transaction aborted and its inputs handled again), a rebalance between two members, a member
// fenced by a newer producer with its transactional id, and input written by the Java client's
// transactions. The Java read_committed console consumer reads what the consumer committed.

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ROOT, release } from '../../scripts/kafka/harness.ts'
import { Admin } from '../../src/admin/admin.ts'
import { Consumer, type ConsumerOptions } from '../../src/consumer/consumer.ts'
import type { Handler, HandlerContext, Message } from '../../src/consumer/message.ts'
import type { ExactlyOnceOptions } from '../../src/consumer/options.ts'
import { Producer } from '../../src/producer/producer.ts'
import { TransactionError } from '../../src/producer/transaction-error.ts'
import { KafkaError } from '../../src/protocol/errors.ts'
import { committedAtEnd, writeInputs } from '../helpers/exactly-once.ts'
import { brokers, cli, kcat, uniqueTopic } from '../helpers/kafka.ts'
import { waitFor } from '../helpers/wait.ts'

const admin = new Admin({ brokers: brokers() })

async function topicWith(prefix: string, partitions: number): Promise<string> {
  const topic = uniqueTopic(prefix)
  await admin.createTopics([{ topic, partitions, replicationFactor: 1 }])
  return topic
}

/** The values of every record of a topic kcat reads with an isolation level. */
function valuesOf(topic: string, isolation: 'read_committed' | 'read_uncommitted' = 'read_committed'): string[] {
  const out = kcat([
    '-b',
    brokers()[0],
    '-C',
    '-t',
    topic,
    '-e',
    '-q',
    '-X',
    `isolation.level=${isolation}`,
    '-f',
    '%s\\n',
  ])
  return out.split('\n').filter(Boolean)
}

/** Runs `consumer` until its group committed the end of `input`, then stops it and closes `producer`. */
async function runThrough(consumer: Consumer, handler: Handler, producer: Producer, input: string): Promise<void> {
  const run = consumer.run(handler)
  try {
    await waitFor('the committed offsets at the end of the input', () => committedAtEnd(admin, groupOf(input), input), {
      timeoutMs: 90_000,
    })
  } finally {
    await consumer.stop()
    await run
    await producer.close()
  }
}

const groupOf = (input: string) => `eos-${input}`

/** An exactly-once consumer of `input` from its beginning, in the group groupOf(input). */
const eosConsumer = (input: string, exactlyOnce: ExactlyOnceOptions, options: Partial<ConsumerOptions> = {}) =>
  new Consumer({
    brokers: brokers(),
    groupId: groupOf(input),
    topics: [input],
    fromBeginning: true,
    exactlyOnce,
    ...options,
  })

/** Counts of each value: a value seen twice shows up as 2. */
function counts(values: string[]): Map<string, number> {
  const m = new Map<string, number>()
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1)
  return m
}

const transactional = (id = uniqueTopic('eos-tx')) => new Producer({ brokers: brokers(), transactionalId: id })

describe('Consumer exactlyOnce', () => {
  after(() => admin.close())

  it('commits each input with its outputs: concurrency 4, a failed attempt leaves nothing, dead letters in the same transaction', async () => {
    const input = await topicWith('eos-in', 3)
    const output = await topicWith('eos-out', 2)
    const dlq = await topicWith('eos-dlq', 1)
    const count = 3000
    await writeInputs(brokers(), input, count, 3)
    const producer = transactional()
    const consumer = eosConsumer(
      input,
      { producer, maxMessages: 200, intervalMs: 50 },
      { concurrency: 4, retry: { maxRetries: 1, initialDelayMs: 1 }, dlq: { topic: dlq } },
    )
    const poisoned = (i: number) => i % 500 === 7
    const flaky = (i: number) => i % 100 === 3
    const handler = async (m: Message, ctx: HandlerContext) => {
      const i = Number(m.value)
      if (poisoned(i)) {
        ctx.send({ topic: output, value: `partial-${i}` })
        throw new Error(`poison ${i}`)
      }
      if (flaky(i) && ctx.attempt === 1) {
        ctx.send({ topic: output, value: `first-attempt-${i}` })
        throw new Error(`flaky ${i}`)
      }
      ctx.send([
        { topic: output, key: m.key, value: `out-${i}` },
        { topic: output, key: m.key, value: `copy-${i}` },
      ])
    }
    await runThrough(consumer, handler, producer, input)
    const outputs = counts(valuesOf(output))
    for (let i = 0; i < count; i++) {
      const expected = poisoned(i) ? 0 : 1
      assert.equal(outputs.get(`out-${i}`) ?? 0, expected, `out-${i}`)
      assert.equal(outputs.get(`copy-${i}`) ?? 0, expected, `copy-${i}`)
    }
    assert.equal(outputs.size, 2 * (count - 6), 'nothing but out- and copy- records: no partial, no first attempt')
    assert.deepEqual(
      kcat(['-b', brokers()[0], '-C', '-t', dlq, '-e', '-q', '-X', 'isolation.level=read_committed', '-f', '%s\\n'])
        .split('\n')
        .filter(Boolean)
        .sort(),
      ['7', '507', '1007', '1507', '2007', '2507'].sort(),
      'one dead letter per poisoned input, committed with the transactions',
    )
    assert.ok(consumer.stats().commits > 3, `transactions of at most 200 messages: ${consumer.stats().commits} commits`)

    // the Java client's read_committed consumer reads the same outputs
    const java = cli.consume(output, 2 * (count - 6), { isolation: 'read_committed' }).map((l) => l.split(':')[1])
    assert.deepEqual(counts(java), outputs)
  })

  it('aborts a transaction whose output failed, and handles its inputs again: one output per input', async () => {
    const input = await topicWith('eos-abort-in', 2)
    const output = await topicWith('eos-abort-out', 1)
    const count = 400
    await writeInputs(brokers(), input, count, 2)
    const producer = transactional()
    const errors: Error[] = []
    const consumer = eosConsumer(input, { producer, maxMessages: 50 }, { onError: (e) => errors.push(e) })
    let runsOf42 = 0
    let runs = 0
    const handler = (m: Message, ctx: HandlerContext) => {
      const i = Number(m.value)
      runs++
      if (i === 42) runsOf42++
      // the first time, a partition the output topic does not have: the broker refuses the record
      ctx.send({ topic: output, partition: i === 42 && runsOf42 === 1 ? 7 : 0, value: `out-${i}` })
    }
    await runThrough(consumer, handler, producer, input)
    assert.equal(runsOf42, 2, 'the aborted transaction handled 42 again')
    assert.ok(
      errors.some((e) => e instanceof TransactionError && e.abortable && /transaction cannot commit/.test(e.message)),
      `the abort reported: ${errors.map((e) => e.message).join('; ')}`,
    )
    const outputs = counts(valuesOf(output))
    assert.equal(outputs.size, count)
    for (let i = 0; i < count; i++) assert.equal(outputs.get(`out-${i}`), 1, `out-${i}`)
    assert.ok(runs > count + 1, `the other inputs of the aborted transaction were handled again too (${runs} runs)`)
  })

  it('commits a revoked partition before the revocation completes: two members, one output per input', async () => {
    const input = await topicWith('eos-rebalance-in', 4)
    const output = await topicWith('eos-rebalance-out', 2)
    const count = 2000
    await writeInputs(brokers(), input, count, 4)
    const groupId = groupOf(input)
    const handled = new Map<string, number>()
    const member = (producer: Producer): Consumer =>
      eosConsumer(input, { producer, maxMessages: 100, intervalMs: 200 }, { concurrency: 2, heartbeatIntervalMs: 300 })
    const handler = async (m: Message, ctx: HandlerContext) => {
      handled.set(String(m.value), (handled.get(String(m.value)) ?? 0) + 1)
      await new Promise((r) => setTimeout(r, 3))
      ctx.send({ topic: output, value: `out-${m.value}` })
    }
    const p1 = transactional()
    const p2 = transactional()
    const first = member(p1)
    const second = member(p2)
    let revoked = 0
    first.on('revoked', () => revoked++)
    const runs = [first.run(handler)]
    try {
      await waitFor('the first member to handle some messages', () => handled.size > 200, { timeoutMs: 30_000 })
      runs.push(second.run(handler))
      await waitFor('the committed offsets at the end of the input', () => committedAtEnd(admin, groupId, input), {
        timeoutMs: 90_000,
      })
    } finally {
      await Promise.all([first.stop(), second.stop()])
      await Promise.all(runs)
      await Promise.all([p1.close(), p2.close()])
    }
    assert.ok(revoked > 0, 'the first member gave partitions up')
    assert.ok(second.stats().messages > 0, 'the second member handled messages too')
    const outputs = counts(valuesOf(output))
    assert.equal(outputs.size, count)
    for (let i = 0; i < count; i++) assert.equal(outputs.get(`out-${i}`), 1, `out-${i}`)
  })

  it('stops when a newer producer with its transactional id fences it: nothing of the open transaction visible', async () => {
    const input = await topicWith('eos-fenced-in', 1)
    const output = await topicWith('eos-fenced-out', 1)
    await writeInputs(brokers(), input, 50, 1)
    const transactionalId = uniqueTopic('eos-fenced-tx')
    const producer = transactional(transactionalId)
    const errors: Error[] = []
    let release: () => void = () => {}
    const held = new Promise<void>((r) => {
      release = r
    })
    const consumer = eosConsumer(
      input,
      { producer, maxMessages: 10_000, intervalMs: 60_000 },
      { onError: (e) => errors.push(e) },
    )
    let handled = 0
    const run = consumer.run(async (m, ctx) => {
      ctx.send({ topic: output, value: `out-${m.value}` })
      if (++handled === 50) await held
    })
    const newer = transactional(transactionalId)
    try {
      await waitFor('the consumer to handle every message', () => handled === 50, { timeoutMs: 30_000 })
      // the records of the open transaction are written before the newer instance takes over
      await producer.flush()
      await newer.initTransactions()
      release()
      await consumer.commit().then(
        () => assert.fail('the fenced transaction committed'),
        (e) => assert.ok(e instanceof TransactionError && e.fatal, `${e}`),
      )
      await run
      assert.ok(errors.some((e) => e instanceof TransactionError && e.type === 'PRODUCER_FENCED'))
    } finally {
      release()
      await consumer.stop()
      await producer.close()
      await newer.close()
    }
    assert.deepEqual(valuesOf(output), [])
    // the 50th message's record would have joined once its run ended: the producer was fenced by then
    assert.equal(valuesOf(output, 'read_uncommitted').length, 49, 'written, and aborted by the fencing')
  })

  it("refuses a zombie static member's transaction (KIP-447): a newer consumer with its groupInstanceId took over, one output per input", async () => {
    const input = await topicWith('eos-static-in', 1)
    const output = await topicWith('eos-static-out', 1)
    await writeInputs(brokers(), input, 50, 1)
    const groupInstanceId = uniqueTopic('eos-worker')
    // the zombie heartbeats rarely: it commits before it hears that it was replaced
    const zombieProducer = transactional()
    const zombieErrors: Error[] = []
    const zombie = eosConsumer(
      input,
      { producer: zombieProducer, maxMessages: 10_000, intervalMs: 60_000 },
      { groupInstanceId, heartbeatIntervalMs: 8000, sessionTimeoutMs: 30_000, onError: (e) => zombieErrors.push(e) },
    )
    let zombieHandled = 0
    const zombieRun = zombie.run(async (m, ctx) => {
      ctx.send({ topic: output, value: `zombie-${m.value}` })
      zombieHandled++
    })
    const newerProducer = transactional()
    const newer = eosConsumer(input, { producer: newerProducer, maxMessages: 10, intervalMs: 100 }, { groupInstanceId })
    let newerRun: Promise<void> | undefined
    try {
      await waitFor('the zombie to handle every input', () => zombieHandled >= 50, { timeoutMs: 30_000 })
      newerRun = newer.run(async (m, ctx) => {
        ctx.send({ topic: output, value: `out-${m.value}` })
      })
      await waitFor(
        'the newer consumer to commit the end of the input',
        () => committedAtEnd(admin, groupOf(input), input),
        {
          timeoutMs: 60_000,
        },
      )
      // the zombie's member id is no longer the instance's: the coordinator refuses its offsets
      await zombie.commit().then(
        () => assert.fail("the zombie's transaction committed"),
        (e) => assert.ok(e instanceof TransactionError && e.abortable && e.type === 'FENCED_INSTANCE_ID', `${e}`),
      )
      await waitFor(
        'the zombie to hear at its heartbeat that it was replaced',
        () => zombieErrors.some((e) => e instanceof KafkaError && e.type === 'FENCED_INSTANCE_ID'),
        { timeoutMs: 20_000, state: () => zombieErrors.map(String) },
      )
      assert.deepEqual(zombie.assignment(), [])
    } finally {
      await Promise.all([zombie.stop(), newer.stop()])
      await Promise.all([zombieRun, newerRun])
      await Promise.all([zombieProducer.close(), newerProducer.close()])
    }
    const outputs = valuesOf(output)
    assert.deepEqual(
      outputs.filter((v) => v.startsWith('zombie-')),
      [],
      'nothing of the zombie visible',
    )
    assert.deepEqual(
      outputs,
      Array.from({ length: 50 }, (_, i) => `out-${i}`),
    )
    assert.ok(
      valuesOf(output, 'read_uncommitted').some((v) => v.startsWith('zombie-')),
      'written, then aborted',
    )
  })

  it('waits out the offsets a producer that died mid-transaction left pending, then starts from the stable ones', async () => {
    const input = await topicWith('eos-unstable-in', 1)
    const output = await topicWith('eos-unstable-out', 1)
    await writeInputs(brokers(), input, 20, 1)
    const groupId = groupOf(input)
    // another instance (its own transactional id) sent offsets in a transaction and died: they stay
    // pending until the coordinator aborts the transaction at its timeout
    const dead = new Producer({
      brokers: brokers(),
      transactionalId: uniqueTopic('eos-dead'),
      transactionTimeoutMs: 4000,
    })
    await dead.beginTransaction()
    await dead.sendOffsetsToTransaction([{ topic: input, partition: 0, offset: 15n }], { groupId })
    const diedAt = Date.now()
    const producer = transactional()
    const consumer = eosConsumer(input, { producer })
    const seen: string[] = []
    let firstAt = 0
    const run = consumer.run((m, ctx) => {
      firstAt ||= Date.now()
      seen.push(String(m.value))
      ctx.send({ topic: output, value: `out-${m.value}` })
    })
    try {
      await waitFor('every input handled', () => seen.length === 20, { timeoutMs: 30_000 })
    } finally {
      await consumer.stop()
      await run
      await producer.close()
      await dead.close()
    }
    assert.ok(firstAt - diedAt >= 3000, `the consumer waited for the pending offsets (${firstAt - diedAt} ms)`)
    assert.deepEqual(
      seen,
      Array.from({ length: 20 }, (_, i) => String(i)),
      'from offset 0: the pending 15 was aborted',
    )
    assert.equal(valuesOf(output).length, 20)
  })

  it("reads the Java client's transactions read_committed: only committed inputs get outputs", async () => {
    const input = await topicWith('eos-java-in', 1)
    const output = await topicWith('eos-java-out', 1)
    const java = spawnSync(
      'java',
      ['-cp', `${release().libs}/*`, join(ROOT, 'scripts/java/AbortedTransaction.java'), brokers()[0], input],
      { encoding: 'utf8', timeout: 120_000 },
    )
    assert.equal(java.status, 0, java.stderr)
    const producer = transactional()
    const consumer = eosConsumer(input, { producer })
    const seen: string[] = []
    const run = consumer.run((m, ctx) => {
      seen.push(String(m.value))
      ctx.send({ topic: output, value: `out-${m.value}` })
    })
    try {
      await waitFor('the last committed input', () => seen.includes('committed-9'), { timeoutMs: 30_000 })
    } finally {
      await consumer.stop()
      await run
      await producer.close()
    }
    const expected = Array.from({ length: 10 }, (_, i) => `committed-${i}`)
    assert.deepEqual(seen, expected, 'nothing aborted handled')
    assert.deepEqual(
      cli.consume(output, 10, { isolation: 'read_committed' }).map((l) => l.split(':')[1]),
      expected.map((v) => `out-${v}`),
    )
  })
})
