// The exactly-once transactions of a consumer without a broker: the dispatcher over the fake fetcher,
// and a plain fake of the transactional producer keeping a broker's rule that what a transaction
// wrote and the offsets it sent become visible together at commit, never at abort. At every commit
// the fake checks the invariant exactly-once rests on: the outputs committed so far are those of
// the inputs below the committed offsets, each once.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { OffsetToCommit } from '../../../src/client/topic-partition.ts'
import { Consumer, type ConsumerOptions } from '../../../src/consumer/consumer.ts'
import { ExactlyOnce } from '../../../src/consumer/exactly-once.ts'
import {
  type Handler,
  type HandlerContext,
  type Message,
  sendWithoutTransaction,
} from '../../../src/consumer/message.ts'
import { HandlerError, retry } from '../../../src/consumer/middleware.ts'
import { CONSUMER_FIELDS } from '../../../src/consumer/options.ts'
import { silentLogger } from '../../../src/observability/logger.ts'
import { defaultsOf } from '../../../src/options/schema.ts'
import { Producer } from '../../../src/producer/producer.ts'
import type { ProducerRecord } from '../../../src/producer/record.ts'
import { TransactionError } from '../../../src/producer/transaction-error.ts'
import type { ConsumerGroupMetadata } from '../../../src/producer/transaction-requests.ts'
import { ErrorCode, kafkaError } from '../../../src/protocol/error-codes.ts'
import { ConfigError } from '../../../src/protocol/errors.ts'
import { waitFor, within } from '../../helpers/wait.ts'
import { dispatch, FakeFetcher } from './fake-fetcher.ts'

const GROUP = { groupId: 'g', generationId: 5, memberId: 'member-1', groupInstanceId: null }

/** A transactional producer as a broker sees it: records and offsets of the open transaction, those committed. */
class FakeTransactionalProducer {
  open = false
  pending: string[] = []
  pendingOffsets: OffsetToCommit[] = []
  readonly committed: string[] = []
  readonly offsets = new Map<number, bigint>()
  commits = 0
  aborts = 0
  /** Values whose write fails (as a broker refusing the record). */
  readonly refused = new Set<string>()
  /** The next commit fails with this. */
  commitFailure: Error | undefined
  readonly metadata: ConsumerGroupMetadata[] = []
  private inFlight = 0
  private recordFailed = false

  async initTransactions(): Promise<void> {}

  async beginTransaction() {
    assert.ok(!this.open, 'a transaction began while one was open')
    this.open = true
    return {
      publish: (r: ProducerRecord, cb: (e: Error | null) => void) => {
        assert.ok(this.open, 'a record outside a transaction')
        const value = String(r.value)
        const refused = this.refused.delete(value)
        if (!refused) this.pending.push(value)
        this.inFlight++
        setImmediate(() => {
          this.inFlight--
          if (!refused) return cb(null)
          this.recordFailed = true
          cb(kafkaError(ErrorCode.CORRUPT_MESSAGE, 'refused (fake)'))
        })
      },
      send: async (r: ProducerRecord) => {
        this.pending.push(String(r.value))
      },
      sendOffsets: async (offsets: readonly OffsetToCommit[], metadata: ConsumerGroupMetadata) => {
        this.pendingOffsets.push(...offsets)
        this.metadata.push(metadata)
      },
    }
  }

  async commitTransaction(): Promise<void> {
    assert.ok(this.open)
    await this.flush()
    // as the transaction manager: a record that failed leaves the transaction abortable
    if (this.recordFailed) throw new TransactionError('a record failed (fake)', 'abortable')
    const failure = this.commitFailure
    if (failure) {
      this.commitFailure = undefined
      throw failure
    }
    this.committed.push(...this.pending)
    for (const o of this.pendingOffsets) this.offsets.set(o.partition, o.offset)
    this.commits++
    this.reset()
    this.checkExactlyOnce()
  }

  async abortTransaction(): Promise<void> {
    assert.ok(this.open)
    await this.flush()
    this.aborts++
    this.reset()
  }

  /** Each input below its partition's committed offset has its one output (`out-p<partition>-<offset>`), no other. */
  checkExactlyOnce(): void {
    const expected: string[] = []
    for (const [p, offset] of this.offsets) for (let o = 0n; o < offset; o++) expected.push(`out-p${p}-${o}`)
    const outputs = this.committed.filter((v) => v.startsWith('out-'))
    assert.deepEqual(outputs.sort(), expected.sort(), 'committed outputs = outputs of the committed inputs')
  }

