// Consumer middleware with fake handlers and a fake producer: composition order, retry counts and
// backoff, abort, dead-letter records and "resolve only after the ack", logging, recover, timeout.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  ConsumedMessage,
  type Handler,
  type HandlerContext,
  type Middleware,
  sendWithoutTransaction,
} from '../../../src/consumer/message.ts'
import {
  compose,
  DeadLetterError,
  deadLetter,
  HandlerError,
  logging,
  recover,
  retry,
  timeout,
} from '../../../src/consumer/middleware.ts'
import type { ProducerRecord, RecordMetadata } from '../../../src/producer/record.ts'
import { ConfigError, KafkaxError, TimeoutError } from '../../../src/protocol/errors.ts'
import { waitFor } from '../../helpers/wait.ts'

const message = new ConsumedMessage(
  'orders',
  3,
  42n,
  1_700_000_000_000,
  Buffer.from('k1'),
  Buffer.from('v1'),
  [{ key: 'trace', value: Buffer.from('abc') }],
  7,
)

const context = (signal = new AbortController().signal): HandlerContext => ({
  signal,
  attempt: 1,
  send: sendWithoutTransaction,
})

/** Runs a handler on the test message: composed handlers return promises, though Handler says unknown. */
const call = async (handler: Handler, ctx = context()): Promise<unknown> => handler(message, ctx)

/** A producer whose sends wait until the test settles them. */
function fakeProducer() {
  const sent: ProducerRecord[] = []
  const pending: { resolve: (m: RecordMetadata) => void; reject: (e: unknown) => void }[] = []
  return {
    sent,
    pending,
    send(record: ProducerRecord): Promise<RecordMetadata> {
      sent.push(record)
      return new Promise((resolve, reject) => pending.push({ resolve, reject }))
    },
    ack() {
      pending.shift()!.resolve({ topic: 'dlq', partition: 0, offset: 0n, timestamp: Date.now() })
    },
  }
}

/** A producer that acknowledges every send at once. */
function ackingProducer() {
  const sent: ProducerRecord[] = []
  return {
    sent,
    send: async (record: ProducerRecord) => {
      sent.push(record)
      return { topic: record.topic, partition: 0, offset: BigInt(sent.length - 1), timestamp: Date.now() }
    },
  }
}

const headerMap = (record: ProducerRecord) =>
  new Map((record.headers as { key: string; value: Buffer | string | null }[]).map((h) => [h.key, h.value]))

/** Whether `promise` is still pending once everything already queued ran (the fakes do no I/O). */
async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false
  promise.then(
    () => {
      settled = true
    },
    () => {
      settled = true
    },
  )
  await new Promise((resolve) => setImmediate(resolve))
  return !settled
}

describe('compose', () => {
  it('runs the first middleware outermost and passes results and context through', async () => {
    const trace: string[] = []
    const named =
      (name: string): Middleware =>
      (next) =>
      async (m, c) => {
        trace.push(`${name} in`)
        const result = await next(m, c)
        trace.push(`${name} out`)
        return result
      }
    const handler: Handler = (m, c) => {
      trace.push(`handler ${m.offset} ${c.attempt}`)
      return 'done'
    }
    assert.equal(await call(compose([named('a'), named('b')], handler)), 'done')
    assert.deepEqual(trace, ['a in', 'b in', 'handler 42 1', 'b out', 'a out'])
    assert.equal(compose([], handler), handler)
  })
})

