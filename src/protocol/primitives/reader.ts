// Reader: zero-copy reads from a frame. Every read is bounds-checked first, so truncated frames,
// negative lengths and absurd counts raise ProtocolError before anything of that size is allocated.

import { ProtocolError } from '../errors.ts'

export class Reader {
  offset: number
  readonly end: number

  constructor(
    readonly buffer: Buffer,
    offset = 0,
    end = buffer.length,
  ) {
    if (offset < 0 || end > buffer.length || offset > end) throw new ProtocolError('reader range outside the buffer')
    this.offset = offset
    this.end = end
  }

  remaining(): number {
    return this.end - this.offset
  }

  /** Throws unless `n` more bytes are available. */
  private need(n: number, what: string): void {
    if (n > this.end - this.offset) {
      throw new ProtocolError(`truncated ${what}: needs ${n} bytes at offset ${this.offset}, ${this.remaining()} left`)
    }
  }

  int8(): number {
    this.need(1, 'int8')
    return this.buffer.readInt8(this.offset++)
  }

  int16(): number {
    this.need(2, 'int16')
    const v = this.buffer.readInt16BE(this.offset)
    this.offset += 2
    return v
  }

  int32(): number {
    this.need(4, 'int32')
    const v = this.buffer.readInt32BE(this.offset)
    this.offset += 4
    return v
  }

  uint16(): number {
    this.need(2, 'uint16')
    const v = this.buffer.readUInt16BE(this.offset)
    this.offset += 2
    return v
  }

  uint32(): number {
    this.need(4, 'uint32')
    const v = this.buffer.readUInt32BE(this.offset)
    this.offset += 4
    return v
  }

  int64(): bigint {
    this.need(8, 'int64')
    const v = this.buffer.readBigInt64BE(this.offset)
    this.offset += 8
    return v
  }

  /** An int64 as a number; raises ProtocolError when it is not a safe integer. */
  int64Number(): number {
    this.need(8, 'int64')
    const high = this.buffer.readInt32BE(this.offset)
    const low = this.buffer.readUInt32BE(this.offset + 4)
    const v = high * 0x1_0000_0000 + low
    if (!Number.isSafeInteger(v)) throw new ProtocolError(`int64 at offset ${this.offset} is not a safe integer`)
    this.offset += 8
    return v
  }

  float64(): number {
    this.need(8, 'float64')
    const v = this.buffer.readDoubleBE(this.offset)
    this.offset += 8
    return v
  }

  boolean(): boolean {
    return this.int8() !== 0
  }

  /** Unsigned varint of at most 5 bytes (32 bits). */
  uvarint(): number {
    let value = 0
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.offset >= this.end) throw new ProtocolError('truncated varint')
      const byte = this.buffer[this.offset++]
      value += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) {
        if (value > 0xffff_ffff) throw new ProtocolError('varint exceeds 32 bits')
        return value
      }
    }
    throw new ProtocolError('varint longer than 5 bytes')
  }

  /** Zigzag int32 varint. */
  varint(): number {
    const v = this.uvarint()
    return (v >>> 1) ^ -(v & 1)
  }

  /** Zigzag int64 varint of at most 10 bytes. */
  varlong(): bigint {
    let value = 0n
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.offset >= this.end) throw new ProtocolError('truncated varlong')
      const byte = this.buffer[this.offset++]
      value |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) {
        value = BigInt.asUintN(64, value)
        return (value >> 1n) ^ -(value & 1n)
      }
    }
    throw new ProtocolError('varlong longer than 10 bytes')
  }

  /** Zigzag int64 varint as a number, in plain arithmetic; raises ProtocolError beyond 2^53. */
  varlongNumber(): number {
    let value = 0
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.offset >= this.end) throw new ProtocolError('truncated varlong')
      const byte = this.buffer[this.offset++]
      value += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) {
        if (value > Number.MAX_SAFE_INTEGER) throw new ProtocolError('varlong is not a safe integer')
        return value % 2 === 0 ? value / 2 : -(value + 1) / 2
      }
    }
    throw new ProtocolError('varlong longer than 10 bytes')
  }

  uuid(): string {
    const hex = this.raw(16).toString('hex')
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  }

  /** A length prefix: -1 is null, other negatives are errors. */
  private length(raw: number, what: string): number {
    if (raw < -1) throw new ProtocolError(`negative ${what} length ${raw}`)
    if (raw > this.remaining())
      throw new ProtocolError(`${what} length ${raw} runs past the frame (${this.remaining()} left)`)
    return raw
  }

  string(): string {
    const s = this.nullableString()
    if (s === null) throw new ProtocolError('null in a non-nullable string')
    return s
  }

  nullableString(): string | null {
    const n = this.length(this.int16(), 'string')
    return n === -1 ? null : this.utf8(n)
  }

  compactString(): string {
    const s = this.compactNullableString()
    if (s === null) throw new ProtocolError('null in a non-nullable compact string')
    return s
  }

  compactNullableString(): string | null {
    const n = this.length(this.uvarint() - 1, 'compact string')
    return n === -1 ? null : this.utf8(n)
  }

  private utf8(n: number): string {
    const s = this.buffer.toString('utf8', this.offset, this.offset + n)
    this.offset += n
    return s
  }

  bytes(): Buffer {
    const b = this.nullableBytes()
    if (b === null) throw new ProtocolError('null in non-nullable bytes')
    return b
  }

  nullableBytes(): Buffer | null {
    const n = this.length(this.int32(), 'bytes')
    return n === -1 ? null : this.raw(n)
  }

  compactBytes(): Buffer {
    const b = this.compactNullableBytes()
    if (b === null) throw new ProtocolError('null in non-nullable compact bytes')
    return b
  }

  compactNullableBytes(): Buffer | null {
    const n = this.length(this.uvarint() - 1, 'compact bytes')
    return n === -1 ? null : this.raw(n)
  }

  /** The next `n` bytes as a view into the frame. */
  raw(n: number): Buffer {
    if (n < 0) throw new ProtocolError(`negative length ${n}`)
    this.need(n, 'bytes')
    const b = this.buffer.subarray(this.offset, this.offset + n)
    this.offset += n
    return b
  }

  /**
   * An array count: -1 is null. Every element takes at least `minElementSize` bytes, so a count the
   * rest of the frame cannot hold is rejected before an array of that size is allocated.
   */
  arrayLength(minElementSize = 1): number {
    return this.count(this.int32(), minElementSize)
  }

  compactArrayLength(minElementSize = 1): number {
    return this.count(this.uvarint() - 1, minElementSize)
  }

  private count(n: number, minElementSize: number): number {
    if (n < -1) throw new ProtocolError(`negative array length ${n}`)
    if (n * minElementSize > this.remaining()) {
      throw new ProtocolError(`array of ${n} elements cannot fit in the ${this.remaining()} bytes left`)
    }
    return n
  }

  /** A Reader over the next `n` bytes; this one moves past them. */
  sub(n: number): Reader {
    const start = this.offset
    this.raw(n)
    return new Reader(this.buffer, start, start + n)
  }
}
