// kafkax/kafkajs's surface against kafkajs 2.2.4's (no broker): every export kafkajs has, the
// enumerations' values, AssignerProtocol's bytes and the round-robin assignor's answers compared
// with kafkajs's own, logging through logCreator, instrumentation events, the checks kafkajs makes
// before any request, and kafkajs's options as kafkax's (retries, socket factory, SASL).

import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { createServer, connect as netConnect, type Server } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { RetryPolicy } from '../../../src/client/retry.ts'
import { rangeAssignor } from '../../../src/group/assignors.ts'
import { groupAssignor } from '../../../src/kafkajs/assigners.ts'
import type { LogEntry } from '../../../src/kafkajs/index.ts'
import * as ours from '../../../src/kafkajs/index.ts'
import { kafkaxLogger } from '../../../src/kafkajs/logger.ts'
import { clientOptions, retryPolicy } from '../../../src/kafkajs/options.ts'

const require = createRequire(import.meta.url)
const kafkajs = require('kafkajs') as Record<string, any>
const exported = ours as unknown as Record<string, any>

/** A Kafka whose log entries land in `entries`. */
function recordingKafka(level: ours.logLevel = ours.logLevel.INFO, config: Partial<ours.KafkaConfig> = {}) {
  const entries: LogEntry[] = []
  const kafka = new ours.Kafka({
    brokers: ['127.0.0.1:1'],
    logLevel: level,
    logCreator: () => (e) => entries.push(e),
    ...config,
  })
  return { kafka, entries }
}

describe('kafkax/kafkajs exports', () => {
  it('everything kafkajs exports, under the same names', () => {
    const missing = Object.keys(kafkajs).filter((k) => !(k in exported))
    assert.deepEqual(missing, [])
  })

  it('the enumerations have kafkajs values', () => {
    for (const name of [
      'logLevel',
      'CompressionTypes',
      'ConfigResourceTypes',
      'ConfigSource',
      'AclResourceTypes',
      'AclOperationTypes',
      'AclPermissionTypes',
      'ResourcePatternTypes',
    ]) {
      assert.deepEqual({ ...exported[name] }, { ...kafkajs[name] }, name)
    }
    assert.deepEqual(Object.keys(ours.Partitioners).sort(), Object.keys(kafkajs.Partitioners).sort())
    // kafkajs's assigners, and range beside them
    assert.deepEqual(Object.keys(ours.PartitionAssigners), [...Object.keys(kafkajs.PartitionAssigners), 'range'])
    assert.deepEqual(Object.keys(ours.CompressionCodecs).sort(), Object.keys(kafkajs.CompressionCodecs).sort())
  })

  it("CompressionCodecs are kafkax's built-in codecs, in kafkajs's codec shape", async () => {
    const gzip = ours.CompressionCodecs[ours.CompressionTypes.GZIP]()
    const data = Buffer.from('hello '.repeat(100))
    const compressed = await gzip.compress({ buffer: data })
    assert.ok(compressed.length < data.length)
    assert.deepEqual(await gzip.decompress(compressed), data)
    // what kafkajs's gzip codec makes, kafkax's reads
    const theirs = await kafkajs.CompressionCodecs[kafkajs.CompressionTypes.GZIP]().compress({ buffer: data })
    assert.deepEqual(await gzip.decompress(theirs), data)
  })
})

