// The iterator form over a fake consumer that calls the handler as the dispatcher does: a message
// settles only when the loop asks for the next one, a break settles the current one and drops the
// rest, a failed run() ends the loop with its error, and a middleware that awaits the handler's
// result after the loop moved on still sees it settled.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { messagesOf } from '../../../src/consumer/iterator.ts'
import { ConsumedMessage, type Handler, sendWithoutTransaction } from '../../../src/consumer/message.ts'
import { KafkaxError } from '../../../src/protocol/errors.ts'

const message = (offset: number) =>
  new ConsumedMessage('t', 0, BigInt(offset), 0, null, Buffer.from(`v${offset}`), [], 0)
const context = { signal: new AbortController().signal, attempt: 1, send: sendWithoutTransaction }

/** Hands `count` messages to the handler one at a time, each once the previous settled, until stopped, as concurrency 1 does. */
function fakeConsumer(count: number, wrap: (h: Handler) => Handler = (h) => h) {
  const outcomes: { offset: number; outcome: string }[] = []
  let stopped = 0
  let finish: (() => void) | undefined
  let fail: ((e: Error) => void) | undefined
  return {
    outcomes,
    stops: () => stopped,
    failRun: (e: Error) => fail?.(e),
    run(handler: Handler): Promise<void> {
      const h = wrap(handler)
      const next = (i: number): void => {
        if (i >= count || stopped > 0) return
        Promise.resolve(h(message(i), context)).then(
          () => {
            outcomes.push({ offset: i, outcome: 'handled' })
            next(i + 1)
          },
          (e: Error) => outcomes.push({ offset: i, outcome: `dropped ${(e as KafkaxError).code}` }),
        )
      }
      queueMicrotask(() => next(0))
      return new Promise<void>((resolve, reject) => {
        finish = resolve
        fail = reject
      })
    },
    async stop() {
      stopped++
      finish?.()
    },
  }
}

describe('consumer iterator', () => {
  it('settles a message once the loop asks for the next one, and the current one on break', async () => {
    const consumer = fakeConsumer(10)
    const seen: string[] = []
    for await (const m of messagesOf(consumer, new AbortController().signal)) {
      seen.push(m.value!.toString())
      // the message being handled is not settled yet; the one before it is
      assert.deepEqual(
        consumer.outcomes.map((o) => o.offset),
        Array.from({ length: seen.length - 1 }, (_, i) => i),
        `settled while handling ${m.offset}`,
      )
      if (seen.length === 4) break
    }
    await Promise.resolve()
    assert.deepEqual(seen, ['v0', 'v1', 'v2', 'v3'])
    assert.deepEqual(
      consumer.outcomes,
      [0, 1, 2, 3].map((offset) => ({ offset, outcome: 'handled' })),
    )
    assert.equal(consumer.stops(), 1, 'leaving the loop stops the consumer')
  })

  it('hands the settlement to a middleware that awaits the result after the loop moved on', async () => {
    // the middleware looks at the handler's result only a few ticks later
    const late =
      (h: Handler): Handler =>
      async (m, ctx) => {
        const result = h(m, ctx)
        for (let i = 0; i < 5; i++) await null
        await result
      }
    const consumer = fakeConsumer(3, late)
    const seen: bigint[] = []
    for await (const m of messagesOf(consumer, new AbortController().signal)) {
      seen.push(m.offset)
      if (seen.length === 3) break
    }
    for (let i = 0; i < 10 && consumer.outcomes.length < 3; i++) await null
    assert.deepEqual(seen, [0n, 1n, 2n])
    assert.deepEqual(
      consumer.outcomes.map((o) => o.outcome),
      ['handled', 'handled', 'handled'],
    )
  })

  it('ends the loop with the error run() failed with', async () => {
    const consumer = fakeConsumer(1)
    const failure = new KafkaxError('the group is gone', 'EGROUP')
    const loop = (async () => {
      for await (const m of messagesOf(consumer, new AbortController().signal)) {
        assert.equal(m.offset, 0n)
        consumer.failRun(failure)
      }
    })()
    await assert.rejects(loop, (e) => e === failure)
    assert.equal(consumer.stops(), 1)
  })

  it('ends the loop when the consumer stops by other means', async () => {
    const consumer = fakeConsumer(0)
    const stopping = new AbortController()
    const loop = (async () => {
      for await (const _ of messagesOf(consumer, stopping.signal)) assert.fail('no message was handed out')
    })()
    await Promise.resolve()
    stopping.abort()
    await consumer.stop()
    await loop
    assert.equal(consumer.stops(), 2, 'the loop stops the consumer too on its way out')
  })

  it('answers pulls made without waiting in order, as a generator does', async () => {
    const consumer = fakeConsumer(3)
    const it = messagesOf(consumer, new AbortController().signal)
    // three pulls at once: each takes the next message once the one before it settled
    const results = await Promise.all([it.next(), it.next(), it.next()])
    assert.deepEqual(
      results.map((r) => (r.done ? 'done' : r.value.offset)),
      [0n, 1n, 2n],
    )
    assert.deepEqual(
      consumer.outcomes.map((o) => o.offset),
      [0, 1],
      'the third message is being handled',
    )
    assert.deepEqual(await it.return(undefined), { value: undefined, done: true })
    assert.deepEqual(await it.next(), { value: undefined, done: true }, 'a pull after the loop left ends at once')
    await Promise.resolve()
    assert.equal(consumer.outcomes.length, 3, 'leaving settles the current message')
    assert.equal(consumer.stops(), 1)
  })

  it('starts the consumer on the first pull only', async () => {
    let runs = 0
    const consumer = { ...fakeConsumer(1) }
    const run = consumer.run
    consumer.run = (h) => {
      runs++
      return run(h)
    }
    const unused = messagesOf(consumer, new AbortController().signal)
    await Promise.resolve()
    assert.equal(runs, 0, 'an iterator not pulled from runs nothing')
    assert.deepEqual(await unused.return(undefined), { value: undefined, done: true })
    assert.equal(consumer.stops(), 0, 'nor stops anything')
    const failure = new Error('the loop gave up')
    const thrown = messagesOf(consumer, new AbortController().signal)
    assert.equal((await thrown.next()).done, false)
    await assert.rejects(thrown.throw(failure), (e) => e === failure)
    assert.equal(runs, 1)
    assert.equal(consumer.stops(), 1, 'throwing into the loop stops the consumer')
  })
})
