// Writer: every request is built in ONE growable buffer. Sizes, lengths and CRCs are reserved and
// back-patched (`reserve` + `int32At`), never produced by concatenating buffers.
// Encodings follow the Kafka protocol guide ("Protocol Primitive Types") and KIP-482 (compact
// forms: unsigned varint length + 1, 0 meaning null).

import { ProtocolError } from '../errors.ts'

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Byte arrays this large are referenced, not copied, by a splicing writer (see `Writer.splice`). */
const SPLICE_MIN_BYTES = 16 * 1024

export class Writer {
  buffer: Buffer
  offset = 0
  /** Large byte arrays left in place: each goes out after the writer's own bytes before `at`. */
  private readonly spliced: { at: number; bytes: Uint8Array }[] = []
  private splicedBytes = 0

  /**
   * `initial` is a capacity or a buffer to write into (a reused one). A `splice` writer keeps large
   * byte arrays by reference, read back with `chunks()`: a request frame sends a produce request's
   * record batches as they are instead of copying megabytes into the frame.
   */
  constructor(
    initial: number | Buffer = 1024,
    private readonly splice = false,
  ) {
    this.buffer = typeof initial === 'number' ? Buffer.allocUnsafe(initial) : initial
  }

  /** Bytes written, spliced arrays included. */
  get length(): number {
    return this.offset + this.splicedBytes
  }

  /** Makes room for `n` more bytes, doubling the buffer so appends stay amortised O(1). */
  ensure(n: number): void {
    const needed = this.offset + n
    if (needed <= this.buffer.length) return
    let size = this.buffer.length * 2
    while (size < needed) size *= 2
    const grown = Buffer.allocUnsafe(size)
    this.buffer.copy(grown, 0, 0, this.offset)
    this.buffer = grown
  }

  int8(v: number): void {
    this.ensure(1)
    this.buffer.writeInt8(v, this.offset)
    this.offset += 1
  }

  int16(v: number): void {
    this.ensure(2)
    this.buffer.writeInt16BE(v, this.offset)
    this.offset += 2
  }

  int32(v: number): void {
    this.ensure(4)
    this.buffer.writeInt32BE(v, this.offset)
    this.offset += 4
  }

  uint16(v: number): void {
    this.ensure(2)
    this.buffer.writeUInt16BE(v, this.offset)
    this.offset += 2
  }

  uint32(v: number): void {
    this.ensure(4)
    this.buffer.writeUInt32BE(v, this.offset)
    this.offset += 4
  }

  int64(v: bigint): void {
    this.ensure(8)
    this.buffer.writeBigInt64BE(v, this.offset)
    this.offset += 8
  }

  /** An int64 from an exact (safe) integer, without bigint arithmetic. */
  int64Number(v: number): void {
    this.ensure(8)
    const high = Math.floor(v / 0x1_0000_0000)
    this.buffer.writeInt32BE(high, this.offset)
    this.buffer.writeUInt32BE(v - high * 0x1_0000_0000, this.offset + 4)
    this.offset += 8
  }

  float64(v: number): void {
    this.ensure(8)
    this.buffer.writeDoubleBE(v, this.offset)
    this.offset += 8
  }

  boolean(v: boolean): void {
    this.int8(v ? 1 : 0)
  }

  /** Unsigned varint of a 32-bit value (7 bits a byte, least significant group first). */
  uvarint(v: number): void {
    this.ensure(5)
    let value = v >>> 0
    while (value > 0x7f) {
      this.buffer[this.offset++] = (value & 0x7f) | 0x80
      value >>>= 7
    }
    this.buffer[this.offset++] = value
  }

  /** Zigzag-encoded int32 varint. */
  varint(v: number): void {
    this.uvarint((v << 1) ^ (v >> 31))
  }