describe('AssignerProtocol and PartitionAssigners', () => {
  const metadata = { version: 0, topics: ['orders', 'payments', 'ü-topic'], userData: Buffer.from('ud') }
  const assignment = { version: 1, assignment: { orders: [0, 2, 4], payments: [1] }, userData: Buffer.alloc(0) }

  it('encodes the bytes kafkajs encodes, and decodes them back', () => {
    const mine = ours.AssignerProtocol.MemberMetadata.encode(metadata)
    assert.deepEqual(mine, kafkajs.AssignerProtocol.MemberMetadata.encode(metadata))
    assert.deepEqual(
      ours.AssignerProtocol.MemberMetadata.decode(mine),
      kafkajs.AssignerProtocol.MemberMetadata.decode(mine),
    )
    const bytes = ours.AssignerProtocol.MemberAssignment.encode(assignment)
    assert.deepEqual(bytes, kafkajs.AssignerProtocol.MemberAssignment.encode(assignment))
    assert.deepEqual(
      ours.AssignerProtocol.MemberAssignment.decode(bytes),
      kafkajs.AssignerProtocol.MemberAssignment.decode(bytes),
    )
    assert.equal(ours.AssignerProtocol.MemberAssignment.decode(Buffer.alloc(0)), null)
  })

  it('decodes what Java members write (later versions append fields, null user data)', () => {
    // ConsumerProtocolSubscription v1 as the Java client writes it: topics, null user data, owned partitions
    const v1 = Buffer.concat([
      Buffer.from([0, 1, 0, 0, 0, 1, 0, 1]),
      Buffer.from('t'),
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]),
    ])
    const decoded = ours.AssignerProtocol.MemberMetadata.decode(v1)
    assert.deepEqual(decoded, { version: 1, topics: ['t'], userData: null })
    assert.deepEqual(decoded, kafkajs.AssignerProtocol.MemberMetadata.decode(v1))
    assert.throws(
      () => ours.AssignerProtocol.MemberMetadata.decode(Buffer.from([0, 0, 0, 0, 0, 5])),
      /cannot fit|truncated/,
    )
  })

  it("roundRobin assigns exactly as kafkajs's RoundRobinAssigner", async () => {
    const counts: Record<string, number> = { a: 7, b: 3, c: 1, d: 12 }
    const cluster = {
      findTopicPartitionMetadata: (topic: string) =>
        Array.from({ length: counts[topic] }, (_, partitionId) => ({
          partitionId,
          leader: 0,
          partitionErrorCode: 0,
          replicas: [0],
          isr: [0],
        })),
    }
    for (const memberCount of [1, 2, 3, 5, 30]) {
      const members = Array.from({ length: memberCount }, (_, i) => ({
        memberId: `m-${(i * 7919) % 101}`,
        memberMetadata: Buffer.alloc(0),
      }))
      const group = { members, topics: ['d', 'a', 'c', 'b'] }
      const mine = ours.PartitionAssigners.roundRobin({
        cluster,
        groupId: 'g',
        logger: recordingKafka().kafka.logger(),
      })
      const theirs = kafkajs.PartitionAssigners.roundRobin({ cluster })
      assert.deepEqual(await mine.assign(group), await theirs.assign(group), `${memberCount} members`)
      assert.deepEqual(mine.protocol({ topics: ['a'] }), theirs.protocol({ topics: ['a'] }))
      assert.equal(mine.name, theirs.name)
    }
  })
})

