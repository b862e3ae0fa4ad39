// The kafkax Consumer against the real broker: groups, order under concurrency, commits that never
// pass an unhandled message, retry and dead-letter options, batch and iterator forms, assign mode
// with seek and pause, rebalances between members, and a slow handler that keeps its membership.

import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Admin } from '../../src/admin/admin.ts'
import { Consumer } from '../../src/consumer/consumer.ts'
import { ConsumerManager } from '../../src/consumer/manager.ts'
import type { Message, Middleware } from '../../src/consumer/message.ts'
import type { GroupJoin } from '../../src/group/membership.ts'
import { Producer } from '../../src/producer/producer.ts'
import { committedOffsets, groupConsumer as consumer, topicWith as createTopic } from '../helpers/consumers.ts'
import { brokers, kcat } from '../helpers/kafka.ts'
import { holdsFor, waitFor } from '../helpers/wait.ts'

const admin = new Admin({ brokers: brokers() })
const topicWith = (partitions: number, count: number, prefix?: string) => createTopic(admin, partitions, count, prefix)
const committed = (groupId: string) => committedOffsets(admin, groupId)

/** Runs a consumer until `done()` holds, then stops it; fails naming `what` after `ms`. */
async function consumeUntil(
  c: Consumer,
  handler: (m: Message) => unknown,
  what: string,
  done: () => boolean | Promise<boolean>,
  ms = 60_000,
) {
  // the handler as given: synchronous ones take the consumer's promise-free path
  const run = c.run(handler)
  const ended = run.then(() => assert.fail(`the consumer stopped before ${what}`))
  try {
    await Promise.race([waitFor(what, done, { timeoutMs: ms, intervalMs: 50 }), ended])
  } finally {
    await c.stop()
    await run
  }
}

/** Every assigned partition of `c` fetched, with its position at the high watermark: nothing left to read. */
async function caughtUp(c: Consumer, partitions: number): Promise<boolean> {
  const lag = await c.lag()
  return lag.length === partitions && lag.every((p) => p.highWatermark !== undefined && p.position === p.highWatermark)
}

