// The admin's request engine without a broker, over a plain fake of the cluster layer: batch items
// are split per target and each target gets one request with its items; items refused with a
// retriable error are sent again (alone, after a metadata refresh where routing depends on it)
// while the others keep their results; what is left failing is thrown as one AdminError listing
// every failed item in item order. Also through two resource calls that route per target
// (deleteRecords to the partitions' leaders, describeConfigs to the broker a config lives on).

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { describeConfigs } from '../../../src/admin/configs.ts'
import { type AdminError, RequestEngine, type Target } from '../../../src/admin/engine.ts'
import { deleteRecords } from '../../../src/admin/records.ts'
import type { Cluster } from '../../../src/client/cluster.ts'
import { RetryPolicy } from '../../../src/client/retry.ts'
import { ErrorCode, kafkaError } from '../../../src/protocol/error-codes.ts'
import { ConnectionError, KafkaError, ProtocolError } from '../../../src/protocol/errors.ts'
import type { Api } from '../../../src/protocol/messages/index.ts'

interface Sent {
  target: Target
  api: string
  version: number
  body: any
}

/** The cluster layer as the engine uses it: connections per target, leaders, metadata refreshes. */
class FakeCluster {
  readonly sent: Sent[] = []
  readonly refreshed: (readonly string[])[] = []
  /** partition -> its leader, as the brokers know it */
  readonly leaders = new Map<number, number>()
  /** partition -> its leader, as the client's metadata says (a refresh brings it up to date) */
  readonly metadata = new Map<number, number>()
  connects = 0
  connectFailures = 0
  closed = false
  answer: (s: Sent) => unknown = () => {
    throw new Error('no answer set')
  }

  constructor(readonly maxAttempts = 4) {}

  cluster(): Cluster {
    const connection = (target: Target) => ({
      // each broker speaks its own version: the body must be built for it
      versionFor: () => (target === 'any' ? 0 : target),
      request: async (api: Api, body: unknown, o: { version: number }) => {
        const s = { target, api: api.name, version: o.version, body }
        this.sent.push(s)
        return this.answer(s)
      },
    })
    return {
      retry: new RetryPolicy({ maxAttempts: this.maxAttempts, initialDelayMs: 1, maxDelayMs: 2, deadlineMs: 5000 }),
      connect: async () => {
        this.connects++
        if (this.connectFailures-- > 0) throw new ConnectionError('fake: connection refused')
      },
      close: async () => {
        this.closed = true
      },
      anyConnection: async () => connection('any'),
      connectionToNode: async (nodeId: number) => connection(nodeId),
      refreshMetadata: async (topics: readonly string[] = []) => {
        this.refreshed.push(topics)
        for (const [partition, leader] of this.leaders) this.metadata.set(partition, leader)
      },
      leaderFor: async (_topic: string, partition: number) => {
        const leader = this.metadata.get(partition)
        if (leader === undefined) throw kafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `partition ${partition}`)
        return leader
      },
    } as unknown as Cluster
  }
}

const fail = (name: keyof typeof ErrorCode, what: string = name) => kafkaError(ErrorCode[name], what)

/** The AdminError `promise` rejects with. */
async function adminErrorOf<I>(promise: Promise<unknown>): Promise<AdminError<I>> {
  const error = await promise.then(
    () => assert.fail('expected an AdminError'),
    (e: unknown) => e,
  )
  assert.ok(error instanceof KafkaError, `expected a KafkaError, got ${error}`)
  assert.ok(Array.isArray((error as AdminError<I>).errors), 'the KafkaError has no errors list')
  return error as AdminError<I>
}

