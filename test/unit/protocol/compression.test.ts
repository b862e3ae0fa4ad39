// Every record-batch codec: round trips, the on-wire formats other clients expect (xerial framing
// per snappy-java, LZ4 frame magic 0x184D2204 per the LZ4 frame spec, zstd frame magic 0xFD2FB528 per
// RFC 8878, gzip readable by zlib itself), and corrupt input as ProtocolError only.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import zlib, { gunzipSync } from 'node:zlib'
import fc from 'fast-check'
import snappy from 'snappy'
import { lz4Bound, snappyLength, zstdBound } from '../../../src/protocol/compression/bounds.ts'
import {
  CODECS,
  codecOf,
  compress,
  decompress,
  LZ4_SYNC_MAX_BYTES,
  loadOptional,
  zstdImplementations,
  zstdSource,
} from '../../../src/protocol/compression/index.ts'
import { ConfigError, ProtocolError } from '../../../src/protocol/errors.ts'

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

  it('round-trips lz4 frames on both sides of LZ4_SYNC_MAX_BYTES (on the event loop, and on the threadpool)', async () => {
    for (const size of [LZ4_SYNC_MAX_BYTES >> 4, LZ4_SYNC_MAX_BYTES * 3]) {
      const data = Buffer.alloc(size)
      for (let i = 0; i < size; i++) data[i] = 97 + ((i * 7919) % 23)
      const frame = await compress('lz4', data)
      assert.equal(lz4Bound(frame) <= LZ4_SYNC_MAX_BYTES, size < LZ4_SYNC_MAX_BYTES, `the bound of ${size} bytes`)
      assert.deepEqual(await decompress('lz4', frame), data)
    }
  })

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

  it('refuses data whose own headers announce more than the limit, before inflating it', async () => {
    // raw snappy whose varint preamble says 2^30 bytes
    await assert.rejects(decompress('snappy', Buffer.from([0x80, 0x80, 0x80, 0x80, 0x04, 0x00])), /claims/)
    // an lz4 frame (4 MiB blocks) of 70 one-byte compressed blocks: up to 280 MiB
    const blocks = Array.from({ length: 70 }, () => [1, 0, 0, 0, 0x11]).flat()
    const frame = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x70, 0x73, ...blocks, 0, 0, 0, 0])
    await assert.rejects(
      decompress('lz4', frame),
      (e: unknown) => e instanceof ProtocolError && /claims/.test(e.message),
    )
    // real data stays within its bound
    const data = Buffer.concat(Array.from({ length: 200 }, () => text))
    for (const [codec, bound] of [
      ['zstd', zstdBound],
      ['lz4', lz4Bound],
    ] as const) {
      assert.ok(bound(await compress(codec, data)) >= data.length, codec)
    }
    assert.equal(snappyLength(await snappy.compress(data)), data.length)
  })

  it('refuses a snappy block announcing more than its elements can produce, under the limit too', async () => {
    // 7 bytes: a preamble of ~181 MB (under the limit) and 3 bytes that make 64 at most
    const forged = Buffer.from([167, 159, 180, 86, 29, 40, 120])
    assert.throws(
      () => snappyLength(forged),
      (e: unknown) => e instanceof ProtocolError && /can hold/.test(e.message),
    )
    await assert.rejects(decompress('snappy', forged), ProtocolError)
    // the densest real data (one byte repeated) still passes, and round-trips
    for (const size of [1, 64, 65_536, 4 << 20]) {
      const zeros = Buffer.alloc(size)
      const block = await snappy.compress(zeros)
      assert.equal(snappyLength(block), size, `${size} zero bytes in ${block.length}`)
      assert.deepEqual(await decompress('snappy', block), zeros)
    }
  })
})

describe('optional codec packages', () => {
  const versions = process.versions as NodeJS.ProcessVersions & { bun?: string; deno?: string }
  const runtime = versions.bun
    ? `Bun ${versions.bun}`
    : versions.deno
      ? `Deno ${versions.deno}`
      : `Node.js ${versions.node}`

  it('say what to install when the package is absent, and in which runtime', async () => {
    const name = 'kafkax-no-such-codec-package'
    const load = loadOptional('lz4', name, () => import(name))
    await assert.rejects(load(), (e: Error) => {
      assert.ok(e instanceof ConfigError, String(e))
      assert.equal(
        e.message,
        `lz4 compression needs the optional package ${name}, which is not installed (${runtime}); npm install ${name}`,
      )
      return true
    })
  })

  it('name the runtime when the package is there but does not load, and try again next time', async () => {
    let attempts = 0
    const load = loadOptional('snappy', 'snappy', async () => {
      attempts++
      if (attempts === 1) throw new Error('invalid ELF header\n(more detail)')
      return 'loaded'
    })
    await assert.rejects(load(), (e: Error) => {
      assert.ok(e instanceof ConfigError, String(e))
      const expected = `snappy compression needs the optional package snappy, which does not load in ${runtime}: invalid ELF header; npm install snappy`
      assert.equal(e.message, expected)
      return true
    })
    assert.equal(await load(), 'loaded')
    assert.equal(attempts, 2)
  })
})

describe('zstd: node:zlib where the runtime has it, @mongodb-js/zstd as the fallback', () => {
  const { native, package: fallback } = zstdImplementations

  it('uses node:zlib exactly where it has zstd (Node >= 22.15), and the two read each other', async () => {
    const builtin = typeof (zlib as { zstdCompress?: unknown }).zstdCompress === 'function'
    assert.equal(zstdSource, builtin ? 'node:zlib' : '@mongodb-js/zstd')
    assert.equal(native !== undefined, builtin)
    if (native) {
      assert.deepEqual(await fallback.decompress(await native.compress(text)), text)
      assert.deepEqual(await native.decompress(await fallback.compress(text)), text)
    }
  })

  it('the fallback package round-trips on every runtime', async () => {
    assert.deepEqual(await fallback.decompress(await fallback.compress(text)), text)
  })
})
