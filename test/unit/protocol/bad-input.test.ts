// Bad input never escapes as anything but ProtocolError: random bytes read with random sequences of
// Reader operations, valid RecordBatches (every codec) and legacy MessageSets that are truncated,
// bit-flipped, patched with huge lengths or bad varints, or have their compressed payload damaged
// (with the checksum recomputed so the damage reaches the codec), and request/response headers.
// Frames announcing ~2 GB strings, byte arrays or arrays must fail at once without allocating them.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { crc32 } from 'node:zlib'
import fc from 'fast-check'
import { CODECS, type CompressionCodec, compress } from '../../../src/protocol/compression/index.ts'
import { crc32c } from '../../../src/protocol/crc32c.ts'
import { ProtocolError } from '../../../src/protocol/errors.ts'
import { decodeRequestHeader, decodeResponseHeader, encodeRequestHeader } from '../../../src/protocol/headers.ts'
import { Reader, readTaggedFields, Writer } from '../../../src/protocol/primitives/index.ts'
import { decodeRecordBatches, RecordBatchBuilder } from '../../../src/protocol/records/index.ts'

/** The type of the values an arbitrary generates. */
type Generated<A> = A extends fc.Arbitrary<infer T> ? T : never

/** Fails with the escaped error's stack unless `err` is a ProtocolError. */
function assertProtocolError(err: unknown): void {
  if (!(err instanceof ProtocolError)) {
    assert.fail(`a non-ProtocolError escaped: ${(err as Error)?.stack ?? String(err)}`)
  }
}

function syncOnlyProtocolError(run: () => unknown): void {
  try {
    run()
  } catch (err) {
    assertProtocolError(err)
  }
}

/** Awaits `run()`; a rejection must be a ProtocolError, and it must settle within 5 s (no hang). */
async function onlyProtocolError(run: () => Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('decoding did not settle within 5 s')), 5000)
  })
  try {
    await Promise.race([run(), hang])
  } catch (err) {
    assertProtocolError(err)
  } finally {
    clearTimeout(timer)
  }
}

/** Bytes biased toward the values that stress length prefixes and varints. */
const nastyBytes = (maxLength: number) =>
  fc
    .array(fc.oneof(fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff), fc.integer({ min: 0, max: 255 })), {
      maxLength,
    })
    .map((xs) => Buffer.from(xs))

// Every Reader operation, with `n` as the size argument of those that take one.
const READS: Record<string, (r: Reader, n: number) => unknown> = {
  int8: (r) => r.int8(),
  int16: (r) => r.int16(),
  int32: (r) => r.int32(),
  uint16: (r) => r.uint16(),
  uint32: (r) => r.uint32(),
  int64: (r) => r.int64(),
  int64Number: (r) => r.int64Number(),
  float64: (r) => r.float64(),
  boolean: (r) => r.boolean(),
  uvarint: (r) => r.uvarint(),
  varint: (r) => r.varint(),
  varlong: (r) => r.varlong(),
  varlongNumber: (r) => r.varlongNumber(),
  uuid: (r) => r.uuid(),
  string: (r) => r.string(),
  nullableString: (r) => r.nullableString(),
  compactString: (r) => r.compactString(),
  compactNullableString: (r) => r.compactNullableString(),
  bytes: (r) => r.bytes(),
  nullableBytes: (r) => r.nullableBytes(),
  compactBytes: (r) => r.compactBytes(),
  compactNullableBytes: (r) => r.compactNullableBytes(),
  raw: (r, n) => r.raw(n),
  sub: (r, n) => r.sub(n).int8(),
  arrayLength: (r, n) => r.arrayLength(Math.max(1, n)),
  compactArrayLength: (r, n) => r.compactArrayLength(Math.max(1, n)),
  taggedFields: (r) => readTaggedFields(r),
  // a known tag is decoded from its own field reader, which must not read past the field
  taggedFieldsKnown: (r) =>
    readTaggedFields(r, (tag, field) => {
      if (tag % 2 === 1) return false
      field.compactNullableString()
      return true
    }),
}

/** A RecordBatch's CRC-32C covers attributes (byte 21) to the end; it is stored at byte 17. */
function fixBatchCrc(batch: Buffer): Buffer {
  batch.writeUInt32BE(crc32c(batch, 21), 17)
  return batch
}

const bytesOrNull = fc.option(fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)))
const recordArb = fc.record({
  key: bytesOrNull,
  value: bytesOrNull,
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 6 }), value: bytesOrNull }), { maxLength: 3 }),
  timestamp: fc.integer({ min: 0, max: 2 ** 41 }),
})

async function buildBatch(codec: CompressionCodec, records: Generated<typeof recordArb>[]): Promise<Buffer> {
  const b = new RecordBatchBuilder({ compression: codec })
  for (const r of records) b.append(r)
  return b.build()
}