describe('retry', () => {
  it('re-invokes the handler with the attempt counted up until it succeeds', async () => {
    const attempts: number[] = []
    const handler = compose([retry({ initialDelayMs: 1 })], (_m, c) => {
      attempts.push(c.attempt)
      if (c.attempt < 3) throw new Error(`fail ${c.attempt}`)
      return 'ok'
    })
    assert.equal(await call(handler), 'ok')
    assert.deepEqual(attempts, [1, 2, 3])
  })

  it('throws the last error after maxRetries retries', async () => {
    let calls = 0
    const handler = compose([retry({ maxRetries: 2, initialDelayMs: 1 })], () => {
      calls++
      throw new Error(`fail ${calls}`)
    })
    await assert.rejects(call(handler), { message: 'fail 3' })
    assert.equal(calls, 3)
  })

  it('does not retry errors that `retriable` rejects, nor when maxRetries is 0', async () => {
    let calls = 0
    const failing: Handler = () => {
      calls++
      throw new Error('permanent')
    }
    const picky = retry({ initialDelayMs: 1, retriable: (e, m) => m.topic === 'orders' && !String(e).includes('perm') })
    await assert.rejects(call(compose([picky], failing)), /permanent/)
    assert.equal(calls, 1)
    await assert.rejects(call(compose([retry({ maxRetries: 0 })], failing)), /permanent/)
    assert.equal(calls, 2)
  })

  it('waits with exponential backoff, bounded by maxDelayMs', async () => {
    const delays: number[] = []
    const times: number[] = []
    const handler = compose(
      [
        retry({
          maxRetries: 4,
          initialDelayMs: 10,
          maxDelayMs: 50,
          multiplier: 3,
          jitter: 0,
          onRetry: (_e, _m, _attempt, delayMs) => delays.push(delayMs),
        }),
      ],
      () => {
        times.push(performance.now())
        throw new Error('no')
      },
    )
    await assert.rejects(call(handler))
    assert.deepEqual(delays, [10, 30, 50, 50])
    const gaps = times.slice(1).map((t, i) => t - times[i])
    // timers may fire a little early, never much
    for (const [i, gap] of gaps.entries()) assert.ok(gap >= delays[i] - 2, `gap ${gap} after a ${delays[i]} ms delay`)
  })

  it('spreads delays by the jitter', async () => {
    const delays: number[] = []
    const handler = compose(
      [retry({ maxRetries: 30, initialDelayMs: 4, maxDelayMs: 4, jitter: 0.5, onRetry: (...a) => delays.push(a[3]) })],
      () => {
        throw new Error('no')
      },
    )
    await assert.rejects(call(handler))
    assert.ok(delays.every((d) => d >= 2 && d <= 6))
    assert.ok(new Set(delays).size > 1, `jittered delays ${delays}`)
  })

  it('stops waiting when the signal aborts and throws the last handler error', async () => {
    const controller = new AbortController()
    let calls = 0
    const handler = compose([retry({ initialDelayMs: 60_000 })], () => {
      calls++
      throw new Error('busy')
    })
    const started = Date.now()
    const run = call(handler, context(controller.signal))
    setTimeout(() => controller.abort(new Error('stopping')), 10)
    await assert.rejects(run, { message: 'busy' })
    assert.equal(calls, 1)
    assert.ok(Date.now() - started < 5000)
  })

  it('rejects bad options with a ConfigError', () => {
    assert.throws(() => retry({ maxRetries: -1 }), ConfigError)
    assert.throws(() => retry({ maxRetries: 1.5 }), ConfigError)
    assert.throws(() => retry({ multiplier: 0.5 }), ConfigError)
  })
})

