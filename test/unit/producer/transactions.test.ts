// The transaction manager with the sender, without a broker: a plain fake of the cluster layer whose
// one node is the transaction coordinator, the group coordinator and the leader of every partition,
// keeping the broker's rules (the TransactionCoordinator and ProducerStateManager, simplified to one
// transactional id): InitProducerId fences the previous epoch and aborts its open transaction; under
// transaction protocol v1 a partition takes transactional records only once AddPartitionsToTxn added
// it, and Produce must stay at v11; under v2 Produce v12+ and TxnOffsetCommit v5 add implicitly and
// EndTxn v5 bumps the epoch; records become visible when EndTxn commits, never when it aborts.
// The coordinator side is the real CoordinatorConnection over the fake connection.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Cluster } from '../../../src/client/cluster.ts'
import { RetryPolicy } from '../../../src/client/retry.ts'
import { silentLogger } from '../../../src/observability/logger.ts'
import type { RecordMetadata } from '../../../src/producer/record.ts'
import { Sender } from '../../../src/producer/sender.ts'
import { TransactionError } from '../../../src/producer/transaction-error.ts'
import { TransactionManager } from '../../../src/producer/transaction-manager.ts'
import { ErrorCode, type ErrorName } from '../../../src/protocol/error-codes.ts'
import { ConnectionError, TimeoutError } from '../../../src/protocol/errors.ts'
import type { Api } from '../../../src/protocol/messages/index.ts'
import { decodeRecordBatches } from '../../../src/protocol/records/index.ts'
import { produceResponse, smallAccumulator } from './fake-produce.ts'

const TOPIC = 't'

interface Written {
  value: string
  state: 'open' | 'committed' | 'aborted'
}

interface Sent {
  api: string
  version: number
  body: any
  /** performance.now() when it was sent, and when its answer was ready. */
  at: number
  answeredAt: number
}

/** One node: transaction coordinator, group coordinator and leader of every partition of TOPIC. */
class FakeTxnBroker {
  readonly logs = new Map<number, Written[]>()
  readonly sent: Sent[] = []
  /** Error codes the next requests of an API answer with, one per request. */
  readonly faults = new Map<string, ErrorName[]>()
  /** APIs whose requests fail as if the broker were unreachable. */
  readonly unreachable = new Set<string>()
  /** Answers of an API held until the returned promise is resolved by the test. */
  readonly held = new Map<string, Promise<void>>()
  producerId = 4000n
  epoch = -1
  readonly inTransaction = new Set<number>()
  groupAdded = false
  readonly offsets = new Map<string, { offset: bigint; generationId: number; memberId: string }>()
  private pendingOffsets: typeof this.offsets = new Map()
  private readonly sequences = new Map<number, { epoch: number; next: number }>()
  finalizedFeatures = { epoch: 1n, levels: new Map([['transaction.version', 1]]) }
  /** Protocol v2: how many DescribeTransactions after an EndTxn answer that the markers are still written. */
  writingMarkersFor = 0
  private writingMarkers = 0

  constructor(readonly partitions: number) {}

  get tv2(): boolean {
    return (this.finalizedFeatures.levels.get('transaction.version') ?? 0) >= 2
  }

  cluster(): Cluster {
    const partitions = Array.from({ length: this.partitions }, (_, i) => ({ partition: i, leader: 1 }))
    const connection = {
      connected: true,
      connect: async () => {},
      close: () => {},
      supports: () => true,
      versionFor: (api: Api, max = Number.POSITIVE_INFINITY) => Math.min(api.request.latestStableVersion, max),
      request: (api: Api, body: any, o: { version?: number; maxVersion?: number } = {}) =>
        this.request(
          api,
          body,
          o.version ?? Math.min(api.request.latestStableVersion, o.maxVersion ?? Number.POSITIVE_INFINITY),
        ),
    }
    // the real CoordinatorConnection (lookups, coordinator errors) over the fake connection
    return Object.assign(Object.create(Cluster.prototype), {
      options: { requestTimeoutMs: 30_000 },
      retry: new RetryPolicy({ initialDelayMs: 5, maxDelayMs: 20, deadlineMs: 2000 }),
      newConnection: () => connection,
      metadata: {
        brokers: new Map([[1, { nodeId: 1, host: 'fake', port: 1 }]]),
        partition: (topic: string, p: number) => (topic === TOPIC ? partitions[p] : undefined),
        topics: new Map([[TOPIC, { topicId: '00000000-0000-0000-0000-000000000000' }]]),
      },
      finalizedFeatures: this.finalizedFeatures,
      refreshMetadata: async () => {},
      applyLeaderHint: () => false,
      coordinator: async () => 1,
      invalidateCoordinator: () => {},
      connectionToNode: async () => connection,
      anyConnection: async () => connection,
    }) as Cluster
  }

