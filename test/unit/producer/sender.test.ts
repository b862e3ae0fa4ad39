// The sender and the idempotent producer state without a broker: a plain fake of the cluster layer
// that keeps per-partition logs with the broker's sequence rules (ProducerStateManager: the next
// sequence, a higher epoch at sequence 0, duplicates of the last batches, out-of-order otherwise)
// and can lose requests or answers the way a stalled connection does (the request times out).
// Checked: every send settles within its delivery timeout, nothing acknowledged is lost or written
// twice, nothing rejected is written twice, each partition's log is in send order, and an epoch
// bump under load never stops the sender.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Cluster } from '../../../src/client/cluster.ts'
import { RetryPolicy } from '../../../src/client/retry.ts'
import { silentLogger } from '../../../src/observability/logger.ts'
import { IdempotentState } from '../../../src/producer/idempotence.ts'
import type { RecordMetadata } from '../../../src/producer/record.ts'
import { Sender } from '../../../src/producer/sender.ts'
import { ErrorCode } from '../../../src/protocol/error-codes.ts'
import { TimeoutError } from '../../../src/protocol/errors.ts'
import type { Api } from '../../../src/protocol/messages/index.ts'
import { InitProducerId, Produce } from '../../../src/protocol/messages/index.ts'
import { decodeRecordBatches } from '../../../src/protocol/records/index.ts'
import { sleep, waitFor, within } from '../../helpers/wait.ts'
import { produceResponse, smallAccumulator } from './fake-produce.ts'

type Fault = 'none' | 'lose-request' | 'lose-answer'

interface PartitionLog {
  values: string[]
  epoch: number
  lastSeq: number
  /** base sequences of the last batches written in this epoch (the broker keeps 5) */
  recent: number[]
}

/** One broker leading every partition of one topic, behind a connection that can stall. */
class FakeBroker {
  readonly logs = new Map<number, PartitionLog>()
  fault: (request: number) => Fault = () => 'none'
  requests = 0
  readonly sequences: { partition: number; epoch: number; baseSequence: number }[] = []

  constructor(
    readonly topic: string,
    readonly partitions: number,
  ) {}

  cluster(): Cluster {
    const partitions = Array.from({ length: this.partitions }, (_, i) => ({ partition: i, leader: 1 }))
    const connection = {
      versionFor: (api: Api) => api.request.latestStableVersion,
      request: (api: Api, body: any, o?: { timeoutMs?: number }) => this.request(api, body, o),
    }
    return {
      metadata: {
        partition: (topic: string, p: number) => (topic === this.topic ? partitions[p] : undefined),
        topics: new Map([[this.topic, { topicId: '00000000-0000-0000-0000-000000000000' }]]),
      },
      retry: new RetryPolicy({ initialDelayMs: 5, maxDelayMs: 20, deadlineMs: 2000 }),
      refreshMetadata: async () => {},
      applyLeaderHint: () => false,
      connectionToNode: async () => connection,
      anyConnection: async () => connection,
    } as unknown as Cluster
  }

  private async request(api: Api, body: any, o: { timeoutMs?: number } = {}): Promise<unknown> {
    if (api === InitProducerId) return { errorCode: 0, producerId: 7n, producerEpoch: 0, throttleTimeMs: 0 }
    assert.equal(api, Produce)
    const n = this.requests++
    const fault = this.fault(n)
    const timedOut = () =>
      new Promise((_, reject) =>
        setTimeout(() => reject(new TimeoutError('Produce got no response (fake stall)')), o.timeoutMs ?? 300),
      )
    if (fault === 'lose-request') return timedOut()
    const answers = []
    for (const t of body.topicData) {
      for (const p of t.partitionData) answers.push({ index: p.index, ...(await this.append(p.index, p.records)) })
    }
    if (fault === 'lose-answer') return timedOut()
    return produceResponse(this.topic, answers)
  }

