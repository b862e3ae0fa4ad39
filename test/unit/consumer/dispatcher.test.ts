// The dispatcher, offset tracker and committer without a broker, over a plain fake of the fetcher
// (fake-fetcher.ts) and of the group member's commit: order per partition and per key under
// concurrency, turns across partitions, the committable offset with handlers finishing out of
// order, a failure's pause / backoff / seek / resume, and what the committer sends and skips.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Committer } from '../../../src/consumer/committer.ts'
import type { Message } from '../../../src/consumer/message.ts'
import { OffsetTracker } from '../../../src/consumer/offset-tracker.ts'
import type { OffsetToCommit } from '../../../src/group/offsets.ts'
import { silentLogger } from '../../../src/observability/logger.ts'
import { ErrorCode, kafkaError } from '../../../src/protocol/error-codes.ts'
import { waitFor } from '../../helpers/wait.ts'
import { dispatch, FakeFetcher, TOPIC } from './fake-fetcher.ts'

/** A seeded pseudo-random sequence (an LCG): handler delays that differ per message but not per run. */
function random(seed: number): () => number {
  let x = seed
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31
    return x / 2 ** 31
  }
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('Dispatcher', () => {
  it('runs each partition in offset order, one handler per partition at a time, up to concurrency at once', async () => {
    const fetcher = new FakeFetcher([300, 300, 300, 300], 40)
    const next = random(7)
    const seen: Message[][] = [[], [], [], []]
    const running = [0, 0, 0, 0]
    let active = 0
    let maxActive = 0
    const { stop, committable } = dispatch(
      fetcher,
      async (m: Message) => {
        running[m.partition]++
        active++
        maxActive = Math.max(maxActive, active)
        assert.equal(running[m.partition], 1, `two handlers at once on partition ${m.partition}`)
        await tick(next() < 0.2 ? 2 : 0)
        seen[m.partition].push(m)
        running[m.partition]--
        active--
      },
      { concurrency: 3 },
    )
    await waitFor('every message handled', () => seen.every((s) => s.length === 300), { timeoutMs: 20_000 })
    await stop()
    for (const [p, messages] of seen.entries()) {
      assert.deepEqual(
        messages.map((m) => Number(m.offset)),
        Array.from({ length: 300 }, (_, i) => i),
        `partition ${p} in offset order`,
      )
      assert.equal(committable(p), 300n)
    }
    assert.equal(maxActive, 3, 'three partitions handled at once, never more')
  })

  it('orderBy key: each key in order and one at a time, keys of one partition in parallel', async () => {
    const keys = ['a', 'b', 'c', 'd', 'e']
    const fetcher = new FakeFetcher([500], 100, (_p, o) => keys[o % 5])
    const next = random(11)
    const perKey = new Map<string, number[]>()
    const busy = new Set<string>()
    const handled = new Set<bigint>()
    const violations: string[] = []
    let active = 0
    let maxActive = 0
    const { stop, committable, reported } = dispatch(
      fetcher,
      async (m: Message) => {
        const key = m.key!.toString()
        assert.ok(!busy.has(key), `two handlers at once for key ${key}`)
        const upTo = committable(0) ?? 0n
        for (let o = 0n; o < upTo; o++) if (!handled.has(o)) violations.push(`committable ${upTo} past unhandled ${o}`)
        busy.add(key)
        maxActive = Math.max(maxActive, ++active)
        await tick(Math.floor(next() * 3))
        perKey.set(key, [...(perKey.get(key) ?? []), Number(m.offset)])
        if (handled.has(m.offset)) violations.push(`offset ${m.offset} handled twice`)
        handled.add(m.offset)
        busy.delete(key)
        active--
      },
      { concurrency: 4, orderBy: 'key' },
    )
    await waitFor('500 messages handled', () => handled.size === 500, {
      timeoutMs: 20_000,
      state: () => ({ handled: handled.size, active, committable: committable(0), reported: reported.map(String) }),
    })
    await stop()
    assert.deepEqual(violations.slice(0, 5), [], 'never committable past an unhandled offset, nothing handled twice')
    assert.deepEqual(reported, [])
    for (const [key, offsets] of perKey) {
      assert.deepEqual(
        offsets,
        [...offsets].sort((a, b) => a - b),
        `key ${key} in order`,
      )
    }
    assert.equal(maxActive, 4, 'keys of one partition ran in parallel, up to concurrency')
    assert.equal(committable(0), 500n)
  })

  it("serves the partitions in turns: a deep backlog does not hold a shallow partition's messages back", async () => {
    for (const handler of ['sync', 'async'] as const) {
      const fetcher = new FakeFetcher([5000, 50], 500)
      const handled = [0, 0]
      let deepAtShallowDone = -1
      const count = (m: Message) => {
        handled[m.partition]++
        if (m.partition === 1 && handled[1] === 50) deepAtShallowDone = handled[0]
      }
      const { stop } = dispatch(fetcher, handler === 'sync' ? count : async (m: Message) => count(m))
      await waitFor(`the shallow partition drained (${handler} handler)`, () => deepAtShallowDone >= 0, {
        timeoutMs: 20_000,
      })
      await stop()
      // turns of at most 64 messages, whether the handler settles at once or later
      const bound = 64 * 2
      assert.ok(deepAtShallowDone <= bound, `${handler}: ${deepAtShallowDone} of the deep partition went first`)
    }
  })

  it('keeps an asynchronous handler on its partition for a turn, not looking through the empty ones per message', async () => {
    // one partition of six has data: a turn per message would ask each of the five empty ones for a chunk every time
    const fetcher = new FakeFetcher([640, 0, 0, 0, 0, 0], 64)
    let takes = 0
    const take = fetcher.take.bind(fetcher)
    fetcher.take = (tp) => {
      takes++
      return take(tp)
    }
    let handled = 0
    const { stop, committable } = dispatch(fetcher, async () => {
      handled++
    })
    await waitFor('640 messages handled', () => handled === 640, { timeoutMs: 10_000 })
    await stop()
    assert.equal(committable(0), 640n)
    // per turn of 64: one take for the chunk and one look at each empty partition (6 x 10 turns, and the last looks)
    assert.ok(takes <= 6 * 12, `${takes} takes for 640 messages`)
  })

  it('moves the committable offset only past an unbroken run of handled messages, whatever order they finish in', async () => {
    // ten keys, one message each: all ten run at once and the test finishes them in its own order
    const fetcher = new FakeFetcher([10], 10, (_p, o) => `k${o}`)
    const finish = new Map<number, () => void>()
    const { stop, committable, dispatcher } = dispatch(
      fetcher,
      (m: Message) => new Promise<void>((resolve) => finish.set(Number(m.offset), resolve)),
      { concurrency: 10, orderBy: 'key' },
    )
    await waitFor('ten handlers running', () => finish.size === 10, { timeoutMs: 5000 })
    const settle = async (offset: number) => {
      finish.get(offset)!()
      await tick(0)
    }
    for (const offset of [9, 8, 3, 1, 2]) await settle(offset)
    assert.equal(committable(0), undefined, 'offset 0 is not handled: nothing may be committed')
    await settle(0)
    assert.equal(committable(0), 4n, 'offsets 0-3 handled: commit from 4')
    await settle(6)
    assert.equal(committable(0), 4n, 'offset 4 still runs')
    await settle(4)
    assert.equal(committable(0), 5n)
    await settle(5)
    assert.equal(committable(0), 7n, 'offset 7 still runs')
    await settle(7)
    assert.equal(committable(0), 10n)
    assert.equal(dispatcher.inFlight, 0)
    await stop()
  })

  it('a failed message pauses its partition, which after the backoff seeks back to it, resumes and handles it again', async () => {
    const fetcher = new FakeFetcher([20, 20], 5)
    const handled: string[] = []
    const deliveries: { at: number; committable: bigint | undefined; calls: string[] }[] = []
    const { stop, committable, reported } = dispatch(
      fetcher,
      (m: Message) => {
        if (m.partition === 0 && m.offset === 7n) {
          deliveries.push({ at: performance.now(), committable: committable(0), calls: [...fetcher.calls] })
          if (deliveries.length <= 2) throw new Error('poison for now')
        }
        handled.push(`${m.partition}-${m.offset}`)
      },
      { concurrency: 2 },
    )
    await waitFor('every message handled', () => handled.length === 40, { timeoutMs: 10_000 })
    await stop()
    assert.equal(deliveries.length, 3, 'two failures, then the third delivery passed')
    assert.deepEqual(
      deliveries.map((d) => d.committable),
      [7n, 7n, 7n],
      'committed up to the failed message, never past it',
    )
    assert.deepEqual(deliveries[1].calls, ['pause 0', 'seek 0 7', 'resume 0'], 'paused, then back to offset 7')
    assert.deepEqual(fetcher.calls, ['pause 0', 'seek 0 7', 'resume 0', 'pause 0', 'seek 0 7', 'resume 0'])
    assert.ok(deliveries[1].at - deliveries[0].at >= 25, 'the partition waited its backoff')
    const p0 = handled.filter((h) => h.startsWith('0-'))
    assert.deepEqual(
      p0,
      Array.from({ length: 20 }, (_, i) => `0-${i}`),
      'partition 0 handled once each, in order',
    )
    assert.equal(committable(0), 20n)
    assert.equal(committable(1), 20n, 'the other partition went on meanwhile')
    assert.equal(reported.length, 2)
    assert.match(reported[0].message, /orders-0 at offset 7: poison for now/)
  })

  it('keeps a seek made during a failure backoff: the partition resumes from there, not from the failed message', async () => {
    const fetcher = new FakeFetcher([20], 5)
    const handled: number[] = []
    let failed = false
    const { dispatcher, stop } = dispatch(fetcher, (m: Message) => {
      if (m.offset === 12n && !failed) {
        failed = true
        throw new Error('fails once')
      }
      handled.push(Number(m.offset))
    })
    await waitFor('the failure', () => failed)
    // as an aborted transaction rewinds its partitions
    await dispatcher.seek(dispatcher.get({ topic: TOPIC, partition: 0 })!, 4n)
    await waitFor('every message handled', () => handled.at(-1) === 19, { timeoutMs: 10_000 })
    await stop()
    assert.deepEqual(fetcher.calls, ['pause 0', 'seek 0 4', 'resume 0'], 'no seek back to 12 after the backoff')
    assert.deepEqual(handled, [
      ...Array.from({ length: 12 }, (_, i) => i),
      ...Array.from({ length: 16 }, (_, i) => i + 4),
    ])
  })
})

