// Partition placement after the switch, end to end: kafkajs 2.2.4 (the devDependency) and
// kafkax/kafkajs producers send the same 3,000 keyed messages (ASCII, multi-byte UTF-8 and random
// byte keys) to topics of the real broker, with each of kafkajs's partitioners and without
// `createPartitioner`; kcat reads back where each message landed, and every key must be on the same
// partition with both libraries. (test/unit/kafkajs/partitioners.test.ts compares the partitioner
// functions themselves over more keys and partition counts.)

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { after, describe, it } from 'node:test'
import * as ours from '../../src/kafkajs/index.ts'
import { brokers, kcat, uniqueTopic } from '../helpers/kafka.ts'

const require = createRequire(import.meta.url)
const kafkajs = require('kafkajs') as unknown as typeof ours

const PARTITIONS = 10
const keys: (string | Buffer)[] = []
for (let i = 0; i < 1000; i++) keys.push(`user-${i}`, `é${'ü'.repeat(i % 9)}-${i}-日本-🙂`, randomBytes(1 + (i % 40)))
// the value names the message, so the read-back needs no key (random bytes do not print)
const messages = keys.map((key, i) => ({ key, value: String(i) }))

const config = { clientId: 'placement', brokers: brokers(), logLevel: ours.logLevel.NOTHING }
const admin = new ours.Kafka(config).admin()
after(() => admin.disconnect())

/** Message index -> partition of every record of `topic`, read with kcat. */
function placements(topic: string): number[] {
  const out = kcat(['-C', '-e', '-q', '-b', brokers()[0], '-t', topic, '-f', '%s %p\\n'])
  const placed: number[] = []
  for (const line of out.split('\n').filter(Boolean)) {
    const [index, partition] = line.split(' ').map(Number)
    placed[index] = partition
  }
  return placed
}

async function send(lib: typeof ours, topic: string, createPartitioner: ours.ICustomPartitioner | undefined) {
  const producer = new lib.Kafka(config).producer({ createPartitioner })
  await producer.connect()
  try {
    // in slices, as an application sends them; each slice is placed message by message
    for (let i = 0; i < messages.length; i += 500) await producer.send({ topic, messages: messages.slice(i, i + 500) })
  } finally {
    await producer.disconnect()
  }
}

describe('partition placement: kafkax/kafkajs puts every key where kafkajs 2.2.4 does', { timeout: 120_000 }, () => {
  for (const name of ['DefaultPartitioner', 'LegacyPartitioner', 'JavaCompatiblePartitioner', undefined] as const) {
    it(`${name ?? 'no createPartitioner (the default)'}: ${messages.length} keys over ${PARTITIONS} partitions`, async () => {
      const theirsTopic = uniqueTopic('placement-kafkajs')
      const oursTopic = uniqueTopic('placement-kafkax')
      await admin.createTopics({
        topics: [theirsTopic, oursTopic].map((topic) => ({ topic, numPartitions: PARTITIONS })),
        waitForLeaders: true,
      })
      await send(kafkajs, theirsTopic, name && kafkajs.Partitioners[name])
      await send(ours, oursTopic, name && ours.Partitioners[name])
      const theirs = placements(theirsTopic)
      const placed = placements(oursTopic)
      assert.equal(theirs.filter((p) => p !== undefined).length, messages.length, 'kafkajs wrote every message')
      assert.equal(placed.filter((p) => p !== undefined).length, messages.length, 'kafkax/kafkajs wrote every message')
      // kafkajs spread the keys over every partition, so agreeing is no coincidence
      assert.equal(new Set(theirs).size, PARTITIONS)
      const differ = messages.filter((_, i) => placed[i] !== theirs[i]).map((m) => m.key)
      assert.deepEqual(differ, [], 'keys placed elsewhere than kafkajs placed them')
    })
  }
})