  /** ProducerStateManager's checks, simplified to one producer id. */
  private async append(partition: number, records: Buffer): Promise<{ errorCode: number; baseOffset: bigint }> {
    const [batch] = await decodeRecordBatches(records)
    this.sequences.push({ partition, epoch: batch.producerEpoch, baseSequence: batch.baseSequence })
    let log = this.logs.get(partition)
    if (!log) {
      log = { values: [], epoch: -1, lastSeq: -1, recent: [] }
      this.logs.set(partition, log)
    }
    const fail = (name: keyof typeof ErrorCode) => ({ errorCode: ErrorCode[name], baseOffset: -1n })
    if (batch.producerEpoch < log.epoch) return fail('INVALID_PRODUCER_EPOCH')
    if (batch.producerEpoch > log.epoch) {
      if (batch.baseSequence !== 0 && log.epoch >= 0) return fail('OUT_OF_ORDER_SEQUENCE_NUMBER')
      log.epoch = batch.producerEpoch
      log.lastSeq = batch.baseSequence - 1
      log.recent = []
    } else if (batch.baseSequence !== log.lastSeq + 1) {
      if (log.recent.includes(batch.baseSequence)) return fail('DUPLICATE_SEQUENCE_NUMBER')
      return fail('OUT_OF_ORDER_SEQUENCE_NUMBER')
    }
    const baseOffset = BigInt(log.values.length)
    for (const r of batch.records) log.values.push(r.value!.toString())
    log.lastSeq = batch.baseSequence + batch.records.length - 1
    log.recent = [...log.recent.slice(-4), batch.baseSequence]
    return { errorCode: 0, baseOffset }
  }
}

function setup(broker: FakeBroker, o: { requestTimeoutMs: number; deliveryTimeoutMs: number }) {
  const cluster = broker.cluster()
  const accumulator = smallAccumulator()
  const sender = new Sender(cluster, accumulator, cluster.retry, new IdempotentState(cluster), {
    acks: -1,
    requestTimeoutMs: o.requestTimeoutMs,
    deliveryTimeoutMs: o.deliveryTimeoutMs,
    maxInFlight: 5,
    maxRequestSize: 1024 * 1024,
    logger: silentLogger,
  })
  const outcomes = new Map<string, RecordMetadata | Error>()
  let pending = 0
  const send = (partition: number, value: string) => {
    pending++
    const bytes = 100
    assert.ok(accumulator.tryReserve(bytes))
    accumulator.append(
      { topic: broker.topic, key: null, value: Buffer.from(value), headers: [], partition, timestamp: Date.now() },
      partition,
      bytes,
      (error, metadata) => {
        assert.ok(!outcomes.has(value), `${value} settled twice`)
        outcomes.set(value, error ?? metadata!)
        pending--
      },
    )
    sender.wakeup()
  }
  return { sender, send, outcomes, pending: () => pending }
}

/** Every acknowledged value once, nothing twice, and each partition's log in the order values were sent. */
function checkLogs(
  broker: FakeBroker,
  outcomes: Map<string, RecordMetadata | Error>,
  sentOrder: Map<number, string[]>,
) {
  const written = new Map<string, number>()
  for (const [partition, log] of broker.logs) {
    for (const v of log.values) written.set(v, (written.get(v) ?? 0) + 1)
    const order = sentOrder.get(partition)!
    const positions = log.values.map((v) => order.indexOf(v))
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
      `partition ${partition} is out of send order`,
    )
  }
  for (const [value, count] of written) assert.equal(count, 1, `${value} written ${count} times`)
  for (const [value, outcome] of outcomes) {
    if (!(outcome instanceof Error)) assert.equal(written.get(value), 1, `${value} acknowledged but not in the log`)
    else assert.ok(outcome instanceof TimeoutError, `${value} failed with ${outcome}`)
  }
}