describe('OffsetTracker', () => {
  it('commits nothing until the head is handled, and drop() forgets what was handed out', () => {
    const t = new OffsetTracker({ topic: TOPIC, partition: 0 })
    const [a, b, c] = [t.track(5n), t.track(6n), t.track(7n)]
    c.done = true
    t.advance()
    assert.equal(t.toCommit(), undefined)
    a.done = true
    t.advance()
    assert.equal(t.toCommit(), 6n)
    t.committed = 6n
    assert.equal(t.toCommit(), undefined, 'nothing moved since the commit')
    t.drop()
    b.done = true
    t.advance()
    assert.equal(t.committable, 6n, 'an entry dropped (seek, failure) no longer counts')
  })

  it('keeps offset order when a later offset starts first (orderBy key): never past an unhandled one', () => {
    const t = new OffsetTracker({ topic: TOPIC, partition: 0 })
    const [eight, ten, nine] = [t.track(8n), t.track(10n), t.track(9n)]
    eight.done = true
    ten.done = true
    t.advance()
    assert.equal(t.committable, 9n, 'offset 9 is still running: 10 is not committable yet')
    nine.done = true
    t.advance()
    assert.equal(t.committable, 11n)
  })

  it('does not move past an offset still waiting to be handed out (orderBy key: its key is busy)', () => {
    const t = new OffsetTracker({ topic: TOPIC, partition: 0 })
    const [eight, ten] = [t.track(8n), t.track(10n)]
    eight.done = true
    ten.done = true
    t.advance(9n)
    assert.equal(t.committable, 9n, 'offset 9 was fetched but not started: 10 is not committable')
    t.track(9n).done = true
    t.advance()
    assert.equal(t.committable, 11n)
  })
})