describe('kafkajs-shaped assigners on the kafkax group member', () => {
  const cluster = (counts: Record<string, number>) => ({
    findTopicPartitionMetadata: (topic: string) =>
      Array.from({ length: counts[topic] ?? 0 }, (_, partitionId) => ({
        partitionId,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [0],
        isr: [0],
      })),
  })
  const logger = recordingKafka().kafka.logger()

  it("range: kafkax's range placement (the Java client's, tested against it in the group layer) through kafkajs's assigner shape, each member by its own subscription", async () => {
    const counts: Record<string, number> = { a: 7, b: 3, c: 1, d: 12, e: 0 }
    const names = Object.keys(counts)
    let seed = 7
    const random = () => {
      seed = (seed * 48271) % 2147483647
      return seed / 2147483647
    }
    for (let round = 0; round < 200; round++) {
      const members = Array.from({ length: 1 + Math.floor(random() * 8) }, (_, i) => {
        const topics = names.filter(() => random() < 0.6)
        return { memberId: `m-${Math.floor(random() * 1000)}-${i}`, topics: topics.length > 0 ? topics : ['a'] }
      })
      const assigner = ours.PartitionAssigners.range({ cluster: cluster(counts), groupId: 'g', logger })
      const answers = await assigner.assign({
        members: members.map((m) => ({
          memberId: m.memberId,
          memberMetadata: ours.AssignerProtocol.MemberMetadata.encode({ version: 0, topics: m.topics }),
        })),
        topics: names,
      })
      const mine = Object.fromEntries(
        answers.map((a) => [
          a.memberId,
          Object.entries(ours.AssignerProtocol.MemberAssignment.decode(a.memberAssignment)!.assignment).flatMap(
            ([topic, ps]) => ps.map((p) => `${topic}-${p}`),
          ),
        ]),
      )
      const java = rangeAssignor.assign(
        members.map((m) => ({ ...m, groupInstanceId: null, ownedPartitions: [], generationId: -1, rackId: null })),
        new Map(Object.entries(counts).filter(([, n]) => n > 0)),
      )
      const expected = Object.fromEntries(
        [...java].map(([m, tps]) => [m, tps.map((tp) => `${tp.topic}-${tp.partition}`)]),
      )
      assert.deepEqual(mine, expected, JSON.stringify(members))
    }
  })

  it('groupAssignor: a kafkajs assigner as the group assignor (its protocol bytes, its answers as partitions)', async () => {
    const counts = { a: 5, b: 2 }
    const assigner = ours.PartitionAssigners.roundRobin({ cluster: cluster(counts), groupId: 'g', logger })
    const group = groupAssignor(assigner, () => ['b', 'a'])
    assert.equal(group.name, 'RoundRobinAssigner')
    assert.deepEqual(await group.subscription(['a']), assigner.protocol({ topics: ['a'] }).metadata)
    const members = ['m2', 'm1', 'm3'].map((memberId) => ({
      memberId,
      groupInstanceId: null,
      topics: ['a', 'b'],
      ownedPartitions: [],
      generationId: -1,
      rackId: null,
      metadata: ours.AssignerProtocol.MemberMetadata.encode({ version: 0, topics: ['a', 'b'] }),
    }))
    const plan = await group.assign(members, new Map(Object.entries(counts)))
    // what kafkajs's own RoundRobinAssigner answers, read back into partitions
    const theirs = await kafkajs.PartitionAssigners.roundRobin({ cluster: cluster(counts) }).assign({
      members: members.map((m) => ({ memberId: m.memberId, memberMetadata: m.metadata })),
      topics: ['b', 'a'],
    })
    const expected = theirs.map((a: { memberId: string; memberAssignment: Buffer }) => [
      a.memberId,
      Object.entries(kafkajs.AssignerProtocol.MemberAssignment.decode(a.memberAssignment).assignment).flatMap(
        ([topic, ps]) => (ps as number[]).map((partition) => ({ topic, partition })),
      ),
    ])
    assert.deepEqual([...plan], expected)
    assert.equal(plan.size, 3)
  })
})

