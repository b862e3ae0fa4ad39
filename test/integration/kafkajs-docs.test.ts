// kafkajs's documentation examples (fixtures/kafkajs-docs: the README's getting started, Producing,
// Consuming with eachMessage, eachBatch and pause/resume, Admin, Transactions) run against the real
// broker with nothing changed but the import line, which takes them to kafkax/kafkajs
// (test/helpers/kafkajs-docs.ts points the brokers they name at this run's broker). Each starts from a clean state of the topics
// and groups it names; what it printed and did is then checked.

import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { after, afterEach, before, describe, it, type TestContext } from 'node:test'
import { Admin as KafkaxAdmin } from '../../src/admin/admin.ts'
import * as kafkajs from '../../src/kafkajs/index.ts'
import { brokers, readWithKcat } from '../helpers/kafka.ts'
import { disconnectAll } from '../helpers/kafkajs-docs.ts'
import { waitFor, within } from '../helpers/wait.ts'

const require = createRequire(import.meta.url)
/** kafkajs 2.2.4 itself (the devDependency), where an example must fail as it fails there. */
const kafkajsOriginal = require('kafkajs') as unknown as typeof kafkajs

const admin = new KafkaxAdmin({ brokers: brokers() })
const kafka = new kafkajs.Kafka({ clientId: 'docs-test', brokers: brokers(), logLevel: kafkajs.logLevel.NOTHING })
const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner })

before(() => producer.connect())
afterEach(() => disconnectAll())
after(async () => {
  await producer.disconnect()
  await admin.close()
})

/** Deletes the topics and groups an example names (left by an earlier run), then creates the topics it needs. */
async function fresh(topics: string[], groups: string[], create: { topic: string; partitions: number }[] = []) {
  const existing = new Set(await admin.listTopics())
  const old = topics.filter((t) => existing.has(t))
  if (old.length > 0) await admin.deleteTopics(old)
  await waitFor('the old topics gone', async () => {
    const now = new Set(await admin.listTopics())
    return old.every((t) => !now.has(t))
  })
  if (groups.length > 0) await admin.deleteGroups(groups).catch(() => {})
  for (const { topic, partitions } of create) {
    await waitFor(`${topic} created`, () =>
      admin
        .createTopics([{ topic, partitions, replicationFactor: 1 }])
        .then(() => true)
        .catch(() => false),
    )
  }
}

/** Runs an example module; what it logs with console.log is collected in the returned list. */
async function example(t: TestContext, file: string): Promise<{ logged: unknown[]; module: Record<string, any> }> {
  const logged: unknown[] = []
  t.mock.method(console, 'log', (value: unknown) => void logged.push(value))
  const url = new URL(`../../fixtures/kafkajs-docs/${file}`, import.meta.url)
  const module = await within(`the example ${file}`, import(url.href), 60_000)
  return { logged, module }
}

/** Sends `message` to `topic` every 500 ms until `done()`: for consumers that start at the end of a topic. */
async function sendUntil(done: () => boolean, topic: string, message: { key?: string; value: string }) {
  await waitFor(
    `a consumer reading ${topic}`,
    async () => {
      if (done()) return true
      await producer.send({ topic, messages: [message] })
      return false
    },
    { intervalMs: 500 },
  )
}

async function committed(groupId: string): Promise<Record<string, bigint>> {
  const offsets = await admin.fetchCommittedOffsets(groupId)
  return Object.fromEntries(offsets.map((o) => [`${o.topic}:${o.partition}`, o.offset]))
}