describe('Committer', () => {
  const tracker = (partition: number, committable: bigint) => {
    const t = new OffsetTracker({ topic: TOPIC, partition })
    t.committable = committable
    t.leaderEpoch = 4
    return t
  }

  it('commits the offsets that moved, with their leader epoch, and then only what moved again', async () => {
    const sent: OffsetToCommit[][] = []
    const committer = new Committer({ commit: async (offsets) => void sent.push(offsets) }, 'g', silentLogger)
    const [a, b] = [tracker(0, 10n), tracker(1, 3n)]
    await committer.commit([a, b])
    assert.deepEqual(sent, [
      [
        { topic: TOPIC, partition: 0, offset: 10n, leaderEpoch: 4 },
        { topic: TOPIC, partition: 1, offset: 3n, leaderEpoch: 4 },
      ],
    ])
    await committer.commit([a, b])
    assert.equal(sent.length, 1, 'no request when nothing moved')
    b.committable = 9n
    await committer.commit([a, b])
    assert.deepEqual(sent[1], [{ topic: TOPIC, partition: 1, offset: 9n, leaderEpoch: 4 }])
    assert.equal(committer.commits, 2)
  })

  it('skips a commit a rebalance refused (the revocation commits), and rethrows any other error', async () => {
    let error: Error = kafkaError(ErrorCode.REBALANCE_IN_PROGRESS, 'OffsetCommit')
    const committer = new Committer(
      {
        commit: async () => {
          throw error
        },
      },
      'g',
      silentLogger,
    )
    const t = tracker(0, 10n)
    await committer.commit([t])
    assert.equal(t.committed, undefined, 'not committed: the next commit tries again')
    assert.equal(committer.commits, 0)
    error = kafkaError(ErrorCode.GROUP_AUTHORIZATION_FAILED, 'OffsetCommit')
    await assert.rejects(committer.commit([t]), /GROUP_AUTHORIZATION_FAILED/)
  })
})
