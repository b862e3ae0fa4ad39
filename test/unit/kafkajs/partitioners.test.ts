// kafkax/kafkajs's partitioners against kafkajs 2.2.4's own (the devDependency), called side by side
// with the same arguments: thousands of keys of every kind (ASCII, multi-byte UTF-8, random bytes of
// every length up to 80, Buffers and the strings kafkajs stringifies), over many partition counts.
// Keyless messages start at a random partition in both: their sequences must be the same rotation
// over the partitions that have a leader.

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import {
  type ICustomPartitioner,
  type Message,
  Partitioners,
  type PartitionMetadata,
} from '../../../src/kafkajs/index.ts'
import { legacyMurmur2 } from '../../../src/kafkajs/partitioners.ts'
import { murmur2 } from '../../../src/producer/murmur2.ts'

const require = createRequire(import.meta.url)
const kafkajs = require('kafkajs') as { Partitioners: Record<string, ICustomPartitioner> }
const kafkajsLegacyMurmur2 = require('kafkajs/src/producer/partitioners/legacy/murmur2') as (key: Buffer) => number
const kafkajsDefaultMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer) => number

const PARTITION_COUNTS = [1, 2, 3, 5, 6, 7, 10, 12, 16, 32, 64, 100, 1000]

function metadata(count: number, leaderless: number[] = []): PartitionMetadata[] {
  return Array.from({ length: count }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : partitionId % 3,
    replicas: [0],
    isr: [0],
    offlineReplicas: [],
  }))
}

/** 6,000 keys: strings (ASCII, accents, CJK, emoji), random Buffers of 0-80 bytes, numbers as kafkajs stringifies them. */
function keys(): (string | Buffer)[] {
  const out: (string | Buffer)[] = ['', 'a', 'ab', 'abc', 'abcd', 'abcde']
  for (let i = 0; i < 2000; i++) out.push(`user-${i}`, `é${'ü'.repeat(i % 9)}-${i}-日本-🙂`)
  for (let i = 0; i < 2000; i++) out.push(randomBytes(i % 81))
  return out
}

describe('kafkajs partitioners: placement identical to kafkajs 2.2.4', () => {
  const all = keys()
  for (const name of ['DefaultPartitioner', 'LegacyPartitioner', 'JavaCompatiblePartitioner'] as const) {
    it(`${name}: every key on the partition kafkajs picks, for ${PARTITION_COUNTS.length} partition counts`, () => {
      const ours = Partitioners[name]()
      const theirs = kafkajs.Partitioners[name]()
      let checked = 0
      for (const count of PARTITION_COUNTS) {
        const partitionMetadata = metadata(count)
        for (const key of all) {
          const message: Message = { key, value: 'v' }
          const expected = theirs({ topic: 't', partitionMetadata, message })
          assert.equal(
            ours({ topic: 't', partitionMetadata, message }),
            expected,
            `${name} ${count} ${JSON.stringify(key)}`,
          )
          checked++
        }
      }
      assert.equal(checked, all.length * PARTITION_COUNTS.length)
    })

    it(`${name}: an explicit partition wins over the key`, () => {
      const ours = Partitioners[name]()
      const theirs = kafkajs.Partitioners[name]()
      const partitionMetadata = metadata(6)
      for (const partition of [0, 3, 5]) {
        const message: Message = { key: 'k', value: 'v', partition }
        assert.equal(ours({ topic: 't', partitionMetadata, message }), partition)
        assert.equal(theirs({ topic: 't', partitionMetadata, message }), partition)
      }
    })

    it(`${name}: keyless messages go round-robin over the partitions with a leader, like kafkajs's`, () => {
      for (const [count, leaderless] of [
        [6, []],
        [7, [2, 5]],
        [3, [0, 1, 2]],
      ] as [number, number[]][]) {
        const partitionMetadata = metadata(count, leaderless)
        const sequence = (p: ReturnType<ICustomPartitioner>) =>
          Array.from({ length: 3 * count }, () => p({ topic: 't', partitionMetadata, message: { value: 'v' } }))
        const ours = sequence(Partitioners[name]())
        const theirs = sequence(kafkajs.Partitioners[name]())
        // both start at a random counter: the same cycle, shifted
        const cycle = (s: number[]) => {
          const period = count - (leaderless.length < count ? leaderless.length : 0)
          const start = s.indexOf(Math.min(...s.slice(0, period)))
          return s.slice(start, start + period)
        }
        assert.deepEqual(cycle(ours), cycle(theirs), `${count} partitions, leaderless ${leaderless}`)
        if (leaderless.length < count) for (const p of ours) assert.ok(!leaderless.includes(p), `${p} has no leader`)
      }
    })

    it(`${name}: keyless counters are per topic`, () => {
      const p = Partitioners[name]()
      const partitionMetadata = metadata(6)
      const next = (topic: string) => p({ topic, partitionMetadata, message: { value: 'v' } })
      const a = [next('a'), next('a'), next('a')]
      next('b')
      next('b')
      assert.equal(next('a'), (a[2] + 1) % 6)
      assert.deepEqual([a[1], a[2]], [(a[0] + 1) % 6, (a[0] + 2) % 6])
    })
  }

  it('legacyMurmur2 is kafkajs 1.x murmur2 bit for bit, and differs from the Java one on most keys', () => {
    let differs = 0
    for (const key of all) {
      const bytes = Buffer.isBuffer(key) ? key : Buffer.from(key)
      assert.equal(legacyMurmur2(bytes), kafkajsLegacyMurmur2(bytes), JSON.stringify(key))
      assert.equal(murmur2(bytes), kafkajsDefaultMurmur2(bytes), JSON.stringify(key))
      if (legacyMurmur2(bytes) !== murmur2(bytes)) differs++
    }
    assert.ok(differs > all.length * 0.9, `${differs} of ${all.length} differ`)
  })
})
