// The three formats offline (no registry): parsing, encode -> decode, values that do not match,
// schemas that cannot be used, and arbitrary payload bytes failing only with a SerializationError.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ConfigError } from '../../../src/protocol/errors.ts'
import { SerializationError } from '../../../src/schema-registry/errors.ts'
import { parseAvro } from '../../../src/schema-registry/formats/avro.ts'
import { parseJsonSchema } from '../../../src/schema-registry/formats/json.ts'
import { parseProtobuf } from '../../../src/schema-registry/formats/protobuf.ts'
import type { ParsedSchema } from '../../../src/schema-registry/schema.ts'
import { HEADER_SIZE } from '../../../src/schema-registry/wire.ts'

const plain = (value: unknown) => JSON.parse(JSON.stringify(value))

const avro = parseAvro(
  JSON.stringify({
    type: 'record',
    name: 'Reading',
    namespace: 'iot',
    fields: [
      { name: 'sensor', type: 'string' },
      { name: 'celsius', type: 'float' },
      { name: 'tags', type: { type: 'map', values: 'string' } },
    ],
  }),
  [],
)
const json = parseJsonSchema(
  JSON.stringify({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Reading',
    type: 'object',
    properties: { sensor: { type: 'string' }, celsius: { type: 'number' } },
    required: ['sensor'],
  }),
  [],
)
const protobuf = parseProtobuf(
  'syntax = "proto3";\npackage iot;\nmessage Reading { string sensor = 1; float celsius = 2; map<string, string> tags = 3; bytes raw = 4; }\n',
  [],
)

/** Every payload either decodes or fails with a SerializationError: never another error, never a hang. */
function onlySerializationErrors(schema: ParsedSchema) {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (payload) => {
      const bytes = Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), payload])
      try {
        schema.decode(bytes, HEADER_SIZE)
      } catch (e) {
        assert.ok(e instanceof SerializationError, `${e} for ${Buffer.from(payload).toString('hex')}`)
      }
    }),
    { numRuns: 2000 },
  )
}

describe('schema formats', () => {
  it('Avro: round trip, record name, values that do not match', () => {
    const value = { sensor: 's-1', celsius: 21.5, tags: { room: 'a' } }
    const bytes = avro.encode(7, value)
    assert.equal(bytes.readInt32BE(1), 7)
    assert.deepEqual(plain(avro.decode(bytes, HEADER_SIZE)), value)
    assert.equal(avro.recordName, 'iot.Reading')
    // each encode is its own bytes, though carved from one slab
    const other = avro.encode(8, { ...value, sensor: 's-2' })
    assert.equal(plain(avro.decode(bytes, HEADER_SIZE)).sensor, 's-1')
    assert.equal(plain(avro.decode(other, HEADER_SIZE)).sensor, 's-2')
    assert.throws(
      () => avro.encode(7, { sensor: 1, celsius: 'warm', tags: {} }),
      (e) => e instanceof SerializationError && e.paths.join() === 'sensor,celsius',
    )
    // a record larger than the slab
    const big = { sensor: 'x'.repeat(600_000), celsius: 1, tags: {} }
    assert.equal(plain(avro.decode(avro.encode(1, big), HEADER_SIZE)).sensor.length, 600_000)
    assert.equal(parseAvro('"string"', []).recordName, undefined)
    assert.throws(() => parseAvro('{"type":"record","name":"X"}', []), ConfigError)
    assert.throws(() => parseAvro('{not json', []), ConfigError)
  })

  it('Avro: arbitrary payloads fail only with a SerializationError', () => onlySerializationErrors(avro))

  it('Avro: a block announcing more items than its bytes can hold fails at once; items of no bytes still read', () => {
    // sensor '', celsius 0, then a tags block of 2^40 entries (zigzag varint 80 80 80 80 80 40), nothing
    // after it: avsc's own reader looped 2^40 times (a CI run of the property test above hung on one)
    const hugeBlock = Buffer.from([0, 0, 0, 0, 1, 0x00, 0, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40])
    assert.throws(
      () => avro.decode(hugeBlock, HEADER_SIZE),
      (e) => e instanceof SerializationError && /a block of 1099511627776 items with 0 bytes left/.test(e.message),
    )
    const nulls = parseAvro(JSON.stringify({ type: 'array', items: 'null' }), [])
    // one block of 10 nulls (zigzag 0x14) in no bytes, then the end of the array
    assert.deepEqual(nulls.decode(Buffer.from([0, 0, 0, 0, 1, 0x14, 0x00]), HEADER_SIZE), Array(10).fill(null))
    const arrays = parseAvro(JSON.stringify({ type: 'array', items: { type: 'array', items: 'int' } }), [])
    const value = [[1, 2], [], [3]]
    assert.deepEqual(arrays.decode(arrays.encode(1, value), HEADER_SIZE), value)
  })

  it('JSON Schema: round trip, the 2020-12 draft, validation', () => {
    const value = { sensor: 's-1', celsius: 3 }
    assert.deepEqual(json.decode(json.encode(1, value), HEADER_SIZE), value)
    assert.equal(json.recordName, 'Reading')
    assert.throws(
      () => json.encode(1, { celsius: 'x' }),
      (e) => e instanceof SerializationError && e.paths.length > 0,
    )
    assert.throws(() => json.encode(1, undefined), SerializationError)
    assert.throws(() => parseJsonSchema('{"type": 12}', []), ConfigError)
  })

  it('JSON Schema: arbitrary payloads fail only with a SerializationError', () => onlySerializationErrors(json))

  it('Protobuf: round trip, record name, values that do not match', () => {
    const value = { sensor: 's-1', celsius: 1.5, tags: { room: 'a' }, raw: Buffer.from([1, 2]) }
    const decoded = protobuf.decode(protobuf.encode(1, value), HEADER_SIZE) as Record<string, unknown>
    assert.deepEqual({ ...decoded, raw: Buffer.from(decoded.raw as Uint8Array) }, value)
    assert.equal(protobuf.recordName, 'iot.Reading')
    assert.throws(
      () => protobuf.encode(1, { sensor: 5, tags: [], extra: 1 }),
      (e) => e instanceof SerializationError && e.paths.length === 3,
    )
    assert.throws(() => protobuf.encode(1, 'text'), SerializationError)
    assert.throws(() => parseProtobuf('syntax = "proto3"; message {', []), ConfigError)
    assert.throws(() => parseProtobuf('syntax = "proto3"; enum E { A = 0; }', []), ConfigError)
    assert.throws(() => parseProtobuf('syntax = "proto3"; message M { Missing m = 1; }', []), ConfigError)
  })

  it('Protobuf: arbitrary payloads fail only with a SerializationError', () => onlySerializationErrors(protobuf))
})