describe('deadLetter', () => {
  it('writes the failed message with headers describing the failure, after the retries', async () => {
    const producer = ackingProducer()
    const error = new TypeError('bad order')
    const handler = compose(
      [deadLetter({ producer, topic: 'orders-dlq' }), retry({ maxRetries: 2, initialDelayMs: 1 })],
      () => {
        throw error
      },
    )
    const before = Date.now()
    assert.equal(await call(handler), undefined)
    assert.equal(producer.sent.length, 1)
    const [record] = producer.sent
    assert.equal(record.topic, 'orders-dlq')
    assert.deepEqual(record.key, Buffer.from('k1'))
    assert.deepEqual(record.value, Buffer.from('v1'))
    const headers = record.headers as { key: string; value: unknown }[]
    assert.deepEqual(headers[0], { key: 'trace', value: Buffer.from('abc') })
    const h = headerMap(record)
    assert.equal(h.get('kafkax-dlq-topic'), 'orders')
    assert.equal(h.get('kafkax-dlq-partition'), '3')
    assert.equal(h.get('kafkax-dlq-offset'), '42')
    assert.equal(h.get('kafkax-dlq-timestamp'), '1700000000000')
    assert.equal(h.get('kafkax-dlq-error-name'), 'TypeError')
    assert.equal(String(h.get('kafkax-dlq-error-message')), 'bad order')
    assert.equal(String(h.get('kafkax-dlq-error-stack')), error.stack)
    assert.equal(h.get('kafkax-dlq-attempts'), '3')
    const failedAt = Number(h.get('kafkax-dlq-failed-at'))
    assert.ok(failedAt >= before && failedAt <= Date.now())
  })

  it('resolves only after the write is acknowledged', async () => {
    const producer = fakeProducer()
    const handler = compose([deadLetter({ producer, topic: 'dlq' })], () => Promise.reject(new Error('no')))
    const run = call(handler)
    await waitFor('the dead letter written', () => producer.sent.length === 1)
    assert.equal(await isPending(run), true, 'resolved before the write was acknowledged')
    producer.ack()
    assert.equal(await run, undefined)
  })

  it('throws a DeadLetterError carrying the write error when the write fails, so nothing is committed', async () => {
    const producer = fakeProducer()
    const handlerError = new Error('handler broke')
    const handler = compose([deadLetter({ producer, topic: 'dlq' })], () => {
      throw handlerError
    })
    const run = call(handler)
    await waitFor('the dead letter written', () => producer.pending.length === 1)
    assert.equal(await isPending(run), true)
    const writeError = new Error('broker down')
    producer.pending[0].reject(writeError)
    const error = await run.then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    )
    assert.ok(error instanceof DeadLetterError && error instanceof KafkaxError)
    assert.equal(error.cause, writeError)
    assert.equal(error.handlerError, handlerError)
    assert.match(error.message, /orders\/3@42 to dlq: broker down/)
  })

  it('takes the topic from a function and the header prefix from the options, and passes successes through', async () => {
    const producer = ackingProducer()
    const mw = deadLetter({ producer, topic: (m) => `${m.topic}.dead`, headersPrefix: 'x-' })
    assert.equal(await call(compose([mw], () => 'fine')), 'fine')
    assert.equal(producer.sent.length, 0)
    await call(
      compose([mw], () => {
        throw new Error('no')
      }),
    )
    assert.equal(producer.sent[0].topic, 'orders.dead')
    const h = headerMap(producer.sent[0])
    assert.equal(h.get('x-offset'), '42')
    // without retry() the attempt comes from the context
    assert.equal(h.get('x-attempts'), '1')
  })

  it('cuts long error texts to 2 KB between UTF-8 characters and names non-Error values', async () => {
    const producer = ackingProducer()
    const error = new Error('é'.repeat(3000))
    error.stack = `Error: ${'€'.repeat(5000)}`
    await call(
      compose([deadLetter({ producer, topic: 'dlq' })], () => {
        throw error
      }),
    )
    const h = headerMap(producer.sent[0])
    const stack = h.get('kafkax-dlq-error-stack') as Buffer
    assert.ok(stack.length <= 2048 && stack.length > 2040, `stack of ${stack.length} bytes`)
    assert.ok(error.stack.startsWith(stack.toString('utf8')), 'no character was cut')
    assert.equal((h.get('kafkax-dlq-error-message') as Buffer).length, 2048)

    await call(
      compose([deadLetter({ producer, topic: 'dlq' })], () => {
        throw 'plain string'
      }),
    )
    const h2 = headerMap(producer.sent[1])
    assert.equal(h2.get('kafkax-dlq-error-name'), 'HandlerError')
    assert.match(String(h2.get('kafkax-dlq-error-message')), /plain string/)
  })

  it('rethrows without writing when the signal aborted: the message is redelivered', async () => {
    const producer = ackingProducer()
    const controller = new AbortController()
    const handler = compose([deadLetter({ producer, topic: 'dlq' })], () => {
      controller.abort()
      throw new Error('interrupted')
    })
    await assert.rejects(call(handler, context(controller.signal)), /interrupted/)
    assert.equal(producer.sent.length, 0)
  })
})

