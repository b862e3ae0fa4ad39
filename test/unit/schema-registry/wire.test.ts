// The Confluent wire format: the 5-byte header and Protobuf's message indexes (zigzag varints, with
// [0] as the single byte 0), and bad bytes failing with a SerializationError only.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { SerializationError } from '../../../src/schema-registry/errors.ts'
import {
  decodeMessageIndexes,
  encodeMessageIndexes,
  HEADER_SIZE,
  schemaIdOf,
  writeHeader,
} from '../../../src/schema-registry/wire.ts'

describe('wire format', () => {
  it('writes and reads the header: magic byte 0, the id big-endian', () => {
    const bytes = Buffer.alloc(HEADER_SIZE + 2)
    writeHeader(bytes, 0x01020304)
    assert.deepEqual([...bytes.subarray(0, 5)], [0, 1, 2, 3, 4])
    assert.equal(schemaIdOf(bytes), 0x01020304)
  })

  it('refuses bytes that are not the wire format', () => {
    for (const bytes of [Buffer.alloc(0), Buffer.from([0, 0, 0, 1]), Buffer.from([1, 0, 0, 0, 1]), Buffer.from('{}')])
      assert.throws(
        () => schemaIdOf(bytes, 'orders'),
        (e) => e instanceof SerializationError && e.topic === 'orders',
      )
  })

  it('encodes message indexes as Confluent does', () => {
    // [0]: the first message, one byte; otherwise count then indexes, zigzag varints (n -> 2n)
    assert.deepEqual([...encodeMessageIndexes([0])], [0])
    assert.deepEqual([...encodeMessageIndexes([1])], [2, 2])
    assert.deepEqual([...encodeMessageIndexes([0, 0])], [4, 0, 0])
    assert.deepEqual([...encodeMessageIndexes([2, 1, 3])], [6, 4, 2, 6])
    // 300 -> zigzag 600 = 0b100_1011000 -> 0xd8 0x04
    assert.deepEqual([...encodeMessageIndexes([300])], [2, 0xd8, 0x04])
    assert.deepEqual(decodeMessageIndexes(Buffer.from([9, 0, 42]), 1), { indexes: [0], offset: 2 })
  })

  it('message indexes round-trip', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 30 }), { minLength: 1, maxLength: 20 }), (indexes) => {
        const bytes = Buffer.concat([Buffer.from([9]), encodeMessageIndexes(indexes), Buffer.from([7])])
        const read = decodeMessageIndexes(bytes, 1)
        assert.deepEqual(read.indexes, indexes)
        assert.equal(bytes[read.offset], 7)
      }),
    )
  })

  it('bad message indexes fail with a SerializationError, never a bigger allocation than the bytes', () => {
    assert.throws(() => decodeMessageIndexes(Buffer.from([0x80, 0x80]), 0), SerializationError)
    assert.throws(() => decodeMessageIndexes(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]), 0), SerializationError)
    // count 1000 with two bytes left
    assert.throws(() => decodeMessageIndexes(Buffer.from([0xd0, 0x0f, 1, 1]), 0), SerializationError)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        try {
          const { indexes, offset } = decodeMessageIndexes(Buffer.from(bytes), 0)
          assert.ok(indexes.length <= bytes.length && offset <= bytes.length)
        } catch (e) {
          assert.ok(e instanceof SerializationError, String(e))
        }
      }),
    )
  })
})
