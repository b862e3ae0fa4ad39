// Proves the broker harness with the two real reference clients: Kafka's own CLI tools (the Java
// client) and kcat (librdkafka) create a topic, produce and consume through every listener.

import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { consumerPerformance, producerPerformance } from '../../scripts/kafka/perf.ts'
import { brokers, CA_FILE, cli, clientConfig, kcat, SINGLE, USERS, uniqueTopic } from '../helpers/kafka.ts'

const host = '127.0.0.1'

describe('single-node harness, Java CLI tools on every listener', () => {
  const topic = uniqueTopic('harness')
  const sent: string[] = []

  before(() => cli.createTopic(topic, { partitions: 1 }))

  const listeners = [
    { name: 'PLAINTEXT', port: SINGLE.plaintext, config: undefined },
    { name: 'SASL_PLAINTEXT PLAIN', port: SINGLE.saslPlaintext, config: () => clientConfig('PLAIN') },
    { name: 'SASL_PLAINTEXT SCRAM-SHA-256', port: SINGLE.saslPlaintext, config: () => clientConfig('SCRAM-SHA-256') },
    {
      name: 'SASL_PLAINTEXT SCRAM-SHA-512',
      port: SINGLE.saslPlaintext,
      config: () => clientConfig('SCRAM-SHA-512', 'admin'),
    },
    { name: 'SSL', port: SINGLE.ssl, config: () => clientConfig('SSL') },
    { name: 'SASL_SSL SCRAM-SHA-256', port: SINGLE.saslSsl, config: () => clientConfig('SASL_SSL-SCRAM-SHA-256') },
  ]

  for (const listener of listeners) {
    it(`produces and consumes through ${listener.name}`, () => {
      const options = { bootstrap: `${host}:${listener.port}`, config: listener.config?.() }
      const lines = [1, 2].map((i) => `${listener.name.replaceAll(' ', '_')}-k${i}:value ${i} via ${listener.name}`)
      cli.produce(topic, lines, options)
      sent.push(...lines)
      const received = cli.consume(topic, sent.length, options)
      assert.deepEqual(received, sent)
    })
  }

  it('runs ProducerPerformance and ConsumerPerformance (lz4, acks=all) through the perf helpers', () => {
    const perfTopic = uniqueTopic('perf')
    const produced = producerPerformance({
      bootstrap: brokers()[0],
      topic: perfTopic,
      records: 3000,
      recordSize: 100,
      props: { acks: 'all', 'compression.type': 'lz4' },
    })
    assert.equal(produced.records, 3000)
    assert.ok(produced.recordsPerSec > 0 && produced.p99Ms >= produced.p50Ms)
    const consumed = consumerPerformance({ bootstrap: brokers()[0], topic: perfTopic, records: 3000 })
    assert.equal(consumed.records, 3000)
    assert.ok(Math.abs(consumed.mb - (3000 * 100) / 2 ** 20) < 0.001, `consumed ${consumed.mb} MB`)
  })

  it('reports the topic it created through the Java admin client', () => {
    const description = cli.describeTopic(topic, brokers()[0])
    assert.match(description, new RegExp(`Topic: ${topic}\\s+TopicId: \\S+\\s+PartitionCount: 1`))
  })
})

describe('single-node harness, kcat (librdkafka)', () => {
  const topic = uniqueTopic('kcat')

  it('produces with PLAINTEXT and reads back what the Java consumer reads', () => {
    kcat(['-b', brokers()[0], '-P', '-t', topic, '-K', ':'], 'a:one\nb:two\n')
    assert.deepEqual(cli.consume(topic, 2), ['a:one', 'b:two'])
  })

  // SASL/PLAIN: Debian's librdkafka 2.0 fails SCRAM against Kafka 4.x (edenhill/kcat#462, fixed in librdkafka 2.6.1)
  it('consumes over SASL_SSL with PLAIN and the test CA', () => {
    const out = kcat([
      '-b',
      `${host}:${SINGLE.saslSsl}`,
      '-X',
      'security.protocol=SASL_SSL',
      '-X',
      'sasl.mechanisms=PLAIN',
      '-X',
      'sasl.username=alice',
      '-X',
      `sasl.password=${USERS.alice}`,
      '-X',
      `ssl.ca.location=${CA_FILE}`,
      '-C',
      '-t',
      topic,
      '-o',
      'beginning',
      '-e',
      '-f',
      '%k=%s\\n',
    ])
    assert.deepEqual(out.split('\n').filter(Boolean), ['a=one', 'b=two'])
  })

  it('is refused with a wrong SASL password', () => {
    assert.throws(
      () =>
        kcat([
          '-b',
          `${host}:${SINGLE.saslPlaintext}`,
          '-X',
          'security.protocol=SASL_PLAINTEXT',
          '-X',
          'sasl.mechanisms=PLAIN',
          '-X',
          'sasl.username=alice',
          '-X',
          'sasl.password=wrong',
          '-L',
          '-m',
          '5',
        ]),
      /Authentication failed|SASL authentication error|Invalid username or password/i,
    )
  })
})
