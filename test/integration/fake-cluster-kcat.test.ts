// Conformance of the fake cluster (kafkax/testing) with librdkafka: kcat produces and consumes every
// codec against a 3-broker fake, and two kcat members of one consumer group (kcat -G) share the
// partitions and commit their offsets. The fake runs in its own process, beside the tools.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { fakeClusterProcess, kcat, spawnLines, uniqueTopic } from '../helpers/kafka.ts'
import { waitFor } from '../helpers/wait.ts'

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const

describe('kcat (librdkafka) against the fake cluster', () => {
  const fake = fakeClusterProcess(['--brokers', '3'])

  for (const codec of CODECS) {
    it(`produces and consumes ${codec} batches with keys and headers`, async () => {
      const topic = uniqueTopic(`fake-kcat-${codec}`)
      await fake.admin.createTopics([{ topic, partitions: 3, replicationFactor: 3 }])
      const lines = Array.from({ length: 200 }, (_, i) => `key-${i % 9}:value-${i}-${'x'.repeat(i % 40)}`)
      kcat(
        ['-b', fake.bootstrap, '-P', '-t', topic, '-K:', '-z', codec, '-H', 'origin=kcat', '-X', 'linger.ms=50'],
        `${lines.join('\n')}\n`,
      )
      const out = kcat(['-b', fake.bootstrap, '-C', '-t', topic, '-e', '-q', '-f', '%k:%s|%h\n'])
      const read = out.split('\n').filter(Boolean)
      assert.equal(read.length, 200)
      assert.deepEqual(new Set(read.map((l) => l.split('|')[0])), new Set(lines))
      assert.ok(
        read.every((l) => l.endsWith('|origin=kcat')),
        'headers round-trip',
      )
      // keyed records land on one partition per key, as librdkafka's partitioner put them
      const byKey = new Map<string, Set<string>>()
      for (const l of kcat(['-b', fake.bootstrap, '-C', '-t', topic, '-e', '-q', '-f', '%k %p\n'])
        .split('\n')
        .filter(Boolean)) {
        const [key, partition] = l.split(' ')
        byKey.set(key, (byKey.get(key) ?? new Set()).add(partition))
      }
      for (const [key, partitions] of byKey) assert.equal(partitions.size, 1, key)
    })
  }

  it('two kcat -G members share the partitions of a group and commit their offsets', async () => {
    const topic = uniqueTopic('fake-kcat-group')
    const group = `${topic}-g`
    await fake.admin.createTopics([{ topic, partitions: 6, replicationFactor: 2 }])
    const members = [0, 1].map(() =>
      spawnLines('kcat', [
        ...['-b', fake.bootstrap, '-G', group, topic, '-u', '-q', '-f', '%p %s\n'],
        ...['-X', 'auto.offset.reset=earliest', '-X', 'auto.commit.interval.ms=200'],
      ]),
    )
    try {
      await waitFor(
        'both kcat members in a stable group',
        async () => {
          // a group not created yet is GROUP_ID_NOT_FOUND
          const [g] = await fake.admin.describeGroups([group]).catch(() => [])
          return g?.state === 'Stable' && g.members.length === 2
        },
        { intervalMs: 200 },
      )
      const values = Array.from({ length: 600 }, (_, i) => `m${i}`)
      kcat(['-b', fake.bootstrap, '-P', '-t', topic, '-K:'], `${values.map((v, i) => `k${i}:${v}`).join('\n')}\n`)
      const consumed = () => new Set(members.flatMap((m) => m.lines.map((l) => l.split(' ')[1]))).size
      await waitFor('every message consumed by the group', () => consumed() === 600, { state: consumed })
      const partitionsOf = (m: (typeof members)[number]) => new Set(m.lines.map((l) => l.split(' ')[0]))
      const [a, b] = members.map(partitionsOf)
      assert.ok(a.size > 0 && b.size > 0, 'both members consumed')
      assert.deepEqual(
        [...a].filter((p) => b.has(p)),
        [],
        'no partition consumed by both',
      )
      let committed: Awaited<ReturnType<typeof fake.admin.fetchCommittedOffsets>> = []
      await waitFor(
        'offsets committed up to the end of every partition',
        async () => {
          committed = await fake.admin.fetchCommittedOffsets(group)
          return committed.reduce((n, o) => n + o.offset, 0n) === 600n
        },
        { intervalMs: 200, state: () => committed },
      )
      assert.equal(committed.length, 6)
    } finally {
      await Promise.all(members.map((m) => m.stop()))
    }
  })
})
