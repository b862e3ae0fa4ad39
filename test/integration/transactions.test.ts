// The transactional producer against the real broker, on both protocol lines: Kafka 4.x finalizes
// transaction.version 2 (KIP-890: partitions added by Produce itself, the epoch bumped by every
// EndTxn), Kafka 3.9 (KAFKA_VERSION=3.9) runs protocol v1 (AddPartitionsToTxn, AddOffsetsToTxn).
// What kafkax commits is read by kcat and the Java console consumer with read_committed; aborted
// records are seen by read_uncommitted readers only, control records by nobody; an older instance
// is fenced by a newer one with the same transactional id; offsets commit with the transaction and a
// zombie member's are refused; a transaction past its timeout is reported as such.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { release } from '../../scripts/kafka/harness.ts'
import { Admin } from '../../src/admin/admin.ts'
import { Cluster } from '../../src/client/cluster.ts'
import { Consumer } from '../../src/consumer/consumer.ts'
import type { Message } from '../../src/consumer/message.ts'
import { Producer } from '../../src/producer/producer.ts'
import { TransactionError } from '../../src/producer/transaction-error.ts'
import { KafkaError } from '../../src/protocol/errors.ts'
import { DescribeTransactionsModule, loadApi } from '../../src/protocol/messages/index.ts'
import { brokers, cli, kcat, uniqueTopic } from '../helpers/kafka.ts'
import { waitFor } from '../helpers/wait.ts'

const admin = new Admin({ brokers: brokers() })
let protocolV2 = false

async function topicWith(partitions: number): Promise<string> {
  const topic = uniqueTopic('txn')
  await admin.createTopics([{ topic, partitions, replicationFactor: 1 }])
  return topic
}

/** `partition offset value` lines of every record kcat reads with an isolation level, in log order per partition. */
function kcatRead(topic: string, isolation: 'read_committed' | 'read_uncommitted'): string[] {
  const out = kcat([
    ...['-b', brokers()[0], '-C', '-t', topic, '-e', '-q'],
    ...['-X', `isolation.level=${isolation}`, '-f', '%p %o %s\\n'],
  ])
  return out.split('\n').filter(Boolean)
}

const valuesOf = (lines: string[]) => lines.map((l) => l.split(' ')[2])

/** The coordinator's view of a transactional id (DescribeTransactions). */
async function transactionState(transactionalId: string): Promise<string> {
  const cluster = new Cluster({ brokers: brokers() })
  try {
    const api = await loadApi(DescribeTransactionsModule)
    const r = await cluster.coordinatorRequest(
      'transaction',
      transactionalId,
      api,
      { transactionalIds: [transactionalId] },
      (r) => r.transactionStates[0]?.errorCode ?? 0,
    )
    return r.transactionStates[0].transactionState
  } finally {
    await cluster.close()
  }
}

/** Runs a kafkax consumer until it handled messages of every value in `last`; returns what it handled. */
async function consumeThrough(
  topic: string,
  isolationLevel: 'read_committed' | 'read_uncommitted',
  last: string[],
): Promise<Message[]> {
  const consumer = new Consumer({
    brokers: brokers(),
    groupId: `txn-reader-${isolationLevel}-${topic}`,
    topics: [topic],
    fromBeginning: true,
    isolationLevel,
  })
  const seen: Message[] = []
  const run = consumer.run((m) => {
    seen.push(m)
  })
  try {
    await waitFor(
      `the ${isolationLevel} consumer to reach ${last.join(', ')}`,
      () => last.every((v) => seen.some((m) => m.value?.toString() === v)),
      { timeoutMs: 60_000 },
    )
  } finally {
    await consumer.stop()
    await run
  }
  return seen
}

