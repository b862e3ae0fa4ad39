// Partitioners: keyed placement against the reference clients' own vectors, keyless sticky switching
// (KIP-794), round-robin, least-bytes and user functions.

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { murmur2Partition } from '../../../src/producer/murmur2.ts'
import {
  createPartitioner,
  fnv1a32,
  type Partitioner,
  PartitionerError,
  type PartitionerRecord,
} from '../../../src/producer/partitioners.ts'
import { ConfigError } from '../../../src/protocol/errors.ts'

const fixture = JSON.parse(readFileSync(new URL('../../../fixtures/murmur2/vectors.json', import.meta.url), 'utf8'))

const BATCH = 1000
const rec = (key: string | Buffer | null, topic = 't'): PartitionerRecord => ({
  topic,
  key: typeof key === 'string' ? Buffer.from(key) : key,
  value: Buffer.from('v'),
})

/** Counts how many of `count` distinct keys land on each partition (fixed keys: the result is repeatable). */
function keyedSpread(p: Partitioner, partitions: number, count: number): number[] {
  const counts = new Array<number>(partitions).fill(0)
  for (let i = 0; i < count; i++) counts[p.partition(rec(`user-${i}`), partitions)]++
  return counts
}

function assertUniform(counts: number[], tolerance: number): void {
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length
  for (const c of counts)
    assert.ok(Math.abs(c - mean) <= mean * tolerance, `${counts} not within ${tolerance} of ${mean}`)
}

describe('murmur2 partitioner (default)', () => {
  it(`matches the Java client on ${fixture.vectors.length} keys and 1..12 partitions`, () => {
    const p = createPartitioner(undefined, { batchMaxBytes: BATCH })
    for (const [hex, , partitions] of fixture.vectors as [string, number, number[]][]) {
      assert.deepEqual(
        partitions.map((_, i) => p.partition(rec(Buffer.from(hex, 'hex')), i + 1)),
        partitions,
        hex,
      )
    }
  })

  it('hashes an empty key (Java: only a null key is keyless), deterministically', () => {
    const a = createPartitioner('murmur2', { batchMaxBytes: BATCH })
    const b = createPartitioner('murmur2', { batchMaxBytes: BATCH })
    for (let n = 1; n <= 20; n++) {
      // Utils.murmur2 of no bytes is 0x106e08d9
      assert.equal(a.partition(rec(Buffer.alloc(0)), n), 0x106e08d9 % n)
      assert.equal(b.partition(rec(Buffer.alloc(0)), n), 0x106e08d9 % n)
    }
  })

  it('spreads keys evenly', () => {
    assertUniform(keyedSpread(createPartitioner('murmur2', { batchMaxBytes: BATCH }), 8, 40_000), 0.1)
  })
})

describe('crc32 partitioner (librdkafka consistent_random)', () => {
  it('maps keys to crc32(key) % n, as librdkafka tests/0048-partitioner.c', () => {
    const p = createPartitioner('crc32', { batchMaxBytes: BATCH })
    // CRC-32 values from librdkafka's partitioner test, and the IEEE check value of "123456789"
    const vectors: [string, number][] = [
      ['23456', 0xb1b451d7],
      ['this is another string with more length to it perhaps', 0xb0150df7],
      ['hejsan', 0xd077037e],
      ['123456789', 0xcbf43926],
    ]
    for (const [key, crc] of vectors) {
      for (const n of [1, 7, 17, 100]) assert.equal(p.partition(rec(key), n), crc % n, `${key} / ${n}`)
    }
  })

  it('treats an empty key as no key: it follows the sticky partition of null keys', () => {
    const p = createPartitioner('crc32', { batchMaxBytes: BATCH })
    const sticky = p.partition(rec(null), 1000)
    for (let i = 0; i < 50; i++) {
      assert.equal(p.partition(rec(Buffer.alloc(0)), 1000), sticky)
      assert.equal(p.partition(rec(null), 1000), sticky)
    }
  })

  it('spreads keys evenly', () => {
    assertUniform(keyedSpread(createPartitioner('crc32', { batchMaxBytes: BATCH }), 8, 40_000), 0.1)
  })
})

