// Writer/Reader: known answers from the specs, round trips, and bad bytes that must only ever raise
// ProtocolError. Varint vectors: protobuf's encoding guide (300 -> ac 02; zigzag 0,-1,1,-2 -> 0,1,2,3,
// 2147483647 -> 4294967294, -2147483648 -> 4294967295), which Kafka's varints follow (KIP-32/KIP-98).

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ProtocolError } from '../../../src/protocol/errors.ts'
import { Reader, readTaggedFields, Writer, writeTaggedFields } from '../../../src/protocol/primitives/index.ts'

const hex = (f: (w: Writer) => void) => {
  const w = new Writer(1)
  f(w)
  return w.finish().toString('hex')
}
const reader = (h: string) => new Reader(Buffer.from(h, 'hex'))

describe('Writer known answers', () => {
  it('writes big-endian fixed-width integers', () => {
    assert.equal(
      hex((w) => {
        w.int8(-1)
        w.int16(0x1234)
        w.int32(-2)
        w.uint32(0xfffffffe)
        w.int64(-3n)
      }),
      `ff1234fffffffefffffffe${'ff'.repeat(7)}fd`,
    )
  })

  it('writes varints as protobuf does', () => {
    assert.equal(
      hex((w) => w.uvarint(300)),
      'ac02',
    )
    assert.equal(
      hex((w) => w.uvarint(0xffffffff)),
      'ffffffff0f',
    )
    assert.deepEqual(
      [0, -1, 1, -2, 2147483647, -2147483648].map((v) => reader(hex((w) => w.varint(v))).uvarint()),
      [0, 1, 2, 3, 4294967294, 4294967295],
    )
    assert.equal(
      hex((w) => w.varlong(-9223372036854775808n)),
      'ffffffffffffffffff01',
    )
  })

  it('writes strings, compact strings (length + 1) and nulls', () => {
    assert.equal(
      hex((w) => w.string('ab')),
      '00026162',
    )
    assert.equal(
      hex((w) => w.nullableString(null)),
      'ffff',
    )
    assert.equal(
      hex((w) => w.compactString('ab')),
      '036162',
    )
    assert.equal(
      hex((w) => w.compactNullableString(null)),
      '00',
    )
    assert.equal(
      hex((w) => w.nullableBytes(null)),
      'ffffffff',
    )
    assert.equal(
      hex((w) => w.compactBytes(Buffer.from([7]))),
      '0207',
    )
  })

  it('back-patches reserved positions and grows past its initial capacity', () => {
    const w = new Writer(2)
    const at = w.reserve(4)
    for (let i = 0; i < 100; i++) w.int8(i)
    w.int32At(at, w.offset - 4)
    const out = w.finish()
    assert.equal(out.length, 104)
    assert.equal(out.readInt32BE(0), 100)
    assert.equal(out[103], 99)
  })

  it('a splicing writer keeps large byte arrays by reference and gives the same bytes as chunks', () => {
    const op = fc.oneof(
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((n) => ({ n })),
      fc.integer({ min: 0, max: 40_000 }).map((size) => ({ bytes: Buffer.alloc(size, size % 251) })),
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
        const plain = new Writer(8)
        const spliced = new Writer(8, true)
        for (const w of [plain, spliced]) {
          const at = w.reserve(4)
          for (const o of ops) 'n' in o ? w.int32(o.n) : w.compactBytes(o.bytes)
          w.int32At(at, w.length - 4)
        }
        const chunks = spliced.chunks()
        assert.deepEqual(Buffer.concat(chunks), plain.finish())
        assert.equal(spliced.length, plain.length)
        for (const o of ops) {
          if ('bytes' in o && o.bytes.length >= 16 * 1024) assert.ok(chunks.includes(o.bytes), 'copied, not spliced')
        }
      }),
      { numRuns: 150 },
    )
    const w = new Writer(8, true)
    w.bytes(Buffer.alloc(20_000))
    assert.throws(() => w.finish(), ProtocolError)
  })

  it('writes UUIDs in canonical order and zeros for none', () => {
    assert.equal(
      hex((w) => w.uuid('00112233-4455-6677-8899-aabbccddeeff')),
      '00112233445566778899aabbccddeeff',
    )
    assert.equal(
      hex((w) => w.uuid(null)),
      '00'.repeat(16),
    )
    assert.throws(() => new Writer().uuid('nope'), ProtocolError)
  })
})

