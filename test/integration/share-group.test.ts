// Share groups (KIP-932) against the real broker: the harness broker runs them as configured
// (share.version 1, a small __share_group_state), members join and get the coordinator's
// assignment, records are acquired and acknowledged over share sessions (accept, release with the
// delivery count going up, reject), a slow handler keeps its record by renewing the lock (KIP-1222)
// or, without renewals, is reported and its outcome dropped while the record goes to another
// member, and a broker without share groups gives a typed error. Many members, of both clients, and
// members that die: share-group-members.test.ts.

import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { release, runTool } from '../../scripts/kafka/harness.ts'
import { Admin } from '../../src/admin/admin.ts'
import { timeout } from '../../src/consumer/middleware.ts'
import { Producer } from '../../src/producer/producer.ts'
import { ErrorCode } from '../../src/protocol/error-codes.ts'
import { ConfigError, KafkaError, TimeoutError } from '../../src/protocol/errors.ts'
import { ShareConsumer, type ShareConsumerOptions } from '../../src/share/consumer.ts'
import type { ShareMessage, ShareMiddleware } from '../../src/share/message.ts'
import { brokers, uniqueTopic } from '../helpers/kafka.ts'
import { shareConsumer, shareGroup, start, topicWith } from '../helpers/share.ts'
import { sleep, waitFor, within } from '../helpers/wait.ts'

const admin = new Admin({ brokers: brokers() })
after(() => admin.close())

/** Kafka 3.9 has no share groups: there, only the typed error is tested. */
const sharesGroups = release().line !== '3.9'