describe('hash partitioner (Sarama NewHashPartitioner, kafka-go Hash)', () => {
  it('computes FNV-1a 32 as the published test vectors', () => {
    assert.equal(fnv1a32(Buffer.alloc(0)), 0x811c9dc5)
    assert.equal(fnv1a32(Buffer.from('a')), 0xe40c292c)
    assert.equal(fnv1a32(Buffer.from('foobar')), 0xbf9cf968)
  })

  it('matches kafka-go balancer_test.go TestHashBalancer', () => {
    const p = createPartitioner('hash', { batchMaxBytes: BATCH })
    assert.equal(p.partition(rec('blah'), 2), 0)
    assert.equal(p.partition(rec('blah'), 3), 1)
    assert.equal(p.partition(rec('boop'), 3), 2)
    // "20" hashes with the top bit set: int32(hash) % 16 is negative, then negated
    assert.equal(p.partition(rec('20'), 16), 1)
  })

  it('takes int32(fnv1a) % n negated when negative, for an empty key too', () => {
    const p = createPartitioner('hash', { batchMaxBytes: BATCH })
    // 0x811c9dc5 as int32 is -2128831035
    for (const n of [1, 3, 7, 16, 100]) assert.equal(p.partition(rec(Buffer.alloc(0)), n), 2128831035 % n)
    for (let i = 0; i < 1000; i++) {
      const key = randomBytes(8)
      // Go's int32 remainder keeps the dividend's sign, as JavaScript's does
      const signed = fnv1a32(key) | 0
      assert.equal(p.partition(rec(key), 13), signed < 0 ? -(signed % 13) : signed % 13)
    }
  })

  it('spreads keys evenly', () => {
    assertUniform(keyedSpread(createPartitioner('hash', { batchMaxBytes: BATCH }), 8, 40_000), 0.1)
  })
})

describe('sticky partitioning of keyless records (KIP-794)', () => {
  for (const name of ['murmur2', 'crc32', 'hash'] as const) {
    it(`${name}: stays on one partition until batchMaxBytes were appended to it`, () => {
      const p = createPartitioner(name, { batchMaxBytes: 100 })
      const first = p.partition(rec(null), 10)
      for (let i = 0; i < 9; i++) {
        assert.equal(p.partition(rec(null), 10), first)
        p.onAppend('t', first, 10)
      }
      // 90 bytes so far: appends to other partitions (keyed records) do not count
      p.onAppend('t', (first + 1) % 10, 500)
      assert.equal(p.partition(rec(null), 10), first)
      p.onAppend('t', first, 10)
      const second = p.partition(rec(null), 10)
      assert.notEqual(second, first)
      // the count restarts on the new partition
      p.onAppend('t', second, 99)
      assert.equal(p.partition(rec(null), 10), second)
      p.onAppend('t', second, 1)
      assert.notEqual(p.partition(rec(null), 10), second)
    })
  }

  it('switches when a batch of the sticky partition closes, not of another one', () => {
    const p = createPartitioner('murmur2', { batchMaxBytes: 1 << 20 })
    const first = p.partition(rec(null), 5)
    p.onBatchClosed('t', (first + 1) % 5)
    p.onBatchClosed('other-topic', first)
    assert.equal(p.partition(rec(null), 5), first)
    p.onBatchClosed('t', first)
    assert.notEqual(p.partition(rec(null), 5), first)
  })

  it('keeps one sticky partition per topic', () => {
    const p = createPartitioner('murmur2', { batchMaxBytes: 100 })
    const a = p.partition(rec(null, 'a'), 1000)
    const b = p.partition(rec(null, 'b'), 1000)
    p.onAppend('b', b, 100)
    assert.equal(p.partition(rec(null, 'a'), 1000), a)
    assert.notEqual(p.partition(rec(null, 'b'), 1000), b)
  })

  it('spreads the switches uniformly over the partitions', () => {
    const p = createPartitioner('murmur2', { batchMaxBytes: 100 })
    const counts = new Array<number>(8).fill(0)
    for (let i = 0; i < 40_000; i++) {
      const partition = p.partition(rec(null), 8)
      counts[partition]++
      p.onAppend('t', partition, 100)
    }
    assertUniform(counts, 0.1)
  })

  it('stays within a topic that shrank or has one partition', () => {
    const p = createPartitioner('murmur2', { batchMaxBytes: 100 })
    let partition = p.partition(rec(null), 1000)
    // a full batch moves the sticky partition (to 0 again one time in 1000)
    for (let batches = 0; partition === 0 && batches < 10; batches++) {
      p.onAppend('t', partition, 100)
      partition = p.partition(rec(null), 1000)
    }
    assert.notEqual(partition, 0, 'the sticky partition moved off 0')
    assert.equal(p.partition(rec(null), 1), 0)
    p.onAppend('t', 0, 100)
    assert.equal(p.partition(rec(null), 1), 0)
  })
})