  /** Moves the cluster's finalized transaction.version (a new features epoch). */
  setTransactionVersion(cluster: Cluster, level: number): void {
    this.finalizedFeatures = {
      epoch: this.finalizedFeatures.epoch + 1n,
      levels: new Map([['transaction.version', level]]),
    }
    cluster.finalizedFeatures = this.finalizedFeatures
  }

  values(partition: number, state: Written['state']): string[] {
    return (this.logs.get(partition) ?? []).filter((w) => w.state === state).map((w) => w.value)
  }

  count(api: string): number {
    return this.sent.filter((s) => s.api === api).length
  }

  private async request(api: Api, body: any, version: number): Promise<unknown> {
    const sent: Sent = { api: api.name, version, body, at: performance.now(), answeredAt: 0 }
    this.sent.push(sent)
    try {
      return await this.answer(api, body, version)
    } finally {
      sent.answeredAt = performance.now()
    }
  }

  private async answer(api: Api, body: any, version: number): Promise<unknown> {
    await new Promise((r) => setImmediate(r))
    if (this.unreachable.has(api.name)) {
      await new Promise((r) => setTimeout(r, 10))
      throw new ConnectionError(`${api.name}: broker unreachable (fake)`)
    }
    await this.held.get(api.name)
    const fault = this.faults.get(api.name)?.shift()
    const code = fault ? ErrorCode[fault] : 0
    switch (api.name) {
      case 'InitProducerId':
        return this.initProducerId(body, code)
      case 'AddPartitionsToTxn':
        return this.addPartitions(body, code)
      case 'AddOffsetsToTxn':
        return { throttleTimeMs: 0, errorCode: code || this.check(body.producerEpoch) || this.addGroup() }
      case 'TxnOffsetCommit':
        return this.txnOffsetCommit(body, version, code)
      case 'EndTxn':
        return this.endTxn(body, version, code)
      case 'DescribeTransactions':
        return this.describeTransactions(body, code)
      case 'Produce':
        return this.produce(body, version, code)
      default:
        throw new Error(`unexpected ${api.name}`)
    }
  }

  /** Another producer with the same transactional id initializes: the epoch is bumped, the open transaction aborted. */
  newInstance(): void {
    this.initProducerId({ producerId: -1n, producerEpoch: -1 }, 0)
  }

  private check(epoch: number): number {
    return epoch === this.epoch ? 0 : ErrorCode.PRODUCER_FENCED
  }

  private addGroup(): number {
    this.groupAdded = true
    return 0
  }

  private initProducerId(body: any, code: number) {
    const answer = (errorCode: number) => ({
      throttleTimeMs: 0,
      errorCode,
      producerId: this.producerId,
      producerEpoch: this.epoch,
    })
    if (code) return answer(code)
    // with the current id and epoch: a bump by the same producer (KIP-360); else a new instance fences the old one
    if (body.producerId >= 0n && body.producerEpoch !== this.epoch) return answer(ErrorCode.PRODUCER_FENCED)
    this.complete(false)
    this.epoch++
    return answer(0)
  }

  private addPartitions(body: any, code: number) {
    const errorCode = code || this.check(body.v3AndBelowProducerEpoch)
    const topics = body.v3AndBelowTopics.map((t: any) => ({
      name: t.name,
      resultsByPartition: t.partitions.map((p: number) => {
        if (!errorCode) this.inTransaction.add(p)
        return { partitionIndex: p, partitionErrorCode: errorCode }
      }),
    }))
    return { throttleTimeMs: 0, errorCode: 0, resultsByTransaction: [], resultsByTopicV3AndBelow: topics }
  }

