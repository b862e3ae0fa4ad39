// Batch mode against the real broker: batch middleware (useBatch) wraps every batch and use()
// middleware is refused rather than skipped; the retry and dlq options retry a failed batch with
// backoff and then dead-letter it whole; a partial failure (a BatchResult) retries and
// dead-letters only its failed records; without a DLQ nothing past a failed record is committed,
// with resolve() committing the progress before it; and `concurrency` holds for batches that go
// because their timeout expired. Each of these was ignored before (batch handlers ran bare).

import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Admin } from '../../src/admin/admin.ts'
import type { Consumer } from '../../src/consumer/consumer.ts'
import type { BatchHandler, Message } from '../../src/consumer/message.ts'
import { ConfigError } from '../../src/protocol/errors.ts'
import { committedOffsets, groupConsumer, topicWith } from '../helpers/consumers.ts'
import { brokers, kcat } from '../helpers/kafka.ts'
import { waitFor } from '../helpers/wait.ts'

const admin = new Admin({ brokers: brokers() })
const values = (messages: readonly Message[]) => messages.map((m) => Number(m.value))

/** Runs `handler` on `c` until `done()` holds, then stops the consumer. */
async function runUntil(c: Consumer, handler: BatchHandler, what: string, done: () => boolean, ms = 60_000) {
  const run = c.run(handler)
  try {
    await waitFor(what, done, { timeoutMs: ms })
  } finally {
    await c.stop()
    await run
  }
}

/** Every record of a topic as kcat's JSON envelope (-J): headers come as a flat [key, value, ...] list. */
function deadLetters(topic: string): { value: number; headers: Map<string, string> }[] {
  return kcat(['-b', brokers()[0], '-C', '-t', topic, '-e', '-q', '-J'])
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const r = JSON.parse(line) as { payload: string; headers?: string[] }
      const flat = r.headers ?? []
      const headers = new Map(Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]))
      return { value: Number(r.payload), headers }
    })
}

