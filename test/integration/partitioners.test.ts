// Keyed placement against the reference clients on a real broker: kcat (librdkafka, partitioner
// consistent_random) and the Java console producer (BuiltInPartitioner, murmur2) produce keyed
// records; we read back where each key landed and check our partitioner picks the same partition.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createPartitioner, type PartitionerName } from '../../src/producer/partitioners.ts'
import { brokers, cli, kcat, uniqueTopic } from '../helpers/kafka.ts'

const PARTITIONS = 7
const COUNT = 300
// ASCII and multi-byte UTF-8 keys of varied lengths (no ':' — the key separator — and no spaces)
const keys = Array.from({ length: COUNT }, (_, i) => (i % 3 === 0 ? `ключ-${i}` : `order-${i}-${'x'.repeat(i % 11)}`))
const lines = keys.map((key, i) => `${key}:value-${i}`)

/** Every record of `topic` as key -> partition, read with kcat. */
function placements(topic: string): Map<string, number> {
  const out = kcat(['-C', '-e', '-q', '-b', brokers()[0], '-t', topic, '-f', '%k %p\\n'])
  const placed = new Map<string, number>()
  for (const line of out.split('\n').filter(Boolean)) {
    const [key, partition] = line.split(' ')
    placed.set(key, Number(partition))
  }
  return placed
}

function checkAgainst(name: PartitionerName, placed: Map<string, number>): void {
  assert.equal(placed.size, COUNT)
  // the reference client spread the keys over every partition, so agreeing is not a coincidence
  assert.equal(new Set(placed.values()).size, PARTITIONS)
  const ours = createPartitioner(name, { batchMaxBytes: 16384 })
  for (const key of keys) {
    const partition = ours.partition({ topic: 't', key: Buffer.from(key), value: null }, PARTITIONS)
    assert.equal(partition, placed.get(key), key)
  }
}

describe('partitioners agree with the reference clients', () => {
  it('crc32 places every key where kcat (librdkafka consistent_random) did', () => {
    const topic = uniqueTopic('part-crc32')
    cli.createTopic(topic, { partitions: PARTITIONS })
    kcat(
      ['-P', '-b', brokers()[0], '-t', topic, '-K', ':', '-X', 'partitioner=consistent_random'],
      `${lines.join('\n')}\n`,
    )
    checkAgainst('crc32', placements(topic))
  })

  it('murmur2 places every key where the Java client did', () => {
    const topic = uniqueTopic('part-murmur2')
    cli.createTopic(topic, { partitions: PARTITIONS })
    cli.produce(topic, lines)
    checkAgainst('murmur2', placements(topic))
  })
})