// The ways a batch gets damaged; `fixCrc` recomputes the checksum so the damage reaches the decoder.
const batchMutation = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    bits: fc.integer({ min: 1, max: 255 }),
    fixCrc: fc.boolean(),
  }),
  // batchLength, lastOffsetDelta, recordCount, and the first record's length varint area
  fc.record({
    kind: fc.constant('int32' as const),
    at: fc.constantFrom(8, 23, 57, 61),
    value: fc.constantFrom(0x7fffffff, -0x80000000, -1, -2, 0, 48, 49, 1 << 24),
  }),
  fc.record({
    kind: fc.constant('varint' as const),
    at: fc.nat(),
    bytes: fc.constantFrom(
      [0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
      [0xff, 0xff, 0xff, 0xff, 0x0f],
      [0xfe, 0xff, 0xff, 0x7f],
      [0x80],
    ),
  }),
  fc.record({ kind: fc.constant('payload' as const), bytes: fc.uint8Array({ maxLength: 200 }) }),
)

function mutateBatch(good: Buffer, m: Generated<typeof batchMutation>): Buffer {
  switch (m.kind) {
    case 'truncate':
      return Buffer.from(good.subarray(0, m.at % good.length))
    case 'flip': {
      const bad = Buffer.from(good)
      bad[m.at % bad.length] ^= m.bits
      return m.fixCrc ? fixBatchCrc(bad) : bad
    }
    case 'int32': {
      const bad = Buffer.from(good)
      if (m.at + 4 <= bad.length) bad.writeInt32BE(m.value, m.at)
      return fixBatchCrc(bad)
    }
    case 'varint': {
      // somewhere in the records (or the compressed payload)
      const bad = Buffer.from(good)
      const at = 61 + (m.at % (bad.length - 61))
      Buffer.from(m.bytes).copy(bad, at)
      return fixBatchCrc(bad)
    }
    case 'payload': {
      const bad = Buffer.concat([good.subarray(0, 61), m.bytes])
      bad.writeInt32BE(bad.length - 12, 8)
      return fixBatchCrc(bad)
    }
  }
}

/** A legacy message (v0/v1) as the protocol guide lays it out, with its CRC-32 over magic..end. */
function legacyMessage(magic: 0 | 1, attributes: number, key: Buffer | null, value: Buffer | null): Buffer {
  const w = new Writer()
  w.int64(7n)
  const size = w.reserve(4)
  const crcAt = w.reserve(4)
  w.int8(magic)
  w.int8(attributes)
  if (magic === 1) w.int64(1_700_000_000_000n)
  w.nullableBytes(key)
  w.nullableBytes(value)
  const out = w.finish()
  out.writeInt32BE(out.length - 12, size)
  out.writeUInt32BE(crc32(out.subarray(crcAt + 4)) >>> 0, crcAt)
  return out
}

function fixLegacyCrc(message: Buffer): void {
  if (message.length >= 16) message.writeUInt32BE(crc32(message.subarray(16)) >>> 0, 12)
}

/**
 * A zstd frame of `blocks` RLE blocks, each regenerating 128 KiB of one byte from 4 bytes: 8192 blocks
 * (32 KiB) make 1 GiB. No content size is declared, so only a decoder that counts its output can stop early.
 */
function zstdRleBomb(blocks: number): Buffer {
  const out = Buffer.alloc(6 + blocks * 4)
  out.writeUInt32LE(0xfd2fb528, 0) // magic
  out[4] = 0x00 // frame header descriptor: no content size, no checksum, not single-segment
  out[5] = 0x38 // window descriptor: 2^(10 + 7) = 128 KiB
  for (let i = 0; i < blocks; i++) {
    // block header, 3 bytes little-endian: last-block bit, type 1 (RLE), regenerated size
    out.writeUIntLE(((128 * 1024) << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0), 6 + i * 4, 3)
    out[6 + i * 4 + 3] = 0x61
  }
  return out
}

/** The largest resident set size seen while `run()` is pending, minus the size before it. */
async function peakRssGrowth(run: () => Promise<unknown>): Promise<number> {
  const before = process.memoryUsage().rss
  let peak = before
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 5)
  try {
    await run()
  } finally {
    clearInterval(sampler)
  }
  return Math.max(peak, process.memoryUsage().rss) - before
}

