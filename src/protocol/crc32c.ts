// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of RecordBatch v2 (KIP-98).
// Ranges of NATIVE_MIN_BYTES and more go to the optional package @node-rs/crc32 when it loads (the
// CPU's CRC32 instruction: about 2.3x the JavaScript loop on 16 KiB, 7 GB/s on 1 MiB here, a record
// batch's checksum being a fifth of a 1 KB producer's CPU); shorter ones, and every range without it,
// to the loop below, which a native call's fixed cost would not beat.
// Slicing-by-16: sixteen 256-entry tables let the loop consume 16 bytes per step instead of 1.
// The bytes are read as four little-endian int32 words through an Int32Array view (one load each
// instead of four byte loads and shifts). Each table is its own module-level Int32Array, so V8 folds
// its address into the load; a flat 4096-entry table costs an add per lookup and measured no faster.

import { createRequire } from 'node:module'

const POLY = 0x82f63b78
const TABLES: Int32Array[] = []
for (let t = 0; t < 16; t++) TABLES.push(new Int32Array(256))
for (let n = 0; n < 256; n++) {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1
  TABLES[0][n] = c
}
for (let t = 1; t < 16; t++) {
  for (let n = 0; n < 256; n++) TABLES[t][n] = (TABLES[t - 1][n] >>> 8) ^ TABLES[0][TABLES[t - 1][n] & 0xff]
}
const [T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15] = TABLES

// The word loop assumes little-endian words; a big-endian host takes the byte loop only.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/** Below this many bytes the JavaScript loop is faster than a call into the native package. */
export const NATIVE_MIN_BYTES = 1024

type NativeCrc32c = (input: Uint8Array) => number

/** @node-rs/crc32's crc32c, or undefined where it is not installed or does not load (another runtime's binding). */
export const nativeCrc32c: NativeCrc32c | undefined = (() => {
  try {
    return (createRequire(import.meta.url)('@node-rs/crc32') as { crc32c: NativeCrc32c }).crc32c
  } catch {
    return undefined
  }
})()

/** CRC-32C of `buf[start, end)` as an unsigned 32-bit number. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  if (nativeCrc32c !== undefined && end - start >= NATIVE_MIN_BYTES) {
    return nativeCrc32c(start === 0 && end === buf.length ? buf : buf.subarray(start, end)) >>> 0
  }
  return crc32cSoftware(buf, start, end)
}

/** CRC-32C of `buf[start, end)` computed in JavaScript, whatever is installed. */
export function crc32cSoftware(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = -1
  let i = start
  if (end - i >= 32 && LITTLE_ENDIAN) {
    // bytes one at a time up to a 4-byte boundary of the underlying ArrayBuffer, as Int32Array requires
    for (const stop = i + (-(buf.byteOffset + i) & 3); i < stop; i++) crc = T0[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8)
    const words = new Int32Array(buf.buffer, buf.byteOffset + i, (end - i) >> 2)
    const stop = words.length & ~3
    let w = 0
    for (; w < stop; w += 4) {
      const a = crc ^ words[w]
      const b = words[w + 1]
      const c = words[w + 2]
      const d = words[w + 3]
      crc =
        T15[a & 0xff] ^
        T14[(a >> 8) & 0xff] ^
        T13[(a >> 16) & 0xff] ^
        T12[a >>> 24] ^
        T11[b & 0xff] ^
        T10[(b >> 8) & 0xff] ^
        T9[(b >> 16) & 0xff] ^
        T8[b >>> 24] ^
        T7[c & 0xff] ^
        T6[(c >> 8) & 0xff] ^
        T5[(c >> 16) & 0xff] ^
        T4[c >>> 24] ^
        T3[d & 0xff] ^
        T2[(d >> 8) & 0xff] ^
        T1[(d >> 16) & 0xff] ^
        T0[d >>> 24]
    }
    i += w * 4
  }
  for (; i < end; i++) crc = T0[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8)
  return ~crc >>> 0
}