  /** Waits until every record's callback was called, as commit and abort do. */
  private async flush(): Promise<void> {
    do await new Promise((r) => setImmediate(r))
    while (this.inFlight > 0)
  }

  private reset(): void {
    this.recordFailed = false
    this.open = false
    this.pending = []
    this.pendingOffsets = []
  }
}

/** A dispatcher with an exactly-once consumer's transactions over the fake fetcher. */
function exactlyOnce(
  fetcher: FakeFetcher,
  handler: Handler,
  o: { concurrency?: number; maxMessages?: number; intervalMs?: number; wrap?: (h: Handler) => Handler } = {},
) {
  const producer = new FakeTransactionalProducer()
  const stopping = new AbortController()
  const reported: Error[] = []
  const fatal: Error[] = []
  let eo!: ExactlyOnce
  const d = dispatch(fetcher, (m: Message, ctx: HandlerContext) => composed(m, ctx), {
    concurrency: o.concurrency ?? 1,
    stop: stopping.signal,
    admit: (s, offset) => eo.admit(s, offset),
  })
  eo = new ExactlyOnce(
    {
      ...defaultsOf(CONSUMER_FIELDS.exactlyOnce.fields),
      producer: producer as unknown as Producer,
      ...(o.maxMessages !== undefined && { maxMessages: o.maxMessages }),
      ...(o.intervalMs !== undefined && { intervalMs: o.intervalMs }),
    },
    {
      dispatcher: d.dispatcher,
      member: { commitIdentity: () => GROUP },
      groupId: 'g',
      log: silentLogger,
      stop: stopping.signal,
      report: (e) => reported.push(e),
      fatal: (e) => fatal.push(e),
    },
  )
  const composed = (o.wrap ?? ((h) => h))(eo.middleware(handler))
  const stop = async () => {
    stopping.abort()
    await d.dispatcher.drain()
    await eo.commit()
  }
  return { producer, eo, reported, fatal, stop, stopping, dispatcher: d.dispatcher }
}

const output = (m: Message) => ({ topic: 'out', value: `out-p${m.partition}-${m.offset}` })

