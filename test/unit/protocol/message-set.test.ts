// Legacy MessageSet v0/v1, built here byte by byte from the protocol guide's layout, with CRC-32
// computed by node:zlib: plain messages, a gzip wrapper with v1's relative inner offsets, bad CRCs.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { crc32, gzipSync } from 'node:zlib'
import fc from 'fast-check'
import { ProtocolError } from '../../../src/protocol/errors.ts'
import { decodeRecordBatches } from '../../../src/protocol/records/index.ts'

function bytes(b: Buffer | null): Buffer {
  const len = Buffer.alloc(4)
  len.writeInt32BE(b === null ? -1 : b.length)
  return b === null ? len : Buffer.concat([len, b])
}

function message(o: {
  offset: bigint
  magic: 0 | 1
  attributes?: number
  timestamp?: number
  key: Buffer | null
  value: Buffer | null
}): Buffer {
  const ts = Buffer.alloc(o.magic === 1 ? 8 : 0)
  if (o.magic === 1) ts.writeBigInt64BE(BigInt(o.timestamp ?? 0))
  const body = Buffer.concat([Buffer.from([o.magic, o.attributes ?? 0]), ts, bytes(o.key), bytes(o.value)])
  const head = Buffer.alloc(16)
  head.writeBigInt64BE(o.offset, 0)
  head.writeInt32BE(4 + body.length, 8)
  head.writeUInt32BE(crc32(body) >>> 0, 12)
  return Buffer.concat([head, body])
}

describe('legacy MessageSet', () => {
  it('decodes plain v0 and v1 messages', async () => {
    const set = Buffer.concat([
      message({ offset: 5n, magic: 0, key: null, value: Buffer.from('old') }),
      message({ offset: 6n, magic: 1, timestamp: 1234, key: Buffer.from('k'), value: null }),
    ])
    const records = (await decodeRecordBatches(set)).flatMap((b) => b.records)
    assert.deepEqual(records, [
      { offset: 5n, timestamp: -1, key: null, value: Buffer.from('old'), headers: [] },
      { offset: 6n, timestamp: 1234, key: Buffer.from('k'), value: null, headers: [] },
    ])
  })

  it('unwraps a gzip v1 wrapper whose inner offsets are relative', async () => {
    const inner = Buffer.concat(
      [0, 1, 2].map((i) =>
        message({ offset: BigInt(i), magic: 1, timestamp: 100 + i, key: null, value: Buffer.from(`v${i}`) }),
      ),
    )
    const wrapper = message({ offset: 42n, magic: 1, attributes: 1, timestamp: 102, key: null, value: gzipSync(inner) })
    const [batch] = await decodeRecordBatches(wrapper)
    assert.equal(batch.compression, 'gzip')
    assert.deepEqual(
      batch.records.map((r) => [r.offset, r.timestamp, String(r.value)]),
      [
        [40n, 100, 'v0'],
        [41n, 101, 'v1'],
        [42n, 102, 'v2'],
      ],
    )
  })

  it('rejects a CRC mismatch and raises only ProtocolError on damage', async () => {
    const good = message({ offset: 1n, magic: 1, timestamp: 9, key: Buffer.from('k'), value: Buffer.from('value') })
    const bad = Buffer.from(good)
    bad[bad.length - 1] ^= 1
    await assert.rejects(decodeRecordBatches(bad), /CRC mismatch/)
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 255 }), async (pos, flip) => {
        const damaged = Buffer.from(good)
        damaged[pos % damaged.length] ^= flip
        damaged.writeUInt32BE(crc32(damaged.subarray(16)) >>> 0, 12)
        try {
          await decodeRecordBatches(damaged)
        } catch (err) {
          assert.ok(err instanceof ProtocolError, String(err))
        }
      }),
      { numRuns: 300 },
    )
  })
})