if (sharesGroups) {
  describe('share groups on the harness broker', () => {
    it('has share.version finalized at 1, and a new share group is assigned its partitions within seconds', async () => {
      const features = await admin.describeFeatures()
      const share = features.finalized.find((f) => f.name === 'share.version')
      assert.equal(share?.maxVersionLevel, 1, JSON.stringify(features.finalized))
      const topic = await topicWith(admin, 2, 0)
      const consumer = shareConsumer(await shareGroup(admin), topic)
      const started = Date.now()
      const run = start(consumer, () => {})
      await waitFor('the first assignment', () => consumer.assignment().length === 2, { timeoutMs: 15_000 })
      assert.ok(Date.now() - started < 10_000, `assigned after ${Date.now() - started} ms`)
      await run.stop()
      assert.deepEqual(run.errors, [])
    })
  })

  describe('acquiring and acknowledging records', () => {
    it('accepts every record once: a second member of the group then gets only what was produced after', async () => {
      const topic = await topicWith(admin, 2, 3000)
      const groupId = await shareGroup(admin)
      const seen = new Map<string, number>()
      const first = shareConsumer(groupId, topic, { concurrency: 4 })
      const run = start(first, async (m) => {
        seen.set(m.value!.toString(), (seen.get(m.value!.toString()) ?? 0) + 1)
        await new Promise((r) => setImmediate(r))
      })
      await waitFor('3000 records handled', () => seen.size === 3000, { state: () => first.stats() })
      await run.stop()
      assert.deepEqual(
        [...seen.values()].filter((n) => n !== 1),
        [],
        'each record once',
      )
      const stats = first.stats()
      assert.equal(stats.accepted, 3000)
      assert.deepEqual([stats.released, stats.rejected, stats.locksLost, stats.acknowledgeErrors], [0, 0, 0, 0])
      assert.ok(stats.fetches >= 2, `${stats.fetches} ShareFetches`)
      assert.ok(
        stats.acknowledgeRequests < 100,
        `acknowledgements batched: ${stats.acknowledgeRequests} ShareAcknowledge requests for 3000 records`,
      )
      assert.deepEqual(run.errors, [])

      const producer = new Producer({ brokers: brokers() })
      await producer.send({ topic, value: 'late' })
      await producer.close()
      const later: string[] = []
      const second = shareConsumer(groupId, topic)
      const run2 = start(second, (m) => {
        later.push(m.value!.toString())
      })
      await waitFor('the record produced after', () => later.includes('late'))
      await run2.stop()
      assert.deepEqual(later, ['late'], 'accepted records are not delivered again')
    })

    it('delivers a released record again with its delivery count one higher, and never a rejected one', async () => {
      const topic = await topicWith(admin, 1, 3)
      const groupId = await shareGroup(admin)
      const deliveries: { value: string; count: number }[] = []
      const consumer = shareConsumer(groupId, topic, { acknowledgement: 'explicit' })
      const run = start(consumer, (m, ctx) => {
        const value = m.value!.toString()
        deliveries.push({ value, count: m.deliveryCount })
        assert.equal(ctx.attempt, m.deliveryCount)
        if (value === '0' && m.deliveryCount < 3) ctx.release()
        else if (value === '1') ctx.reject()
        else ctx.ack('accept')
      })
      await waitFor('record 0 delivered three times', () => deliveries.filter((d) => d.value === '0').length === 3)
      await waitFor('record 2 accepted', () => consumer.stats().accepted === 2)
      await run.stop()
      assert.deepEqual(
        deliveries.filter((d) => d.value === '0').map((d) => d.count),
        [1, 2, 3],
      )
      assert.deepEqual(
        deliveries.filter((d) => d.value !== '0'),
        [
          { value: '1', count: 1 },
          { value: '2', count: 1 },
        ],
      )
      const stats = consumer.stats()
      assert.deepEqual([stats.accepted, stats.released, stats.rejected], [2, 2, 1])
      assert.deepEqual(run.errors, [])
    })

    it('renews the lock of a record whose handler outlives it (KIP-1222): acknowledged once, never delivered elsewhere', async () => {
      const topic = await topicWith(admin, 1, 1)
      // renewals wait for a ShareFetch in flight (up to fetch.maxWaitMs, 500 ms) and for the lock
      // check (every tenth of the lock): a 3 s lock leaves them 1.2 s to be answered
      const groupId = await shareGroup(admin, { 'share.record.lock.duration.ms': '3000' })
      const seen: { member: string; count: number }[] = []
      const slow = shareConsumer(groupId, topic)
      const other = shareConsumer(groupId, topic)
      const handler = (name: string) => async (m: ShareMessage) => {
        seen.push({ member: name, count: m.deliveryCount })
        if (name === 'slow') await new Promise((r) => setTimeout(r, 7000))
      }
      const runSlow = start(slow, handler('slow'))
      await waitFor('the slow member holding the record', () => seen.length === 1)
      const runOther = start(other, handler('other'))
      await waitFor('the slow handler done and acknowledged', () => slow.stats().accepted === 1, { timeoutMs: 15_000 })
      await Promise.all([runSlow.stop(), runOther.stop()])
      assert.deepEqual(seen, [{ member: 'slow', count: 1 }], 'the other member never got it')
      const stats = slow.stats()
      assert.ok(stats.renewals >= 2, `${stats.renewals} renewals in 7 s of a 3 s lock`)
      assert.deepEqual([stats.locksLost, stats.acknowledgeErrors], [0, 0])
      assert.deepEqual([...runSlow.errors, ...runOther.errors], [])
    })

    it('without renewals, reports a handler outliving its lock and drops its outcome: the record is delivered again', async () => {
      const topic = await topicWith(admin, 1, 1)
      const groupId = await shareGroup(admin, { 'share.record.lock.duration.ms': '2000' })
      const seen: { member: string; count: number }[] = []
      let slowDone = false
      // whoever gets the first delivery outlives its lock; later deliveries are handled at once
      const handler = (member: string) => async (m: ShareMessage) => {
        seen.push({ member, count: m.deliveryCount })
        if (m.deliveryCount > 1) return
        await new Promise((r) => setTimeout(r, 4000))
        slowDone = true
      }
      const members = ['a', 'b'].map((name) => {
        const consumer = shareConsumer(groupId, topic, { renewLocks: false })
        return { name, consumer, run: start(consumer, handler(name)) }
      })
      await waitFor(
        'the record accepted after the lock ran out',
        () => members.some((m) => m.consumer.stats().accepted > 0),
        {
          timeoutMs: 15_000,
          state: () => seen,
        },
      )
      await waitFor('the slow handler finished', () => slowDone, { timeoutMs: 10_000 })
      await Promise.all(members.map((m) => m.run.stop()))
      assert.equal(seen[0].count, 1)
      assert.ok(seen.length >= 2 && seen.at(-1)!.count > 1, JSON.stringify(seen))
      const stats = members.map((m) => m.consumer.stats())
      assert.equal(
        stats.reduce((n, s) => n + s.accepted, 0),
        1,
        'the last delivery accepted, the slow outcome dropped',
      )
      assert.deepEqual(
        stats.map((s) => [s.renewals, s.acknowledgeErrors]),
        [
          [0, 0],
          [0, 0],
        ],
        'no renewal, and the late outcome was never sent',
      )
      const slow = members.find((m) => m.name === seen[0].member)!
      assert.ok(slow.consumer.stats().locksLost >= 1)
      assert.ok(
        slow.run.errors.some((e) => e instanceof TimeoutError && /acquisition lock/.test(e.message)),
        slow.run.errors.map(String).join('\n'),
      )
    })
  })

  describe('the handler model', () => {
    it('runs `concurrency` handlers at once on the records of one partition, in no particular order', async () => {
      const topic = await topicWith(admin, 1, 200)
      const consumer = shareConsumer(await shareGroup(admin), topic, { concurrency: 8 })
      let running = 0
      let most = 0
      const order: number[] = []
      const run = start(consumer, async (m) => {
        most = Math.max(most, ++running)
        await new Promise((r) => setTimeout(r, 5 + (Number(m.value) % 7) * 3))
        order.push(Number(m.value))
        running--
      })
      await waitFor('200 records handled', () => order.length === 200, { state: () => consumer.stats() })
      await run.stop()
      assert.equal(most, 8)
      assert.deepEqual(
        [...order].sort((a, b) => a - b),
        Array.from({ length: 200 }, (_, i) => i),
      )
      assert.notDeepEqual(
        order,
        [...order].sort((a, b) => a - b),
        'handlers finish out of offset order',
      )
      assert.equal(consumer.stats().accepted, 200)
    })

    it('the iterator form accepts what the loop took; what it never saw is released for the group', async () => {
      const topic = await topicWith(admin, 1, 50)
      const groupId = await shareGroup(admin)
      const taken: ShareMessage[] = []
      const consumer = shareConsumer(groupId, topic)
      for await (const m of consumer) {
        taken.push(m)
        if (taken.length === 10) break
      }
      assert.deepEqual(
        taken.map((m) => [Number(m.value), m.deliveryCount]),
        Array.from({ length: 10 }, (_, i) => [i, 1]),
      )
      assert.equal(consumer.stats().accepted, 10)
      const rest = new Map<number, number>()
      const next = shareConsumer(groupId, topic)
      const run = start(next, (m) => {
        rest.set(Number(m.value), m.deliveryCount)
      })
      await waitFor('the other 40 records', () => rest.size === 40, { state: () => [...rest.keys()] })
      await run.stop()
      assert.deepEqual(
        [...rest.keys()].sort((a, b) => a - b),
        Array.from({ length: 40 }, (_, i) => i + 10),
      )
      assert.ok(
        [...rest.values()].every((n) => n <= 2),
        'released once at most',
      )
    })

    it('explicit acknowledgement: a record left unacknowledged is released and reported, a second acknowledgement throws', async () => {
      const topic = await topicWith(admin, 1, 2)
      const consumer = shareConsumer(await shareGroup(admin), topic, { acknowledgement: 'explicit' })
      const deliveries: [string, number][] = []
      let second: unknown
      const run = start(consumer, (m, ctx) => {
        deliveries.push([m.value!.toString(), m.deliveryCount])
        if (m.value!.toString() === '0' && m.deliveryCount === 1) return // forgot to acknowledge
        ctx.accept()
        try {
          ctx.reject()
        } catch (e) {
          second = e
        }
      })
      await waitFor('both accepted', () => consumer.stats().accepted === 2, { state: () => deliveries })
      await run.stop()
      assert.deepEqual(
        deliveries.filter(([v]) => v === '0'),
        [
          ['0', 1],
          ['0', 2],
        ],
      )
      assert.ok(second instanceof ConfigError && /acknowledged already/.test(second.message), String(second))
      assert.equal(run.errors.length, 1)
      assert.ok(run.errors[0] instanceof ConfigError && /without acknowledging/.test(run.errors[0].message))
    })

    it("use(): middleware wrap the handler, the first added outermost; a share middleware sees the delivery count, the Consumer's timeout() fails a handler that hangs and the record comes again", async () => {
      const topic = await topicWith(admin, 1, 2)
      const groupId = await shareGroup(admin)
      const calls: string[] = []
      const consumer = shareConsumer(groupId, topic, { retry: { maxRetries: 1, initialDelayMs: 10 } })
      const outer: ShareMiddleware = (next) => async (m, ctx) => {
        calls.push(`outer ${m.value} #${ctx.deliveryCount}`)
        return next(m, ctx)
      }
      consumer.use(outer).use(timeout(300))
      const run = start(consumer, async (m, ctx) => {
        // the share context keeps its acknowledgement methods through the Consumer's middleware
        calls.push(`handler ${m.value} #${ctx.deliveryCount} ${ctx.acknowledgement() ?? 'open'}`)
        if (String(m.value) === '1' && ctx.deliveryCount === 1) await sleep(3000)
      })
      await waitFor('both records accepted', () => consumer.stats().accepted === 2, {
        state: () => ({ calls, stats: consumer.stats() }),
      })
      await run.stop()
      assert.deepEqual(calls, [
        'outer 0 #1',
        'handler 0 #1 open',
        'outer 1 #1',
        'handler 1 #1 open',
        'outer 1 #2',
        'handler 1 #2 open',
      ])
      assert.deepEqual([consumer.stats().accepted, consumer.stats().released], [2, 1])
    })
  })

  describe('stopping', () => {
    it('stop() past its timeout rejects with a TimeoutError; the stuck record goes back to the group, its late outcome dropped', async () => {
      const topic = await topicWith(admin, 1, 1)
      const groupId = await shareGroup(admin)
      const consumer = shareConsumer(groupId, topic)
      let finish!: () => void
      let started = false
      const errors: Error[] = []
      consumer.on('error', (e: Error) => errors.push(e))
      const running = consumer.run(async (_m, ctx) => {
        started = true
        await new Promise<void>((r) => {
          finish = r
        })
        ctx.accept()
      })
      await waitFor('the handler started', () => started)
      const began = Date.now()
      const stopped = await consumer.stop({ timeoutMs: 300 }).then(
        () => undefined,
        (e) => e,
      )
      assert.ok(
        stopped instanceof TimeoutError && /1 handler\(s\) still running/.test(stopped.message),
        String(stopped),
      )
      assert.ok(Date.now() - began < 10_000)
      await within('run() to settle once stopped', running)
      finish()
      assert.equal(consumer.stats().accepted, 0, 'the late outcome counts for nothing')
      const counts: number[] = []
      const next = shareConsumer(groupId, topic)
      const run = start(next, (m) => {
        counts.push(m.deliveryCount)
      })
      await waitFor('the record delivered again', () => counts.length === 1)
      await run.stop()
      assert.deepEqual(counts, [2])
      await assert.rejects(consumer.stop({ timeoutMs: -1 }), ConfigError)
    })
  })

  describe('poison records: retries as redeliveries, dead letters, rejection', () => {
    /** Runs a consumer whose handler fails on values starting with 'poison' until `done` holds. */
    async function poisonRun(
      options: Partial<ShareConsumerOptions>,
      groupConfigs: Record<string, string>,
      done: (deliveries: [string, number][], consumer: ShareConsumer) => boolean,
    ) {
      const topic = uniqueTopic('share-poison')
      await admin.createTopics([{ topic, partitions: 1, replicationFactor: 1 }])
      const producer = new Producer({ brokers: brokers() })
      await producer.sendBatch(
        ['ok-0', 'poison-1', 'ok-2', 'poison-3', 'ok-4'].map((value) => ({
          topic,
          key: value,
          value,
          headers: [{ key: 'origin', value: 'test' }],
        })),
      )
      await producer.close()
      const consumer = shareConsumer(await shareGroup(admin, groupConfigs), topic, options)
      const deliveries: [string, number][] = []
      const run = start(consumer, (m) => {
        deliveries.push([m.value!.toString(), m.deliveryCount])
        if (m.value!.toString().startsWith('poison')) throw new Error(`cannot handle ${m.value}`)
      })
      await waitFor('the poison records dealt with', () => done(deliveries, consumer), {
        timeoutMs: 20_000,
        state: () => ({ deliveries, stats: consumer.stats() }),
      })
      return { topic, consumer, deliveries, run }
    }

    const countsOf = (deliveries: [string, number][], value: string) =>
      deliveries.filter(([v]) => v === value).map(([, n]) => n)

    it('releases a failing record after the backoff until the last attempt, then dead-letters it with the Consumer headers and accepts it', async () => {
      const dlq = uniqueTopic('share-dlq')
      await admin.createTopics([{ topic: dlq, partitions: 1, replicationFactor: 1 }])
      const dead: { value: string; headers: Map<string, string> }[] = []
      const reader = shareConsumer(await shareGroup(admin), dlq)
      const readRun = start(reader, (m) => {
        dead.push({
          value: m.value!.toString(),
          headers: new Map(m.headers.map((h) => [h.key, h.value?.toString() ?? ''])),
        })
      })
      const started = Date.now()
      const { topic, consumer, deliveries, run } = await poisonRun(
        { retry: { maxRetries: 2, initialDelayMs: 200, jitter: 0 }, dlq: { topic: dlq } },
        {},
        () => dead.length === 2,
      )
      await Promise.all([run.stop(), readRun.stop()])
      assert.deepEqual(countsOf(deliveries, 'poison-1'), [1, 2, 3])
      assert.deepEqual(countsOf(deliveries, 'poison-3'), [1, 2, 3])
      for (const ok of ['ok-0', 'ok-2', 'ok-4']) assert.deepEqual(countsOf(deliveries, ok), [1])
      assert.ok(Date.now() - started >= 200 + 400, 'the backoffs (200 ms, then 400 ms) came before the releases')
      assert.deepEqual(dead.map((d) => d.value).sort(), ['poison-1', 'poison-3'])
      const h = dead.find((d) => d.value === 'poison-1')!.headers
      assert.equal(h.get('origin'), 'test', 'the original headers kept')
      assert.equal(h.get('kafkax-dlq-topic'), topic)
      assert.equal(h.get('kafkax-dlq-partition'), '0')
      assert.equal(h.get('kafkax-dlq-offset'), '1')
      assert.equal(h.get('kafkax-dlq-attempts'), '3')
      assert.equal(h.get('kafkax-dlq-error-message'), 'cannot handle poison-1')
      const stats = consumer.stats()
      assert.deepEqual([stats.accepted, stats.released, stats.rejected], [5, 4, 0], 'dead letters are accepted')
      assert.deepEqual(run.errors, [])
    })

    it('without a dead-letter topic rejects a record after its last attempt, and reports it', async () => {
      const { consumer, deliveries, run } = await poisonRun(
        { retry: { maxRetries: 1, initialDelayMs: 10 } },
        {},
        (_deliveries, consumer) => consumer.stats().rejected === 2,
      )
      await run.stop()
      assert.deepEqual(countsOf(deliveries, 'poison-1'), [1, 2])
      assert.deepEqual(countsOf(deliveries, 'poison-3'), [1, 2])
      assert.deepEqual([consumer.stats().accepted, consumer.stats().released], [3, 2])
      assert.deepEqual(run.errors.map((e) => e.message).sort(), ['cannot handle poison-1', 'cannot handle poison-3'])
    })

    it("stops at the group's share.delivery.count.limit: the delivery at the limit is the last attempt", async () => {
      const { consumer, deliveries, run } = await poisonRun(
        { retry: { maxRetries: 10, initialDelayMs: 10 } },
        { 'share.delivery.count.limit': '3' },
        (_deliveries, consumer) => consumer.stats().rejected === 2,
      )
      await run.stop()
      assert.deepEqual(countsOf(deliveries, 'poison-1'), [1, 2, 3], 'three deliveries, not the 11 attempts of retry')
      assert.deepEqual(countsOf(deliveries, 'poison-3'), [1, 2, 3])
      assert.deepEqual([consumer.stats().released, consumer.stats().rejected], [4, 2])
    })

    it('the broker archives a record released at the delivery count limit: never delivered again', async () => {
      const topic = await topicWith(admin, 1, 1)
      const consumer = shareConsumer(await shareGroup(admin, { 'share.delivery.count.limit': '2' }), topic, {
        acknowledgement: 'explicit',
      })
      const counts: number[] = []
      const run = start(consumer, (m, ctx) => {
        counts.push(m.deliveryCount)
        ctx.release()
      })
      await waitFor('two deliveries', () => counts.length === 2)
      const producer = new Producer({ brokers: brokers() })
      await producer.send({ topic, value: 'after' })
      await producer.close()
      await waitFor('the record produced after', () => counts.length === 3)
      await run.stop()
      assert.deepEqual(counts, [1, 2, 1], 'the released record was archived at the limit; the next one came')
    })
  })

  describe('Admin: share groups', () => {
    it('describes members and their assignments, lists the group; a member that stops leaves at once; deleteGroups deletes it', async () => {
      const topic = await topicWith(admin, 2, 0)
      const groupId = await shareGroup(admin)
      const a = shareConsumer(groupId, topic, { clientId: 'member-a' })
      const b = shareConsumer(groupId, topic, { clientId: 'member-b' })
      const [runA, runB] = [start(a, () => {}), start(b, () => {})]
      await waitFor('both members assigned', () => a.assignment().length + b.assignment().length === 2, {
        timeoutMs: 15_000,
      })
      const [group] = await admin.describeShareGroups([groupId])
      assert.equal(group.state, 'Stable')
      assert.equal(group.assignor, 'simple')
      const members = [...group.members].sort((x, y) => (x.clientId < y.clientId ? -1 : 1))
      assert.deepEqual(
        members.map((m) => [m.memberId, m.clientId, m.subscribedTopics]),
        [
          [a.memberId, 'member-a', [topic]],
          [b.memberId, 'member-b', [topic]],
        ],
      )
      for (const [m, consumer] of [
        [members[0], a],
        [members[1], b],
      ] as const) {
        assert.ok(m.memberEpoch > 0)
        assert.deepEqual(
          m.assignment.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition }))),
          consumer.assignment(),
        )
      }
      assert.deepEqual(
        members.flatMap((m) => m.assignment.flatMap((t) => t.partitions)).sort(),
        [0, 1],
        'the simple assignor spreads two partitions over two members',
      )
      const listed = (await admin.listGroups()).find((g) => g.groupId === groupId)
      assert.equal(listed?.type, 'share')
      await runB.stop()
      const [after] = await admin.describeShareGroups([groupId])
      assert.deepEqual(
        after.members.map((m) => m.memberId),
        [a.memberId],
        'the leave heartbeat removed b',
      )
      await runA.stop()
      await admin.deleteGroups([groupId])
      await assert.rejects(
        admin.describeShareGroups([groupId]),
        (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.GROUP_ID_NOT_FOUND,
      )
    })

    it('lists the start offsets and lag, moves the start of an empty group (delivered again from there), and deletes them', async () => {
      const topic = await topicWith(admin, 2, 100)
      const groupId = await shareGroup(admin)
      const consumer = shareConsumer(groupId, topic)
      const run = start(consumer, () => {})
      await waitFor('100 records accepted', () => consumer.stats().accepted === 100, { state: () => consumer.stats() })
      await assert.rejects(
        admin.alterShareGroupOffsets(groupId, [{ topic, partition: 0, offset: 0 }]),
        (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.NON_EMPTY_GROUP,
      )
      await run.stop()
      await waitFor('no lag left on either partition', async () => {
        const offsets = await admin.listShareGroupOffsets(groupId)
        return offsets.length === 2 && offsets.every((o) => o.lag === 0n && o.startOffset !== null)
      })
      assert.deepEqual(await admin.listShareGroupOffsets(groupId, ['another-topic']), [])

      const ends = (await admin.listOffsets({ topic, at: 'latest' })).map((o) => o.offset)
      await admin.alterShareGroupOffsets(groupId, [
        { topic, partition: 0, offset: 10 },
        { topic, partition: 1, offset: 5n },
      ])
      const moved = await admin.listShareGroupOffsets(groupId, [topic])
      assert.deepEqual(
        moved.map((o) => [o.partition, o.startOffset, o.lag]),
        [
          [0, 10n, ends[0] - 10n],
          [1, 5n, ends[1] - 5n],
        ],
      )
      const again: [number, bigint, number][] = []
      const replay = shareConsumer(groupId, topic)
      const replayRun = start(replay, (m) => {
        again.push([m.partition, m.offset, m.deliveryCount])
      })
      const expected = Number(ends[0] - 10n + ends[1] - 5n)
      await waitFor('the records from the new start offsets', () => again.length === expected)
      await replayRun.stop()
      assert.ok(
        again.every(([p, offset, count]) => offset >= (p === 0 ? 10n : 5n) && count === 1),
        'from the new start, as first deliveries',
      )

      await admin.deleteShareGroupOffsets(groupId, [topic])
      assert.deepEqual(await admin.listShareGroupOffsets(groupId), [])
    })
  })
}

describe('a broker without share groups', () => {
  it('fails run() with a KafkaError UNSUPPORTED_VERSION saying share groups are missing', async () => {
    // Kafka 3.9 has no share APIs; on 4.x they are turned off with the share.version feature
    const toggle = (level: number) =>
      runTool('org.apache.kafka.tools.FeatureCommand', [
        '--bootstrap-server',
        brokers()[0],
        level === 0 ? 'downgrade' : 'upgrade',
        '--feature',
        `share.version=${level}`,
      ])
    if (sharesGroups) toggle(0)
    try {
      const consumer = new ShareConsumer({ brokers: brokers(), groupId: uniqueTopic('no-share'), topics: ['t'] })
      const error = await within(
        'run() to reject',
        consumer
          .run(() => {})
          .then(
            () => undefined,
            (e) => e,
          ),
      )
      assert.ok(error instanceof KafkaError, String(error))
      assert.equal(error.code, ErrorCode.UNSUPPORTED_VERSION)
      assert.equal(error.retriable, false)
      assert.match(error.message, /share groups need a broker with KIP-932 enabled/)
    } finally {
      if (sharesGroups) toggle(1)
    }
  })
})
