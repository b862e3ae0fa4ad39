// Every record-batch codec: round trips, the on-wire formats other clients expect (xerial framing
// per snappy-java, LZ4 frame magic 0x184D2204 per the LZ4 frame spec, zstd frame magic 0xFD2FB528 per
// RFC 8878, gzip readable by zlib itself), and corrupt input as ProtocolError only.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { gunzipSync } from 'node:zlib'
import fc from 'fast-check'
import snappy from 'snappy'
import { CODECS, codecOf, compress, decompress } from '../../../src/protocol/compression/index.ts'
import { ProtocolError } from '../../../src/protocol/errors.ts'

const text = Buffer.from('kafkax compresses record batches '.repeat(200))

describe('compression codecs', () => {
  for (const codec of CODECS) {
    it(`round-trips ${codec}`, async () => {
      const packed = await compress(codec, text)
      if (codec !== 'none') assert.ok(packed.length < text.length / 5, `${codec} did not compress`)
      assert.deepEqual(await decompress(codec, packed), text)
      assert.deepEqual(await decompress(codec, await compress(codec, Buffer.alloc(0))), Buffer.alloc(0))
    })
  }

  it('writes the formats other clients read', async () => {
    assert.deepEqual(gunzipSync(await compress('gzip', text)), text)
    const xerial = await compress('snappy', text)
    assert.equal(xerial.subarray(0, 16).toString('hex'), '82534e41505059000000000100000001')
    assert.equal(xerial.readInt32BE(16), xerial.length - 20)
    assert.deepEqual(snappy.uncompressSync(xerial.subarray(20)), text)
    assert.equal((await compress('lz4', text)).readUInt32LE(0), 0x184d2204)
    assert.equal((await compress('zstd', text)).readUInt32LE(0), 0xfd2fb528)
  })

  it('reads raw snappy as well as xerial framing', async () => {
    assert.deepEqual(await decompress('snappy', snappy.compressSync(text)), text)
  })

  it('maps RecordBatch attribute bits to codecs', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 0x13].map((a) => codecOf(a)),
      ['none', 'gzip', 'snappy', 'lz4', 'zstd', 'lz4'],
    )
    assert.throws(() => codecOf(5), ProtocolError)
  })

  it('raises only ProtocolError on corrupt or truncated data', async () => {
    const valid = await Promise.all(CODECS.slice(1).map((c) => compress(c, text)))
    await fc.assert(
      fc.asyncProperty(
        fc.nat(valid.length - 1),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.boolean(),
        async (which, position, byte, truncate) => {
          const data = Buffer.from(valid[which])
          const at = position % data.length
          if (!truncate) data[at] ^= byte || 1 // flip at least one bit
          const bad = truncate ? data.subarray(0, at) : data
          try {
            await decompress(CODECS[which + 1], bad)
          } catch (err) {
            assert.ok(err instanceof ProtocolError, `${CODECS[which + 1]}: ${String(err)}`)
          }
        },
      ),
      { numRuns: 200 },
    )
  })
})