  private txnOffsetCommit(body: any, version: number, code: number) {
    let errorCode = code || this.check(body.producerEpoch)
    // v1 needs AddOffsetsToTxn first; v5 is protocol v2's implicit add, refused under v1
    if (!errorCode && (this.tv2 ? version < 5 : !this.groupAdded || version > 4))
      errorCode = ErrorCode.INVALID_TXN_STATE
    const topics = body.topics.map((t: any) => ({
      name: t.name,
      partitions: t.partitions.map((p: any) => {
        if (!errorCode)
          this.pendingOffsets.set(`${body.groupId}/${t.name}-${p.partitionIndex}`, {
            offset: p.committedOffset,
            generationId: body.generationId,
            memberId: body.memberId,
          })
        return { partitionIndex: p.partitionIndex, errorCode }
      }),
    }))
    return { throttleTimeMs: 0, topics }
  }

  private endTxn(body: any, version: number, code: number) {
    const answer = (errorCode: number) => ({
      throttleTimeMs: 0,
      errorCode,
      producerId: version >= 5 ? this.producerId : -1n,
      producerEpoch: version >= 5 ? this.epoch : -1,
    })
    const errorCode = code || this.check(body.producerEpoch)
    if (errorCode) return answer(errorCode)
    this.complete(body.committed)
    if (version >= 5) this.epoch++ // KIP-890: every EndTxn bumps the epoch
    this.writingMarkers = this.writingMarkersFor
    return answer(0)
  }

  private describeTransactions(body: any, code: number) {
    const writing = this.writingMarkers > 0
    if (writing) this.writingMarkers--
    return {
      throttleTimeMs: 0,
      transactionStates: body.transactionalIds.map((transactionalId: string) => ({
        errorCode: code,
        transactionalId,
        transactionState: writing ? 'PrepareCommit' : 'CompleteCommit',
        transactionTimeoutMs: 60_000,
        transactionStartTimeMs: -1n,
        producerId: this.producerId,
        producerEpoch: this.epoch,
        topics: [],
      })),
    }
  }

  /** Writes the markers of the open transaction. */
  private complete(committed: boolean): void {
    for (const log of this.logs.values())
      for (const w of log) if (w.state === 'open') w.state = committed ? 'committed' : 'aborted'
    if (committed) for (const [k, v] of this.pendingOffsets) this.offsets.set(k, v)
    this.pendingOffsets = new Map()
    this.inTransaction.clear()
    this.groupAdded = false
  }

  private async produce(body: any, version: number, code: number) {
    const partitionResponses = []
    for (const t of body.topicData) {
      for (const p of t.partitionData) {
        partitionResponses.push({ index: p.index, ...(await this.append(p.index, p.records, version, code)) })
      }
    }
    return produceResponse(TOPIC, partitionResponses)
  }

  private async append(partition: number, records: Buffer, version: number, code: number) {
    const fail = (errorCode: number) => ({ errorCode, baseOffset: -1n })
    if (code) return fail(code)
    const [batch] = await decodeRecordBatches(records)
    assert.ok(batch.transactional, 'records of a transaction are in transactional batches')
    if (batch.producerEpoch !== this.epoch) return fail(ErrorCode.INVALID_PRODUCER_EPOCH)
    if (this.tv2) {
      if (version < 12) return fail(ErrorCode.INVALID_TXN_STATE)
      this.inTransaction.add(partition)
    } else if (version > 11 || !this.inTransaction.has(partition)) return fail(ErrorCode.INVALID_TXN_STATE)
    const s = this.sequences.get(partition)
    const expected = s && s.epoch === batch.producerEpoch ? s.next : 0
    if (batch.baseSequence !== expected) return fail(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
    this.sequences.set(partition, { epoch: batch.producerEpoch, next: expected + batch.records.length })
    const log = this.logs.get(partition) ?? []
    this.logs.set(partition, log)
    const baseOffset = BigInt(log.length)
    for (const r of batch.records) log.push({ value: r.value!.toString(), state: 'open' })
    return { errorCode: 0, baseOffset }
  }
}

function setup(broker: FakeTxnBroker, o: { timeoutMs?: number; deliveryTimeoutMs?: number } = {}) {
  const cluster = broker.cluster()
  const accumulator = smallAccumulator()
  const tm: TransactionManager = new TransactionManager(cluster, {
    transactionalId: 'tx',
    transactionTimeoutMs: 60_000,
    timeoutMs: o.timeoutMs ?? 2000,
    retry: { initialDelayMs: 5, maxDelayMs: 20 },
    logger: silentLogger,
    flush: () => sender.flush(),
    wakeup: () => sender.wakeup(),
  })
  const sender: Sender = new Sender(cluster, accumulator, cluster.retry, tm, {
    acks: -1,
    requestTimeoutMs: 100,
    deliveryTimeoutMs: o.deliveryTimeoutMs ?? 5000,
    maxInFlight: 5,
    maxRequestSize: 1024 * 1024,
    logger: silentLogger,
  })
  /** What Producer.send does: refused outside a transaction, appended, the partition joins. */
  const send = (partition: number, value: string): Promise<RecordMetadata> =>
    new Promise((resolve, reject) => {
      tm.checkSend()
      assert.ok(accumulator.tryReserve(100))
      accumulator.append(
        { topic: TOPIC, key: null, value: Buffer.from(value), headers: [], partition, timestamp: Date.now() },
        partition,
        100,
        (error, metadata) => (error ? reject(error) : resolve(metadata!)),
      )
      tm.addPartition(TOPIC, partition)
      sender.wakeup()
    })
  return { cluster, tm, sender, send }
}

/** Rejects with a TransactionError of `kind` whose message matches `pattern`. */
function isTxnError(kind: TransactionError['kind'], pattern?: RegExp) {
  return (e: unknown) =>
    e instanceof TransactionError &&
    e.kind === kind &&
    (!pattern || pattern.test(e.message)) &&
    e.retriable === (kind === 'abortable')
}

async function bounded<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}