describe('Consumer', () => {
  after(() => admin.close())

  it('reads every message in order per partition with 8 handlers at once, and commits where it stopped', async () => {
    const topic = await topicWith(4, 4000)
    const c = consumer(topic, { concurrency: 8 })
    const seen: Message[] = []
    await consumeUntil(
      c,
      async (m) => {
        await new Promise((r) => setTimeout(r, Number(m.value) % 3))
        seen.push(m)
      },
      'all 4000 messages',
      () => seen.length >= 4000,
    )
    assert.equal(seen.length, 4000)
    assert.equal(new Set(seen.map((m) => m.value!.toString())).size, 4000)
    for (let p = 0; p < 4; p++) {
      const offsets = seen.filter((m) => m.partition === p).map((m) => m.offset)
      assert.deepEqual(
        offsets,
        [...offsets].sort((a, b) => (a < b ? -1 : 1)),
        `partition ${p} out of order`,
      )
    }
    const stats = c.stats()
    assert.equal(stats.messages, 4000)
    const marks = await committed(`group-${topic}`)
    let total = 0n
    for (const offset of marks.values()) total += offset
    assert.equal(total, 4000n, 'the committed offsets cover every message')
    // a new member of the group starts after the committed offsets: nothing again
    const again = consumer(topic)
    let more = 0
    await consumeUntil(
      again,
      () => more++,
      'the new member positioned at the committed offsets, at the end of every partition',
      () => caughtUp(again, 4),
    )
    assert.equal(more, 0)
  })

  it('orderBy key keeps each key in order while keys of one partition run in parallel', async () => {
    const topic = await topicWith(1, 1300)
    const c = consumer(topic, { concurrency: 6, orderBy: 'key' })
    const perKey = new Map<string, number[]>()
    let running = 0
    let maxRunning = 0
    let count = 0
    await consumeUntil(
      c,
      async (m) => {
        running++
        maxRunning = Math.max(maxRunning, running)
        await new Promise((r) => setTimeout(r, 2))
        running--
        const key = m.key!.toString()
        perKey.set(key, [...(perKey.get(key) ?? []), Number(m.value)])
        count++
      },
      'all 1300 messages',
      () => count >= 1300,
    )
    assert.equal(count, 1300)
    for (const [key, values] of perKey)
      assert.deepEqual(
        values,
        [...values].sort((a, b) => a - b),
        key,
      )
    assert.ok(maxRunning > 1, 'keys of one partition ran concurrently')
  })

  it('never commits past a message that failed; handles it again after a backoff', async () => {
    const topic = await topicWith(1, 50)
    const errors: Error[] = []
    const c = consumer(topic, { onError: (e) => errors.push(e) })
    let failures = 0
    const handled: number[] = []
    await consumeUntil(
      c,
      (m) => {
        const n = Number(m.value)
        if (n === 20 && failures < 2) {
          failures++
          throw new Error('poison for now')
        }
        handled.push(n)
      },
      'all 50 messages, the poison one among them once it passes',
      () => handled.length >= 50,
      30_000,
    )
    assert.equal(failures, 2)
    assert.ok(
      errors.some((e) => /offset 20/.test(e.message)),
      'the failure was reported with its offset',
    )
    // everything before 20 may repeat (at-least-once) but 20 and after were handled in order once it passed
    assert.deepEqual(
      [...new Set(handled)].sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i),
    )
    assert.equal((await committed(`group-${topic}`)).get(0), 50n)

    // a message that always fails: the committed offset stays on it
    const stuck = await topicWith(1, 30)
    const d = consumer(stuck, { onError: () => {} })
    let seen = 0
    await consumeUntil(
      d,
      (m) => {
        seen++
        if (Number(m.value) === 10) throw new Error('always')
      },
      'the failing message at offset 10 tried',
      () => seen >= 11,
      20_000,
    )
    assert.equal((await committed(`group-${stuck}`)).get(0), 10n)
  })

  it('retry then dead-letter: poison messages land in the DLQ topic and the partition moves on', async () => {
    const topic = await topicWith(1, 20)
    const dlqTopic = await topicWith(1, 0, 'dlq')
    const c = consumer(topic, {
      retry: { maxRetries: 2, initialDelayMs: 10, maxDelayMs: 20 },
      dlq: { topic: dlqTopic },
    })
    const attempts = new Map<number, number>()
    let ok = 0
    await consumeUntil(
      c,
      (m) => {
        const n = Number(m.value)
        attempts.set(n, (attempts.get(n) ?? 0) + 1)
        if (n % 7 === 3) throw new Error(`bad order ${n}`)
        ok++
      },
      'the 17 messages that do not fail',
      () => ok >= 17,
    )
    assert.equal(attempts.get(3), 3, 'first try and two retries')
    assert.equal((await committed(`group-${topic}`)).get(0), 20n)
    // kcat -J: one JSON object per record (headers as a flat [key, value, ...] list)
    const dead = kcat(['-b', brokers()[0], '-C', '-t', dlqTopic, '-e', '-q', '-J'])
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { payload: string; headers: string[] })
    assert.deepEqual(
      dead.map((r) => r.payload),
      ['3', '10', '17'],
    )
    const headers = new Map<string, string>()
    for (let i = 0; i < dead[0].headers.length; i += 2) headers.set(dead[0].headers[i], dead[0].headers[i + 1])
    assert.equal(headers.get('kafkax-dlq-topic'), topic)
    assert.equal(headers.get('kafkax-dlq-offset'), '3')
    assert.equal(headers.get('kafkax-dlq-attempts'), '3')
    assert.match(headers.get('kafkax-dlq-error-message') ?? '', /bad order 3/)
  })

  it('batch mode hands arrays of one partition; the iterator form counts a message handled on the next pull', async () => {
    const topic = await topicWith(2, 500)
    const c = consumer(topic, { batch: { size: 64, timeoutMs: 50 } })
    const sizes: number[] = []
    let total = 0
    const run = c.run(async (batch: Message[]) => {
      assert.ok(batch.every((m) => m.partition === batch[0].partition))
      sizes.push(batch.length)
      total += batch.length
    })
    await waitFor('500 messages in batches', () => total >= 500, { state: () => sizes })
    await c.stop()
    await run
    assert.equal(total, 500)
    assert.ok(Math.max(...sizes) <= 64 && Math.max(...sizes) > 1)

    const iterating = consumer(topic, { groupId: `iterator-${topic}` })
    const values: string[] = []
    for await (const m of iterating) {
      values.push(m.value!.toString())
      if (values.length === 100) break
    }
    assert.equal(values.length, 100)
    const marks = await committed(`iterator-${topic}`)
    let sum = 0n
    for (const v of marks.values()) sum += v
    assert.ok(sum >= 99n && sum <= 100n, `committed ${sum} after handling 100 (the last is handled when the loop ends)`)
  })

  it('assign mode without a group: start offsets, seek, pause and resume', async () => {
    const topic = await topicWith(2, 200)
    const c = new Consumer({
      brokers: brokers(),
      assign: [
        { topic, partition: 0, offset: 5n },
        { topic, partition: 1 },
      ],
      fromBeginning: true,
    })
    const got: Message[] = []
    const run = c.run((m) => {
      got.push(m)
    })
    await waitFor('150 messages', () => got.length >= 150, { state: () => got.length })
    const p0 = got.filter((m) => m.partition === 0)
    assert.equal(p0[0].offset, 5n)
    c.pause([{ topic, partition: 0 }])
    await c.seek({ topic, partition: 0 }, 0n)
    const before = got.length
    // what is fetched comes within a fetch's wait (maxWaitMs, 500 ms): two of them
    await holdsFor(
      'a paused partition delivers nothing',
      () => got.slice(before).every((m) => m.partition !== 0),
      2 * 500,
    )
    c.resume([{ topic, partition: 0 }])
    await waitFor('partition 0 again from offset 0, resumed after the seek', () =>
      got.slice(before).some((m) => m.partition === 0 && m.offset === 0n),
    )
    const lag = await c.lag()
    assert.equal(lag.length, 2)
    await c.stop()
    await run
  })

  it('a second member takes over partitions in a rebalance; nothing is lost', async () => {
    const topic = await topicWith(4, 0)
    const producer = new Producer({ brokers: brokers() })
    const handled = new Set<string>()
    const a = consumer(topic, { assignors: ['cooperative-sticky'] })
    const b = consumer(topic, { assignors: ['cooperative-sticky'] })
    const runA = a.run((m) => void handled.add(m.value!.toString()))
    for (let i = 0; i < 500; i++) await producer.send({ topic, key: String(i), value: String(i) })
    const runB = b.run((m) => void handled.add(m.value!.toString()))
    for (let i = 500; i < 1000; i++) await producer.send({ topic, key: String(i), value: String(i) })
    await waitFor(
      'all 1000 messages, and partitions for the second member',
      () => handled.size >= 1000 && b.assignment().length > 0,
      { timeoutMs: 60_000, state: () => ({ handled: handled.size, b: b.assignment().length }) },
    )
    assert.equal(handled.size, 1000)
    assert.equal(a.assignment().length + b.assignment().length, 4)
    assert.ok(b.assignment().length > 0, 'the second member got partitions')
    await Promise.all([a.stop(), b.stop()])
    await Promise.all([runA, runB])
    await producer.close()
  })

  it('a handler slower than the session timeout keeps its membership (heartbeats run on their own)', async () => {
    const topic = await topicWith(1, 3)
    const c = consumer(topic, { sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000 })
    let assignedEvents = 0
    c.on('assigned', () => assignedEvents++)
    let count = 0
    await consumeUntil(
      c,
      async () => {
        count++
        if (count === 1) await new Promise((r) => setTimeout(r, 15_000))
      },
      'three messages, the first after a handler slower than the session timeout',
      () => count >= 3,
      40_000,
    )
    assert.equal(count, 3)
    assert.equal(assignedEvents, 1, 'no rebalance happened while the handler was slow')
  })

  it('ConsumerManager routes topics to handlers with their own middleware, and stops them together', async () => {
    const orders = await topicWith(2, 30, 'orders')
    const payments = await topicWith(1, 20, 'payments')
    const seen: string[] = []
    const tag =
      (label: string): Middleware =>
      (next) =>
      (m, c) => {
        seen.push(`${label}:${m.topic}`)
        return next(m, c)
      }
    const got = { orders: 0, payments: 0 }
    const manager = new ConsumerManager({ brokers: brokers(), groupId: `manager-${orders}`, fromBeginning: true })
      .use(tag('shared'))
      .route(orders, () => void got.orders++, tag('orders'))
      .route({ topics: [payments], handler: () => void got.payments++, options: { concurrency: 2 } })
    await manager.start()
    await waitFor('every message of both routes', () => got.orders >= 30 && got.payments >= 20, { state: () => got })
    await manager.stop()
    assert.deepEqual(got, { orders: 30, payments: 20 })
    assert.equal(seen.filter((s) => s === `orders:${orders}`).length, 30, 'route middleware on its own topic only')
    assert.ok(!seen.includes(`orders:${payments}`))
    assert.equal(seen.filter((s) => s.startsWith('shared:')).length, 50)
    assert.equal(manager.members.length, 2)
    assert.throws(
      () => new ConsumerManager({ brokers: brokers(), groupId: 'g' }).route(orders, () => {}).route(orders, () => {}),
      /routed twice/,
    )
    // a route's consumer options are checked when it is added, not when start() connects
    assert.throws(
      () => new ConsumerManager({ brokers: brokers() }).route(orders, () => {}),
      /without groupId, a consumer needs assign/,
    )
  })

  it("commit mode 'off' commits only commit(offsets); batch timeoutMs 0 hands what was fetched; 'joined' and highWatermark", async () => {
    const topic = await topicWith(2, 40)
    const groupId = `off-${topic}`
    const c = consumer(topic, { groupId, commit: { mode: 'off' }, batch: { size: 1000, timeoutMs: 0 } })
    const joins: GroupJoin[] = []
    c.on('joined', (j: GroupJoin) => joins.push(j))
    let handled = 0
    let active = 0
    let most = 0
    const run = c.run(async (messages: Message[]) => {
      most = Math.max(most, ++active)
      await new Promise((resolve) => setTimeout(resolve, 20))
      active--
      handled += messages.length
    })
    await waitFor('40 messages handled', () => handled === 40, { state: () => handled })
    // what was fetched goes without waiting for 1000, one batch at a time (concurrency 1)
    assert.equal(most, 1)
    const [end] = await admin.listOffsets({ topic, partitions: [0], at: 'latest' })
    assert.equal(c.highWatermark({ topic, partition: 0 }), end.offset)
    await c.commit([{ topic, partition: 1, offset: 7n, metadata: 'mine' }])
    await c.stop()
    await run
    assert.deepEqual([...(await committed(groupId))], [[1, 7n]])
    assert.equal(joins.length, 1)
    assert.deepEqual(
      [joins[0].leaderId === joins[0].memberId, joins[0].protocol, joins[0].assignment.length],
      [true, 'range', 2],
    )
  })
})