describe('logging', () => {
  it("entries reach the logCreator with namespace, level, label and kafkajs's fields, filtered by level", () => {
    const { kafka, entries } = recordingKafka(ours.logLevel.WARN)
    const log = kafka.logger().namespace('Producer')
    log.info('not logged')
    log.warn('retrying', { topic: 't' })
    log.error('failed')
    assert.deepEqual(
      entries.map((e) => [e.namespace, e.level, e.label, e.log.message, e.log.logger, e.log.topic]),
      [
        ['Producer', ours.logLevel.WARN, 'WARN', 'retrying', 'kafkajs', 't'],
        ['Producer', ours.logLevel.ERROR, 'ERROR', 'failed', 'kafkajs', undefined],
      ],
    )
    assert.ok(!Number.isNaN(Date.parse(entries[0].log.timestamp)))
    kafka.logger().setLogLevel(ours.logLevel.DEBUG)
    log.debug('now logged')
    assert.equal(entries.at(-1)?.log.message, 'now logged')
  })

  it('KAFKAJS_LOG_LEVEL wins over the configured level', () => {
    process.env.KAFKAJS_LOG_LEVEL = 'debug'
    try {
      const { kafka, entries } = recordingKafka(ours.logLevel.ERROR)
      kafka.logger().debug('shown')
      assert.deepEqual(
        entries.map((e) => e.label),
        ['DEBUG'],
      )
    } finally {
      delete process.env.KAFKAJS_LOG_LEVEL
    }
  })

  it('the kafkax clients underneath log through it, errors as their message', () => {
    const { kafka, entries } = recordingKafka(ours.logLevel.DEBUG)
    const bridge = kafkaxLogger(kafka.logger().namespace('Producer'))
    bridge.warn?.({ topic: 'orders', partition: 2, err: new Error('NOT_LEADER_OR_FOLLOWER') }, 'retrying batch')
    bridge.debug?.('plain %s', 'text')
    assert.deepEqual(entries[0].log.error, 'NOT_LEADER_OR_FOLLOWER')
    assert.deepEqual(
      [entries[0].label, entries[0].log.message, entries[0].log.partition],
      ['WARN', 'retrying batch', 2],
    )
    assert.equal(entries[1].log.message, 'plain text')
  })

  it("the default logCreator writes kafkajs's JSON lines", (t) => {
    const lines: string[] = []
    t.mock.method(console, 'warn', (line: string) => lines.push(line))
    const kafka = new ours.Kafka({ brokers: ['127.0.0.1:1'] })
    kafka.logger().namespace('Admin').warn('careful', { groupId: 'g' })
    const line = JSON.parse(lines[0])
    assert.deepEqual([line.level, line.message, line.logger, line.groupId], ['WARN', '[Admin] careful', 'kafkajs', 'g'])
  })

  it('the first producer without createPartitioner of the process warns, naming LegacyPartitioner', () => {
    // this is the first such producer of this test file's process
    const { kafka, entries } = recordingKafka()
    kafka.producer({ createPartitioner: ours.Partitioners.LegacyPartitioner })
    assert.equal(entries.length, 0)
    kafka.producer()
    kafka.producer()
    assert.equal(entries.length, 1)
    assert.equal(entries[0].label, 'WARN')
    assert.match(entries[0].log.message, /DefaultPartitioner.*LegacyPartitioner.*KAFKAJS_NO_PARTITIONER_WARNING/)
  })
})

