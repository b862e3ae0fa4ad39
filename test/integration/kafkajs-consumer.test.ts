// kafkax/kafkajs's consumer against the real broker, with kafkajs's semantics: eachMessage in order
// per partition with kafkajs's value types, eachBatch with resolveOffset (what is not resolved comes
// again), seek and isStale, pause and resume (also from within a handler), autoCommit off with
// commitOffsets, RegExp subscriptions, a topic subscribed fromBeginning beside one that is not,
// partitionsConsumedConcurrently, and failures: retried until they pass, or a crash, restarted or not.

import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import {
  type EachMessagePayload,
  type InstrumentationEvent,
  Kafka,
  type KafkaMessage,
  logLevel,
  Partitioners,
} from '../../src/kafkajs/index.ts'
import { brokers, uniqueTopic } from '../helpers/kafka.ts'
import { waitFor, within } from '../helpers/wait.ts'

const kafka = new Kafka({ clientId: 'kafkajs-consumer-test', brokers: brokers(), logLevel: logLevel.NOTHING })
const admin = kafka.admin()
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
const running: { disconnect(): Promise<void> }[] = []

after(async () => {
  await Promise.allSettled(running.map((c) => c.disconnect()))
  await producer.disconnect()
  await admin.disconnect()
})

/** A topic of `partitions` partitions with `perPartition` messages in each: value `p:i`, key `k-i`. */
async function topicWith(partitions: number, perPartition: number, prefix = 'kjs'): Promise<string> {
  const topic = uniqueTopic(prefix)
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] })
  if (perPartition > 0) await send(topic, partitions, perPartition)
  return topic
}

async function send(topic: string, partitions: number, perPartition: number, from = 0): Promise<void> {
  await producer.connect()
  const messages = []
  for (let p = 0; p < partitions; p++)
    for (let i = from; i < from + perPartition; i++) messages.push({ partition: p, key: `k-${i}`, value: `${p}:${i}` })
  await producer.send({ topic, messages })
}

function consumer(groupId: string, config: Record<string, unknown> = {}) {
  const c = kafka.consumer({ groupId, maxWaitTimeInMs: 100, heartbeatInterval: 500, ...config })
  running.push(c)
  return c
}

/** The group's committed offset per partition ('-1': none). */
async function committed(groupId: string, topic: string): Promise<string[]> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] })
  return offsets.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset)
}