describe('Consumer batch mode', () => {
  after(() => admin.close())

  it('runs useBatch middleware around every batch, and refuses use() middleware it would skip', async () => {
    const topic = await topicWith(admin, 2, 200, 'batch-mw')
    const refused = groupConsumer(topic, { batch: { size: 32, timeoutMs: 50 } }).use((next) => next)
    assert.throws(() => refused.run(async () => {}), ConfigError)
    await refused.stop()

    const c = groupConsumer(topic, { batch: { size: 32, timeoutMs: 50 } })
    const wrapped: number[] = []
    c.useBatch((next) => (messages, context) => {
      wrapped.push(...values(messages))
      return next(messages, context)
    })
    const handled: number[] = []
    await runUntil(
      c,
      (messages) => void handled.push(...values(messages)),
      '200 records handled',
      () => handled.length >= 200,
    )
    assert.equal(handled.length, 200)
    assert.deepEqual(
      [...wrapped].sort((a, b) => a - b),
      Array.from({ length: 200 }, (_, i) => i),
      'the middleware saw every batch',
    )
  })

  it('retries a failing batch with backoff, then dead-letters it whole and commits past it', async () => {
    const topic = await topicWith(admin, 1, 30, 'batch-retry')
    const dlq = await topicWith(admin, 1, 0, 'batch-retry-dlq')
    const c = groupConsumer(topic, {
      batch: { size: 10, timeoutMs: 50 },
      retry: { maxRetries: 2, initialDelayMs: 100, maxDelayMs: 100, jitter: 0 },
      dlq: { topic: dlq },
    })
    const poisoned: { attempt: number; values: number[]; at: number }[] = []
    let passed = 0
    await runUntil(
      c,
      (messages, context) => {
        if (values(messages).includes(13)) {
          poisoned.push({ attempt: context.attempt, values: values(messages), at: Date.now() })
          throw new Error('batch with 13 refused')
        }
        passed += messages.length
      },
      'every record handled or dead-lettered',
      () => c.stats().messages === 30,
    )
    assert.equal(passed + poisoned[0].values.length, 30)
    assert.deepEqual(
      poisoned.map((p) => p.attempt),
      [1, 2, 3],
    )
    assert.ok(
      poisoned.every((p) => p.values.join() === poisoned[0].values.join()),
      'each retry had the whole batch',
    )
    assert.ok(poisoned[1].at - poisoned[0].at >= 90, 'the retry waited its backoff')
    const dead = deadLetters(dlq)
    assert.deepEqual(
      dead.map((d) => d.value),
      poisoned[0].values,
      'the whole batch dead-lettered',
    )
    assert.equal(dead[0].headers.get('kafkax-dlq-attempts'), '3')
    assert.equal(dead[0].headers.get('kafkax-dlq-error-message'), 'batch with 13 refused')
    assert.equal((await committedOffsets(admin, `group-${topic}`)).get(0), 30n)
  })

  it('a partial failure retries and dead-letters only the failed records; all are committed', async () => {
    const topic = await topicWith(admin, 1, 30, 'batch-partial')
    const dlq = await topicWith(admin, 1, 0, 'batch-partial-dlq')
    const c = groupConsumer(topic, {
      batch: { size: 10, timeoutMs: 50 },
      retry: { maxRetries: 1, initialDelayMs: 20, maxDelayMs: 20 },
      dlq: { topic: dlq },
    })
    const calls: number[][] = []
    await runUntil(
      c,
      (messages) => {
        calls.push(values(messages))
        return { failed: messages.filter((m) => Number(m.value) % 10 === 3), error: new Error('ends in 3') }
      },
      'every record handled or dead-lettered',
      () => c.stats().messages === 30,
    )
    assert.deepEqual(
      deadLetters(dlq).map((d) => d.value),
      [3, 13, 23],
    )
    const retries = calls.filter((v) => v.every((n) => n % 10 === 3))
    assert.deepEqual(retries.flat().sort(), [13, 23, 3].sort(), 'each failed record retried once, alone')
    assert.equal(calls.flat().length, 30 + 3)
    assert.equal((await committedOffsets(admin, `group-${topic}`)).get(0), 30n)
  })

  it('without a DLQ, commits up to the first failed record and never past it, with what resolve() marked', async () => {
    // a BatchResult failing record 12 of a batch whose other records were handled
    const reported = await topicWith(admin, 1, 30, 'batch-stuck')
    const errors: Error[] = []
    const c = groupConsumer(reported, { batch: { size: 10, timeoutMs: 50 }, onError: (e) => errors.push(e) })
    let deliveriesOf12 = 0
    await runUntil(
      c,
      (messages) => {
        const failed = messages.filter((m) => Number(m.value) === 12)
        deliveriesOf12 += failed.length
        return { failed }
      },
      'record 12 delivered three times',
      () => deliveriesOf12 >= 3,
    )
    assert.equal((await committedOffsets(admin, `group-${reported}`)).get(0), 12n)
    assert.ok(
      errors.some((e) => /at offset 12/.test(e.message)),
      'the failure was reported with its offset',
    )

    // a handler that resolves each record it handled and throws at record 12
    const thrown = await topicWith(admin, 1, 30, 'batch-resolve')
    const d = groupConsumer(thrown, { batch: { size: 10, timeoutMs: 50 }, onError: () => {} })
    const batchesWith12: number[][] = []
    await runUntil(
      d,
      (messages, context) => {
        for (const m of messages) {
          if (Number(m.value) === 12) {
            batchesWith12.push(values(messages))
            throw new Error('12 fails')
          }
          context.resolve(m.offset)
        }
      },
      'record 12 delivered twice',
      () => batchesWith12.length >= 2,
    )
    assert.ok(batchesWith12[0][0] < 12, `record 12 came after others in its batch (${batchesWith12[0]})`)
    assert.equal((await committedOffsets(admin, `group-${thrown}`)).get(0), 12n, 'the records resolved committed')
  })

  it('a batch that goes because its timeout expired waits for a free worker: concurrency 1 holds', async () => {
    const topic = await topicWith(admin, 2, 10, 'batch-timer')
    const c = groupConsumer(topic, { concurrency: 1, batch: { size: 1000, timeoutMs: 20 } })
    let running = 0
    let maxRunning = 0
    let handled = 0
    const partitions = new Set<number>()
    await runUntil(
      c,
      async (messages) => {
        partitions.add(messages[0].partition)
        maxRunning = Math.max(maxRunning, ++running)
        await new Promise((r) => setTimeout(r, 300))
        running--
        handled += messages.length
      },
      '10 records handled',
      () => handled >= 10,
    )
    assert.equal(partitions.size, 2, 'both partitions had records (else nothing could run at once)')
    assert.equal(maxRunning, 1, 'batch handlers ran at once with concurrency 1')
  })
})
