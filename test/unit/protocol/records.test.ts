// RecordBatch v2: a batch laid out by hand from the protocol guide, round trips with every codec,
// and damaged batches that must only raise ProtocolError.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { CODECS } from '../../../src/protocol/compression/index.ts'
import { crc32c } from '../../../src/protocol/crc32c.ts'
import { ProtocolError } from '../../../src/protocol/errors.ts'
import { decodeRecordBatches, RecordBatchBuilder } from '../../../src/protocol/records/index.ts'

describe('RecordBatch v2', () => {
  it('lays out one record exactly as the protocol guide says', async () => {
    const b = new RecordBatchBuilder()
    b.append({ key: Buffer.from('k'), value: Buffer.from('v'), headers: [{ key: 'h', value: null }], timestamp: 1000 })
    const batch = await b.build()
    // record: attributes 0, timestampDelta 0, offsetDelta 0, key len 1 (zigzag 02) 'k',
    // value len 1 'v', 1 header (02): key len 1 'h', value null (zigzag -1 = 01)
    const record = '00' + '00' + '00' + '02' + '6b' + '02' + '76' + '02' + '02' + '68' + '01'
    const body = `16${record}` // record length 11 bytes, zigzag varint 22
    const afterCrc =
      '0000' + // attributes: no codec, create time, not transactional
      '00000000' + // lastOffsetDelta
      '00000000000003e8' + // baseTimestamp 1000
      '00000000000003e8' + // maxTimestamp
      'ffffffffffffffff' + // producerId -1
      'ffff' + // producerEpoch -1
      'ffffffff' + // baseSequence -1
      '00000001' + // record count
      body
    const crc = crc32c(Buffer.from(afterCrc, 'hex')).toString(16).padStart(8, '0')
    const tail = `ffffffff02${crc}${afterCrc}` // leader epoch -1, magic 2, crc
    const expected = `0000000000000000${(tail.length / 2).toString(16).padStart(8, '0')}${tail}`
    assert.equal(batch.toString('hex'), expected)
  })

  for (const codec of CODECS) {
    it(`round-trips records with keys, values, headers and nulls (${codec})`, async () => {
      const records = fc.array(
        fc.record({
          key: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: null }),
          value: fc.option(fc.uint8Array({ maxLength: 200 }), { nil: null }),
          headers: fc.array(
            fc.record({ key: fc.string(), value: fc.option(fc.uint8Array({ maxLength: 10 }), { nil: null }) }),
            { maxLength: 3 },
          ),
          timestamp: fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }),
        }),
        { minLength: 1, maxLength: 30 },
      )
      await fc.assert(
        fc.asyncProperty(records, fc.bigInt({ min: 0n, max: 2n ** 40n }), async (input, producerId) => {
          const b = new RecordBatchBuilder({ compression: codec, producerId, producerEpoch: 3, baseSequence: 7 })
          const buf = (x: Uint8Array | null) => (x === null ? null : Buffer.from(x))
          const sent = input.map((r) => ({
            key: buf(r.key),
            value: buf(r.value),
            headers: r.headers.map((h) => ({ key: h.key, value: buf(h.value) })),
            timestamp: r.timestamp,
          }))
          for (const r of sent) b.append(r)
          const [batch, ...rest] = await decodeRecordBatches(await b.build())
          assert.equal(rest.length, 0)
          assert.equal(batch.compression, codec)
          assert.equal(batch.producerId, producerId)
          assert.equal(batch.baseSequence, 7)
          assert.equal(batch.lastOffsetDelta, sent.length - 1)
          assert.equal(batch.maxTimestamp, Math.max(...sent.map((r) => r.timestamp)))
          assert.deepEqual(
            batch.records.map(({ offset, timestamp, key, value, headers, control }) => {
              return { offset, timestamp, key, value, headers, control }
            }),
            sent.map((r, i) => ({ ...r, offset: BigInt(i), control: false })),
          )
        }),
        { numRuns: 25 },
      )
    })
  }

  it('decodes consecutive batches and ignores a partial batch at the end', async () => {
    const one = new RecordBatchBuilder()
    one.append({ key: null, value: Buffer.from('a'), timestamp: 1 })
    const a = await one.build()
    const joined = Buffer.concat([a, a, a.subarray(0, a.length - 3)])
    assert.equal((await decodeRecordBatches(joined)).length, 2)
  })

  it('gives exact offsets past 2^53 from the batch base offset', async () => {
    const b = new RecordBatchBuilder()
    for (let i = 0; i < 3; i++) b.append({ key: null, value: Buffer.from('v'), timestamp: 1 })
    const batch = await b.build()
    batch.writeBigInt64BE(2n ** 60n + 1n, 0) // the base offset is outside the CRC; the broker assigns it
    const [decoded] = await decodeRecordBatches(batch)
    assert.deepEqual(
      decoded.records.map((r) => r.offset),
      [2n ** 60n + 1n, 2n ** 60n + 2n, 2n ** 60n + 3n],
    )
  })

  it('gives every record the batch max timestamp when the broker sets LogAppendTime', async () => {
    const b = new RecordBatchBuilder()
    b.append({ key: null, value: Buffer.from('a'), timestamp: 1000 })
    b.append({ key: null, value: Buffer.from('b'), timestamp: 1010 })
    const batch = await b.build()
    batch.writeInt16BE(0x08, 21) // attributes bit 3: timestamp type LogAppendTime
    batch.writeBigInt64BE(5000n, 35) // maxTimestamp: the broker's append time
    batch.writeUInt32BE(crc32c(batch, 21), 17)
    const [decoded] = await decodeRecordBatches(batch)
    assert.equal(decoded.logAppendTime, true)
    assert.deepEqual(
      decoded.records.map((r) => r.timestamp),
      [5000, 5000],
    )
  })

  it('raises ProtocolError when a record is longer than its fields', async () => {
    const b = new RecordBatchBuilder()
    b.append({ key: null, value: Buffer.from('v'), timestamp: 1 })
    b.append({ key: null, value: Buffer.from('w'), timestamp: 1 })
    const batch = await b.build()
    batch[61] += 2 // first record's length varint: one more byte (zigzag)
    batch.writeUInt32BE(crc32c(batch, 21), 17)
    await assert.rejects(
      decodeRecordBatches(batch),
      (err) => err instanceof ProtocolError && /record 0/.test(err.message),
    )
  })

  it('raises ProtocolError on a CRC mismatch', async () => {
    const b = new RecordBatchBuilder()
    b.append({ key: null, value: Buffer.from('payload'), timestamp: 5 })
    const batch = await b.build()
    batch[batch.length - 2] ^= 1
    await assert.rejects(decodeRecordBatches(batch), /CRC mismatch/)
  })

  for (const codec of ['none', 'gzip'] as const) {
    it(`raises only ProtocolError on damaged batches, even with a recomputed CRC (${codec})`, async () => {
      const b = new RecordBatchBuilder({ compression: codec })
      for (let i = 0; i < 5; i++) {
        const headers = [{ key: `h${i}`, value: Buffer.alloc(i) }]
        // values of 50 and 150 bytes: one- and two-byte length varints
        b.append({ key: Buffer.from(`k${i}`), value: Buffer.alloc(50 + 100 * (i % 2), i), headers, timestamp: i * 1e6 })
      }
      const good = await b.build()
      await fc.assert(
        fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean(), async (pos, flip, fixCrc) => {
          const bad = Buffer.from(good)
          bad[pos % bad.length] ^= flip
          if (fixCrc) bad.writeUInt32BE(crc32c(bad, 21), 17)
          try {
            await decodeRecordBatches(bad)
          } catch (err) {
            assert.ok(err instanceof ProtocolError, String(err))
          }
        }),
        { numRuns: 300 },
      )
    })
  }
})