  /** Zigzag-encoded int64 varint. */
  varlong(v: bigint): void {
    let value = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n))
    this.ensure(10)
    while (value > 0x7fn) {
      this.buffer[this.offset++] = Number(value & 0x7fn) | 0x80
      value >>= 7n
    }
    this.buffer[this.offset++] = Number(value)
  }

  /** Zigzag int64 varint from a safe integer, in plain number arithmetic (record timestamp deltas). */
  varlongNumber(v: number): void {
    // zigzag: 2v for v >= 0, -2v - 1 for v < 0; exact for -2^52 <= v < 2^52 (the zigzag value stays safe)
    let value = v >= 0 ? v * 2 : -v * 2 - 1
    this.ensure(10)
    while (value > 0x7f) {
      this.buffer[this.offset++] = (value % 128) | 0x80
      value = Math.floor(value / 128)
    }
    this.buffer[this.offset++] = value
  }

  uuid(v: string | null | undefined): void {
    this.ensure(16)
    if (v == null) {
      this.buffer.fill(0, this.offset, this.offset + 16)
    } else {
      if (!UUID_RE.test(v)) throw new ProtocolError(`cannot encode ${JSON.stringify(v)} as a UUID`)
      this.buffer.write(v.replaceAll('-', ''), this.offset, 16, 'hex')
    }
    this.offset += 16
  }

  string(v: string): void {
    const length = Buffer.byteLength(v)
    this.ensure(2 + length)
    this.buffer.writeInt16BE(length, this.offset)
    this.offset += 2
    this.offset += this.buffer.write(v, this.offset, 'utf8')
  }

  nullableString(v: string | null): void {
    if (v === null) this.int16(-1)
    else this.string(v)
  }

  compactString(v: string): void {
    const length = Buffer.byteLength(v)
    this.uvarint(length + 1)
    this.ensure(length)
    this.offset += this.buffer.write(v, this.offset, 'utf8')
  }

  compactNullableString(v: string | null): void {
    if (v === null) this.uvarint(0)
    else this.compactString(v)
  }

  bytes(v: Uint8Array): void {
    this.int32(v.length)
    this.raw(v)
  }

  nullableBytes(v: Uint8Array | null): void {
    if (v === null) this.int32(-1)
    else this.bytes(v)
  }

  compactBytes(v: Uint8Array): void {
    this.uvarint(v.length + 1)
    this.raw(v)
  }

  compactNullableBytes(v: Uint8Array | null): void {
    if (v === null) this.uvarint(0)
    else this.compactBytes(v)
  }

  raw(v: Uint8Array): void {
    if (this.splice && v.length >= SPLICE_MIN_BYTES) {
      this.spliced.push({ at: this.offset, bytes: v })
      this.splicedBytes += v.length
      return
    }
    this.ensure(v.length)
    this.buffer.set(v, this.offset)
    this.offset += v.length
  }

  /** Skips `n` bytes and returns their position, to be filled in later. */
  reserve(n: number): number {
    this.ensure(n)
    const position = this.offset
    this.offset += n
    return position
  }

  int16At(position: number, v: number): void {
    this.buffer.writeInt16BE(v, position)
  }

  int32At(position: number, v: number): void {
    this.buffer.writeInt32BE(v, position)
  }

  uint32At(position: number, v: number): void {
    this.buffer.writeUInt32BE(v, position)
  }

  /** The bytes written so far (a view, not a copy). A splicing writer's bytes are `chunks()`. */
  finish(): Buffer {
    if (this.splicedBytes > 0) throw new ProtocolError('a splicing writer is read with chunks(), not finish()')
    return this.buffer.subarray(0, this.offset)
  }

  /** The bytes written so far, in order: views of the writer's buffer and the spliced arrays. */
  chunks(): Uint8Array[] {
    const out: Uint8Array[] = []
    let from = 0
    for (const { at, bytes } of this.spliced) {
      if (at > from) out.push(this.buffer.subarray(from, at))
      out.push(bytes)
      from = at
    }
    if (this.offset > from) out.push(this.buffer.subarray(from, this.offset))
    return out
  }
}