describe('Sender with an idempotent producer', () => {
  it('keeps sending after an epoch bump under load: every send settles in time, nothing lost or doubled', async () => {
    const broker = new FakeBroker('t', 6)
    const { sender, send, outcomes, pending } = setup(broker, { requestTimeoutMs: 150, deliveryTimeoutMs: 200 })
    const sentOrder = new Map<number, string[]>(Array.from({ length: 6 }, (_, p) => [p, []]))
    // a stalled connection for 400 ms, 200 ms in: requests and answers are lost, requests time out
    const started = Date.now()
    broker.fault = () => {
      const t = Date.now() - started
      if (t < 200 || t > 600) return 'none'
      return Math.random() < 0.5 ? 'lose-request' : 'lose-answer'
    }
    let n = 0
    while (Date.now() - started < 1200) {
      for (let i = 0; i < 6; i++) {
        const p = n % 6
        const value = `v${n++}`
        sentOrder.get(p)!.push(value)
        send(p, value)
      }
      await sleep(5)
    }
    await waitFor('every send to settle', () => pending() === 0, { timeoutMs: 1000, intervalMs: 10 })
    await within('flush()', sender.flush(), 1000)
    const failed = [...outcomes.values()].filter((o) => o instanceof Error).length
    assert.ok(failed > 0, 'the stall expired batches (an epoch bump was needed)')
    const lastSent = `v${n - 1}`
    assert.ok(!(outcomes.get(lastSent) instanceof Error), 'records sent after the stall were delivered')
    checkLogs(broker, outcomes, sentOrder)
    const epochs = new Set(broker.sequences.map((s) => s.epoch))
    assert.ok(epochs.size > 1, `the epoch was bumped (epochs seen: ${[...epochs]})`)
  })

  it('retries a batch whose answer was lost with the same producer id, epoch and sequence', async () => {
    const broker = new FakeBroker('t', 1)
    const { send, outcomes, pending } = setup(broker, { requestTimeoutMs: 100, deliveryTimeoutMs: 5000 })
    broker.fault = (request) => (request === 0 ? 'lose-answer' : 'none')
    send(0, 'a')
    await waitFor('the send to settle', () => pending() === 0, { timeoutMs: 3000, intervalMs: 10 })
    assert.ok(!(outcomes.get('a') instanceof Error), 'delivered through the retry')
    assert.deepEqual(broker.logs.get(0)!.values, ['a'], 'written once: the retry was a duplicate the broker dropped')
    assert.equal(broker.sequences.length, 2)
    assert.deepEqual(broker.sequences[0], broker.sequences[1], 'the retry kept its identity')
  })

  it('a batch the delivery timeout ends after a failed attempt says why that attempt failed', async () => {
    const broker = new FakeBroker('t', 1)
    const { send, outcomes, pending } = setup(broker, { requestTimeoutMs: 100, deliveryTimeoutMs: 500 })
    // every answer is lost (each after 300 ms): the retry is in flight when the 500 ms are over
    broker.fault = () => 'lose-answer'
    send(0, 'late')
    await waitFor('the send to settle', () => pending() === 0, { timeoutMs: 2000, intervalMs: 10 })
    const expired = outcomes.get('late')
    assert.ok(expired instanceof TimeoutError)
    assert.match(expired.message, /not delivered within 500 ms \(last error: Produce got no response \(fake stall\)\)/)
    assert.ok(expired.cause instanceof TimeoutError)
    assert.equal(broker.sequences.length, 2, 'sent, then retried once')
  })

  it('never sends a batch that may have been written again under a new epoch', async () => {
    const broker = new FakeBroker('t', 1)
    const { send, outcomes, pending } = setup(broker, { requestTimeoutMs: 100, deliveryTimeoutMs: 250 })
    // the first batch is written but every answer is lost until it expires; later ones go through
    const started = Date.now()
    broker.fault = () => (Date.now() - started < 300 ? 'lose-answer' : 'none')
    send(0, 'maybe')
    await waitFor('the first send to settle', () => pending() === 0, { timeoutMs: 2000, intervalMs: 10 })
    assert.ok(outcomes.get('maybe') instanceof TimeoutError)
    await waitFor('the lost answers to end (300 ms in)', () => Date.now() - started >= 300)
    send(0, 'after')
    await waitFor('the second send to settle', () => pending() === 0, { timeoutMs: 2000, intervalMs: 10 })
    assert.ok(!(outcomes.get('after') instanceof Error))
    assert.deepEqual(broker.logs.get(0)!.values, ['maybe', 'after'], 'the expired batch is in the log once')
    const maybe = broker.sequences.filter((s) => s.baseSequence === 0 && s.epoch === 0)
    assert.ok(maybe.length >= 1)
    const after = broker.sequences.at(-1)!
    assert.deepEqual(after, { partition: 0, epoch: 1, baseSequence: 0 }, 'the next batch starts the new epoch at 0')
  })
})