describe('round-robin partitioner', () => {
  it('sends every record, keyed or not, to the next partition in turn, per topic', () => {
    const p = createPartitioner('round-robin', { batchMaxBytes: BATCH })
    const a = [rec('k'), rec(null), rec('k'), rec('x'), rec(null), rec('k'), rec('k')].map((r) => p.partition(r, 3))
    assert.deepEqual(a, [0, 1, 2, 0, 1, 2, 0])
    assert.deepEqual([p.partition(rec('k', 'other'), 3), p.partition(rec('k', 'other'), 3)], [0, 1])
    // a topic that grew: the turn goes on over the new count
    assert.deepEqual([p.partition(rec(null), 5), p.partition(rec(null), 5), p.partition(rec(null), 5)], [1, 2, 3])
  })
})

describe('least-bytes partitioner (kafka-go LeastBytes)', () => {
  it('picks the partition with the fewest appended bytes, lowest on a tie, ignoring keys', () => {
    const p = createPartitioner('least-bytes', { batchMaxBytes: BATCH })
    const sizes = [50, 10, 30, 5, 100, 1, 1, 40]
    const chosen: number[] = []
    for (const [i, size] of sizes.entries()) {
      const partition = p.partition(rec(i % 2 ? 'same-key' : null), 3)
      chosen.push(partition)
      p.onAppend('t', partition, size)
    }
    // bytes after each step: [50,0,0] [50,10,0] [50,10,30] [50,15,30] [50,115,30] [50,115,31] [50,115,32]
    assert.deepEqual(chosen, [0, 1, 2, 1, 1, 2, 2, 2])
  })

  it('counts bytes appended to a partition it did not choose, per topic', () => {
    const p = createPartitioner('least-bytes', { batchMaxBytes: BATCH })
    assert.equal(p.partition(rec(null), 3), 0)
    p.onAppend('t', 0, 10)
    p.onAppend('t', 1, 10)
    assert.equal(p.partition(rec(null), 3), 2)
    assert.equal(p.partition(rec(null, 'u'), 3), 0)
  })

  it('restarts its counts when the partition count changes, as kafka-go', () => {
    const p = createPartitioner('least-bytes', { batchMaxBytes: BATCH })
    p.partition(rec(null), 2)
    p.onAppend('t', 0, 100)
    assert.equal(p.partition(rec(null), 2), 1)
    assert.equal(p.partition(rec(null), 3), 0)
  })
})

describe('custom partitioner function', () => {
  it('is called for every record with the record, the partition count and the topic', () => {
    const calls: [PartitionerRecord, number, string][] = []
    const p = createPartitioner(
      (record, count, topic) => {
        calls.push([record, count, topic])
        return record.key === null ? 0 : count - 1
      },
      { batchMaxBytes: BATCH },
    )
    const keyless = rec(null, 'x')
    assert.equal(p.partition(keyless, 4), 0)
    assert.equal(p.partition(rec('k', 'y'), 4), 3)
    assert.deepEqual(calls[0], [keyless, 4, 'x'])
    assert.equal(calls.length, 2)
  })

  for (const bad of [-1, 4, 1.5, Number.NaN, '1' as unknown as number, undefined as unknown as number]) {
    it(`rejects a returned ${String(bad)} (${typeof bad}) with PartitionerError`, () => {
      const p = createPartitioner(() => bad, { batchMaxBytes: BATCH })
      assert.throws(
        () => p.partition(rec('k'), 4),
        (err: unknown) =>
          err instanceof PartitionerError &&
          err.code === 'EPARTITIONER' &&
          !err.retriable &&
          err.message.includes('[0, 4)'),
      )
    })
  }

  it('wraps an error the function throws, keeping it as the cause', () => {
    const boom = new Error('boom')
    const p = createPartitioner(
      () => {
        throw boom
      },
      { batchMaxBytes: BATCH },
    )
    assert.throws(
      () => p.partition(rec('k'), 4),
      (err: unknown) => err instanceof PartitionerError && err.cause === boom,
    )
  })
})

describe('createPartitioner options', () => {
  it('rejects an unknown name with a ConfigError naming it and the allowed names', () => {
    assert.throws(
      () => createPartitioner('random' as 'hash', { batchMaxBytes: BATCH }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.code === 'ECONFIG' &&
        err.message.includes('"random"') &&
        err.message.includes('murmur2, crc32, round-robin, least-bytes, hash'),
    )
  })

  it('rejects a batchMaxBytes that is not a positive integer', () => {
    for (const batchMaxBytes of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => createPartitioner('murmur2', { batchMaxBytes }), ConfigError)
    }
  })

  it('defaults to murmur2', () => {
    const p = createPartitioner(undefined, { batchMaxBytes: BATCH })
    for (let i = 0; i < 100; i++) {
      const key = randomBytes(6)
      assert.equal(p.partition(rec(key), 12), murmur2Partition(key, 12))
    }
  })
})
