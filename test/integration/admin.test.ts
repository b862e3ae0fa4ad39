// The Admin API against the real broker: every call has a visible effect, checked through the Admin
// itself and, where it matters, through the Java tools (console producer/consumer, SCRAM logins).

import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { release, runTool } from '../../scripts/kafka/harness.ts'
import { Admin } from '../../src/admin/admin.ts'
import type { AdminError } from '../../src/admin/engine.ts'
import type { GroupDescription } from '../../src/admin/groups.ts'
import { ConfigError, KafkaError } from '../../src/protocol/errors.ts'
import { brokers, cli, SINGLE, uniqueTopic } from '../helpers/kafka.ts'
import { waitFor } from '../helpers/wait.ts'

/** The KafkaError `fn` rejects with, checked to be of `type`. */
async function kafkaErrorOf(fn: () => Promise<unknown>, type: string): Promise<AdminError<unknown>> {
  const error = await fn().then(
    () => assert.fail(`expected ${type}`),
    (e: unknown) => e,
  )
  assert.ok(error instanceof KafkaError, `expected a KafkaError, got ${error}`)
  assert.equal(error.type, type, error.message)
  return error as AdminError<unknown>
}

/** Polls `fn` until `done` accepts its value (metadata and group state settle asynchronously). */
async function eventually<T>(fn: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  let value: T | undefined
  const look = async () => {
    value = await fn()
    return done(value)
  }
  await waitFor(what, look, {
    intervalMs: 200,
    state: () => (value instanceof Map ? Object.fromEntries(value) : value),
  })
  return value as T
}

const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n)