describe('kafkax/kafkajs consumer: eachMessage', () => {
  it("every message once, in order per partition, with kafkajs's value types; run() resolves once joined; committed after each batch", async () => {
    const topic = await topicWith(3, 20)
    await producer.send({
      topic,
      messages: [{ partition: 1, key: null, value: 'with headers', headers: { a: '1', b: ['x', 'y'] } }],
    })
    const groupId = `g-${topic}`
    const c = consumer(groupId)
    const events: InstrumentationEvent<any>[] = []
    for (const name of ['GROUP_JOIN', 'COMMIT_OFFSETS', 'START_BATCH_PROCESS', 'END_BATCH_PROCESS', 'CONNECT'] as const)
      c.on(c.events[name] as typeof c.events.GROUP_JOIN, (e) => events.push(e))
    const seen: { partition: number; message: KafkaMessage }[] = []
    await c.connect()
    await c.subscribe({ topic, fromBeginning: true })
    await within(
      'run() resolving',
      c.run({
        eachMessage: async ({ partition, message }: EachMessagePayload) => void seen.push({ partition, message }),
      }),
    )
    const description = await c.describeGroup()
    assert.equal(description.state, 'Stable')
    assert.equal(description.protocol, 'RoundRobinAssigner')
    assert.equal(description.members.length, 1)
    await waitFor('61 messages handled', () => seen.length >= 61, { state: () => seen.length })
    for (let p = 0; p < 3; p++) {
      const offsets = seen.filter((s) => s.partition === p).map((s) => s.message.offset)
      assert.deepEqual(
        offsets,
        Array.from({ length: p === 1 ? 21 : 20 }, (_, i) => String(i)),
      )
    }
    const m = seen.find((s) => s.partition === 2 && s.message.offset === '7')!.message
    assert.deepEqual([m.key?.toString(), m.value?.toString()], ['k-7', '2:7'])
    assert.match(m.timestamp, /^\d{13}$/)
    assert.deepEqual(m.headers, {})
    const withHeaders = seen.find((s) => s.message.value?.toString() === 'with headers')!.message
    assert.equal(withHeaders.key, null)
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(withHeaders.headers).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : String(v)]),
      ),
      { a: '1', b: ['x', 'y'] },
    )
    await waitFor('every offset committed', async () => (await committed(groupId, topic)).join() === '20,21,20')
    await c.disconnect()
    const join = events.find((e) => e.type === 'consumer.group_join')!
    assert.equal(join.payload.isLeader, true)
    assert.deepEqual(join.payload.memberAssignment, { [topic]: [0, 1, 2] })
    assert.ok(events.some((e) => e.type === 'consumer.commit_offsets' && e.payload.topics[0].topic === topic))
    const start = events.find((e) => e.type === 'consumer.start_batch_process')!
    assert.equal(start.payload.topic, topic)
    assert.equal(start.payload.firstOffset, '0')
    assert.ok(events.some((e) => e.type === 'consumer.end_batch_process' && e.payload.duration >= 0))
    assert.ok(events.some((e) => e.type === 'consumer.connect'))
  })

  it('partitionsConsumedConcurrently: up to N partitions at once, never two handlers on one partition', async () => {
    const topic = await topicWith(4, 15)
    const c = consumer(`g-${topic}`)
    let active = 0
    let most = 0
    const busy = new Set<number>()
    let twice = false
    let handled = 0
    await c.subscribe({ topic, fromBeginning: true })
    await c.run({
      partitionsConsumedConcurrently: 3,
      eachMessage: async ({ partition }) => {
        if (busy.has(partition)) twice = true
        busy.add(partition)
        most = Math.max(most, ++active)
        await new Promise((resolve) => setTimeout(resolve, 5))
        active--
        busy.delete(partition)
        handled++
      },
    })
    await waitFor('60 messages handled', () => handled >= 60, { state: () => handled })
    await c.disconnect()
    assert.equal(twice, false)
    assert.ok(most > 1 && most <= 3, `at most ${most} at once`)
  })

  it('pause() from within eachMessage: the rest of the batch waits for resume, nothing is lost', async () => {
    const topic = await topicWith(1, 30)
    const c = consumer(`g-${topic}`)
    const offsets: string[] = []
    let resume: (() => void) | undefined
    await c.subscribe({ topic, fromBeginning: true })
    await c.run({
      eachMessage: async ({ message, pause }) => {
        offsets.push(message.offset)
        if (message.offset === '9' && !resume) resume = pause()
      },
    })
    await waitFor('the pause at offset 9', () => resume !== undefined)
    assert.deepEqual(c.paused(), [{ topic, partitions: [0] }])
    // what was fetched after offset 9 is held: a window to show that nothing comes while paused
    await new Promise((r) => setTimeout(r, 500))
    assert.equal(offsets.length, 10)
    resume!()
    assert.deepEqual(c.paused(), [])
    await waitFor('the rest after resume', () => offsets.length >= 30, { state: () => offsets.length })
    await c.disconnect()
    assert.deepEqual(
      offsets,
      Array.from({ length: 30 }, (_, i) => String(i)),
    )
  })

  it('consumer.pause() of a topic holds every partition, resume() releases them', async () => {
    const topic = await topicWith(2, 5)
    const c = consumer(`g-${topic}`)
    let handled = 0
    await c.subscribe({ topic, fromBeginning: true })
    await c.run({ eachMessage: async () => void handled++ })
    await waitFor('the first 10 messages', () => handled === 10, { state: () => handled })
    c.pause([{ topic }])
    assert.deepEqual(c.paused(), [{ topic, partitions: [0, 1] }])
    await send(topic, 2, 5, 5)
    await new Promise((r) => setTimeout(r, 500))
    assert.equal(handled, 10)
    c.resume([{ topic, partitions: [1] }])
    assert.deepEqual(c.paused(), [{ topic, partitions: [0] }])
    await waitFor('partition 1 after its resume', () => handled === 15, { state: () => handled })
    c.resume([{ topic }])
    await waitFor('partition 0 after its resume', () => handled === 20, { state: () => handled })
    await c.disconnect()
  })

  it('seek() right after run() (not awaited) moves the partition before its first batch; autoCommit commits it', async () => {
    const topic = await topicWith(1, 20)
    const groupId = `g-${topic}`
    const c = consumer(groupId)
    const offsets: string[] = []
    await c.subscribe({ topic, fromBeginning: true })
    const started = c.run({ eachMessage: async ({ message }) => void offsets.push(message.offset) })
    c.seek({ topic, partition: 0, offset: '12' })
    await started
    await waitFor('offsets 12 to 19', () => offsets.length >= 8, { state: () => offsets })
    await c.disconnect()
    assert.deepEqual(offsets, ['12', '13', '14', '15', '16', '17', '18', '19'])
    assert.deepEqual(await committed(groupId, topic), ['20'])
  })

  it('RegExp subscriptions take the topics that match when subscribe() is called', async () => {
    const prefix = uniqueTopic('kjs-re')
    const names = [`${prefix}-eu-1`, `${prefix}-us-1`, `${prefix}-asia-1`]
    await admin.createTopics({ topics: names.map((topic) => ({ topic, numPartitions: 1 })) })
    for (const topic of names) await send(topic, 1, 3)
    const c = consumer(`g-${prefix}`)
    const topics = new Set<string>()
    let handled = 0
    await c.subscribe({ topics: [new RegExp(`^${prefix}-(eu|us)-.*`)], fromBeginning: true })
    await c.run({
      eachMessage: async ({ topic }) => {
        topics.add(topic)
        handled++
      },
    })
    await waitFor('the 6 messages of the matching topics', () => handled >= 6, { state: () => handled })
    const description = await c.describeGroup()
    await c.disconnect()
    assert.deepEqual([...topics].sort(), names.slice(0, 2).sort())
    assert.equal(handled, 6)
    assert.equal(description.members.length, 1)
  })

  it('fromBeginning per topic: one topic from its first message, the other from what comes after joining', async () => {
    const early = await topicWith(1, 5, 'kjs-early')
    const late = await topicWith(1, 5, 'kjs-late')
    const c = consumer(`g-${early}`)
    const seen: string[] = []
    await c.subscribe({ topic: early, fromBeginning: true })
    await c.subscribe({ topic: late, fromBeginning: false })
    await c.run({
      eachMessage: async ({ topic, message }) =>
        void seen.push(`${topic === early ? 'early' : 'late'}:${message.value}`),
    })
    await waitFor('the early topic from its beginning', () => seen.length >= 5, { state: () => seen })
    // the late topic's position is its end as of the assignment: what is sent now comes
    await waitFor(
      'the late topic positioned',
      async () => {
        await send(late, 1, 1, 100)
        return seen.some((s) => s.startsWith('late:'))
      },
      { intervalMs: 500 },
    )
    await c.disconnect()
    assert.deepEqual(
      seen.filter((s) => s.startsWith('early:')),
      ['early:0:0', 'early:0:1', 'early:0:2', 'early:0:3', 'early:0:4'],
    )
    assert.ok(
      seen.filter((s) => s.startsWith('late:')).every((s) => s === 'late:0:100'),
      seen.join(),
    )
  })
})