describe('ExactlyOnce', () => {
  it('commits the outputs of the handled messages with their offsets: three partitions, concurrency 3', async () => {
    const fetcher = new FakeFetcher([300, 300, 300], 40)
    const { producer, stop } = exactlyOnce(
      fetcher,
      async (m, ctx) => {
        await new Promise((r) => setImmediate(r))
        ctx.send(output(m))
      },
      { concurrency: 3, maxMessages: 50, intervalMs: 10_000 },
    )
    await waitFor('every offset committed', () => [0, 1, 2].every((p) => producer.offsets.get(p) === 300n), {
      timeoutMs: 20_000,
      state: () => [...producer.offsets],
    })
    await stop()
    assert.equal(producer.committed.length, 900)
    // 900 messages, at most 50 handed out per transaction
    assert.ok(producer.commits >= 18, `${producer.commits} commits`)
    assert.deepEqual(producer.metadata[0], GROUP, "the offsets carry the member's generation and id (KIP-447)")
  })

  it('commits a transaction intervalMs after its first message, however few it holds', async () => {
    const fetcher = new FakeFetcher([3], 1)
    const { producer, stop } = exactlyOnce(fetcher, (m, ctx) => ctx.send(output(m)), {
      maxMessages: 1000,
      intervalMs: 30,
    })
    await waitFor('the three messages committed', () => producer.offsets.get(0) === 3n)
    assert.equal(producer.commits, 1, 'one transaction for the three')
    await stop()
  })

  it("leaves a failed attempt's records out; the retry's records join", async () => {
    const fetcher = new FakeFetcher([100], 10)
    const { producer, stop, reported } = exactlyOnce(
      fetcher,
      (m, ctx) => {
        ctx.send({ topic: 'out', value: `attempt-${m.offset}-${ctx.attempt}` })
        if (m.offset % 10n === 3n && ctx.attempt === 1) throw new Error('first attempt fails')
        ctx.send(output(m))
      },
      { maxMessages: 30, wrap: (h) => retry({ maxRetries: 2, initialDelayMs: 1 })(h) },
    )
    await waitFor('every offset committed', () => producer.offsets.get(0) === 100n, {
      state: () => reported.map(String),
    })
    await stop()
    const attempts = producer.committed.filter((v) => v.startsWith('attempt-'))
    assert.equal(attempts.length, 100, 'one attempt record per message: the failed attempts wrote none')
    assert.ok(attempts.includes('attempt-3-2') && !attempts.includes('attempt-3-1'))
    producer.checkExactlyOnce()
  })

  it('aborts a transaction whose record failed and hands its messages out again from where it began', async () => {
    const fetcher = new FakeFetcher([60, 60], 10)
    const runs = new Map<string, number>()
    const { producer, reported, stop } = exactlyOnce(
      fetcher,
      (m, ctx) => {
        const key = `${m.partition}-${m.offset}`
        runs.set(key, (runs.get(key) ?? 0) + 1)
        ctx.send(output(m))
      },
      { maxMessages: 20 },
    )
    producer.refused.add('out-p1-25')
    await waitFor('every offset committed', () => producer.offsets.get(0) === 60n && producer.offsets.get(1) === 60n, {
      timeoutMs: 3000,
      state: () => reported.map(String),
    })
    await stop()
    assert.equal(producer.aborts, 1)
    assert.equal(runs.get('1-25'), 2, 'the refused output handled again')
    assert.ok([...runs.values()].filter((n) => n === 2).length > 1, 'with the rest of its transaction')
    assert.ok(
      reported.some((e) => /refused \(fake\)|a record failed \(fake\)/.test(e.message)),
      `the abort reported: ${reported.join('; ')}`,
    )
    assert.ok(
      fetcher.calls.some((c) => c.startsWith('seek 1 ')),
      'partition 1 rewound',
    )
    producer.checkExactlyOnce()
  })

  it('aborts and rewinds when the commit fails abortably; stops the consumer when it fails fatally', async () => {
    const fetcher = new FakeFetcher([40], 10)
    const { producer, fatal, eo, stop } = exactlyOnce(fetcher, (m, ctx) => ctx.send(output(m)), {
      maxMessages: 10,
    })
    producer.commitFailure = new TransactionError('the group refused the offsets (fake)', 'abortable')
    await waitFor('every offset committed', () => producer.offsets.get(0) === 40n)
    assert.equal(producer.aborts, 1)
    producer.checkExactlyOnce()

    fetcher.logs[0].push(...new FakeFetcher([45], 1).logs[0].slice(40))
    producer.commitFailure = new TransactionError('fenced (fake)', 'fatal', { type: 'PRODUCER_FENCED' })
    setImmediate(fetcher.onData)
    await waitFor('the fatal error passed on', () => fatal.length === 1)
    assert.equal(producer.offsets.get(0), 40n, 'nothing of the failed transaction committed')
    await eo.commit()
    await stop()
    assert.equal(producer.commits, 4, 'no transaction after the fatal error')
  })

  it('aborts when the partitions are lost', async () => {
    const fetcher = new FakeFetcher([10], 10)
    let handled = 0
    const { producer, eo, dispatcher, stop } = exactlyOnce(
      fetcher,
      (m, ctx) => {
        handled++
        ctx.send(output(m))
      },
      { maxMessages: 1000, intervalMs: 60_000 },
    )
    await waitFor('the ten messages handled', () => handled === 10)
    dispatcher.revoke(fetcher.partitions, true)
    await eo.abort()
    await stop()
    assert.equal(producer.aborts, 1)
    assert.equal(producer.commits, 0)
    assert.deepEqual(producer.committed, [])
  })

  it('commits what was handled when stop() abandons a hung handler, and drops what that handler writes later', async () => {
    const fetcher = new FakeFetcher([5, 5], 5)
    let release: () => void = () => {}
    const hung = new Promise<void>((r) => {
      release = r
    })
    let handled = 0
    const { producer, eo, dispatcher, stopping } = exactlyOnce(
      fetcher,
      async (m, ctx) => {
        if (m.partition === 1 && m.offset === 2n) await hung
        ctx.send(output(m))
        handled++
      },
      { concurrency: 2, maxMessages: 1000, intervalMs: 60_000 },
    )
    await waitFor('all but the hung handler done', () => handled === 7)
    // as Consumer.stop({ timeoutMs }) does
    stopping.abort()
    assert.deepEqual(await dispatcher.drain(50), [{ topic: 'orders', partition: 1 }])
    await within('the commit after the abandoned handler', eo.commit(), 5000)
    assert.deepEqual(
      [...producer.offsets],
      [
        [0, 5n],
        [1, 2n],
      ],
    )
    release()
    await waitFor('the abandoned handler to finish', () => handled === 8)
    await new Promise((r) => setImmediate(r))
    assert.deepEqual(producer.pending, [], 'its record joins no transaction')
    producer.checkExactlyOnce()
  })

  it('refuses a bad record at context.send(), and a send after the run ended', async () => {
    const fetcher = new FakeFetcher([2], 2)
    const errors: unknown[] = []
    let late: (() => void) | undefined
    const { producer, stop } = exactlyOnce(fetcher, (m, ctx) => {
      if (m.offset === 0n) {
        try {
          ctx.send({ topic: 'not a topic!', value: 'x' })
        } catch (error) {
          errors.push(error)
        }
        late = () => ctx.send(output(m))
      }
      ctx.send(output(m))
    })
    await waitFor('both committed', () => producer.offsets.get(0) === 2n)
    assert.throws(
      () => late!(),
      (e) => e instanceof HandlerError && /after the handler run/.test(e.message),
    )
    assert.ok(errors[0] instanceof ConfigError, `${errors[0]}`)
    await stop()
    producer.checkExactlyOnce()
  })

  it('hands nothing out while a transaction ends: the handlers of one transaction finish before its commit', async () => {
    const fetcher = new FakeFetcher([200, 200], 20)
    let running = 0
    const { producer, stop } = exactlyOnce(
      fetcher,
      async (m, ctx) => {
        running++
        assert.ok(!(producer as { committing?: boolean }).committing, 'a handler started during a commit')
        await new Promise((r) => setTimeout(r, m.offset % 7n === 0n ? 2 : 0))
        ctx.send(output(m))
        running--
      },
      { concurrency: 2, maxMessages: 25 },
    )
    const commit = producer.commitTransaction.bind(producer)
    producer.commitTransaction = async () => {
      assert.equal(running, 0, 'a handler still ran at commit')
      ;(producer as { committing?: boolean }).committing = true
      try {
        await commit()
      } finally {
        ;(producer as { committing?: boolean }).committing = false
      }
    }
    await waitFor('every offset committed', () => producer.offsets.get(0) === 200n && producer.offsets.get(1) === 200n)
    await stop()
    producer.checkExactlyOnce()
  })

  it('refuses options an exactly-once consumer cannot run with, and context.send() without them', () => {
    const brokers = ['127.0.0.1:1']
    const producer = new Producer({ brokers, transactionalId: 'eos-options' })
    const base: ConsumerOptions = { brokers, groupId: 'g', topics: ['in'], exactlyOnce: { producer } }
    const refused: [Partial<ConsumerOptions>, RegExp][] = [
      [{ exactlyOnce: { producer: new Producer({ brokers }) } }, /transactional Producer/],
      [{ exactlyOnce: { producer: {} as Producer } }, /exactlyOnce.producer: \{\} is not allowed: expected Producer/],
      [{ topics: undefined, assign: [{ topic: 'in', partition: 0 }] }, /needs groupId and topics/],
      [{ batch: { size: 10 } }, /does not take batch/],
      [{ orderBy: 'key' }, /does not take orderBy 'key'/],
      [{ commit: { intervalMs: 1000 } }, /not commit/],
      [
        { exactlyOnce: { producer, maxMessages: 0 } },
        /exactlyOnce.maxMessages: 0 is not allowed: expected integer >= 1/,
      ],
      [
        { exactlyOnce: { producer, intervalMs: 1.5 } },
        /exactlyOnce.intervalMs: 1.5 is not allowed: expected duration >= 1/,
      ],
    ]
    for (const [options, message] of refused) {
      assert.throws(
        () => new Consumer({ ...base, ...options }),
        (e) => e instanceof ConfigError && message.test(e.message),
        JSON.stringify(Object.keys(options)),
      )
    }
    assert.ok(new Consumer(base), 'the base options are accepted')
    assert.throws(
      () => sendWithoutTransaction(),
      (e) => e instanceof ConfigError && /needs the exactlyOnce option/.test(e.message),
    )
  })
})