describe('RequestEngine', () => {
  describe('byTarget', () => {
    it('sends each target one request with its items and answers in item order', async () => {
      const engine = new RequestEngine(new FakeCluster().cluster())
      const items = [
        { id: 'a', to: 1 },
        { id: 'b', to: 'any' as const },
        { id: 'c', to: 1 },
        { id: 'd', to: 2 },
        { id: 'e', to: 'any' as const },
      ]
      const requests: [Target, string[]][] = []
      const outcomes = await engine.byTarget(
        items,
        (item) => item.to,
        async (target, group) => {
          requests.push([target, group.map((i) => i.id)])
          return group.map((i) => `${i.id}@${target}`)
        },
      )
      assert.deepEqual(outcomes, ['a@1', 'b@any', 'c@1', 'd@2', 'e@any'])
      assert.deepEqual(
        requests.sort(([a], [b]) => String(a).localeCompare(String(b))),
        [
          [1, ['a', 'c']],
          [2, ['d']],
          ['any', ['b', 'e']],
        ],
      )
    })

    it('fails only the item whose target is unknown; an error that is not Kafka’s stops the call', async () => {
      const engine = new RequestEngine(new FakeCluster().cluster())
      const noLeader = fail('LEADER_NOT_AVAILABLE')
      const sentItems: number[][] = []
      const outcomes = await engine.byTarget(
        [0, 1, 2],
        async (p) => {
          if (p === 1) throw noLeader
          return 7
        },
        async (_target, group) => {
          sentItems.push(group)
          return group.map((p) => p * 10)
        },
      )
      assert.deepEqual(outcomes, [0, noLeader, 20])
      assert.deepEqual(sentItems, [[0, 2]])

      const bug = new TypeError('a bug in the target lookup')
      await assert.rejects(
        engine.byTarget(
          [0],
          () => Promise.reject(bug),
          async () => assert.fail('nothing is sent'),
        ),
        (e) => e === bug,
      )
    })
  })

  describe('settle', () => {
    it('sends again only the items refused with a retriable error, keeping the results of the others', async () => {
      const engine = new RequestEngine(new FakeCluster().cluster())
      const attempts: string[][] = []
      const results = await engine.settle(['a', 'b', 'c', 'd'], async (pending) => {
        attempts.push(pending)
        const n = attempts.length
        return pending.map((item) => {
          if (item === 'b' && n < 2) return fail('NOT_CONTROLLER')
          if (item === 'd' && n < 3) return fail('COORDINATOR_LOAD_IN_PROGRESS')
          return `${item}${n}`
        })
      })
      assert.deepEqual(attempts, [['a', 'b', 'c', 'd'], ['b', 'd'], ['d']])
      assert.deepEqual(results, ['a1', 'b2', 'c1', 'd3'])
    })

    it('does not retry final errors and throws one AdminError listing every failed item in order', async () => {
      const engine = new RequestEngine(new FakeCluster().cluster())
      let attempts = 0
      const items = ['t0', 't1', 't2', 't3', 't4']
      const error = await adminErrorOf<string>(
        engine.settle(items, async (pending) => {
          attempts++
          return pending.map((item) => {
            // retriable in Kafka's table, final for an admin call
            if (item === 't1') return fail('UNKNOWN_TOPIC_OR_PARTITION', item)
            if (item === 't3') return fail('REQUEST_TIMED_OUT', item)
            if (item === 't4') return fail('TOPIC_AUTHORIZATION_FAILED', item)
            return item
          })
        }),
      )
      assert.equal(attempts, 1)
      assert.deepEqual(
        error.errors.map((e) => [e.item, e.error.type]),
        [
          ['t1', 'UNKNOWN_TOPIC_OR_PARTITION'],
          ['t3', 'REQUEST_TIMED_OUT'],
          ['t4', 'TOPIC_AUTHORIZATION_FAILED'],
        ],
      )
      assert.equal(error, error.errors[0].error, 'the error thrown is the first failed item’s')
      assert.match(error.message, /UNKNOWN_TOPIC_OR_PARTITION.*t1/)
    })

    it('throws the items still refused when the attempts run out, with those that failed for good', async () => {
      const fake = new FakeCluster(3)
      const engine = new RequestEngine(fake.cluster())
      const attempts: string[][] = []
      const error = await adminErrorOf<string>(
        engine.settle(['a', 'b', 'c'], async (pending) => {
          attempts.push(pending)
          return pending.map((item) => {
            if (item === 'a') return fail('TOPIC_AUTHORIZATION_FAILED', item)
            if (item === 'c') return fail('NOT_CONTROLLER', `${item} attempt ${attempts.length}`)
            return item
          })
        }),
      )
      assert.deepEqual(attempts, [['a', 'b', 'c'], ['c'], ['c']])
      assert.deepEqual(
        error.errors.map((e) => [e.item, e.error.type]),
        [
          ['a', 'TOPIC_AUTHORIZATION_FAILED'],
          ['c', 'NOT_CONTROLLER'],
        ],
      )
      assert.match(error.errors[1].error.message, /c attempt 3/, 'the last attempt’s error is kept')
    })

    it('retries a request that failed as a whole; a non-retriable failure is thrown as it is', async () => {
      const engine = new RequestEngine(new FakeCluster().cluster())
      const attempts: string[][] = []
      const results = await engine.settle(['a', 'b'], async (pending) => {
        attempts.push(pending)
        if (attempts.length === 1) throw new ConnectionError('fake: connection lost')
        return pending.map((item) => item.toUpperCase())
      })
      assert.deepEqual(attempts, [
        ['a', 'b'],
        ['a', 'b'],
      ])
      assert.deepEqual(results, ['A', 'B'])

      const broken = new ProtocolError('fake: answer lacks an item')
      let tries = 0
      await assert.rejects(
        engine.settle(['a'], async () => {
          tries++
          throw broken
        }),
        (e) => e === broken && !('errors' in e),
      )
      assert.equal(tries, 1)
    })

    it('refreshes the metadata of the call’s topics before retrying a stale-metadata error only', async () => {
      const fake = new FakeCluster()
      const engine = new RequestEngine(fake.cluster())
      let n = 0
      await engine.settle(
        ['x'],
        async (pending) => pending.map((item) => (++n === 1 ? fail('NOT_LEADER_OR_FOLLOWER') : item)),
        ['orders'],
      )
      assert.deepEqual(fake.refreshed, [['orders']])
      n = 0
      await engine.settle(
        ['x'],
        async (pending) => pending.map((item) => (++n === 1 ? fail('COORDINATOR_LOAD_IN_PROGRESS') : item)),
        ['orders'],
      )
      assert.deepEqual(fake.refreshed, [['orders']], 'COORDINATOR_LOAD_IN_PROGRESS does not call for a refresh')
    })
  })

  it('sends a body built for the version the target speaks', async () => {
    const fake = new FakeCluster()
    const engine = new RequestEngine(fake.cluster())
    fake.answer = (s) => ({ echo: s.body })
    const api = { name: 'Fake' } as Api<{ v: number }, { echo: { v: number } }>
    assert.deepEqual(await engine.send(3, api, (v) => ({ v })), { echo: { v: 3 } })
    assert.deepEqual(await engine.send('any', api, (v) => ({ v })), { echo: { v: 0 } })
    assert.deepEqual(
      fake.sent.map((s) => [s.target, s.version]),
      [
        [3, 3],
        ['any', 0],
      ],
    )
  })

  it('connects once, tries again after a failed connect, and refuses calls after close()', async () => {
    const fake = new FakeCluster()
    fake.connectFailures = 1
    const engine = new RequestEngine(fake.cluster())
    await assert.rejects(engine.connect(), ConnectionError)
    await engine.connect()
    await engine.connect()
    assert.equal(fake.connects, 2)
    await engine.close()
    assert.ok(fake.closed)
    await assert.rejects(engine.connect(), (e) => e instanceof ConnectionError && !e.retriable)
    assert.equal(fake.connects, 2)
  })
})