describe('bad input raises only ProtocolError', () => {
  it('Reader: random bytes read with random sequences of operations', () => {
    const op = fc.record({ name: fc.constantFrom(...Object.keys(READS)), n: fc.integer({ min: -3, max: 70 }) })
    fc.assert(
      fc.property(nastyBytes(80), fc.nat(), fc.nat(), fc.array(op, { maxLength: 25 }), (data, a, b, ops) => {
        syncOnlyProtocolError(() => {
          // an offset/end pair that may lie outside the buffer: the constructor must refuse it as ProtocolError
          const start = a % (data.length + 3)
          const r = new Reader(data, start, start + (b % (data.length + 3)))
          for (const { name, n } of ops) {
            READS[name](r, n)
            assert.ok(r.offset >= start && r.offset <= r.end, `${name} left the reader at ${r.offset}`)
          }
        })
      }),
      { numRuns: 3000 },
    )
  })

  it('Reader: lengths and counts of ~2 GB fail at once without allocating', () => {
    const frames: [string, Buffer, (r: Reader) => unknown][] = [
      ['bytes', Buffer.from('7fffffff00', 'hex'), (r) => r.bytes()],
      ['nullable bytes', Buffer.from('7ffffff0', 'hex'), (r) => r.nullableBytes()],
      ['string', Buffer.from('7fff61', 'hex'), (r) => r.string()],
      ['compact bytes', Buffer.from('ffffffff0f00', 'hex'), (r) => r.compactBytes()],
      ['compact string', Buffer.from('feffffff0f61', 'hex'), (r) => r.compactString()],
      ['array', Buffer.from('7fffffff00', 'hex'), (r) => r.arrayLength()],
      ['compact array', Buffer.from('ffffffff0f', 'hex'), (r) => r.compactArrayLength()],
      ['tagged field count', Buffer.from('ffffffff0f', 'hex'), (r) => readTaggedFields(r)],
      ['tagged field size', Buffer.from('0100feffffff07', 'hex'), (r) => readTaggedFields(r)],
      ['varint past 32 bits', Buffer.from('ffffffff7f', 'hex'), (r) => r.uvarint()],
    ]
    const before = process.memoryUsage().arrayBuffers
    for (const [what, frame, read] of frames) {
      for (let i = 0; i < 1000; i++) {
        assert.throws(() => read(new Reader(frame)), ProtocolError, what)
      }
    }
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024, 'bad lengths allocated memory')
  })

  for (const codec of CODECS) {
    it(`RecordBatch (${codec}): truncated, flipped, huge lengths, bad varints, replaced payload`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(recordArb, { minLength: 1, maxLength: 5 }), batchMutation, async (records, m) => {
          const bad = mutateBatch(await buildBatch(codec, records), m)
          await onlyProtocolError(() => decodeRecordBatches(bad))
        }),
        { numRuns: 150 },
      )
    })

    it(`RecordBatch (${codec}): a wrong CRC is always rejected`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(recordArb, { minLength: 1, maxLength: 3 }),
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          async (records, at, bits) => {
            const bad = await buildBatch(codec, records)
            // anything from the stored CRC (byte 17) to the end is checked
            bad[17 + (at % (bad.length - 17))] ^= bits
            await assert.rejects(
              decodeRecordBatches(bad),
              (err) => err instanceof ProtocolError && /CRC/.test(err.message),
            )
          },
        ),
        { numRuns: 50 },
      )
    })
  }

  for (const codec of CODECS.filter((c) => c !== 'none')) {
    it(`RecordBatch (${codec}): a truncated compressed payload with a valid CRC is rejected`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(recordArb, { minLength: 1, maxLength: 5 }),
          // lz4 frames end with a 4-byte end mark, which the lz4 package does not insist on: cut into the data
          fc.integer({ min: codec === 'lz4' ? 5 : 1, max: 64 }),
          async (records, cut) => {
            const good = await buildBatch(codec, records)
            const bad = Buffer.from(good.subarray(0, Math.max(61, good.length - cut)))
            bad.writeInt32BE(bad.length - 12, 8)
            await assert.rejects(decodeRecordBatches(fixBatchCrc(bad)), ProtocolError)
          },
        ),
        { numRuns: 50 },
      )
    })
  }

  it('RecordBatch: batch length, record count and record lengths of ~2 GB fail fast or wait for more data', async () => {
    const good = await buildBatch('none', [{ key: null, value: Buffer.from('v'), headers: [], timestamp: 1 }])
    const patch = (at: number, bytes: number[]) => {
      const bad = Buffer.from(good)
      Buffer.from(bytes).copy(bad, at)
      return fixBatchCrc(bad)
    }
    // a batch longer than the data is a partial batch at the end of a fetch: nothing to decode yet
    assert.deepEqual(await decodeRecordBatches(patch(8, [0x7f, 0xff, 0xff, 0xff])), [])
    const before = process.memoryUsage().arrayBuffers
    await assert.rejects(decodeRecordBatches(patch(57, [0x7f, 0xff, 0xff, 0xff])), ProtocolError) // record count
    await assert.rejects(decodeRecordBatches(patch(61, [0xfe, 0xff, 0xff, 0xff, 0x0f])), ProtocolError) // record length
    await assert.rejects(decodeRecordBatches(patch(61 + 1 + 1 + 1 + 1, [0xfe, 0xff, 0xff, 0xff, 0x0f])), ProtocolError) // key length
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024, 'bad lengths allocated memory')
  })

  it('RecordBatch (zstd): a 32 KiB batch inflating to 1 GiB is refused without producing the 1 GiB', async () => {
    const bomb = Buffer.concat([Buffer.alloc(61), zstdRleBomb(8192)])
    bomb.writeInt32BE(bomb.length - 12, 8)
    bomb.writeInt8(2, 16)
    bomb.writeInt16BE(CODECS.indexOf('zstd'), 21)
    bomb.writeInt32BE(1, 57)
    fixBatchCrc(bomb)
    const growth = await peakRssGrowth(() => assert.rejects(decodeRecordBatches(bomb), ProtocolError))
    assert.ok(
      growth < 512 * 1024 * 1024,
      `decoding the bomb grew the resident set by ${(growth / 2 ** 20).toFixed(0)} MiB`,
    )
  })

  it('legacy MessageSet v0/v1: plain and compressed messages, damaged', async () => {
    const legacyCodec = fc.constantFrom<CompressionCodec>('none', 'gzip', 'snappy', 'lz4')
    const damage = fc.oneof(
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({
        kind: fc.constant('flip' as const),
        at: fc.nat(),
        bits: fc.integer({ min: 1, max: 255 }),
        fixCrc: fc.boolean(),
      }),
      // the message size, the key length and (v0) the value length
      fc.record({
        kind: fc.constant('int32' as const),
        at: fc.constantFrom(8, 18, 22, 26),
        value: fc.constantFrom(0x7fffffff, -0x80000000, -2, 0, 13, 14),
      }),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<0 | 1>(0, 1),
        legacyCodec,
        fc.array(fc.tuple(bytesOrNull, bytesOrNull), { minLength: 1, maxLength: 4 }),
        damage,
        async (magic, codec, kvs, m) => {
          const inner = Buffer.concat(kvs.map(([k, v]) => legacyMessage(magic, 0, k, v)))
          const good =
            codec === 'none' ? inner : legacyMessage(magic, CODECS.indexOf(codec), null, await compress(codec, inner))
          let bad = Buffer.from(good)
          if (m.kind === 'truncate') bad = bad.subarray(0, m.at % bad.length)
          else if (m.kind === 'flip') {
            bad[m.at % bad.length] ^= m.bits
            if (m.fixCrc) fixLegacyCrc(bad)
          } else if (m.at + 4 <= bad.length) {
            bad.writeInt32BE(m.value, m.at)
            fixLegacyCrc(bad)
          }
          await onlyProtocolError(() => decodeRecordBatches(bad))
        },
      ),
      { numRuns: 400 },
    )
  })

  it('legacy MessageSet: a wrong CRC-32 is always rejected', async () => {
    const good = legacyMessage(1, 0, Buffer.from('k'), Buffer.from('value'))
    // the stored CRC (bytes 12-15) and everything after the magic byte (16)
    for (let at = 12; at < good.length; at++) {
      if (at === 16) continue
      const bad = Buffer.from(good)
      bad[at] ^= 0x10
      await assert.rejects(decodeRecordBatches(bad), /CRC mismatch/)
    }
  })

  it('request and response headers: random and mutated bytes', () => {
    const valid = fc
      .record({
        version: fc.constantFrom(0, 1, 2),
        apiKey: fc.integer({ min: 0, max: 80 }),
        apiVersion: fc.integer({ min: 0, max: 20 }),
        correlationId: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        clientId: fc.option(fc.string({ maxLength: 20 })),
      })
      .map(({ version, ...h }) => {
        const w = new Writer()
        encodeRequestHeader(w, version, { ...h, unknownTaggedFields: [{ tag: 3, data: Buffer.from('xy') }] })
        return w.finish()
      })
    fc.assert(
      fc.property(
        fc.oneof(nastyBytes(40), valid),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.nat(),
        (frame, at, bits, cut) => {
          const bad = Buffer.from(frame)
          if (bad.length) bad[at % bad.length] ^= bits
          const data = bad.subarray(0, bad.length - (cut % (bad.length + 1)))
          for (const version of [0, 1, 2]) syncOnlyProtocolError(() => decodeRequestHeader(new Reader(data), version))
          for (const version of [0, 1]) syncOnlyProtocolError(() => decodeResponseHeader(new Reader(data), version))
        },
      ),
      { numRuns: 2000 },
    )
  })
})