describe('Transactional producer', () => {
  before(async () => {
    const features = await admin.describeFeatures()
    const level = features.finalized.find((f) => f.name === 'transaction.version')?.maxVersionLevel ?? 0
    protocolV2 = level >= 2
  })
  after(() => admin.close())

  it('commits and aborts: read_committed readers see committed records only, read_uncommitted both, nobody the markers', async () => {
    const topic = await topicWith(2)
    const producer = new Producer({ brokers: brokers(), transactionalId: uniqueTopic('txn-id') })
    try {
      const committed = Array.from({ length: 10 }, (_, i) => `committed-${i}`)
      // value-n goes to partition n % 2
      const records = (values: string[]) =>
        values.map((value) => ({ topic, partition: Number(value.split('-')[1]) % 2, value }))
      const result = await producer.transaction(async (tx) => {
        await tx.sendBatch(records(committed.slice(0, 5)))
        return 'done'
      })
      assert.equal(result, 'done', 'transaction() resolves with what the callback resolved with')
      // the explicit form, aborted
      const handle = await producer.beginTransaction()
      for (const r of records(['aborted-0', 'aborted-1', 'aborted-2', 'aborted-3'])) handle.publish(r)
      await producer.flush()
      await producer.abortTransaction()
      await assert.rejects(
        handle.send({ topic, value: 'late' }),
        (e) => e instanceof TransactionError && e.kind === 'state',
        'the handle of an ended transaction refuses to send',
      )
      // a callback that throws aborts
      const failure = new Error('handler failed')
      await assert.rejects(
        producer.transaction(async (tx) => {
          await tx.send({ topic, partition: 0, value: 'thrown-0' })
          throw failure
        }),
        (e) => e === failure,
      )
      await producer.beginTransaction()
      await producer.sendBatch(records(committed.slice(5)))
      await producer.commitTransaction()
    } finally {
      await producer.close()
    }
    // a plain record after everything: a reader that got it has passed every marker
    const plain = new Producer({ brokers: brokers() })
    await plain.sendBatch([0, 1].map((partition) => ({ topic, partition, value: `end-${partition}` })))
    await plain.close()

    const all = kcatRead(topic, 'read_uncommitted')
    const visible = kcatRead(topic, 'read_committed')
    const expectCommitted = (p: number) => [
      ...Array.from({ length: 10 }, (_, i) => `committed-${i}`).filter((_, i) => i % 2 === p),
      `end-${p}`,
    ]
    for (const p of [0, 1]) {
      const inPartition = (lines: string[]) => valuesOf(lines.filter((l) => l.startsWith(`${p} `)))
      assert.deepEqual(inPartition(visible), expectCommitted(p), `kcat read_committed, partition ${p}`)
      const written = inPartition(all)
      assert.ok(written.includes(`aborted-${p}`) && written.includes(`aborted-${p + 2}`), `aborted records in ${p}`)
      assert.equal(written.length, expectCommitted(p).length + (p === 0 ? 3 : 2), `read_uncommitted, partition ${p}`)
    }

    // the Java client (console consumer): committed only with read_committed, both without
    const javaCommitted = cli.consume(topic, 12, { isolation: 'read_committed' }).map((l) => l.split(':')[1])
    assert.deepEqual(
      [...javaCommitted].sort(),
      [...expectCommitted(0), ...expectCommitted(1)].sort(),
      'the Java read_committed consumer reads what kafkax committed',
    )
    const javaAll = cli.consume(topic, all.length, { isolation: 'read_uncommitted' }).map((l) => l.split(':')[1])
    assert.deepEqual([...javaAll].sort(), valuesOf(all).sort())

    // kafkax's own consumer: the same records at the same offsets, and never a control record (the
    // plain records come after every marker of their partition)
    for (const [isolation, expected] of [
      ['read_committed', visible],
      ['read_uncommitted', all],
    ] as const) {
      const seen = await consumeThrough(topic, isolation, ['end-0', 'end-1'])
      assert.deepEqual(
        seen.map((m) => `${m.partition} ${m.offset} ${m.value}`).sort(),
        [...expected].sort(),
        `the kafkax ${isolation} consumer handled exactly these (nothing aborted under read_committed, no control record)`,
      )
    }
  })

  it('negotiates the transaction protocol per broker, as the requests show: v2 (KIP-890) on Kafka 4.x, v1 on 3.9', async () => {
    const topic = await topicWith(2)
    const groupId = `txn-protocol-${topic}`
    const sent: { api: string; version: number }[] = []
    const producer = new Producer({
      brokers: brokers(),
      transactionalId: uniqueTopic('txn-protocol'),
      onNetworkEvent: (e) => {
        if (e.type === 'request') sent.push({ api: e.apiName, version: e.apiVersion })
      },
    })
    try {
      for (let round = 0; round < 2; round++)
        await producer.transaction(async (tx) => {
          await tx.sendBatch([0, 1].map((partition) => ({ topic, partition, value: `round-${round}` })))
          await tx.sendOffsets([{ topic, partition: 0, offset: BigInt(round + 1) }], { groupId })
        })
    } finally {
      await producer.close()
    }
    const used = (api: string) => [...new Set(sent.filter((r) => r.api === api).map((r) => r.version))]
    // the broker line decides, through the finalized transaction.version feature (the fake cluster
    // of kafkax/testing speaks protocol v1 whatever line it stands in for)
    if (process.env.KAFKAX_TARGET !== 'fake')
      assert.equal(protocolV2, release().version.startsWith('4.'), `Kafka ${release().version}`)
    if (protocolV2) {
      assert.deepEqual(used('AddPartitionsToTxn'), [], 'v2: Produce adds the partitions itself')
      assert.deepEqual(used('AddOffsetsToTxn'), [], 'v2: TxnOffsetCommit adds the group itself')
      assert.ok(
        used('Produce').every((v) => v >= 12),
        `Produce versions ${used('Produce')}`,
      )
      assert.ok(
        used('EndTxn').every((v) => v >= 5),
        `EndTxn versions ${used('EndTxn')}`,
      )
      assert.ok(
        used('TxnOffsetCommit').every((v) => v >= 5),
        `TxnOffsetCommit versions ${used('TxnOffsetCommit')}`,
      )
    } else {
      assert.ok(sent.filter((r) => r.api === 'AddPartitionsToTxn').length >= 2, 'v1: in every transaction')
      assert.equal(sent.filter((r) => r.api === 'AddOffsetsToTxn').length, 2)
      assert.ok(
        used('Produce').every((v) => v <= 11),
        `Produce versions ${used('Produce')}`,
      )
      assert.ok(
        used('EndTxn').every((v) => v <= 4),
        `EndTxn versions ${used('EndTxn')}`,
      )
    }
    assert.equal(sent.filter((r) => r.api === 'EndTxn').length, 2)
    assert.deepEqual(valuesOf(kcatRead(topic, 'read_committed')).sort(), ['round-0', 'round-0', 'round-1', 'round-1'])
  })

  it('fences an older producer with the same transactional id: a typed fatal error, nothing of its open transaction visible', async () => {
    const topic = await topicWith(1)
    const transactionalId = uniqueTopic('txn-fenced')
    const zombie = new Producer({ brokers: brokers(), transactionalId })
    const fresh = new Producer({ brokers: brokers(), transactionalId })
    try {
      await zombie.beginTransaction()
      await zombie.sendBatch([0, 1, 2].map((i) => ({ topic, value: `zombie-${i}` })))
      // the newer instance: its InitProducerId bumps the epoch and aborts the zombie's transaction
      await fresh.initTransactions()
      await fresh.transaction((tx) => tx.send({ topic, value: 'fresh-0' }))
      const fatal = (e: unknown) =>
        e instanceof TransactionError && e.fatal && !e.retriable && e.type === 'PRODUCER_FENCED'
      await assert.rejects(zombie.commitTransaction(), fatal)
      await assert.rejects(zombie.send({ topic, value: 'zombie-late' }), fatal, 'every later call says so too')
      await assert.rejects(zombie.beginTransaction(), fatal)
    } finally {
      await zombie.close()
      await fresh.close()
    }
    assert.deepEqual(valuesOf(kcatRead(topic, 'read_committed')), ['fresh-0'])
    const written = valuesOf(kcatRead(topic, 'read_uncommitted'))
    assert.deepEqual(written, ['zombie-0', 'zombie-1', 'zombie-2', 'fresh-0'], 'written, then aborted by the fencing')
  })

  it("commits consumer offsets with the transaction, and refuses a zombie member's (KIP-447)", async () => {
    const topic = await topicWith(1)
    const groupId = `txn-group-${topic}`
    const transactionalId = uniqueTopic('txn-offsets')
    const producer = new Producer({ brokers: brokers(), transactionalId })
    const committedOffset = async () =>
      (await admin.fetchCommittedOffsets(groupId)).find((o) => o.topic === topic && o.partition === 0)?.offset
    // the group coordinator applies the offsets when the transaction's marker reaches it
    const completed = (state: string) =>
      waitFor(`the transaction to reach ${state}`, async () => (await transactionState(transactionalId)) === state, {
        timeoutMs: 10_000,
      })
    try {
      await producer.transaction(async (tx) => {
        await tx.send({ topic, value: 'out-0' })
        await tx.sendOffsets([{ topic, partition: 0, offset: 5n }], { groupId })
      })
      await waitFor('the offset committed with the transaction', async () => (await committedOffset()) === 5n, {
        timeoutMs: 10_000,
      })
      await producer.beginTransaction()
      await producer.sendOffsetsToTransaction([{ topic, partition: 0, offset: 9n }], { groupId })
      await producer.abortTransaction()
      await completed('CompleteAbort')
      assert.equal(await committedOffset(), 5n, 'an aborted transaction commits no offsets')
      // a member the group does not know (a zombie of an old generation): the transaction cannot commit
      await producer.beginTransaction()
      await assert.rejects(
        producer.sendOffsetsToTransaction([{ topic, partition: 0, offset: 11n }], {
          groupId,
          generationId: 4,
          memberId: 'zombie-member',
          groupInstanceId: null,
        }),
        (e) => e instanceof TransactionError && e.abortable && e.retriable,
      )
      await assert.rejects(producer.commitTransaction(), (e) => e instanceof TransactionError && e.abortable)
      await producer.abortTransaction()
      await completed('CompleteAbort')
      assert.equal(await committedOffset(), 5n)
      // and the producer goes on
      await producer.transaction((tx) => tx.sendOffsets([{ topic, partition: 0, offset: 12n }], { groupId }))
      await waitFor('the next committed offset', async () => (await committedOffset()) === 12n, { timeoutMs: 10_000 })
    } finally {
      await producer.close()
    }
  })

  it("refuses the offsets of a static member whose instance id a newer consumer took (KIP-447 with KIP-345: FENCED_INSTANCE_ID), and takes the newer member's", async () => {
    // the members belong to the group through another topic: nothing of theirs commits offsets of `topic`
    const topic = await topicWith(1)
    const memberTopic = await topicWith(1)
    const groupId = `txn-static-${topic}`
    const groupInstanceId = 'worker-1'
    const member = () =>
      new Consumer({ brokers: brokers(), groupId, topics: [memberTopic], groupInstanceId, heartbeatIntervalMs: 300 })
    const first = member()
    const second = member()
    const errors: Error[] = []
    first.on('error', (e: Error) => errors.push(e))
    const runs = [first.run(() => {})]
    const producer = new Producer({ brokers: brokers(), transactionalId: uniqueTopic('txn-static') })
    const committedOffset = async () =>
      (await admin.fetchCommittedOffsets(groupId)).find((o) => o.topic === topic && o.partition === 0)?.offset
    try {
      await waitFor('the first member to own its partition', () => first.assignment().length === 1, {
        timeoutMs: 30_000,
      })
      const zombie = first.groupMetadata()
      assert.equal(zombie.groupInstanceId, groupInstanceId)
      assert.ok((zombie.generationId ?? -1) >= 1 && zombie.memberId, JSON.stringify(zombie))
      // while it is the member, its offsets commit
      await producer.transaction((tx) => tx.sendOffsets([{ topic, partition: 0, offset: 3n }], zombie))
      await waitFor('the offset of the current member', async () => (await committedOffset()) === 3n, {
        timeoutMs: 10_000,
      })
      runs.push(second.run(() => {}))
      await waitFor('the newer member to own the partition', () => second.assignment().length === 1, {
        timeoutMs: 30_000,
      })
      await waitFor(
        'the first member to learn it was fenced',
        () => errors.some((e) => e instanceof KafkaError && e.type === 'FENCED_INSTANCE_ID'),
        { timeoutMs: 10_000, state: () => errors.map(String) },
      )
      assert.deepEqual(first.assignment(), [], 'the fenced member let its partition go')
      await producer.beginTransaction()
      await assert.rejects(
        producer.sendOffsetsToTransaction([{ topic, partition: 0, offset: 7n }], zombie),
        (e) => e instanceof TransactionError && e.abortable && e.type === 'FENCED_INSTANCE_ID',
      )
      await producer.abortTransaction()
      assert.equal(await committedOffset(), 3n, "the zombie's offsets were refused")
      await producer.transaction((tx) => tx.sendOffsets([{ topic, partition: 0, offset: 8n }], second.groupMetadata()))
      await waitFor("the newer member's offset", async () => (await committedOffset()) === 8n, { timeoutMs: 10_000 })
    } finally {
      await Promise.all([first.stop(), second.stop()])
      await Promise.all(runs)
      await producer.close()
    }
  })

  it('reports a transaction the coordinator aborted for running past transactionTimeoutMs', async () => {
    const topic = await topicWith(1)
    const transactionalId = uniqueTopic('txn-timeout')
    const producer = new Producer({ brokers: brokers(), transactionalId, transactionTimeoutMs: 1000 })
    try {
      await producer.beginTransaction()
      await producer.send({ topic, value: 'too-slow' })
      await waitFor(
        'the coordinator to abort the transaction',
        async () => ['PrepareAbort', 'CompleteAbort'].includes(await transactionState(transactionalId)),
        { timeoutMs: 30_000 },
      )
      const error = await producer.commitTransaction().then(
        () => assert.fail('the commit of a transaction the coordinator aborted succeeded'),
        (e) => e,
      )
      assert.ok(error instanceof TransactionError, `${error}`)
      assert.match(error.message, /longer than transactionTimeoutMs \(1000 ms\): the coordinator aborted it/)
      if (protocolV2) {
        // KIP-890: EndTxn takes the epoch the timeout's abort bumped: abort, and go on
        assert.ok(error.abortable, `abortable under protocol v2: ${error.message}`)
        await producer.abortTransaction()
        await producer.transaction((tx) => tx.send({ topic, value: 'in-time' }))
      } else {
        // protocol v1: the coordinator fenced the epoch for good (3.9 refuses even KIP-360's InitProducerId)
        assert.ok(error.fatal, `fatal under protocol v1: ${error.message}`)
      }
    } finally {
      await producer.close()
    }
    assert.deepEqual(valuesOf(kcatRead(topic, 'read_committed')), protocolV2 ? ['in-time'] : [])
  })

  it('aborts an open transaction on close, so read_committed readers are not held back until its timeout', async () => {
    const topic = await topicWith(1)
    const transactionalId = uniqueTopic('txn-close')
    const producer = new Producer({ brokers: brokers(), transactionalId })
    await producer.beginTransaction()
    await producer.send({ topic, value: 'left-open' })
    await producer.close()
    await waitFor(
      'the coordinator to complete the abort',
      async () => ['CompleteAbort', 'Empty'].includes(await transactionState(transactionalId)),
      { timeoutMs: 10_000 },
    )
    assert.deepEqual(valuesOf(kcatRead(topic, 'read_committed')), [])
    assert.deepEqual(valuesOf(kcatRead(topic, 'read_uncommitted')), ['left-open'])
  })

  it('cannot commit a transaction with a record refused before it was sent (a partition the topic lacks)', async () => {
    const topic = await topicWith(1)
    const producer = new Producer({ brokers: brokers(), transactionalId: uniqueTopic('txn-refused') })
    try {
      await producer.beginTransaction()
      await producer.send({ topic, partition: 0, value: 'kept-back' })
      await assert.rejects(producer.send({ topic, partition: 3, value: 'nowhere' }), /UNKNOWN_TOPIC_OR_PARTITION/)
      await assert.rejects(producer.commitTransaction(), (e) => e instanceof TransactionError && e.abortable)
      await producer.abortTransaction()
      await producer.transaction((tx) => tx.send({ topic, partition: 0, value: 'next' }))
    } finally {
      await producer.close()
    }
    assert.deepEqual(valuesOf(kcatRead(topic, 'read_committed')), ['next'])
  })

  it('refuses sends outside a transaction and transactional calls on a plain producer', async () => {
    const topic = await topicWith(1)
    const producer = new Producer({ brokers: brokers(), transactionalId: uniqueTopic('txn-outside') })
    const plain = new Producer({ brokers: brokers() })
    try {
      await assert.rejects(
        producer.send({ topic, value: 'outside' }),
        (e) => e instanceof TransactionError && e.kind === 'state',
      )
      await assert.rejects(producer.commitTransaction(), (e) => e instanceof TransactionError && e.kind === 'state')
      await assert.rejects(plain.beginTransaction(), /not transactional/)
    } finally {
      await producer.close()
      await plain.close()
    }
    assert.deepEqual(valuesOf(kcatRead(topic, 'read_uncommitted')), [])
  })
})