describe('TransactionManager, transaction protocol v1 (Kafka 3.9)', () => {
  it('adds the partitions of a transaction in one AddPartitionsToTxn before their records, and commits', async () => {
    const broker = new FakeTxnBroker(3)
    const { tm, send } = setup(broker)
    await tm.begin()
    const sends = [0, 1, 2, 0, 1, 2].map((p, i) => send(p, `c${i}`))
    await Promise.all(sends)
    assert.equal(broker.count('AddPartitionsToTxn'), 1, 'one request for the three partitions')
    const add = broker.sent.find((s) => s.api === 'AddPartitionsToTxn')!
    assert.ok(add.version <= 3, `AddPartitionsToTxn v${add.version}: clients use v3 and below`)
    assert.deepEqual(add.body.v3AndBelowTopics[0].partitions.sort(), [0, 1, 2])
    const firstProduce = broker.sent.findIndex((s) => s.api === 'Produce')
    assert.ok(firstProduce > broker.sent.indexOf(add), 'no record before its partition was added')
    assert.ok(
      broker.sent.filter((s) => s.api === 'Produce').every((s) => s.version === 11),
      'Produce stays at v11 in a transaction of protocol v1',
    )
    assert.deepEqual(broker.values(0, 'open'), ['c0', 'c3'], 'written, not visible yet')
    await tm.commit()
    const endTxn = broker.sent.filter((s) => s.api === 'EndTxn')
    assert.equal(endTxn.length, 1)
    assert.equal(endTxn[0].version, 4, 'EndTxn v4 under protocol v1')
    assert.equal(endTxn[0].body.committed, true)
    for (const p of [0, 1, 2]) assert.deepEqual(broker.values(p, 'committed'), [`c${p}`, `c${p + 3}`])
    assert.equal(tm.state, 'READY')
    // the next transaction: the epoch stays, sequences go on
    await tm.begin()
    await send(0, 'next')
    await tm.commit()
    assert.deepEqual(broker.values(0, 'committed'), ['c0', 'c3', 'next'])
    assert.equal(broker.epoch, 0, 'no epoch bump between good transactions under v1')
  })

  it('aborts: what was written stays invisible, and nothing of a transaction without records is sent', async () => {
    const broker = new FakeTxnBroker(1)
    const { tm, send } = setup(broker)
    await tm.begin()
    await send(0, 'a')
    await tm.abort()
    assert.deepEqual(broker.values(0, 'aborted'), ['a'])
    assert.equal(tm.state, 'READY')
    const endTxns = broker.count('EndTxn')
    await tm.begin()
    await tm.commit()
    assert.equal(broker.count('EndTxn'), endTxns, 'an empty transaction needs no EndTxn')
  })

  it('fails records not sent yet when aborted, and sends none of them', async () => {
    const broker = new FakeTxnBroker(1)
    const { tm, send } = setup(broker)
    await tm.begin()
    let release!: () => void
    broker.held.set('AddPartitionsToTxn', new Promise<void>((r) => (release = r)))
    const pending = send(0, 'never')
    const aborting = tm.abort()
    await assert.rejects(pending, isTxnError('abortable', /aborted/))
    release()
    await aborting
    assert.equal(broker.count('Produce'), 0)
    assert.deepEqual(broker.logs.get(0) ?? [], [])
  })

  it('makes the transaction abortable when a record fails; abort bumps the epoch and the next one commits', async () => {
    const broker = new FakeTxnBroker(2)
    const { tm, send } = setup(broker)
    await tm.begin()
    await send(1, 'ok')
    broker.faults.set('Produce', ['INVALID_RECORD'])
    await assert.rejects(send(0, 'bad'), (e: Error & { type?: string }) => e.type === 'INVALID_RECORD')
    assert.equal(tm.state, 'ABORTABLE_ERROR')
    assert.throws(() => tm.checkSend(), isTxnError('abortable', /abort it/))
    await assert.rejects(tm.commit(), isTxnError('abortable', /t-0 failed/))
    const epoch = broker.epoch
    await tm.abort()
    const bump = broker.sent.filter((s) => s.api === 'InitProducerId').at(-1)!
    assert.equal(bump.body.producerEpoch, epoch, 'KIP-360: InitProducerId with the current id and epoch')
    assert.equal(broker.epoch, epoch + 1)
    assert.deepEqual(broker.values(1, 'aborted'), ['ok'])
    await tm.begin()
    await send(0, 'again')
    await send(1, 'again')
    await tm.commit()
    assert.deepEqual(broker.values(0, 'committed'), ['again'], 'the new epoch starts the sequences at 0')
    assert.deepEqual(broker.values(1, 'committed'), ['again'])
  })

  it('retries CONCURRENT_TRANSACTIONS and coordinator moves, within the deadline', async () => {
    const broker = new FakeTxnBroker(1)
    const { tm, send } = setup(broker)
    broker.faults.set('InitProducerId', ['COORDINATOR_LOAD_IN_PROGRESS', 'CONCURRENT_TRANSACTIONS'])
    broker.faults.set('AddPartitionsToTxn', ['CONCURRENT_TRANSACTIONS', 'CONCURRENT_TRANSACTIONS'])
    broker.faults.set('EndTxn', ['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE'])
    await tm.begin()
    await send(0, 'x')
    await tm.commit()
    assert.deepEqual(broker.values(0, 'committed'), ['x'])
    assert.equal(broker.count('InitProducerId'), 3)
    assert.equal(broker.count('AddPartitionsToTxn'), 3)
    assert.equal(broker.count('EndTxn'), 3)
  })

  it('is fenced for good by a newer instance: typed fatal error, the open transaction never visible', async () => {
    const broker = new FakeTxnBroker(1)
    const { tm, send } = setup(broker)
    await tm.begin()
    await send(0, 'zombie')
    broker.newInstance()
    await assert.rejects(
      tm.commit(),
      (e) => isTxnError('fatal', /fenced/)(e) && (e as TransactionError).type === 'PRODUCER_FENCED',
    )
    assert.equal(tm.state, 'FATAL_ERROR')
    assert.deepEqual(broker.values(0, 'aborted'), ['zombie'])
    assert.deepEqual(broker.values(0, 'committed'), [])
    await assert.rejects(tm.begin(), isTxnError('fatal'))
    await assert.rejects(tm.abort(), isTxnError('fatal'))
    assert.throws(() => tm.checkSend(), isTxnError('fatal'))
  })

  it('commits offsets with AddOffsetsToTxn then TxnOffsetCommit v4, carrying the member (KIP-447)', async () => {
    const broker = new FakeTxnBroker(1)
    const { tm, send } = setup(broker)
    await tm.begin()
    await send(0, 'out')
    await tm.sendOffsets([{ topic: 'in', partition: 2, offset: 42n }], {
      groupId: 'g',
      generationId: 7,
      memberId: 'm-1',
      groupInstanceId: 'i-1',
    })
    const commit = broker.sent.find((s) => s.api === 'TxnOffsetCommit')!
    assert.ok(broker.sent.indexOf(broker.sent.find((s) => s.api === 'AddOffsetsToTxn')!) < broker.sent.indexOf(commit))
    assert.equal(commit.version, 4)
    assert.equal(commit.body.groupInstanceId, 'i-1')
    assert.equal(broker.offsets.size, 0, 'not committed before the transaction')
    await tm.commit()
    assert.deepEqual(broker.offsets.get('g/in-2'), { offset: 42n, generationId: 7, memberId: 'm-1' })
  })

  it('refuses offsets of a stale member: the transaction becomes abortable', async () => {
    const broker = new FakeTxnBroker(1)
    const { tm } = setup(broker)
    await tm.begin()
    broker.faults.set('TxnOffsetCommit', ['ILLEGAL_GENERATION'])
    await assert.rejects(
      tm.sendOffsets([{ topic: 'in', partition: 0, offset: 1n }], { groupId: 'g', generationId: 1, memberId: 'old' }),
      isTxnError('abortable', /ILLEGAL_GENERATION/),
    )
    await assert.rejects(tm.commit(), isTxnError('abortable'))
    await tm.abort()
    assert.equal(broker.offsets.size, 0)
  })

  it('settles a commit within its timeout while the coordinator is unreachable, and completes when called again', async () => {
    const broker = new FakeTxnBroker(1)
    const { tm, send } = setup(broker, { timeoutMs: 300 })
    await tm.begin()
    await send(0, 'late')
    broker.unreachable.add('EndTxn')
    const started = Date.now()
    await bounded('commit', 1000, assert.rejects(tm.commit(), TimeoutError))
    assert.ok(Date.now() - started < 600, `settled after ${Date.now() - started} ms`)
    assert.equal(tm.state, 'COMMITTING', 'the outcome is not known: only a commit may finish it')
    await assert.rejects(tm.abort(), isTxnError('state', /being committed/))
    broker.unreachable.delete('EndTxn')
    await bounded('the second commit', 1000, tm.commit())
    assert.deepEqual(broker.values(0, 'committed'), ['late'])
    assert.equal(tm.state, 'READY')
  })

  it('settles initialization within its timeout when no coordinator answers', async () => {
    const broker = new FakeTxnBroker(1)
    const { tm } = setup(broker, { timeoutMs: 200 })
    broker.unreachable.add('InitProducerId')
    await bounded('begin', 800, assert.rejects(tm.begin(), TimeoutError))
    broker.unreachable.delete('InitProducerId')
    await bounded('begin again', 800, tm.begin())
    assert.equal(tm.state, 'IN_TRANSACTION')
  })

  it('refuses calls that do not fit the state, changing nothing', async () => {
    const broker = new FakeTxnBroker(1)
    const { tm, send } = setup(broker)
    await assert.rejects(send(0, 'outside'), isTxnError('state', /no transaction is open/))
    await assert.rejects(tm.commit(), isTxnError('state'))
    await assert.rejects(tm.abort(), isTxnError('state'))
    const generation = await tm.begin()
    await assert.rejects(tm.begin(), isTxnError('state', /already open/))
    assert.ok(tm.isOpen(generation))
    await tm.commit()
    assert.ok(!tm.isOpen(generation), 'a handle of the committed transaction no longer acts')
    await assert.rejects(send(0, 'after'), isTxnError('state'))
    assert.equal(broker.count('Produce'), 0)
  })
})

