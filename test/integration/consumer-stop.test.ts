// Consumer.stop() against the real broker when a handler never returns: stop() waits for it only
// up to its timeout, then commits what was handled and nothing past the unfinished message, leaves
// the group, and rejects with a TimeoutError naming the partition whose handler still runs. A
// handler that finishes within the timeout is waited for and committed.

import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Admin } from '../../src/admin/admin.ts'
import type { HandlerContext, Message } from '../../src/consumer/message.ts'
import { ConfigError, TimeoutError } from '../../src/protocol/errors.ts'
import { committedOffsets, groupConsumer, topicWith } from '../helpers/consumers.ts'
import { brokers } from '../helpers/kafka.ts'
import { waitFor, within } from '../helpers/wait.ts'

const admin = new Admin({ brokers: brokers() })

/** Each partition's end offset: how many records it holds. */
async function endOffsets(topic: string): Promise<bigint[]> {
  const ends = await admin.listOffsets({ topic, at: 'latest' })
  return ends.sort((a, b) => a.partition - b.partition).map((p) => p.offset)
}

describe('Consumer.stop()', () => {
  after(() => admin.close())

  it('rejects a timeout that is not a number >= 0 with a ConfigError', async () => {
    const consumer = groupConsumer('unused')
    await assert.rejects(consumer.stop({ timeoutMs: -1 }), ConfigError)
    await assert.rejects(consumer.stop({ timeoutMs: Number.NaN }), ConfigError)
  })

  it('gives up on a hung handler after timeoutMs: commits only what was handled, leaves the group, names the partition', async () => {
    const topic = await topicWith(admin, 2, 60, 'stop-hung')
    const groupId = `group-${topic}`
    const ends = await endOffsets(topic)
    const HUNG_AT = 5n
    assert.ok(ends[0] > HUNG_AT + 1n && ends[1] > 0n, `records per partition: ${ends}`)
    const handled = [new Set<bigint>(), new Set<bigint>()]
    let hungSignal: AbortSignal | undefined
    let release: (() => void) | undefined
    const consumer = groupConsumer(topic, { concurrency: 2 })
    const run = consumer.run(async (m: Message, ctx: HandlerContext) => {
      if (m.partition === 0 && m.offset === HUNG_AT) {
        // ignores its abort signal, as a handler stuck in a call without a timeout would
        hungSignal = ctx.signal
        await new Promise<void>((resolve) => {
          release = resolve
        })
      }
      handled[m.partition].add(m.offset)
    })
    try {
      await waitFor(
        'partition 1 handled to its end and partition 0 up to the hung handler',
        () => handled[1].size === Number(ends[1]) && handled[0].size === Number(HUNG_AT) && release !== undefined,
        { state: () => handled.map((h) => h.size) },
      )
      const timeoutMs = 1500
      const started = Date.now()
      const error = await within('stop({ timeoutMs: 1500 })', consumer.stop({ timeoutMs }), 20_000).then(
        () => undefined,
        (e: unknown) => e,
      )
      const took = Date.now() - started
      assert.ok(error instanceof TimeoutError, `stop() settled with ${error}`)
      assert.match(error.message, new RegExp(`${topic}-0\\b`))
      assert.doesNotMatch(error.message, new RegExp(`${topic}-1\\b`))
      // it waited for the handler its timeout long, then committed and left (a few requests)
      assert.ok(took >= timeoutMs, `stop() gave up after ${took} ms`)
      assert.ok(took < timeoutMs + 10_000, `stop() took ${took} ms`)
      assert.equal(hungSignal?.aborted, true, "the hung handler's signal was aborted")
      await within('run() after stop()', run, 5000)

      const offsets = await committedOffsets(admin, groupId)
      assert.equal(offsets.get(0), HUNG_AT, 'partition 0 committed up to the unfinished message, not past it')
      assert.equal(offsets.get(1), ends[1], 'partition 1 committed to its end')
      const [group] = await admin.describeGroups([groupId])
      assert.deepEqual(group.members, [], 'the member left the group')

      // the abandoned handler finishing late commits nothing: the next member starts at its
      // message, and gets nothing of partition 1
      release!()
      await waitFor('the abandoned handler to finish', () => handled[0].has(HUNG_AT))
      const next = groupConsumer(topic)
      const again: Message[] = []
      const nextRun = next.run((m) => {
        again.push(m)
      })
      const expected = Array.from({ length: Number(ends[0] - HUNG_AT) }, (_, i) => `0/${Number(HUNG_AT) + i}`)
      try {
        await waitFor(
          'the next member to handle partition 0 from the unfinished message to its end',
          () => again.length >= expected.length,
          { state: () => again.map((m) => `${m.partition}/${m.offset}`) },
        )
      } finally {
        await within('stop() of the next member', next.stop(), 20_000)
        await nextRun
      }
      assert.deepEqual(
        again.map((m) => `${m.partition}/${m.offset}`),
        expected,
      )
    } finally {
      release?.()
      await consumer.stop({ timeoutMs: 0 }).catch(() => {})
    }
  })

  it('waits for a slow handler that finishes within the timeout, and commits it', async () => {
    const topic = await topicWith(admin, 2, 20, 'stop-slow')
    let slowStarted = false
    let slowDone = false
    const consumer = groupConsumer(topic)
    const run = consumer.run(async (m: Message) => {
      if (m.partition === 0 && m.offset === 0n) {
        slowStarted = true
        // past stop(), ignoring the signal: stop() must still wait for it
        await new Promise((resolve) => setTimeout(resolve, 1000))
        slowDone = true
      }
    })
    try {
      await waitFor('the slow handler to start', () => slowStarted)
      await within('stop({ timeoutMs: 10000 })', consumer.stop({ timeoutMs: 10_000 }), 20_000)
      assert.equal(slowDone, true, 'stop() resolved before the slow handler finished')
      await within('run() after stop()', run, 5000)
      const offsets = await committedOffsets(admin, `group-${topic}`)
      assert.ok((offsets.get(0) ?? 0n) >= 1n, `partition 0 committed at ${offsets.get(0)}, before the slow message`)
    } finally {
      await consumer.stop().catch(() => {})
    }
  })
})