describe('checks before any request', () => {
  it('new Kafka() needs brokers', () => {
    assert.throws(() => new ours.Kafka({} as ours.KafkaConfig), ours.KafkaJSNonRetriableError)
    assert.throws(() => new ours.Kafka({ brokers: [] }), /brokers/)
  })

  it("kafka.consumer() checks its configuration as kafkajs's, and has its events", () => {
    const { kafka } = recordingKafka()
    const theirs = new kafkajs.Kafka({ brokers: ['127.0.0.1:1'], logLevel: kafkajs.logLevel.NOTHING })
    for (const config of [{}, { groupId: '' }, { groupId: 'g', sessionTimeout: 3000, heartbeatInterval: 3000 }]) {
      const expected = (() => {
        try {
          theirs.consumer(config)
        } catch (e) {
          return (e as Error).message
        }
      })()
      assert.throws(
        () => kafka.consumer(config as ours.ConsumerConfig),
        (e: Error) => e instanceof ours.KafkaJSNonRetriableError && e.message === expected,
      )
    }
    assert.deepEqual({ ...kafka.consumer({ groupId: 'g' }).events }, { ...theirs.consumer({ groupId: 'g' }).events })
  })

  it('consumer calls that need run() first, and bad subscriptions, fail as in kafkajs', async () => {
    const { kafka } = recordingKafka()
    const theirs = new kafkajs.Kafka({ brokers: ['127.0.0.1:1'], logLevel: kafkajs.logLevel.NOTHING }).consumer({
      groupId: 'g',
    })
    const consumer = kafka.consumer({ groupId: 'g' })
    const message = async (fn: () => unknown) => {
      try {
        await fn()
      } catch (e) {
        return [(e as Error).name, (e as Error).message]
      }
      return 'no error'
    }
    const calls: [string, (c: any) => unknown][] = [
      ['pause', (c) => c.pause([{ topic: 't' }])],
      ['resume', (c) => c.resume([{ topic: 't', partitions: [0] }])],
      ['seek', (c) => c.seek({ topic: 't', partition: 0, offset: '3' })],
      ['seek to a negative offset', (c) => c.seek({ topic: 't', partition: 0, offset: '-3' })],
      ['seek without a topic', (c) => c.seek({ partition: 0, offset: '3' })],
      ['commitOffsets', (c) => c.commitOffsets([{ topic: 't', partition: 0, offset: '3' }])],
      ['commitOffsets with a bad offset', (c) => c.commitOffsets([{ topic: 't', partition: 0, offset: 'x' }])],
      ['pause with bad partitions', (c) => c.pause([{ topic: 't', partitions: 'x' }])],
      ['resume with bad partitions', (c) => c.resume([{ topic: 't', partitions: ['x'] }])],
      ['subscribe to nothing', (c) => c.subscribe({})],
      ['subscribe to a number', (c) => c.subscribe({ topics: [1] })],
      ['subscribe to topics that are no array', (c) => c.subscribe({ topics: 't' })],
    ]
    for (const [what, call] of calls) {
      const [name, text] = (await message(() => call(theirs))) as string[]
      const [ourName, ourText] = (await message(() => call(consumer))) as string[]
      assert.deepEqual([ourName, ourText], [name, text], what)
    }
    assert.deepEqual(consumer.paused(), [])
    await assert.rejects(consumer.run({ eachMessage: async () => {} }), /subscribe\(\) before run\(\)/)
  })

  it('sends before connect() fail as in kafkajs; messages and acks are checked first', async () => {
    const { kafka } = recordingKafka()
    const producer = kafka.producer({ createPartitioner: ours.Partitioners.DefaultPartitioner })
    await assert.rejects(producer.send({ topic: 't', messages: [{ value: 'v' }] }), (e: ours.KafkaJSError) => {
      return e.name === 'KafkaJSError' && e.message === 'The producer is disconnected' && e.retriable
    })
    await assert.rejects(
      producer.send({ topic: 't', messages: [{ key: 'k' } as ours.Message] }),
      /Invalid message without value/,
    )
    await assert.rejects(producer.send({ topic: '', messages: [] }), /Invalid topic/)
    await assert.rejects(
      producer.sendBatch({ topicMessages: [{ topic: 't', messages: 'x' as never }] }),
      /Invalid messages array/,
    )
    const idempotent = kafka.producer({ idempotent: true, createPartitioner: ours.Partitioners.DefaultPartitioner })
    assert.equal(idempotent.isIdempotent(), true)
    await assert.rejects(
      idempotent.send({ topic: 't', acks: 1, messages: [{ value: 'v' }] }),
      /invalidates the idempotent/,
    )
    assert.throws(() => kafka.producer({ idempotent: true, retry: { retries: 0 } }), /must allow retries/)
  })

  it('transaction(): a transactional id is required, and a connected producer', async () => {
    const { kafka } = recordingKafka()
    await assert.rejects(
      kafka.producer().transaction(),
      (e: Error) => e instanceof ours.KafkaJSNonRetriableError && /Must provide transactional id/.test(e.message),
    )
    await assert.rejects(
      kafka.producer({ transactionalId: 'tx' }).transaction(),
      (e: Error) => e instanceof ours.KafkaJSError && /The producer is disconnected/.test(e.message),
    )
  })

  it("on() takes only the client's events, with kafkajs's message; the remover removes", () => {
    const { kafka } = recordingKafka()
    const producer = kafka.producer()
    assert.throws(() => producer.on('producer.nope' as never, () => {}), {
      message:
        'Event name should be one of producer.events.CONNECT, producer.events.DISCONNECT, producer.events.REQUEST, producer.events.REQUEST_TIMEOUT, producer.events.REQUEST_QUEUE_SIZE',
    })
    const admin = kafka.admin()
    const theirs = new kafkajs.Kafka({ brokers: ['x:1'], logLevel: 0 })
    assert.deepEqual({ ...admin.events }, { ...theirs.admin().events })
    assert.deepEqual({ ...producer.events }, { ...theirs.producer().events })
    const remove = admin.on(admin.events.CONNECT, () => {})
    assert.equal(typeof remove, 'function')
    remove()
  })

  it("methods work detached, as kafkajs's closures do", async () => {
    const { kafka } = recordingKafka()
    const { send, isIdempotent } = kafka.producer()
    assert.equal(isIdempotent(), false)
    await assert.rejects(send({ topic: 't', messages: [{ value: 'v' }] }), /disconnected/)
    const { listTopics } = kafka.admin()
    assert.equal(typeof listTopics, 'function')
  })

  it('admin calls check their arguments as kafkajs does', async () => {
    const admin = recordingKafka().kafka.admin()
    await assert.rejects(admin.createTopics({ topics: 'x' as never }), /Invalid topics array/)
    await assert.rejects(admin.createTopics({ topics: [{ topic: 'a' }, { topic: 'a' }] }), /multiple entries/)
    await assert.rejects(
      admin.createTopics({ topics: [{ topic: 'a', configEntries: [{ name: 'x' } as never] }] }),
      /valid "value"/,
    )
    await assert.rejects(admin.deleteTopics({ topics: [1 as never] }), /names must be a valid string/)
    await assert.rejects(admin.createPartitions({ topicPartitions: [] }), /Empty topic partitions/)
    await assert.rejects(admin.fetchTopicOffsets(''), /Invalid topic/)
    await assert.rejects(admin.fetchOffsets({ groupId: '' }), /Invalid groupId/)
    await assert.rejects(admin.setOffsets({ groupId: 'g', topic: 't', partitions: [] }), /Invalid partitions/)
    await assert.rejects(
      admin.setOffsets({ groupId: 'g', topic: 't', partitions: [{ partition: 0, offset: 'x' }] }),
      /Invalid offset/,
    )
    await assert.rejects(
      admin.describeConfigs({ resources: [{ type: 3 as never, name: 'x' }] }),
      /Invalid resource type 3/,
    )
    await assert.rejects(
      admin.alterConfigs({ resources: [{ type: 2, name: 't', configEntries: [{ name: 'a', value: 1 as never }] }] }),
      /Invalid resource config value/,
    )
    await assert.rejects(admin.createAcls({ acl: [] }), /Empty ACL array/)
    const acl = {
      resourceType: 2,
      resourceName: 't',
      resourcePatternType: 3,
      principal: 'User:a',
      host: '*',
      permissionType: 3,
      operation: 99,
    }
    await assert.rejects(admin.createAcls({ acl: [acl as never] }), /Invalid operation type 99/)
    await assert.rejects(admin.deleteGroups('g' as never), /Invalid groupIds array/)
    await assert.rejects(admin.listPartitionReassignments({}), ours.KafkaJSNotImplemented)
  })
})

