// CRC-32C known answers: the check value of the CRC catalogue ("123456789" -> 0xE3069283) and the
// iSCSI test vectors of RFC 3720 appendix B.4; ranges and unaligned views are checked against the bitwise
// definition (the word loop reads through an Int32Array view, so the byte offset in the ArrayBuffer matters),
// for the JavaScript loop alone and for crc32c, which hands long ranges to @node-rs/crc32 where it loads.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { crc32c, crc32cSoftware, NATIVE_MIN_BYTES, nativeCrc32c } from '../../../src/protocol/crc32c.ts'

/** The bitwise definition, independent of the table-driven implementation. */
function reference(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (const b of bytes) {
    crc ^= b
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return (crc ^ 0xffffffff) >>> 0
}

describe('crc32c', () => {
  it('matches the published check value and RFC 3720 B.4 vectors', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
    assert.equal(crc32c(Buffer.alloc(32, 0x00)), 0x8a9136aa)
    assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43)
    assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e)
    assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))), 0x113fdb5c)
    assert.equal(crc32c(Buffer.alloc(0)), 0)
  })

  it('agrees with the bitwise definition on any range', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length ? a % (bytes.length + 1) : 0
        const end = start + (bytes.length - start ? b % (bytes.length - start + 1) : 0)
        assert.equal(crc32c(bytes, start, end), reference(bytes.subarray(start, end)))
      }),
    )
  })

  it('agrees with the bitwise definition on views at any byte offset, of any length', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 7 }),
        fc.uint8Array({ maxLength: 2000 }),
        fc.nat({ max: 7 }),
        fc.nat(),
        fc.nat(),
        (before, bytes, after, a, b) => {
          // the same bytes placed at `before` inside a larger ArrayBuffer, with `after` spare bytes past them
          const view = new Uint8Array(new ArrayBuffer(before + bytes.length + after), before, bytes.length)
          view.set(bytes)
          const start = a % (bytes.length + 1)
          const end = start + (b % (bytes.length - start + 1))
          const expected = reference(bytes.subarray(start, end))
          assert.equal(crc32cSoftware(view, start, end), expected)
          assert.equal(crc32c(view, start, end), expected)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('agrees with the bitwise definition on a 1 MiB buffer', () => {
    const big = new Uint8Array(1 << 20)
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24
    assert.equal(crc32c(big, 3), reference(big.subarray(3)))
    assert.equal(crc32cSoftware(big, 3), reference(big.subarray(3)))
  })

  it('loads the native package under Node, whose ranges from NATIVE_MIN_BYTES on agree with the loop', () => {
    // Bun and Deno may lack the binding: crc32c then is the loop alone (the properties above hold)
    if (!process.versions.bun && !('Deno' in globalThis)) assert.ok(nativeCrc32c, '@node-rs/crc32 loads under Node')
    const bytes = new Uint8Array(NATIVE_MIN_BYTES + 64)
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 40503) >>> 8
    for (let length = NATIVE_MIN_BYTES - 2; length <= bytes.length - 5; length++) {
      assert.equal(crc32c(bytes, 5, 5 + length), crc32cSoftware(bytes, 5, 5 + length), `length ${length}`)
    }
  })
})
