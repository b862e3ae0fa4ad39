// Retries as redeliveries without a broker: before the last attempt a failed record is released
// after the backoff (the delivery count is the attempt), on the last one (the option's attempts,
// the group's delivery count limit, or an error not worth retrying) the error goes on to the
// dead-letter middleware or the consumer; a handler's own acknowledgement stands, and a stop
// releases at once.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConsumedMessage } from '../../../src/consumer/message.ts'
import { type ShareHandlerContext, shareContext } from '../../../src/share/message.ts'
import { redelivery } from '../../../src/share/redelivery.ts'

const message = new ConsumedMessage('t', 0, 5n, 0, null, null, [], 0)

function context(deliveryCount: number, signal = new AbortController().signal) {
  return shareContext(signal, deliveryCount, 't/0@5', () => {})
}

const failing = () => {
  throw new Error('boom')
}

describe('redelivery', () => {
  it('releases after the backoff before the last attempt, and passes the error on at the last', async () => {
    const waits: number[] = []
    const handler = redelivery(
      {
        maxRetries: 2,
        initialDelayMs: 20,
        jitter: 0,
        onRetry: (_e, _m, attempt, delayMs) => waits.push(attempt, delayMs),
      },
      false,
      () => 5,
    )(failing)
    for (const deliveryCount of [1, 2]) {
      const ctx = context(deliveryCount)
      const started = performance.now()
      await handler(message, ctx)
      assert.equal(ctx.acknowledgement(), 'release')
      assert.ok(performance.now() - started >= 15 * deliveryCount, 'waited the backoff before releasing')
    }
    assert.deepEqual(waits, [1, 20, 2, 40])
    const last = context(3)
    await assert.rejects(async () => handler(message, last), /boom/)
    assert.equal(
      last.acknowledgement(),
      undefined,
      'the last attempt is for the dead-letter middleware or the consumer',
    )
  })

  it("treats the group's delivery count limit as the last attempt, and errors not worth retrying too", async () => {
    const handler = redelivery({ maxRetries: 10, initialDelayMs: 0 }, false, () => 3)(failing)
    await handler(message, context(2))
    await assert.rejects(async () => handler(message, context(3)), /boom/)
    const picky = redelivery({ retriable: (e) => (e as Error).message !== 'boom' }, false, () => 5)(failing)
    await assert.rejects(async () => picky(message, context(1)), /boom/)
  })

  it('without options releases at once until the limit, or passes the first failure on to a dead-letter topic', async () => {
    const plain = redelivery(undefined, false, () => 4)(failing)
    for (const n of [1, 2, 3]) {
      const ctx = context(n)
      await plain(message, ctx)
      assert.equal(ctx.acknowledgement(), 'release')
    }
    await assert.rejects(async () => plain(message, context(4)), /boom/)
    const toDlq = redelivery(undefined, true, () => 4)(failing)
    await assert.rejects(async () => toDlq(message, context(1)), /boom/)
  })

  it("keeps the handler's own acknowledgement, and releases at once when the consumer stops", async () => {
    const handler = redelivery(
      { maxRetries: 3, initialDelayMs: 60_000 },
      false,
      () => 5,
    )((_m, ctx) => {
      ;(ctx as ShareHandlerContext).reject()
      throw new Error('after rejecting')
    })
    const own = context(1)
    await handler(message, own)
    assert.equal(own.acknowledgement(), 'reject')

    const stop = new AbortController()
    const waiting = redelivery({ maxRetries: 3, initialDelayMs: 60_000 }, false, () => 5)(failing)
    const ctx = context(1, stop.signal)
    const run = waiting(message, ctx)
    setTimeout(() => stop.abort(), 20)
    const started = performance.now()
    await run
    assert.ok(performance.now() - started < 5000, 'the backoff ended with the stop')
    assert.equal(ctx.acknowledgement(), 'release')
    const stopped = context(1, stop.signal)
    await waiting(message, stopped)
    assert.equal(stopped.acknowledgement(), 'release', 'a failure after the stop releases without waiting')
  })
})