describe('kafkax/kafkajs consumer: eachBatch', () => {
  it('eachBatchAutoResolve false: what the handler did not resolve is delivered again; uncommittedOffsets and commitOffsetsIfNecessary', async () => {
    const topic = await topicWith(2, 10)
    const groupId = `g-${topic}`
    const c = consumer(groupId)
    const deliveries: string[][] = []
    const handled = new Set<string>()
    const batches = [0, 0]
    let uncommitted: unknown
    const highWatermarks = new Set<string>()
    await c.subscribe({ topic, fromBeginning: true })
    await c.run({
      eachBatchAutoResolve: false,
      autoCommitThreshold: 1,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, uncommittedOffsets, isRunning, isStale }) => {
        deliveries.push(batch.messages.map((m) => `${batch.partition}:${m.offset}`))
        highWatermarks.add(`${batch.partition}:${batch.highWatermark}`)
        // the first delivery of each partition: only its first three messages are resolved
        const firstTime = batches[batch.partition]++ === 0
        for (const m of firstTime ? batch.messages.slice(0, 3) : batch.messages) {
          if (!isRunning() || isStale()) break
          handled.add(`${batch.partition}:${m.offset}`)
          resolveOffset(m.offset)
        }
        uncommitted ??= uncommittedOffsets()
        await commitOffsetsIfNecessary()
      },
    })
    await waitFor('20 messages handled', () => handled.size === 20, { state: () => deliveries })
    await waitFor('every offset committed', async () => (await committed(groupId, topic)).join() === '10,10')
    await c.disconnect()
    // each partition came twice: first whole, then from offset 3 on
    for (const p of [0, 1]) {
      const mine = deliveries.filter((d) => d[0].startsWith(`${p}:`))
      assert.equal(mine[0][0], `${p}:0`)
      assert.equal(mine[1][0], `${p}:3`)
    }
    assert.deepEqual(uncommitted, {
      topics: [{ topic, partitions: [{ partition: deliveries[0][0].startsWith('0:') ? 0 : 1, offset: '3' }] }],
    })
    assert.deepEqual([...highWatermarks].sort(), ['0:10', '1:10'])
  })

  it('seek() during a batch makes it stale; the next batch starts at the offset sought', async () => {
    const topic = await topicWith(1, 50)
    const c = consumer(`g-${topic}`)
    const firsts: string[] = []
    let stale = false
    await c.subscribe({ topic, fromBeginning: true })
    await c.run({
      eachBatch: async ({ batch, isStale }) => {
        firsts.push(batch.messages[0].offset)
        if (firsts.length === 1) {
          c.seek({ topic, partition: 0, offset: '40' })
          stale = isStale()
        }
      },
    })
    await waitFor('a batch after the seek', () => firsts.length >= 2, { state: () => firsts })
    await c.disconnect()
    assert.equal(stale, true)
    assert.deepEqual(firsts.slice(0, 2), ['0', '40'])
  })
})