describe('Admin', () => {
  let admin: Admin
  before(() => {
    admin = new Admin({ brokers: brokers(), clientId: 'kafkax-admin-test' })
  })
  after(async () => {
    await admin.close()
  })

  it('pings and describes the cluster', async () => {
    const ms = await admin.ping()
    assert.ok(ms > 0 && ms < 5000, `latency ${ms}`)
    const cluster = await admin.describeCluster()
    assert.match(cluster.clusterId, /^[\w-]{22}$/)
    const [host, port] = brokers()[0].split(':')
    const broker = cluster.brokers.find((b) => b.host === host && b.port === Number(port))
    assert.ok(broker, `${brokers()[0]} in ${JSON.stringify(cluster.brokers)}`)
    assert.ok(cluster.controller >= 0)
  })

  it("lists each broker's API versions as Java's BrokerApiVersionsCommand does, and the feature levels", async () => {
    const ours = await admin.brokerApiVersions()
    const java = runTool('org.apache.kafka.tools.BrokerApiVersionsCommand', ['--bootstrap-server', brokers()[0]]).stdout
    // Java prints `Name(key): min to max [usable: n]`, or just `min` when min and max are equal
    const ranges = (text: string) =>
      [...text.matchAll(/\t(\w+)\((\d+)\): (\d+)(?: to (\d+))? /g)].map(
        ([, n, key, min, max]) => `${n} ${key} ${min} ${max ?? min}`,
      )
    const [broker] = ours
    assert.deepEqual(
      broker.apis.map((a) => `${a.name} ${a.apiKey} ${a.minVersion} ${a.maxVersion}`),
      ranges(java),
    )
    for (const a of broker.apis)
      assert.ok(a.usable === -1 || (a.usable >= a.minVersion && a.usable <= a.maxVersion), a.name)
    assert.ok(broker.apis.find((a) => a.name === 'Produce')!.usable >= 3)

    const features = await admin.describeFeatures()
    assert.ok(features.finalizedEpoch >= 0n)
    const metadata = features.finalized.find((f) => f.name === 'metadata.version')
    const supported = features.supported.find((f) => f.name === 'metadata.version')
    assert.ok(
      metadata && supported,
      JSON.stringify(features, (_, v) => (typeof v === 'bigint' ? `${v}` : v)),
    )
    assert.ok(metadata.maxVersionLevel >= supported.minVersion && metadata.maxVersionLevel <= supported.maxVersion)
  })

  it('creates, describes, lists and deletes topics', async () => {
    const a = uniqueTopic('admin-a')
    const b = uniqueTopic('admin-b')
    const created = await admin.createTopics([
      { topic: a, partitions: 3, configs: { 'retention.ms': '3600000' } },
      {
        topic: b,
        replicaAssignment: [
          { partition: 0, replicas: [1] },
          { partition: 1, replicas: [1] },
        ],
      },
    ])
    assert.deepEqual(
      created.map((t) => [t.topic, t.partitions, t.replicationFactor]),
      [
        [a, 3, 1],
        [b, 2, 1],
      ],
    )
    assert.match(created[0].topicId, /^[0-9a-f-]{36}$/)

    const [da, db] = await admin.describeTopics([a, b])
    assert.equal(da.topicId, created[0].topicId)
    assert.equal(da.internal, false)
    assert.deepEqual(
      da.partitions.map((p) => [p.partition, p.leader, p.replicas, p.isr, p.offline]),
      [0, 1, 2].map((p) => [p, 1, [1], [1], []]),
    )
    assert.equal(db.partitions.length, 2)
    assert.match(cli.describeTopic(a), /PartitionCount: 3/)
    assert.match(cli.describeTopic(a), /retention\.ms=3600000/)

    const listed = await admin.listTopics()
    assert.ok(listed.includes(a) && listed.includes(b))

    await admin.deleteTopics([a, b])
    await eventually(
      () => admin.listTopics(),
      (names) => !names.includes(a) && !names.includes(b),
      'deleted topics disappear',
    )
    const gone = await kafkaErrorOf(() => admin.describeTopics([a]), 'UNKNOWN_TOPIC_OR_PARTITION')
    assert.deepEqual(
      gone.errors.map((e) => e.item),
      [a],
    )
    await kafkaErrorOf(() => admin.deleteTopics([a]), 'UNKNOWN_TOPIC_OR_PARTITION')
  })

  it('creates nothing with validateOnly', async () => {
    const topic = uniqueTopic('admin-validate')
    const [result] = await admin.createTopics([{ topic, partitions: 4 }], { validateOnly: true })
    assert.equal(result.partitions, 4)
    // a topic created after it reaches the metadata after anything the validation would have made
    const marker = uniqueTopic('admin-after-validate')
    await admin.createTopics([{ topic: marker }])
    await eventually(
      () => admin.listTopics(),
      (topics) => topics.includes(marker),
      'the topic created after the validation in the metadata',
    )
    assert.ok(!(await admin.listTopics()).includes(topic))
    await admin.deleteTopics([marker])
    await kafkaErrorOf(() => admin.describeTopics([topic]), 'UNKNOWN_TOPIC_OR_PARTITION')
  })

  it('reports every failed item, the first as the error thrown', async () => {
    const existing = uniqueTopic('admin-exists')
    const fresh = uniqueTopic('admin-fresh')
    await admin.createTopics([{ topic: existing }])
    const error = await kafkaErrorOf(
      () => admin.createTopics([{ topic: existing }, { topic: fresh }, { topic: 'bad name!' }]),
      'TOPIC_ALREADY_EXISTS',
    )
    assert.deepEqual(
      error.errors.map((e) => [(e.item as { topic: string }).topic, e.error.type]),
      [
        [existing, 'TOPIC_ALREADY_EXISTS'],
        ['bad name!', 'INVALID_TOPIC_EXCEPTION'],
      ],
    )
    assert.equal(error, error.errors[0].error)
    // the item that succeeded was created (a failed call does not wait for its leaders)
    await eventually(
      () => admin.listTopics(),
      (topics) => topics.includes(fresh),
      'the created topic in the metadata',
    )
    assert.equal((await admin.describeTopics([fresh]))[0].partitions.length, 1)
    await admin.deleteTopics([existing, fresh])
  })

  it('describes and alters configs', async () => {
    const topic = uniqueTopic('admin-configs')
    await admin.createTopics([{ topic, configs: { 'retention.ms': '123456' } }])
    const keys = ['retention.ms', 'cleanup.policy', 'max.message.bytes']
    const [before] = await admin.describeConfigs([{ type: 'topic', name: topic, keys }])
    const byName = new Map(before.configs.map((c) => [c.name, c]))
    assert.deepEqual([...byName.keys()].sort(), [...keys].sort())
    assert.deepEqual(byName.get('retention.ms'), {
      name: 'retention.ms',
      value: '123456',
      source: 'dynamic-topic',
      sensitive: false,
      readOnly: false,
      default: false,
    })
    assert.equal(byName.get('cleanup.policy')?.value, 'delete')
    assert.equal(byName.get('cleanup.policy')?.default, true)

    await admin.incrementalAlterConfigs([
      {
        type: 'topic',
        name: topic,
        ops: [
          { key: 'retention.ms', op: 'delete' },
          { key: 'cleanup.policy', op: 'append', value: 'compact' },
          { key: 'max.message.bytes', op: 'set', value: '65536' },
        ],
      },
    ])
    // the controller applied it; the broker answering learns it from the metadata log a moment later
    const configsOf = async (names: string[]) => {
      const [r] = await admin.describeConfigs([{ type: 'topic', name: topic, keys: names }])
      return new Map(r.configs.map((c) => [c.name, c]))
    }
    const now = await eventually(
      () => configsOf(keys),
      (c) => c.get('max.message.bytes')?.value === '65536',
      'the altered configs',
    )
    assert.equal(now.get('retention.ms')?.value, '604800000')
    assert.equal(now.get('retention.ms')?.source, 'default')
    assert.equal(now.get('cleanup.policy')?.value, 'delete,compact')
    assert.equal(now.get('max.message.bytes')?.value, '65536')
    assert.match(cli.describeTopic(topic), /max\.message\.bytes=65536/)

    // validateOnly changes nothing: a real change made after it shows up, and the validated one never
    await admin.incrementalAlterConfigs(
      [{ type: 'topic', name: topic, ops: [{ key: 'max.message.bytes', op: 'set', value: '1000' }] }],
      { validateOnly: true },
    )
    await admin.incrementalAlterConfigs([
      { type: 'topic', name: topic, ops: [{ key: 'retention.ms', op: 'set', value: '1000' }] },
    ])
    const later = await eventually(
      () => configsOf(['max.message.bytes', 'retention.ms']),
      (c) => c.get('retention.ms')?.value === '1000',
      'the later change',
    )
    assert.equal(later.get('max.message.bytes')?.value, '65536')

    const [broker] = await admin.describeConfigs([{ type: 'broker', name: '1', keys: ['num.io.threads'] }])
    assert.deepEqual(broker.configs[0], {
      name: 'num.io.threads',
      value: '4',
      source: 'static-broker',
      sensitive: false,
      readOnly: false,
      default: false,
    })
    await kafkaErrorOf(
      () =>
        admin.incrementalAlterConfigs([
          { type: 'topic', name: topic, ops: [{ key: 'no.such', op: 'set', value: '1' }] },
        ]),
      'INVALID_CONFIG',
    )
    await admin.deleteTopics([topic])
  })

  it('grows partitions', async () => {
    const topic = uniqueTopic('admin-grow')
    await admin.createTopics([{ topic, partitions: 1 }])
    await admin.createPartitions([{ topic, count: 3 }])
    const [described] = await eventually(
      () => admin.describeTopics([topic]),
      ([t]) => t.partitions.length === 3,
      'three partitions',
    )
    assert.deepEqual(
      described.partitions.map((p) => p.leader),
      [1, 1, 1],
    )
    await kafkaErrorOf(() => admin.createPartitions([{ topic, count: 2 }]), 'INVALID_PARTITIONS')
    await admin.deleteTopics([topic])
  })

  it('lists offsets and deletes records', async () => {
    const topic = uniqueTopic('admin-records')
    await admin.createTopics([{ topic, partitions: 1 }])
    const before = Date.now()
    cli.produce(
      topic,
      Array.from({ length: 5 }, (_, i) => `k${i}:v${i}`),
    )
    const offsets = async (at: Parameters<Admin['listOffsets']>[0]['at']) => admin.listOffsets({ topic, at })
    assert.deepEqual(
      (await offsets('earliest')).map((o) => o.offset),
      [0n],
    )
    assert.deepEqual(
      (await offsets('latest')).map((o) => o.offset),
      [5n],
    )
    const [max] = await offsets('max-timestamp')
    assert.ok(
      max.offset >= 0n && max.offset < 5n && max.timestamp >= before,
      JSON.stringify(`${max.offset} ${max.timestamp}`),
    )
    assert.deepEqual(
      (await offsets({ timestamp: Date.now() + 60_000 })).map((o) => o.offset),
      [-1n],
    )

    const [deleted] = await admin.deleteRecords({ topic, partitions: [{ partition: 0, offset: 3n }] })
    assert.deepEqual(deleted, { partition: 0, lowWatermark: 3n })
    assert.deepEqual(
      (await offsets('earliest')).map((o) => o.offset),
      [3n],
    )
    assert.deepEqual(
      (await offsets({ timestamp: 0 })).map((o) => o.offset),
      [3n],
    )
    assert.deepEqual(cli.consume(topic, 2), ['k3:v3', 'k4:v4'])

    // -1: everything up to the high watermark
    await admin.deleteRecords({ topic, partitions: [{ partition: 0, offset: -1 }] })
    assert.deepEqual(
      (await offsets('earliest')).map((o) => o.offset),
      [5n],
    )
    await kafkaErrorOf(
      () => admin.deleteRecords({ topic, partitions: [{ partition: 0, offset: 99n }] }),
      'OFFSET_OUT_OF_RANGE',
    )
    await kafkaErrorOf(() => admin.listOffsets({ topic, partitions: [7], at: 'latest' }), 'UNKNOWN_TOPIC_OR_PARTITION')
    await admin.deleteTopics([topic])
  })

  it('manages a consumer group made by the Java console consumer', async () => {
    const topic = uniqueTopic('admin-group')
    const group = uniqueTopic('admin-group')
    await admin.createTopics([{ topic, partitions: 2 }])
    cli.produce(
      topic,
      Array.from({ length: 6 }, (_, i) => `key-${i}:value-${i}`),
    )
    cli.consume(topic, 6, { group })

    const listed = (await admin.listGroups()).find((g) => g.groupId === group)
    assert.deepEqual(listed, { groupId: group, protocolType: 'consumer', state: 'Empty', type: 'classic' })
    const internal = await admin.listTopics({ includeInternal: true })
    assert.ok(internal.includes('__consumer_offsets'))
    assert.ok(!(await admin.listTopics()).includes('__consumer_offsets'))

    const committed = await admin.fetchCommittedOffsets(group)
    assert.deepEqual(
      committed.map((c) => [c.topic, c.partition]),
      [
        [topic, 0],
        [topic, 1],
      ],
    )
    assert.equal(sum(committed.map((c) => c.offset)), 6n)
    assert.deepEqual(await admin.fetchCommittedOffsets(group, ['other-topic']), [])

    cli.produce(topic, ['key-6:value-6', 'key-7:value-7', 'key-8:value-8'])
    const lag = await admin.groupLag(group)
    assert.deepEqual(
      lag.map((l) => l.end - l.committed),
      lag.map((l) => l.lag),
    )
    assert.equal(sum(lag.map((l) => l.lag)), 3n)
    assert.equal(sum(lag.map((l) => l.end)), 9n)

    await admin.alterCommittedOffsets(group, [
      { topic, partition: 0, offset: 0n, metadata: 'reset by kafkax' },
      { topic, partition: 1, offset: 1 },
    ])
    const altered = await admin.fetchCommittedOffsets(group)
    assert.deepEqual(
      altered.map((c) => [c.partition, c.offset, c.metadata]),
      [
        [0, 0n, 'reset by kafkax'],
        [1, 1n, ''],
      ],
    )
    assert.equal(sum((await admin.groupLag(group)).map((l) => l.lag)), 8n)

    await admin.deleteCommittedOffsets(group, [{ topic, partition: 0 }])
    assert.deepEqual(
      (await admin.fetchCommittedOffsets(group)).map((c) => c.partition),
      [1],
    )

    await admin.deleteGroups([group])
    assert.ok(!(await admin.listGroups()).some((g) => g.groupId === group))
    if (release().line === '3.9') assert.equal((await admin.describeGroups([group]))[0].state, 'Dead')
    else await kafkaErrorOf(() => admin.describeGroups([group]), 'GROUP_ID_NOT_FOUND')
    assert.deepEqual(await admin.fetchCommittedOffsets(group), [])
    await kafkaErrorOf(() => admin.deleteGroups([group]), 'GROUP_ID_NOT_FOUND')
    await admin.deleteTopics([topic])
  })

  // KIP-848 groups (group.protocol=consumer) are on by default from Kafka 4.0
  const protocols = release().line === '3.9' ? (['classic'] as const) : (['classic', 'consumer'] as const)
  for (const protocol of protocols) {
    it(`describes a live ${protocol} group: members with their subscriptions and assignments`, async () => {
      const topic = uniqueTopic('admin-live')
      const group = uniqueTopic('admin-live')
      await admin.createTopics([{ topic, partitions: 2 }])
      let consumer: ChildProcess | undefined
      try {
        consumer = spawn(
          'java',
          [
            '-Xmx256m',
            '-cp',
            `${release().libs}/*`,
            'org.apache.kafka.tools.consumer.ConsoleConsumer',
            '--bootstrap-server',
            brokers()[0],
            '--topic',
            topic,
            '--group',
            group,
            '--consumer-property',
            'client.id=kafkax-live-member',
            '--consumer-property',
            `group.protocol=${protocol}`,
          ],
          { stdio: 'ignore' },
        )
        const [described] = await eventually(
          // until the consumer joins, Kafka 4 answers GROUP_ID_NOT_FOUND
          () => admin.describeGroups([group]).catch(() => [] as GroupDescription[]),
          ([g]) => g?.state === 'Stable' && g.members.length === 1 && g.members[0].assignment?.length === 1,
          'a stable group with one assigned member',
        )
        assert.deepEqual(
          {
            groupId: described.groupId,
            type: described.type,
            state: described.state,
            protocolType: described.protocolType,
          },
          { groupId: group, type: protocol, state: 'Stable', protocolType: 'consumer' },
        )
        assert.match(described.protocol, protocol === 'classic' ? /^(range|cooperative-sticky)$/ : /^(uniform|range)$/)
        const [member] = described.members
        assert.equal(member.clientId, 'kafkax-live-member')
        assert.match(member.clientHost, /127\.0\.0\.1/)
        assert.deepEqual(member.subscription?.topics, [topic])
        assert.deepEqual(member.assignment, [{ topic, partitions: [0, 1] }])
        const listed = (await admin.listGroups()).find((g) => g.groupId === group)
        assert.equal(listed?.type, protocol)

        await kafkaErrorOf(() => admin.deleteGroups([group]), 'NON_EMPTY_GROUP')
        await kafkaErrorOf(
          () => admin.alterCommittedOffsets(group, [{ topic, partition: 0, offset: 0n }]),
          'UNKNOWN_MEMBER_ID',
        )
      } finally {
        consumer?.kill()
      }
      await admin.deleteTopics([topic])
    })
  }

  it('surfaces SECURITY_DISABLED for ACLs (the harness broker has no authorizer)', async () => {
    const acl = {
      resourceType: 'topic',
      resourceName: 'orders',
      principal: 'User:alice',
      operation: 'read',
      permission: 'allow',
    } as const
    await kafkaErrorOf(() => admin.createAcls([acl]), 'SECURITY_DISABLED')
    await kafkaErrorOf(() => admin.describeAcls({ principal: 'User:alice' }), 'SECURITY_DISABLED')
    await kafkaErrorOf(() => admin.deleteAcls([{ resourceType: 'topic' }]), 'SECURITY_DISABLED')
    await assert.rejects(admin.createAcls([{ ...acl, operation: 'any' }]), ConfigError)
  })

  it('upserts SCRAM credentials a Java client then logs in with, and deletes them', async () => {
    const user = uniqueTopic('scram-user')
    const password = 'kafkax-secret-1'
    await admin.upsertScramCredentials([
      { user, mechanism: 'SCRAM-SHA-256', password, iterations: 8192 },
      { user, mechanism: 'SCRAM-SHA-512', password },
    ])
    // the controller stored them; the broker answering (and authenticating) learns them a moment later
    const credentialsOf = () =>
      admin.describeScramCredentials([user]).then(
        ([d]) => d.credentials.sort((a, b) => a.mechanism.localeCompare(b.mechanism)),
        (e: KafkaError) => e.type,
      )
    assert.deepEqual(await eventually(credentialsOf, (c) => c.length === 2, 'both credentials'), [
      { mechanism: 'SCRAM-SHA-256', iterations: 8192 },
      { mechanism: 'SCRAM-SHA-512', iterations: 4096 },
    ])
    assert.ok((await admin.describeScramCredentials()).some((d) => d.user === user))

    const dir = mkdtempSync(join(tmpdir(), 'kafkax-scram-'))
    const login = (mechanism: string, secret: string) => {
      const file = join(dir, `${mechanism}-${secret}.properties`)
      writeFileSync(
        file,
        `security.protocol=SASL_PLAINTEXT\nsasl.mechanism=${mechanism}\n` +
          `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${secret}";\n`,
      )
      return runTool('org.apache.kafka.tools.TopicCommand', [
        '--bootstrap-server',
        `127.0.0.1:${SINGLE.saslPlaintext}`,
        '--command-config',
        file,
        '--list',
      ])
    }
    try {
      login('SCRAM-SHA-256', password)
      login('SCRAM-SHA-512', password)
      assert.throws(() => login('SCRAM-SHA-256', 'wrong-password'), /Authentication failed/)

      await admin.deleteScramCredentials([{ user, mechanism: 'SCRAM-SHA-256' }])
      assert.deepEqual(await eventually(credentialsOf, (c) => c.length === 1, 'one credential'), [
        { mechanism: 'SCRAM-SHA-512', iterations: 4096 },
      ])
      assert.throws(() => login('SCRAM-SHA-256', password), /Authentication failed/)
      await admin.deleteScramCredentials([{ user, mechanism: 'SCRAM-SHA-512' }])
      await eventually(credentialsOf, (c) => c === 'RESOURCE_NOT_FOUND', 'no credentials')
      await kafkaErrorOf(
        () => admin.deleteScramCredentials([{ user, mechanism: 'SCRAM-SHA-512' }]),
        'RESOURCE_NOT_FOUND',
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('validates options with a ConfigError naming the option', async () => {
    await assert.rejects(admin.createTopics([{ topic: 't', partitions: 0 }]), /topics\[0\]\.partitions/)
    await assert.rejects(admin.listOffsets({ topic: 't', at: 'newest' as 'latest' }), /listOffsets: at/)
    await assert.rejects(
      admin.upsertScramCredentials([{ user: 'u', mechanism: 'SCRAM-SHA-1' as 'SCRAM-SHA-256', password: 'p' }]),
      /credentials\[0\]\.mechanism/,
    )
    await assert.rejects(admin.deleteTopics([]), ConfigError)
  })

  it('fails every call with ConnectionError once closed', async () => {
    const closed = new Admin({ brokers: brokers() })
    await closed.ping()
    await closed.close()
    await assert.rejects(closed.listTopics(), { name: 'ConnectionError' })
  })
})
