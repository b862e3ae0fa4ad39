// Batch mode without a broker: the handler pipeline (useBatch middleware, the retry and dlq
// options) run by the dispatcher over a plain fake of the fetcher, with a fake dead-letter
// producer. Checked: middleware wraps batches, a failed batch is retried with backoff, a partial
// failure retries and dead-letters only its failed messages, resolve() commits progress at once,
// nothing past a failed message is committed without a DLQ, and concurrency holds when a batch
// goes because its timeout expired.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RetryPolicy } from '../../../src/client/retry.ts'
import { HandlerPipeline } from '../../../src/consumer/handler-pipeline.ts'
import type { BatchContext, BatchHandler, Message } from '../../../src/consumer/message.ts'
import { DeadLetterError, HandlerError } from '../../../src/consumer/middleware.ts'
import type { ConsumerOptions } from '../../../src/consumer/options.ts'
import type { ProducerRecord, RecordMetadata } from '../../../src/producer/record.ts'
import { ConfigError } from '../../../src/protocol/errors.ts'
import { waitFor } from '../../helpers/wait.ts'
import { dispatch, FakeFetcher } from './fake-fetcher.ts'

/** The dead-letter middleware writes its headers as a list. */
const header = (r: ProducerRecord, key: string) =>
  (r.headers as { key: string; value: unknown }[]).find((h) => h.key === `kafkax-dlq-${key}`)?.value

/** A dead-letter producer that acknowledges at once, or refuses the offsets in `refuse`. */
function fakeProducer(refuse = new Set<string>()) {
  const sent: ProducerRecord[] = []
  return {
    sent,
    closed: false,
    async send(record: ProducerRecord): Promise<RecordMetadata> {
      const offset = header(record, 'offset') as string
      if (refuse.has(offset)) throw new Error(`refused ${offset}`)
      sent.push(record)
      return { topic: record.topic, partition: 0, offset: BigInt(sent.length - 1), timestamp: 0 }
    },
    async close() {
      this.closed = true
    },
  }
}

const offsets = (messages: readonly Message[]) => messages.map((m) => Number(m.offset))

/** The pipeline of a consumer with these options (batch mode) around `handler`, and its DLQ producer. */
function pipeline(options: Pick<ConsumerOptions, 'retry' | 'dlq'>, refuse?: Set<string>) {
  const producer = fakeProducer(refuse)
  const p = new HandlerPipeline({ batch: { size: 10 }, ...options }, () => producer)
  return { pipeline: p, producer }
}

const fast = { maxRetries: 2, initialDelayMs: 20, maxDelayMs: 20, jitter: 0 }