describe('TransactionManager, transaction protocol v2 (KIP-890, Kafka 4.x)', () => {
  it('adds nothing explicitly, sends Produce v12+, and every EndTxn bumps the epoch', async () => {
    const broker = new FakeTxnBroker(2)
    broker.finalizedFeatures.levels.set('transaction.version', 2)
    const { tm, send } = setup(broker)
    for (let i = 0; i < 3; i++) {
      await tm.begin()
      await Promise.all([send(0, `a${i}`), send(1, `b${i}`)])
      await tm.sendOffsets([{ topic: 'in', partition: 0, offset: BigInt(i) }], { groupId: 'g' })
      await tm.commit()
    }
    assert.equal(broker.count('AddPartitionsToTxn'), 0)
    assert.equal(broker.count('AddOffsetsToTxn'), 0)
    assert.ok(broker.sent.filter((s) => s.api === 'Produce').every((s) => s.version >= 12))
    assert.ok(broker.sent.filter((s) => s.api === 'TxnOffsetCommit').every((s) => s.version === 5))
    assert.ok(broker.sent.filter((s) => s.api === 'EndTxn').every((s) => s.version === 5))
    assert.equal(broker.epoch, 3, 'init, then one bump per EndTxn')
    assert.deepEqual(broker.values(0, 'committed'), ['a0', 'a1', 'a2'], 'each new epoch starts at sequence 0')
    assert.equal(broker.offsets.get('g/in-0')?.offset, 2n)
    assert.equal(tm.maxProduceVersion, undefined)
  })

  it('recovers from an abortable error without an extra InitProducerId (EndTxn bumps the epoch)', async () => {
    const broker = new FakeTxnBroker(1)
    broker.finalizedFeatures.levels.set('transaction.version', 2)
    const { tm, send } = setup(broker)
    await tm.begin()
    broker.faults.set('Produce', ['TRANSACTION_ABORTABLE'])
    await assert.rejects(send(0, 'lost'))
    await assert.rejects(tm.commit(), isTxnError('abortable'))
    const inits = broker.count('InitProducerId')
    await tm.abort()
    assert.equal(broker.count('InitProducerId'), inits)
    await tm.begin()
    await send(0, 'fine')
    await tm.commit()
    assert.deepEqual(broker.values(0, 'committed'), ['fine'])
  })

  /** A v2 producer that committed one transaction; the coordinator then writes the markers for `describes` DescribeTransactions. */
  async function afterV2Transaction(describes: number) {
    const broker = new FakeTxnBroker(1)
    broker.finalizedFeatures.levels.set('transaction.version', 2)
    broker.writingMarkersFor = describes
    const { tm, send } = setup(broker)
    await tm.begin()
    await send(0, 'first')
    await tm.commit()
    return { broker, tm, send }
  }

  it("v2: the next transaction's first Produce waits until the coordinator has written the markers (the broker would hold it 20 ms)", async () => {
    const { broker, tm, send } = await afterV2Transaction(2)
    await tm.begin()
    const second = send(0, 'second')
    await tm.commit()
    await second
    const apis = broker.sent.map((s) => s.api)
    const after = apis.slice(apis.indexOf('EndTxn') + 1)
    assert.deepEqual(after.slice(0, 4), [
      'DescribeTransactions',
      'DescribeTransactions',
      'DescribeTransactions',
      'Produce',
    ])
    assert.deepEqual(broker.values(0, 'committed'), ['first', 'second'])
  })

  it('v2: the offsets of the next transaction wait for the markers too; a question left unanswered does not stop the Produce', async () => {
    const { broker, tm, send } = await afterV2Transaction(1)
    await tm.begin()
    await tm.sendOffsets([{ topic: 'in', partition: 0, offset: 5n }], { groupId: 'g' })
    const apis = broker.sent.map((s) => s.api)
    assert.deepEqual(apis.slice(apis.indexOf('EndTxn') + 1), [
      'DescribeTransactions',
      'DescribeTransactions',
      'TxnOffsetCommit',
    ])
    await tm.commit()
    broker.unreachable.add('DescribeTransactions')
    await tm.begin()
    await send(0, 'third')
    await tm.commit()
    assert.deepEqual(broker.values(0, 'committed'), ['first', 'third'])
    assert.equal(broker.count('Produce'), 2)
  })

  it('moves to v2 between transactions when the cluster finalizes transaction.version 2, after an epoch bump', async () => {
    const broker = new FakeTxnBroker(1)
    const { cluster, tm, send } = setup(broker)
    await tm.begin()
    await send(0, 'v1')
    assert.equal(tm.maxProduceVersion, 11)
    broker.setTransactionVersion(cluster, 2)
    await tm.commit()
    // EndTxn of the v1 transaction at v4, then InitProducerId bumps the epoch for v2
    assert.equal(broker.sent.filter((s) => s.api === 'EndTxn').at(-1)!.version, 4)
    assert.equal(broker.sent.at(-1)!.api, 'InitProducerId')
    assert.ok(tm.protocolV2)
    await tm.begin()
    await send(0, 'v2')
    await tm.commit()
    assert.equal(broker.sent.filter((s) => s.api === 'EndTxn').at(-1)!.version, 5)
    assert.deepEqual(broker.values(0, 'committed'), ['v1', 'v2'])
  })
})
