// Conformance of the fake cluster (kafkax/testing) with the Java client, through Kafka's own tools
// against a 3-broker fake in its own process: the console producer and consumer with every codec,
// two Java consumers sharing one group (classic protocol and KIP-848), idempotent and transactional
// ProducerPerformance with read_committed consumers, and the admin tools reading the groups and
// transactions back.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runTool } from '../../scripts/kafka/harness.ts'
import { producerPerformance } from '../../scripts/kafka/perf.ts'
import { cli, fakeClusterProcess, type Running, startTool, uniqueTopic } from '../helpers/kafka.ts'
import { waitFor } from '../helpers/wait.ts'

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const

describe('the Java client against the fake cluster', () => {
  const fake = fakeClusterProcess(['--brokers', '3'])

  /** Records in a topic: the sum of its partitions' end offsets. */
  const endOffsets = async (topic: string) =>
    (await fake.admin.listOffsets({ topic, at: 'latest' })).reduce((n, p) => n + p.offset, 0n)

  it('the console producer and consumer round-trip every codec; TopicCommand creates and describes', async () => {
    const topic = uniqueTopic('fake-java')
    cli.createTopic(topic, { bootstrap: fake.bootstrap, partitions: 3, replicationFactor: 3 })
    assert.match(cli.describeTopic(topic, fake.bootstrap), /PartitionCount: 3\s+ReplicationFactor: 3/)
    const expected: string[] = []
    for (const codec of CODECS) {
      const lines = Array.from({ length: 20 }, (_, i) => `${codec}-k${i}:${codec}-v${i}`)
      cli.produce(topic, lines, { bootstrap: fake.bootstrap, compression: codec === 'none' ? undefined : codec })
      expected.push(...lines)
    }
    const read = cli.consume(topic, expected.length, { bootstrap: fake.bootstrap })
    assert.deepEqual(new Set(read), new Set(expected))
  })

  for (const protocol of ['classic', 'consumer'] as const) {
    it(`two Java consumers share a group (${protocol} protocol): each gets partitions, together every record`, async () => {
      const topic = uniqueTopic(`fake-java-${protocol}`)
      const group = `${topic}-g`
      await fake.admin.createTopics([{ topic, partitions: 6, replicationFactor: 2 }])
      const members = [0, 1].map(() =>
        startTool('org.apache.kafka.tools.consumer.ConsoleConsumer', [
          ...['--bootstrap-server', fake.bootstrap, '--topic', topic, '--group', group],
          ...['--formatter-property', 'print.partition=true'],
          ...['--command-property', `group.protocol=${protocol}`, '--command-property', 'auto.offset.reset=earliest'],
        ]),
      )
      const records = (m: Running) => m.lines.filter((l) => l.startsWith('Partition:'))
      try {
        await waitFor(
          'both Java consumers in a stable group',
          async () => {
            // a group not created yet is GROUP_ID_NOT_FOUND
            const [g] = await fake.admin.describeGroups([group]).catch(() => [])
            return g?.state === 'Stable' && g.members.length === 2
          },
          { timeoutMs: 60_000, intervalMs: 200 },
        )
        const values = Array.from({ length: 300 }, (_, i) => `k${i}:v${i}`)
        cli.produce(topic, values, { bootstrap: fake.bootstrap })
        const consumed = () => new Set(members.flatMap((m) => records(m).map((l) => l.split('\t')[1]))).size
        await waitFor('every record consumed by the group', () => consumed() === 300, {
          timeoutMs: 60_000,
          intervalMs: 200,
          state: consumed,
        })
        const partitions = members.map((m) => new Set(records(m).map((l) => l.split('\t')[0])))
        assert.ok(
          partitions.every((p) => p.size > 0),
          'both consumers consumed',
        )
        assert.deepEqual(
          [...partitions[0]].filter((p) => partitions[1].has(p)),
          [],
          'no partition read by both',
        )
      } finally {
        // SIGTERM: the console consumer closes, committing what it consumed
        await Promise.all(members.map((m) => m.stop()))
      }
      const offsets = await fake.admin.fetchCommittedOffsets(group)
      assert.equal(
        offsets.reduce((n, o) => n + o.offset, 0n),
        300n,
        'the group committed every record',
      )
      const described = runTool('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', [
        ...['--bootstrap-server', fake.bootstrap, '--describe', '--group', group],
      ]).stdout
      assert.equal(described.split('\n').filter((l) => l.startsWith(group)).length, 6, described)
    })
  }

  it('idempotent ProducerPerformance writes every record exactly once', async () => {
    const topic = uniqueTopic('fake-java-idempotent')
    await fake.admin.createTopics([{ topic, partitions: 3, replicationFactor: 3 }])
    const result = producerPerformance({
      bootstrap: fake.bootstrap,
      topic,
      records: 100_000,
      recordSize: 100,
      props: { acks: 'all', 'enable.idempotence': 'true', 'linger.ms': 5, 'compression.type': 'lz4' },
    })
    assert.equal(result.records, 100_000)
    assert.equal(await endOffsets(topic), 100_000n)
    const producers = runTool('org.apache.kafka.tools.TransactionsCommand', [
      '--bootstrap-server',
      fake.bootstrap,
      'describe-producers',
      '--topic',
      topic,
      '--partition',
      '0',
    ]).stdout
    assert.match(producers, /ProducerId/, 'DescribeProducers shows the idempotent producer')
  })

  it('transactional ProducerPerformance commits; read_committed consumers see every record; the transaction tools see it complete', async () => {
    const topic = uniqueTopic('fake-java-transactional')
    await fake.admin.createTopics([{ topic, partitions: 2, replicationFactor: 3 }])
    const transactionalId = `${topic}-tx`
    const result = producerPerformance({
      bootstrap: fake.bootstrap,
      topic,
      records: 20_000,
      recordSize: 100,
      props: { 'transactional.id': transactionalId, 'linger.ms': 5 },
    })
    assert.equal(result.records, 20_000)
    const latest = await fake.admin.listOffsets({ topic, at: 'latest' })
    assert.ok(latest.reduce((n, p) => n + p.offset, 0n) > 20_000n, 'the commit markers take offsets of their own')
    const { stdout } = runTool('org.apache.kafka.tools.consumer.ConsoleConsumer', [
      '--bootstrap-server',
      fake.bootstrap,
      '--topic',
      topic,
      '--from-beginning',
      '--max-messages',
      '20000',
      '--timeout-ms',
      '30000',
      '--command-property',
      'isolation.level=read_committed',
    ])
    assert.equal(stdout.split('\n').filter((l) => l.length > 0 && !l.startsWith('Option')).length, 20_000)
    const described = runTool('org.apache.kafka.tools.TransactionsCommand', [
      '--bootstrap-server',
      fake.bootstrap,
      'describe',
      '--transactional-id',
      transactionalId,
    ]).stdout
    assert.match(described, /CompleteCommit/)
  })
})
