// CRC-32C known answers: the check value of the CRC catalogue ("123456789" -> 0xE3069283) and the
// iSCSI test vectors of RFC 3720 appendix B.4; ranges are checked against the byte-at-a-time definition.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { crc32c } from '../../../src/protocol/crc32c.ts'

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
})