describe('Batch mode', () => {
  it('runs useBatch middleware around each batch; middleware of the other mode is refused', async () => {
    const { pipeline: p } = pipeline({})
    const wrapped: number[][] = []
    p.batchMiddlewares.push((next) => (messages, context) => {
      wrapped.push(offsets(messages))
      return next(messages, context)
    })
    const handled: number[] = []
    const fetcher = new FakeFetcher([25], 25)
    const run = dispatch(
      fetcher,
      p.buildBatch((messages) => void handled.push(...offsets(messages))),
      { batch: { size: 10, timeoutMs: 20 } },
    )
    await waitFor('25 messages handled', () => handled.length === 25, { timeoutMs: 5000 })
    await run.stop()
    assert.deepEqual(wrapped, [
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      [10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
      [20, 21, 22, 23, 24],
    ])
    assert.equal(run.committable(0), 25n)

    // use() middleware would be skipped in batch mode, and useBatch() without it: both refused
    const single = new HandlerPipeline({ batch: { size: 10 } }, () => fakeProducer())
    single.middlewares.push((next) => next)
    assert.throws(() => single.buildBatch(() => {}), ConfigError)
    const batchOnly = new HandlerPipeline({}, () => fakeProducer())
    batchOnly.batchMiddlewares.push((next) => next)
    assert.throws(() => batchOnly.build(() => {}), ConfigError)
  })

  it('retries a failed batch with backoff and context.attempt counting up, then commits it', async () => {
    const { pipeline: p } = pipeline({ retry: fast })
    const attempts: { attempt: number; offsets: number[]; at: number }[] = []
    const handler: BatchHandler = (messages, context) => {
      attempts.push({ attempt: context.attempt, offsets: offsets(messages), at: performance.now() })
      if (messages[0].offset === 0n && context.attempt < 3) throw new Error('not yet')
    }
    const run = dispatch(new FakeFetcher([10], 10), p.buildBatch(handler), { batch: { size: 10 } })
    await waitFor('the batch handled', () => run.committable(0) === 10n, { timeoutMs: 5000 })
    await run.stop()
    assert.deepEqual(
      attempts.map((a) => a.attempt),
      [1, 2, 3],
    )
    assert.ok(
      attempts.every((a) => a.offsets.length === 10),
      'the whole batch again each time',
    )
    assert.ok(attempts[1].at - attempts[0].at >= 15, 'a backoff between attempts')
    assert.equal(run.reported.length, 0, 'no failure reached the partition')
  })

  it('a partial failure retries only the failed messages, then dead-letters them; the whole batch is committed', async () => {
    const { pipeline: p, producer } = pipeline({ retry: fast, dlq: { topic: 'orders-dlq' } })
    const calls: number[][] = []
    const handler: BatchHandler = (messages) => {
      calls.push(offsets(messages))
      const failed = messages.filter((m) => m.offset === 3n || m.offset === 7n)
      return { failed, error: new Error(`bad ${offsets(failed)}`) }
    }
    const run = dispatch(new FakeFetcher([10], 10), p.buildBatch(handler), { batch: { size: 10 } })
    await waitFor('the batch committed', () => run.committable(0) === 10n, { timeoutMs: 5000 })
    await run.stop()
    assert.deepEqual(calls, [
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      [3, 7],
      [3, 7],
    ])
    assert.deepEqual(
      producer.sent.map((r) => header(r, 'offset')),
      ['3', '7'],
    )
    assert.equal(producer.sent[0].topic, 'orders-dlq')
    assert.equal(header(producer.sent[0], 'attempts'), '3')
    assert.equal(String(header(producer.sent[0], 'error-message')), 'bad 3,7')
    assert.equal(run.reported.length, 0)
    await p.close()
    assert.ok(producer.closed)
  })

  it('without a DLQ, the partition stops at the first failed message: nothing after it is committed', async () => {
    const { pipeline: p } = pipeline({ retry: { ...fast, maxRetries: 1 } })
    const handled: number[] = []
    let calls = 0
    let committableAtRedelivery: bigint | undefined
    // the first attempt and its retry fail 4 and 8; the redelivery passes
    const handler: BatchHandler = (messages) => {
      if (calls === 2) committableAtRedelivery = run.committable(0)
      const failed = calls++ < 2 ? messages.filter((m) => m.offset === 4n || m.offset === 8n) : []
      handled.push(...offsets(messages).filter((o) => !failed.some((m) => Number(m.offset) === o)))
      return { failed }
    }
    const fetcher = new FakeFetcher([10], 10)
    const run = dispatch(fetcher, p.buildBatch(handler), { batch: { size: 10, timeoutMs: 10 } })
    await waitFor('the partition handled from offset 4 again', () => run.committable(0) === 10n, { timeoutMs: 5000 })
    await run.stop()
    assert.equal(committableAtRedelivery, 4n, 'committed up to the first failed message, never past it')
    assert.equal(run.reported.length, 1)
    assert.match(run.reported[0].message, /at offset 4: the batch handler reported 2 of 2 messages failed/)
    assert.ok(run.reported[0].cause instanceof HandlerError)
    assert.deepEqual(fetcher.calls, ['pause 0', 'seek 0 4', 'resume 0'])
    // 5-7 and 9 were handled before the failure and again after it (at least once)
    assert.deepEqual(handled, [0, 1, 2, 3, 5, 6, 7, 9, 4, 5, 6, 7, 8, 9])
  })

  it('resolve() makes progress committable before the batch returns; a throw then fails only the rest', async () => {
    let context: BatchContext | undefined
    let release!: () => void
    const { pipeline: p, producer } = pipeline({ dlq: { topic: 'orders-dlq' } })
    const handler: BatchHandler = async (messages, ctx) => {
      context = ctx
      ctx.resolve(messages[5].offset)
      await new Promise<void>((r) => (release = r))
      throw new Error('the rest failed')
    }
    const run = dispatch(new FakeFetcher([10], 10), p.buildBatch(handler), { batch: { size: 10 } })
    await waitFor('the batch started', () => context !== undefined, { timeoutMs: 5000 })
    assert.equal(run.committable(0), 6n, 'offsets 0-5 committable while the handler still runs')
    assert.equal(context!.resolvedOffset(), 5n)
    context!.resolve(2n)
    assert.equal(context!.resolvedOffset(), 5n, 'a lower offset changes nothing')
    assert.throws(() => context!.resolve(5 as unknown as bigint), HandlerError)
    release()
    await waitFor('the rest dead-lettered and committed', () => run.committable(0) === 10n, { timeoutMs: 5000 })
    await run.stop()
    assert.deepEqual(
      producer.sent.map((r) => header(r, 'offset')),
      ['6', '7', '8', '9'],
    )
  })

  it('a result naming messages that are not in the batch fails the batch with a HandlerError', async () => {
    const { pipeline: p } = pipeline({})
    let calls = 0
    const handler: BatchHandler = () => (calls++ === 0 ? { failed: [{ offset: 99n }] } : undefined)
    const run = dispatch(new FakeFetcher([5], 5), p.buildBatch(handler), { batch: { size: 5 } })
    await waitFor('the batch handled on its second delivery', () => run.committable(0) === 5n, { timeoutMs: 5000 })
    await run.stop()
    assert.equal(run.reported.length, 1)
    assert.ok(run.reported[0].cause instanceof HandlerError)
    assert.match(run.reported[0].message, /at offset 0: .*not in its batch \(offsets 99\)/)
  })

  it('a failed dead-letter write leaves its message uncommitted, the others written are committed up to it', async () => {
    const { pipeline: p, producer } = pipeline({ dlq: { topic: 'orders-dlq' } }, new Set(['6']))
    const handler: BatchHandler = (messages) => ({ failed: messages.filter((m) => m.offset % 3n === 0n) })
    // a long failure backoff: the partition does not come back before the test stops it
    const run = dispatch(new FakeFetcher([10], 10), p.buildBatch(handler), {
      batch: { size: 10 },
      failureBackoff: new RetryPolicy({ initialDelayMs: 60_000, maxDelayMs: 60_000 }),
    })
    await waitFor('the failure reported', () => run.reported.length > 0, { timeoutMs: 5000 })
    await run.stop()
    assert.deepEqual(
      producer.sent.map((r) => header(r, 'offset')),
      ['0', '3', '9'],
    )
    assert.equal(run.committable(0), 6n)
    assert.ok(run.reported[0].cause instanceof DeadLetterError)
    assert.match(run.reported[0].message, /at offset 6: could not dead-letter orders\/0@6 to orders-dlq: refused 6/)
  })

  it('a batch that went because its timeout expired still waits for a free worker (concurrency)', async () => {
    // two partitions, fewer messages than a batch: both go by their timer, one at a time
    const fetcher = new FakeFetcher([3, 3], 10)
    let running = 0
    let maxRunning = 0
    const batches: number[] = []
    const handler: BatchHandler = async (messages) => {
      maxRunning = Math.max(maxRunning, ++running)
      await new Promise((r) => setTimeout(r, 60))
      batches.push(messages[0].partition)
      running--
    }
    const run = dispatch(fetcher, handler, { concurrency: 1, batch: { size: 100, timeoutMs: 10 } })
    await waitFor('both batches handled', () => batches.length === 2, { timeoutMs: 5000 })
    await run.stop()
    assert.equal(maxRunning, 1, 'two batch handlers ran at once with concurrency 1')
    assert.deepEqual([...batches].sort(), [0, 1])
    assert.equal(run.committable(0), 3n)
    assert.equal(run.committable(1), 3n)
  })
})
