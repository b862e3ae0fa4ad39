// Murmur2 against vectors computed by the real Java client (fixtures/murmur2/vectors.json, made by
// scripts/murmur2-vectors.ts from the kafka-clients jar) and the values in Kafka's UtilsTest.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { murmur2, murmur2Partition } from '../../../src/producer/murmur2.ts'

const fixture = JSON.parse(readFileSync(new URL('../../../fixtures/murmur2/vectors.json', import.meta.url), 'utf8'))

describe('murmur2', () => {
  it('matches Kafka UtilsTest.testMurmur2', () => {
    // org.apache.kafka.common.utils.UtilsTest: "21" -> -973932308, "foobar" -> -790332482, "a-little-bit-long-string" -> -985981536
    assert.equal(murmur2(Buffer.from('21')), -973932308)
    assert.equal(murmur2(Buffer.from('foobar')), -790332482)
    assert.equal(murmur2(Buffer.from('a-little-bit-long-string')), -985981536)
  })

  it(`matches the Java client on ${fixture.vectors.length} random keys, hash and partition`, () => {
    assert.ok(fixture.vectors.length >= 1000)
    for (const [hex, hash, partitions] of fixture.vectors as [string, number, number[]][]) {
      const key = Buffer.from(hex, 'hex')
      assert.equal(murmur2(key), hash, hex)
      assert.deepEqual(
        partitions.map((_, i) => murmur2Partition(key, i + 1)),
        partitions,
        hex,
      )
    }
  })
})