describe("kafkajs's documentation examples on kafkax/kafkajs", { timeout: 120_000 }, () => {
  it('README, getting started: produce, then consume from the beginning', async (t) => {
    await fresh(['test-topic'], ['test-group'], [{ topic: 'test-topic', partitions: 1 }])
    const { logged } = await example(t, 'getting-started.mjs')
    await waitFor('the message printed', () => logged.length > 0, { state: () => logged })
    assert.deepEqual(logged, [{ partition: 0, offset: '0', value: 'Hello KafkaJS user!' }])
  })

  it('Producing: send, a defined partition, headers, sendBatch to several topics, partitioners', async (t) => {
    const topics = ['topic-name', 'topic-a', 'topic-b', 'topic-c']
    await fresh(topics, [], [{ topic: 'topic-name', partitions: 3 }])
    await example(t, 'producing.mjs')
    const offsets = await admin.listOffsets({ topic: 'topic-name', at: 'latest' })
    assert.equal(
      offsets.reduce((n, o) => n + o.offset, 0n),
      5n,
    )
    // what landed where, read back with the Java client's placement for the keys
    const seen: { partition: number; key: string; value: string; headers: Record<string, string> }[] = []
    const reader = kafka.consumer({ groupId: `reader-${Date.now()}`, maxWaitTimeInMs: 100 })
    await reader.subscribe({ topics, fromBeginning: true })
    await reader.run({
      eachMessage: async ({ topic, partition, message }) =>
        void seen.push({
          partition: topic === 'topic-name' ? partition : -1,
          key: String(message.key),
          value: `${topic}:${message.value}`,
          headers: Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, String(v)])),
        }),
    })
    await waitFor('the 8 messages read back', () => seen.length === 8, { state: () => seen })
    await reader.disconnect()
    const byValue = (v: string) => seen.filter((s) => s.value === v)
    const key1 = kafkajs.Partitioners.DefaultPartitioner()({
      topic: 'topic-name',
      partitionMetadata: [0, 1, 2].map((partitionId) => ({
        partitionId,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [],
        isr: [],
      })),
      message: { key: 'key1', value: '' },
    })
    assert.deepEqual(
      byValue('topic-name:hello world')
        .map((s) => s.partition)
        .sort(),
      [0, key1, key1].sort(),
    )
    assert.ok(byValue('topic-name:hey hey!').some((s) => s.partition === 1))
    assert.deepEqual(byValue('topic-name:hello world').find((s) => s.headers['system-id'])?.headers, {
      'correlation-id': '2bfb68bb-893a-423b-a7fa-7b568cad5b67',
      'system-id': 'my-system',
    })
    for (const t of ['topic-a', 'topic-b', 'topic-c']) assert.equal(byValue(`${t}:hello ${t}`).length, 1)
  })

  it('Consuming: subscribe several times (one topic from its beginning), eachMessage', async (t) => {
    const topics = ['topic-A', 'topic-B', 'topic-C', 'topic-D']
    await fresh(
      topics,
      ['my-group'],
      topics.map((topic) => ({ topic, partitions: 1 })),
    )
    await producer.send({ topic: 'topic-D', messages: [{ key: 'd1', value: 'early', headers: { h: 'v' } }] })
    await producer.send({ topic: 'topic-A', messages: [{ key: 'a0', value: 'before the consumer' }] })
    const { logged } = await example(t, 'consuming.mjs')
    await waitFor('topic-D from its beginning', () => logged.length === 1, { state: () => logged })
    // topic-A starts at its end once its position is known: what comes then is consumed, what was there is not
    await sendUntil(() => logged.length > 1, 'topic-A', { key: 'a1', value: 'after' })
    const [first, ...rest] = logged as { key: string; value: string; headers: Record<string, Buffer> }[]
    assert.deepEqual([first.key, first.value, String(first.headers.h)], ['d1', 'early', 'v'])
    assert.deepEqual(
      rest.map((r) => [r.key, r.value, r.headers]),
      rest.map(() => ['a1', 'after', {}]),
    )
  })

  it('Consuming: eachBatch resolving each message, and with eachBatchAutoResolve false', async (t) => {
    await fresh(['topic-D'], ['my-group', 'my-other-group'], [{ topic: 'topic-D', partitions: 2 }])
    await producer.send({
      topic: 'topic-D',
      messages: Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `v${i}` })),
    })
    const { logged } = await example(t, 'each-batch.mjs')
    const printed = () => logged.filter((l) => typeof l === 'object') as { partition: number; message: any }[]
    const processed = () => logged.filter((l) => typeof l === 'string' && l.startsWith('processed'))
    await waitFor('20 messages of each consumer', () => printed().length === 20 && processed().length === 20, {
      state: () => [printed().length, processed().length],
    })
    assert.deepEqual(
      printed()
        .filter((p) => p.partition === 1)
        .map((p) => p.message.offset),
      Array.from({ length: 10 }, (_, i) => String(i)),
    )
    const first = printed()[0] as unknown as { topic: string; highWatermark: string }
    assert.deepEqual([first.topic, first.highWatermark], ['topic-D', '10'])
    for (const group of ['my-group', 'my-other-group']) {
      await waitFor(`${group} committed`, async () => {
        const c = await committed(group)
        return c['topic-D:0'] === 10n && c['topic-D:1'] === 10n
      })
    }
  })

  it('Consuming: pause the topic when the dependency is overloaded, resume it later; nothing is skipped', async (t) => {
    await fresh(['jobs'], ['my-group'], [{ topic: 'jobs', partitions: 1 }])
    const { logged } = await example(t, 'pause-resume.mjs')
    // the example subscribes from the end: jobs count once its position is known
    await sendUntil(() => logged.length > 0, 'jobs', { value: 'job' })
    const first = Number(String(logged[0]).split(' at ')[1])
    await producer.send({ topic: 'jobs', messages: Array.from({ length: 4 }, (_, i) => ({ value: `job ${i}` })) })
    const [end] = await admin.listOffsets({ topic: 'jobs', at: 'latest' })
    const count = Number(end.offset) - first
    await waitFor('every job sent to the dependency', () => logged.length === 1 + count, { state: () => logged })
    assert.deepEqual(logged, [
      `too many requests at ${first}`,
      ...Array.from({ length: count }, (_, i) => `sent ${first + i}`),
    ])
    assert.ok(count >= 5)
  })

  it('Admin: topics, offsets (reset, set, resolve), cluster, configs, groups, records', async (t) => {
    await fresh(
      ['topic-name', 'custom-topic'],
      ['my-consumer-group'],
      [
        { topic: 'topic-name', partitions: 3 },
        { topic: 'custom-topic', partitions: 4 },
      ],
    )
    await producer.send({
      topic: 'topic-name',
      messages: Array.from({ length: 9 }, (_, i) => ({ partition: i % 3, value: `v${i}` })),
    })
    await producer.send({
      topic: 'custom-topic',
      messages: [
        ...Array.from({ length: 40 }, (_, i) => ({ partition: 0, value: `p0-${i}` })),
        ...Array.from({ length: 5 }, (_, i) => ({ partition: 3, value: `p3-${i}` })),
      ],
    })
    const { module } = await example(t, 'admin.mjs')
    const a = module.answers
    assert.ok(a.listTopics.includes('topic-name') && a.listTopics.includes('custom-topic'))
    const described = a.fetchTopicMetadata.topics.find((m: { name: string }) => m.name === 'topic-name')
    assert.deepEqual(described.partitions.map((p: { partitionId: number }) => p.partitionId).sort(), [0, 1, 2])
    assert.deepEqual(
      a.fetchTopicOffsets.map((o: { partition: number; high: string; low: string }) => [o.partition, o.high, o.low]),
      [
        [0, '3', '0'],
        [1, '3', '0'],
        [2, '3', '0'],
      ],
    )
    // every record is newer than a minute ago: the first offset of each partition
    assert.deepEqual(
      a.fetchTopicOffsetsByTimestamp.map((o: { offset: string }) => o.offset),
      ['0', '0', '0'],
    )
    // resetOffsets commits the latest offsets; resolveOffsets leaves them as they are then
    for (const answer of [a.unresolved, a.resolved]) {
      assert.deepEqual(
        answer[0].partitions.map((p: { offset: string }) => p.offset),
        ['3', '3', '3'],
      )
    }
    assert.equal(a.describeCluster.brokers.length, 1)
    assert.equal(a.describeCluster.clusterId.length > 0, true)
    const all = a.allConfigs.resources[0].configEntries.map((e: { configName: string }) => e.configName)
    assert.ok(all.includes('cleanup.policy') && all.length > 10)
    assert.deepEqual(
      a.someConfigs.resources[0].configEntries.map((e: any) => [e.configName, e.configValue, e.isDefault]),
      [['cleanup.policy', 'delete', true]],
    )
    assert.deepEqual(a.alterConfigs.resources, [
      { errorCode: 0, errorMessage: null, resourceName: 'topic-name', resourceType: kafkajs.ConfigResourceTypes.TOPIC },
    ])
    const [config] = await admin.describeConfigs([{ type: 'topic', name: 'topic-name', keys: ['cleanup.policy'] }])
    assert.equal(config.configs[0].value, 'compact')
    assert.ok(a.listGroups.groups.some((g: { groupId: string }) => g.groupId === 'my-consumer-group'))
    assert.equal(a.describeGroups.groups[0].state, 'Dead')
    assert.equal(a.deleteGroupsError.name, 'KafkaJSDeleteGroupsError')
    assert.deepEqual(
      a.deleteGroupsError.groups.map((g: { groupId: string; error: Error }) => [g.groupId, g.error.name]),
      [
        ['a', 'KafkaJSProtocolError'],
        ['b', 'KafkaJSProtocolError'],
        ['c', 'KafkaJSProtocolError'],
      ],
    )
    const offsets = await committed('my-consumer-group')
    assert.deepEqual([offsets['custom-topic:0'], offsets['custom-topic:3']], [35n, 19n])
    const low = await admin.listOffsets({ topic: 'custom-topic', at: 'earliest' })
    assert.deepEqual(
      low.sort((x, y) => x.partition - y.partition).map((o) => o.offset),
      [30n, 0n, 0n, 5n],
    )
  })

  it('Admin: create ACLs; a broker without an authorizer refuses, as the page says', async (t) => {
    await assert.rejects(
      example(t, 'admin-acl.mjs'),
      (e: kafkajs.KafkaJSProtocolError) => e instanceof kafkajs.KafkaJSProtocolError && e.type === 'SECURITY_DISABLED',
    )
  })

  it('Transactions, as the page writes it: without a transactionalId transaction() refuses, as in kafkajs 2.2.4', async (t) => {
    const theirs = await new kafkajsOriginal.Kafka({ brokers: brokers(), logLevel: kafkajs.logLevel.NOTHING })
      .producer({ maxInFlightRequests: 1, idempotent: true })
      .transaction()
      .then(
        () => undefined,
        (e: Error) => e,
      )
    assert.ok(theirs instanceof Error && theirs.name === 'KafkaJSNonRetriableError', String(theirs))
    await assert.rejects(
      example(t, 'transactions-as-written.mjs'),
      (e: Error) =>
        e instanceof kafkajs.KafkaJSNonRetriableError && e.name === theirs.name && e.message === theirs.message,
    )
  })

  it('Transactions: a committed transaction is read, an aborted one is not; offsets sent with them count likewise', async (t) => {
    await fresh(
      ['transactions-topic', 'transactions-input'],
      ['transactions-group'],
      [
        { topic: 'transactions-topic', partitions: 2 },
        { topic: 'transactions-input', partitions: 1 },
      ],
    )
    await example(t, 'transactions.mjs')
    const read = (isolation: 'read_committed' | 'read_uncommitted') =>
      readWithKcat('transactions-topic', undefined, isolation)
        .map((r) => `${r.key}=${r.value}`)
        .sort()
    assert.deepEqual(read('read_committed'), ['key1=hello world', 'key2=hey hey!'])
    assert.deepEqual(read('read_uncommitted'), ['key1=hello world', 'key2=hey hey!', 'key3=aborted'])
    assert.deepEqual(await committed('transactions-group'), { 'transactions-input:0': 42n })
  })
})