describe('logging', () => {
  function fakeLogger() {
    const lines: { level: string; fields: any; text: string }[] = []
    const at = (level: string) => (fields: object, text: string) => lines.push({ level, fields, text })
    return { lines, logger: { debug: at('debug'), info: at('info'), error: at('error'), warn: at('warn') } }
  }

  it('logs start and finish with the message coordinates and the duration', async () => {
    const { lines, logger } = fakeLogger()
    const result = await call(
      compose([logging(logger, { level: 'info' })], async () => {
        await new Promise((r) => setTimeout(r, 15))
        return 7
      }),
    )
    assert.equal(result, 7)
    assert.deepEqual(
      lines.map((l) => [l.level, l.text]),
      [
        ['info', 'handler started'],
        ['info', 'handler finished'],
      ],
    )
    assert.deepEqual(lines[0].fields, { topic: 'orders', partition: 3, offset: '42', attempt: 1 })
    assert.ok(lines[1].fields.durationMs >= 10, `duration ${lines[1].fields.durationMs}`)
  })

  it('logs failures with the error and rethrows it; missing logger methods are skipped', async () => {
    const { lines, logger } = fakeLogger()
    const error = new Error('no')
    await assert.rejects(
      call(
        compose([logging({ warn: logger.warn }, { errorLevel: 'warn' })], () => {
          throw error
        }),
      ),
      (e) => e === error,
    )
    assert.equal(lines.length, 1)
    assert.equal(lines[0].level, 'warn')
    assert.equal(lines[0].text, 'handler failed')
    assert.equal(lines[0].fields.err, error)
    assert.equal(typeof lines[0].fields.durationMs, 'number')
  })
})

describe('recover', () => {
  it('turns thrown non-Error values into HandlerErrors with the value as cause', async () => {
    for (const value of ['x', undefined, { code: 1 }, 42]) {
      const error = await call(
        compose([recover()], () => {
          throw value
        }),
      ).then(
        () => assert.fail('resolved'),
        (e: unknown) => e,
      )
      assert.ok(error instanceof HandlerError && error instanceof KafkaxError, `for ${String(value)}`)
      assert.equal(error.cause, value)
      assert.equal(error.code, 'EHANDLER')
    }
    const rejected = call(compose([recover()], () => Promise.reject('async x')))
    await assert.rejects(rejected, (e) => e instanceof HandlerError && /async x/.test(e.message))
  })

  it('keeps Errors as they are and lets onError skip the message', async () => {
    const error = new RangeError('r')
    await assert.rejects(call(compose([recover(() => undefined)], () => Promise.reject(error))), (e) => e === error)
    const seen: unknown[] = []
    const skipping = recover(async (e, m, c) => {
      seen.push(e, m.offset, c.attempt)
      return 'skip'
    })
    assert.equal(
      await call(
        compose([skipping], () => {
          throw 'x'
        }),
      ),
      undefined,
    )
    assert.ok(seen[0] instanceof HandlerError)
    assert.deepEqual(seen.slice(1), [42n, 1])
  })
})

describe('timeout', () => {
  it('fails a handler that runs too long and aborts its signal', async () => {
    let inner: AbortSignal | undefined
    const handler = compose([timeout(20)], (_m, c) => {
      inner = c.signal
      return new Promise(() => {})
    })
    await assert.rejects(call(handler), TimeoutError)
    assert.equal(inner?.aborted, true)
    assert.ok(inner?.reason instanceof TimeoutError)
  })

  it('lets quick handlers finish, and passes an outer abort on', async () => {
    assert.equal(await call(compose([timeout(1000)], () => 'quick')), 'quick')
    const controller = new AbortController()
    const handler = compose([timeout(1000)], (_m, c) => {
      controller.abort(new Error('revoked'))
      return c.signal.reason
    })
    assert.match(String(await call(handler, context(controller.signal))), /revoked/)
    assert.throws(() => timeout(0), ConfigError)
  })
})