describe('kafkajs options as kafkax client options', () => {
  it('retries: kafkajs defaults, attempts, delays and a deadline the retries end before', () => {
    const { options, spent } = retryPolicy(undefined, 30_000)
    assert.deepEqual(
      [options.maxAttempts, options.initialDelayMs, options.maxDelayMs, options.multiplier, options.jitter],
      [6, 300, 30_000, 2, 0.2],
    )
    assert.deepEqual(spent, { retryCount: 5, retryTime: 300 + 600 + 1200 + 2400 + 4800 })
    assert.ok(options.deadlineMs! > 6 * 30_000 + 9300)
    const policy = new RetryPolicy(options)
    for (let attempt = 1; attempt <= 5; attempt++)
      assert.ok(policy.delay(attempt) <= 300 * 2 ** (attempt - 1) * 1.2 + 1)
    const forever = retryPolicy({ retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 1000 }, 30_000)
    assert.ok(Number.isSafeInteger(forever.options.maxAttempts) && forever.options.deadlineMs! > 1e15)
    assert.equal(retryPolicy({ retries: 0 }, 1000).options.maxAttempts, 1)
  })

  it('timeouts, client id, TLS and in-flight requests', () => {
    const logger = recordingKafka().kafka.logger()
    const base = clientOptions({ brokers: ['h:1'] }, ['h:1'], logger, { retry: {} })
    assert.deepEqual(
      [base.clientId, base.connectTimeoutMs, base.requestTimeoutMs, base.tls, base.maxInFlight],
      ['kafkajs', 1000, 30_000, undefined, undefined],
    )
    const sasl = clientOptions(
      {
        brokers: ['h:1'],
        ssl: true,
        clientId: 'c',
        connectionTimeout: 3000,
        authenticationTimeout: 2000,
        requestTimeout: 5000,
        sasl: { mechanism: 'plain', username: 'u', password: 'p' },
      },
      ['h:1'],
      logger,
      { retry: {}, maxInFlightRequests: 1 },
    )
    assert.deepEqual(
      [sasl.clientId, sasl.connectTimeoutMs, sasl.requestTimeoutMs, sasl.tls, sasl.maxInFlight],
      ['c', 5000, 5000, true, 1],
    )
    assert.throws(
      () => clientOptions({ brokers: ['h:1'], sasl: { mechanism: 'aws' } as never }, ['h:1'], logger, { retry: {} }),
      /aws is not offered/,
    )
  })

  it("a custom mechanism in kafkajs's shape runs its exchange over kafkax's SaslAuthenticate round trips", async () => {
    const logger = recordingKafka().kafka.logger()
    const seen: unknown[] = []
    const mechanism: ours.Mechanism = {
      mechanism: 'my-mech',
      authenticationProvider: ({ host, port, saslAuthenticate }) => ({
        async authenticate() {
          const parsed = await saslAuthenticate({
            request: { encode: async () => Buffer.from(`hello ${host}:${port}`) },
            response: { decode: (raw) => raw.subarray(1), parse: (data) => data.toString() },
          })
          seen.push(parsed)
        },
      }),
    }
    const options = clientOptions({ brokers: ['h:1'], sasl: mechanism }, ['h:1'], logger, { retry: {} })
    assert.equal(options.sasl?.mechanism, 'custom')
    const custom = (options.sasl as { custom: { name: string; authenticate: Function } }).custom
    assert.equal(custom.name, 'MY-MECH')
    const sent: string[] = []
    await custom.authenticate(
      async (bytes: Buffer) => {
        sent.push(bytes.toString())
        return Buffer.from('xworld')
      },
      { host: 'broker-1', port: 9096 },
    )
    assert.deepEqual(sent, ['hello broker-1:9096'])
    assert.deepEqual(seen, ['world'])
  })

  describe('socketFactory', () => {
    let server: Server
    let port = 0
    before(async () => {
      server = createServer((socket) => socket.end())
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      port = (server.address() as { port: number }).port
    })
    after(() => server.close())

    it('connects through the factory, resolving at onConnect', async () => {
      const logger = recordingKafka().kafka.logger()
      const asked: unknown[] = []
      const options = clientOptions(
        {
          brokers: ['h:1'],
          socketFactory: ({ host, port, ssl, onConnect }) => {
            asked.push({ host, port, ssl })
            const socket = netConnect({ host, port })
            socket.once('connect', onConnect)
            return socket
          },
        },
        ['h:1'],
        logger,
        { retry: {} },
      )
      const socket = await options.connect!({
        host: '127.0.0.1',
        port,
        tls: undefined,
        signal: new AbortController().signal,
      })
      assert.deepEqual(asked, [{ host: '127.0.0.1', port, ssl: {} }])
      socket.destroy()
      await assert.rejects(
        options.connect!({ host: '127.0.0.1', port: 1, tls: undefined, signal: new AbortController().signal }),
        /ECONNREFUSED/,
      )
      const aborted = new AbortController()
      aborted.abort(new Error('gave up'))
      await assert.rejects(
        options.connect!({ host: '127.0.0.1', port, tls: undefined, signal: aborted.signal }),
        /gave up/,
      )
    })
  })
})