describe('Reader/Writer round trips', () => {
  it('round-trips every primitive', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        fc.integer({ min: 0, max: 2 ** 52 - 1 }), // varlongNumber's exact range is [-2^52, 2^52)
        fc.string(),
        fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
        (i, l, n, s, b) => {
          const m = -n - 1
          const w = new Writer(1)
          w.int32(i)
          w.varint(i)
          w.int64(l)
          w.varlong(l)
          w.varlongNumber(n)
          w.varlongNumber(m)
          w.int64Number(n)
          w.int64Number(m)
          w.compactString(s)
          w.string(s)
          w.compactNullableBytes(b)
          w.nullableBytes(b)
          const r = new Reader(w.finish())
          assert.equal(r.int32(), i)
          assert.equal(r.varint(), i)
          assert.equal(r.int64(), l)
          assert.equal(r.varlong(), l)
          assert.equal(r.varlongNumber(), n)
          assert.equal(r.varlongNumber(), m)
          assert.equal(r.int64Number(), n)
          assert.equal(r.int64Number(), m)
          assert.equal(r.compactString(), s)
          assert.equal(r.string(), s)
          assert.deepEqual(r.compactNullableBytes(), b === null ? null : Buffer.from(b))
          assert.deepEqual(r.nullableBytes(), b === null ? null : Buffer.from(b))
          assert.equal(r.remaining(), 0)
        },
      ),
    )
  })

  it('agrees between the number and bigint varlong forms', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), (n) => {
        assert.equal(
          hex((w) => w.varlongNumber(n)),
          hex((w) => w.varlong(BigInt(n))),
        )
      }),
    )
  })

  it('keeps unknown tagged fields and writes them back in tag order', () => {
    const w = new Writer()
    writeTaggedFields(w, [
      { tag: 5, data: Buffer.from('bb', 'hex') },
      { tag: 0, data: Buffer.from('aa', 'hex') },
    ])
    assert.equal(w.finish().toString('hex'), '020001aa0501bb')
    let known = ''
    const unknown = readTaggedFields(new Reader(w.finish()), (tag, field) => {
      if (tag !== 0) return false
      known = field.raw(1).toString('hex')
      return true
    })
    assert.equal(known, 'aa')
    assert.deepEqual(unknown, [{ tag: 5, data: Buffer.from('bb', 'hex') }])
  })
})

describe('Reader on bad bytes', () => {
  it('rejects truncation, bad lengths, long varints and counts that cannot fit', () => {
    assert.throws(() => reader('0001').int32(), ProtocolError)
    assert.throws(() => reader('0005616263').string(), /runs past the frame/)
    assert.throws(() => reader('fffe').nullableString(), /negative string length/)
    assert.throws(() => reader('ffffffffff0f').uvarint(), /longer than 5 bytes|exceeds 32 bits/)
    assert.throws(() => reader('8080808080808080808001').varlong(), /longer than 10 bytes/)
    assert.throws(() => reader('7fffffff00').arrayLength(), /cannot fit/)
    assert.throws(() => reader('7fffffffffffffff').int64Number(), /safe integer/)
    assert.throws(() => reader('0300020102').compactArrayLength(4), /cannot fit/)
    assert.throws(() => readTaggedFields(reader('02050100')), ProtocolError)
  })

  it('raises only ProtocolError on random bytes, whatever is read', () => {
    const reads: ((r: Reader) => unknown)[] = [
      (r) => r.string(),
      (r) => r.compactNullableString(),
      (r) => r.nullableBytes(),
      (r) => r.compactBytes(),
      (r) => r.varlong(),
      (r) => r.varlongNumber(),
      (r) => r.uvarint(),
      (r) => r.int64Number(),
      (r) => r.uuid(),
      (r) => r.arrayLength(),
      (r) => r.compactArrayLength(),
      (r) => readTaggedFields(r),
      (r) => r.sub(r.int32()),
    ]
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 24 }),
        fc.array(fc.nat(reads.length - 1), { maxLength: 6 }),
        (bytes, plan) => {
          const r = new Reader(Buffer.from(bytes))
          try {
            for (const i of plan) reads[i](r)
          } catch (err) {
            assert.ok(err instanceof ProtocolError, `unexpected ${String(err)}`)
          }
        },
      ),
    )
  })
})