describe('kafkax/kafkajs consumer: commits and failures', () => {
  it('autoCommit false: only commitOffsets() commits, and stopping commits nothing', async () => {
    const topic = await topicWith(2, 5)
    const groupId = `g-${topic}`
    const c = consumer(groupId)
    let handled = 0
    await c.subscribe({ topic, fromBeginning: true })
    await c.run({ autoCommit: false, eachMessage: async () => void handled++ })
    await waitFor('10 messages handled', () => handled === 10, { state: () => handled })
    assert.deepEqual(await committed(groupId, topic), ['-1', '-1'])
    await c.commitOffsets([{ topic, partition: 1, offset: '2', metadata: 'by hand' }])
    assert.deepEqual(await committed(groupId, topic), ['-1', '2'])
    await c.disconnect()
    assert.deepEqual(await committed(groupId, topic), ['-1', '2'])
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] })
    assert.equal(offsets.partitions.find((p) => p.partition === 1)!.metadata, 'by hand')
  })

  it('a failing message is retried (backoff) until it passes: nothing lost, nothing committed past it meanwhile', async () => {
    const topic = await topicWith(1, 10)
    const groupId = `g-${topic}`
    const c = consumer(groupId, { retry: { retries: 5, initialRetryTime: 50 } })
    const offsets: string[] = []
    const committedAtFailure: string[][] = []
    const crashes: unknown[] = []
    c.on(c.events.CRASH, (e) => crashes.push(e))
    await c.subscribe({ topic, fromBeginning: true })
    await c.run({
      eachMessage: async ({ message }) => {
        if (message.offset === '4' && committedAtFailure.length < 2) {
          committedAtFailure.push(await committed(groupId, topic))
          throw new Error('not yet')
        }
        offsets.push(message.offset)
      },
    })
    await waitFor('the 10 messages', () => offsets.length >= 10, { state: () => offsets })
    await c.disconnect()
    assert.deepEqual(offsets, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    // the first failure commits what was handled before it; the retry starts there
    assert.deepEqual(committedAtFailure, [['-1'], ['4']])
    assert.deepEqual(crashes, [])
    assert.deepEqual(await committed(groupId, topic), ['10'])
  })

  it('past the retries the consumer crashes and restarts; restartOnFailure can say no; a TypeError stops it at once', async () => {
    const topic = await topicWith(1, 5)
    const groupId = `g-${topic}`
    let restarts = 0
    const crashes: InstrumentationEvent<any>[] = []
    const joins: unknown[] = []
    const stops: unknown[] = []
    const c = consumer(groupId, {
      retry: { retries: 1, initialRetryTime: 50, restartOnFailure: async () => restarts++ === 0 },
    })
    c.on(c.events.CRASH, (e) => crashes.push(e))
    c.on(c.events.GROUP_JOIN, (e) => joins.push(e))
    c.on(c.events.STOP, (e) => stops.push(e))
    const offsets: string[] = []
    let failing = true
    await c.subscribe({ topic, fromBeginning: true })
    await c.run({
      eachMessage: async ({ message }) => {
        if (message.offset === '2' && failing) throw new Error('down')
        offsets.push(message.offset)
      },
    })
    await waitFor('a crash, then a restart that joins again', () => crashes.length === 1 && joins.length === 2, {
      state: () => [crashes.length, joins.length],
    })
    assert.deepEqual(
      [crashes[0].payload.restart, crashes[0].payload.error.name],
      [true, 'KafkaJSNumberOfRetriesExceeded'],
    )
    assert.deepEqual(offsets, ['0', '1'])
    // the failure goes on after the restart: restartOnFailure says no the second time
    await waitFor('a second crash that does not restart', () => crashes.length === 2, { state: () => crashes.length })
    assert.equal(crashes[1].payload.restart, false)
    assert.equal(stops.length, 2)
    assert.deepEqual(await committed(groupId, topic), ['2'])
    // run again: the failure is gone, a bug takes its place at the next message
    failing = false
    await c.run({
      eachMessage: async ({ message }) => {
        if (message.offset === '3') (message as unknown as { missing: { call(): void } }).missing.call()
        offsets.push(message.offset)
      },
    })
    await waitFor('the crash of the TypeError', () => crashes.length === 3, { state: () => crashes.length })
    assert.deepEqual([crashes[2].payload.restart, crashes[2].payload.error.name], [false, 'KafkaJSNonRetriableError'])
    assert.deepEqual(offsets, ['0', '1', '2'])
    assert.deepEqual(await committed(groupId, topic), ['3'])
  })
})