describe('Admin calls over the request engine', () => {
  it('deleteRecords: one request per leader; a partition whose leader moved is sent to the new one', async () => {
    const fake = new FakeCluster()
    for (const [partition, leader] of [
      [0, 1],
      [1, 2],
      [2, 1],
      [3, 2],
    ]) {
      fake.leaders.set(partition, leader)
      fake.metadata.set(partition, leader)
    }
    // partition 3 moved to broker 1; the client's metadata does not know yet
    fake.leaders.set(3, 1)
    fake.answer = ({ target, api, body }) => {
      assert.equal(api, 'DeleteRecords')
      const [topic] = body.topics
      return {
        topics: [
          {
            name: topic.name,
            partitions: topic.partitions.map((p: { partitionIndex: number; offset: bigint }) => {
              const leads = fake.leaders.get(p.partitionIndex) === target
              return {
                partitionIndex: p.partitionIndex,
                lowWatermark: leads ? p.offset : -1n,
                errorCode: leads ? 0 : ErrorCode.NOT_LEADER_OR_FOLLOWER,
              }
            }),
          },
        ],
      }
    }
    const engine = new RequestEngine(fake.cluster())
    const result = await deleteRecords(engine, {
      topic: 'orders',
      partitions: [0, 1, 2, 3].map((partition) => ({ partition, offset: BigInt(10 + partition) })),
    })
    assert.deepEqual(result, [
      { partition: 0, lowWatermark: 10n },
      { partition: 1, lowWatermark: 11n },
      { partition: 2, lowWatermark: 12n },
      { partition: 3, lowWatermark: 13n },
    ])
    const requests = fake.sent.map((s) => [s.target, s.body.topics[0].partitions.map((p: any) => p.partitionIndex)])
    assert.deepEqual(requests.slice(0, 2).sort(), [
      [1, [0, 2]],
      [2, [1, 3]],
    ])
    assert.deepEqual(requests.slice(2), [[1, [3]]], 'only partition 3 is sent again, to its new leader')
    assert.deepEqual(fake.refreshed, [['orders']])
  })

  it('describeConfigs: a broker’s configs are asked of that broker, the others of any broker', async () => {
    const fake = new FakeCluster()
    fake.answer = ({ target, body }) => ({
      results: body.resources.map((r: { resourceType: number; resourceName: string }) => ({
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        errorCode: r.resourceName === 'gone' ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : 0,
        errorMessage: null,
        configs: [{ name: 'asked.of', value: String(target), configSource: 5, isSensitive: false, readOnly: true }],
      })),
    })
    const engine = new RequestEngine(fake.cluster())
    const described = await describeConfigs(engine, [
      { type: 'topic', name: 'orders' },
      { type: 'broker', name: '2' },
      { type: 'broker-logger', name: '1' },
      { type: 'broker', name: '' },
    ])
    assert.deepEqual(
      described.map((d) => [d.type, d.name, d.configs[0].value]),
      [
        ['topic', 'orders', 'any'],
        ['broker', '2', '2'],
        ['broker-logger', '1', '1'],
        ['broker', '', 'any'],
      ],
    )
    assert.equal(fake.sent.length, 3, 'topic and cluster-wide broker default share one request')

    const error = await adminErrorOf<{ name: string }>(
      describeConfigs(engine, [
        { type: 'topic', name: 'gone' },
        { type: 'topic', name: 'orders' },
        { type: 'broker', name: '3' },
      ]),
    )
    assert.deepEqual(
      error.errors.map((e) => [e.item.name, e.error.type]),
      [['gone', 'UNKNOWN_TOPIC_OR_PARTITION']],
    )
  })
})
