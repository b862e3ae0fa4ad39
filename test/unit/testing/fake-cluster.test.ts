// FakeCluster in process, without a socket: kafkax's producer and consumer run against it through
// its connector; a test injects faults per request, moves leaders, kills and restarts brokers, and
// inspects logs, committed offsets and group members.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Admin } from '../../../src/admin/admin.ts'
import { Consumer } from '../../../src/consumer/consumer.ts'
import { Producer } from '../../../src/producer/producer.ts'
import { KafkaError, TimeoutError } from '../../../src/protocol/errors.ts'
import { Metadata, Produce } from '../../../src/protocol/messages/index.ts'
import { FakeCluster } from '../../../src/testing/index.ts'
import { waitFor } from '../../helpers/wait.ts'

describe('FakeCluster in process', () => {
  let cluster: FakeCluster
  before(async () => {
    cluster = await FakeCluster.start({ brokers: 3, listen: false, topics: [{ name: 'orders', partitions: 3 }] })
  })
  after(() => cluster.stop())
  const client = () => ({
    brokers: cluster.bootstrap,
    connect: cluster.connect,
    retry: { initialDelayMs: 10, maxDelayMs: 50 },
  })

  it('serves kafkax producers and consumers without a socket; the inspection API sees what they did', async () => {
    assert.ok(
      cluster.bootstrap.every((b) => b.endsWith('.fake.kafkax:9092')),
      cluster.bootstrap.join(),
    )
    const producer = new Producer({ ...client(), compression: 'gzip' })
    const sent = await producer.sendBatch(
      Array.from({ length: 60 }, (_, i) => ({ topic: 'orders', key: `k${i % 5}`, value: `order-${i}` })),
    )
    await producer.close()
    const onDisk = (await Promise.all([0, 1, 2].map((p) => cluster.records('orders', p)))).flat()
    assert.equal(onDisk.length, 60)
    assert.deepEqual(new Set(onDisk.map((r) => String(r.value))), new Set(sent.map((_, i) => `order-${i}`)))
    const consumer = new Consumer({ ...client(), groupId: 'billing', topics: ['orders'], fromBeginning: true })
    const seen: string[] = []
    const running = consumer.run((m) => {
      seen.push(String(m.value))
    })
    await waitFor('60 messages consumed', () => seen.length === 60, { state: () => seen.length })
    const members = cluster.groupMembers('billing')
    assert.equal(members.length, 1)
    assert.deepEqual(members[0].assignment.flatMap((a) => a.partitions).sort(), [0, 1, 2])
    await consumer.stop()
    await running
    const committed = cluster.committedOffsets('billing')
    assert.equal(
      committed.reduce((n, o) => n + o.offset, 0n),
      60n,
      'committed up to every message',
    )
    assert.deepEqual(cluster.groupMembers('billing'), [], 'the consumer left the group')
  })

  it('intercepts requests: an injected error is retried by the producer; a delay holds the answer', async () => {
    let failed = 0
    const handle = cluster.intercept('Produce', () =>
      failed++ < 2 ? { errorCode: 'NOT_LEADER_OR_FOLLOWER' } : undefined,
    )
    const producer = new Producer(client())
    const delivered = await producer.send({ topic: 'orders', partition: 1, value: 'after two failures' })
    assert.equal(failed, 3, 'two failed attempts, then served')
    assert.equal(handle.handled, 2)
    handle.remove()
    const delay = cluster.intercept(Produce, () => ({ delayMs: 300 }), { times: 1 })
    assert.throws(() => cluster.intercept('ShareFetch', () => undefined), /serves no API "ShareFetch"/)
    const started = Date.now()
    await producer.send({ topic: 'orders', partition: 1, value: 'late' })
    assert.ok(Date.now() - started >= 290, 'the delayed request took its time')
    assert.equal(delay.handled, 1)
    await producer.close()
    const values = (await cluster.records('orders', 1)).map((r) => String(r.value))
    assert.equal(values.filter((v) => v === 'after two failures').length, 1, 'written once')
    assert.ok(Number(delivered.offset) >= 0)
  })

  it('a dropped request times out in the client; a disconnect closes its connection; a scripted response is the answer', async () => {
    const admin = new Admin({ ...client(), requestTimeoutMs: 300, retry: { maxAttempts: 1 } })
    const scripted = cluster.intercept(
      'DescribeCluster',
      (r) => ({
        response: {
          throttleTimeMs: 0,
          errorCode: 0,
          errorMessage: null,
          endpointType: 1,
          clusterId: `scripted by broker ${r.broker}`,
          controllerId: 7,
          brokers: [{ brokerId: 7, host: 'elsewhere', port: 1, rack: null, isFenced: false }],
          clusterAuthorizedOperations: -2147483648,
        },
      }),
      { times: 1 },
    )
    const described = await admin.describeCluster()
    assert.match(described.clusterId, /^scripted by broker [123]$/)
    assert.deepEqual(described.brokers, [{ nodeId: 7, host: 'elsewhere', port: 1, rack: null }])
    assert.equal(scripted.handled, 1)
    assert.notEqual((await admin.describeCluster()).clusterId, described.clusterId, 'the broker answers again')
    const drop = cluster.intercept(Metadata, () => ({ drop: true }), { times: 1 })
    await assert.rejects(admin.listTopics(), (e: Error) =>
      /timed out|took longer|Timeout/i.test(`${e.name} ${e.message}`),
    )
    assert.equal(drop.handled, 1)
    cluster.intercept(Metadata, () => ({ disconnect: true }), { times: 1 })
    await assert.rejects(admin.listTopics())
    assert.deepEqual(await admin.listTopics(), ['orders'], 'served again once the interceptors are used up')
    await admin.close()
  })

  it('follows a leader move: the old leader answers NOT_LEADER_OR_FOLLOWER, the producer goes to the new one', async () => {
    const before = cluster.leaderOf('orders', 2)
    const target = [1, 2, 3].find((b) => b !== before.leader)!
    const notLeader: number[] = []
    cluster.intercept(Produce, (r) => {
      if (r.broker === before.leader) notLeader.push(r.broker)
      return undefined
    })
    const producer = new Producer(client())
    await producer.send({ topic: 'orders', partition: 2, value: 'before the move' })
    cluster.moveLeader('orders', 2, target)
    const after = cluster.leaderOf('orders', 2)
    assert.equal(after.leader, target)
    assert.equal(after.leaderEpoch, before.leaderEpoch + 1)
    await producer.send({ topic: 'orders', partition: 2, value: 'after the move' })
    await producer.close()
    cluster.clearInterceptors()
    const values = (await cluster.records('orders', 2)).map((r) => String(r.value))
    assert.ok(values.includes('after the move'))
    assert.ok(notLeader.length >= 1, 'the producer first sent to the old leader')
  })

  it('kills a broker: its partitions move to other replicas; it comes back on restart', async () => {
    const leader = cluster.leaderOf('orders', 0).leader
    await cluster.killBroker(leader)
    assert.notEqual(cluster.leaderOf('orders', 0).leader, leader)
    assert.ok(
      !cluster.bootstrap.some((b) => b.startsWith(`broker-${leader}.`)),
      'a dead broker is not in the bootstrap list',
    )
    const producer = new Producer(client())
    await producer.send({ topic: 'orders', partition: 0, value: 'while one broker is down' })
    await cluster.restartBroker(leader)
    assert.equal(cluster.bootstrap.length, 3)
    cluster.moveLeader('orders', 0, leader)
    await producer.send({ topic: 'orders', partition: 0, value: 'back on the restarted broker' })
    await producer.close()
    const values = (await cluster.records('orders', 0)).map((r) => String(r.value))
    assert.ok(values.includes('while one broker is down') && values.includes('back on the restarted broker'))
  })

  it('a partition without alive replicas has no leader; min.insync.replicas refuses acks=all below it', async () => {
    const topic = cluster.createTopic({
      name: 'single-replica',
      partitions: 1,
      replicationFactor: 1,
      configs: { 'min.insync.replicas': '1' },
    })
    const only = topic.partitions[0].replicas[0]
    await cluster.killBroker(only)
    assert.equal(cluster.leaderOf('single-replica').leader, -1)
    await cluster.restartBroker(only)
    assert.equal(cluster.leaderOf('single-replica').leader, only)
    cluster.createTopic({
      name: 'strict',
      partitions: 1,
      replicationFactor: 3,
      configs: { 'min.insync.replicas': '3' },
    })
    const victim = cluster.leaderOf('strict').replicas.find((r) => r !== cluster.leaderOf('strict').leader)!
    await cluster.killBroker(victim)
    // retried until the next retry would pass the delivery timeout, then failed with the broker's error;
    // a retry still in flight at the deadline fails with a TimeoutError caused by it
    const producer = new Producer({ ...client(), deliveryTimeoutMs: 3000, requestTimeoutMs: 2500 })
    const refused = (e: unknown) => e instanceof KafkaError && e.type === 'NOT_ENOUGH_REPLICAS'
    await assert.rejects(
      producer.send({ topic: 'strict', value: 'x' }),
      (e) => refused(e) || (e instanceof TimeoutError && refused(e.cause)),
    )
    await producer.close()
    await cluster.restartBroker(victim)
  })

  it('refuses what a broker refuses: duplicate topics, bad names, unknown configs', () => {
    assert.throws(() => cluster.createTopic('orders'), /already exists/)
    assert.throws(() => cluster.createTopic('bad name!'), /illegal/)
    assert.throws(() => cluster.createTopic({ name: 'x', configs: { 'no.such': '1' } }), /Unknown topic config/)
  })
})
