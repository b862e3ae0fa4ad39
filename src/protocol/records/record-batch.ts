// RecordBatch v2 (magic 2), as laid out in the protocol guide's "Record Batch" section (KIP-98):
//   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
//   attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
//   producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32 | records
// The CRC-32C covers attributes..end. Records: length varint | attributes int8 | timestampDelta varlong |
// offsetDelta varint | key varint-bytes | value varint-bytes | header count varint | headers.

import { CODECS, type CompressionCodec, codecOf, compress, decompress } from '../compression/index.ts'
import { crc32c } from '../crc32c.ts'
import { ProtocolError } from '../errors.ts'
import { Reader, Writer } from '../primitives/index.ts'
import { decodeLegacyEntry } from './message-set.ts'
import type { KafkaRecord, RecordBatch, RecordHeader } from './types.ts'

export type { KafkaRecord, RecordBatch, RecordHeader } from './types.ts'

export const BATCH_HEADER_SIZE = 61
/** Where the header's fields start (the layout above); a broker reads and patches them in place. */
export const BATCH = {
  LENGTH: 8,
  PARTITION_LEADER_EPOCH: 12,
  MAGIC: 16,
  CRC: 17,
  ATTRIBUTES: 21,
  LAST_OFFSET_DELTA: 23,
  BASE_TIMESTAMP: 27,
  MAX_TIMESTAMP: 35,
  PRODUCER_ID: 43,
  PRODUCER_EPOCH: 51,
  BASE_SEQUENCE: 53,
  RECORD_COUNT: 57,
} as const
/** The attribute bits besides the codec (bits 0-2). */
export const BATCH_ATTRIBUTE = { LOG_APPEND_TIME: 0x08, TRANSACTIONAL: 0x10, CONTROL: 0x20 } as const
const { LOG_APPEND_TIME, TRANSACTIONAL, CONTROL } = BATCH_ATTRIBUTE
const NO_HEADERS: readonly RecordHeader[] = []
const NO_KEYS: number[] = []

export interface RecordInput {
  key: Buffer | null
  value: Buffer | null
  headers?: readonly RecordHeader[]
  /** Milliseconds since the epoch. */
  timestamp: number
}

export interface BatchOptions {
  compression?: CompressionCodec
  producerId?: bigint
  producerEpoch?: number
  baseSequence?: number
  transactional?: boolean
  control?: boolean
  partitionLeaderEpoch?: number
}

/** Size of a zigzag varint without writing it. */
function varintSize(v: number): number {
  let zigzag = v >= 0 ? v * 2 : -v * 2 - 1
  let size = 1
  while (zigzag >= 128) {
    zigzag = Math.floor(zigzag / 128)
    size++
  }
  return size
}

/**
 * Builds one batch record by record (the accumulator appends as sends arrive), in a single buffer
 * whose header is reserved up front and back-patched when the batch closes.
 */
export class RecordBatchBuilder {
  private readonly w: Writer
  private count = 0
  private baseTimestamp = 0
  private maxTimestamp = 0

  /** `initial`: a capacity, or a buffer to build the batch in (the producer reuses them). */
  constructor(
    private readonly options: BatchOptions = {},
    initial: number | Buffer = 16 * 1024,
  ) {
    this.w = new Writer(initial)
    this.w.reserve(BATCH_HEADER_SIZE)
  }

  /** The buffer the batch is built in (a larger one if it had to grow). */
  get buffer(): Buffer {
    return this.w.buffer
  }

  get recordCount(): number {
    return this.count
  }

  /** Bytes written so far (uncompressed). */
  get sizeInBytes(): number {
    return this.w.offset
  }

  append(record: RecordInput): void {
    this.appendRecord(record.key, record.value, record.headers ?? NO_HEADERS, record.timestamp)
  }

  /** `append` without a record object, for the producer's hot path. */
  appendRecord(key: Buffer | null, value: Buffer | null, headers: readonly RecordHeader[], timestamp: number): void {
    if (this.count === 0) {
      this.baseTimestamp = timestamp
      this.maxTimestamp = timestamp
    } else if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp
    const timestampDelta = timestamp - this.baseTimestamp
    let size =
      1 +
      varintSize(timestampDelta) +
      varintSize(this.count) +
      (key === null ? 1 : varintSize(key.length) + key.length) +
      (value === null ? 1 : varintSize(value.length) + value.length) +
      varintSize(headers.length)
    const headerKeys: number[] = headers.length === 0 ? NO_KEYS : []
    for (const h of headers) {
      const keyLength = Buffer.byteLength(h.key)
      headerKeys.push(keyLength)
      size += varintSize(keyLength) + keyLength + (h.value === null ? 1 : varintSize(h.value.length) + h.value.length)
    }
    const w = this.w
    w.ensure(size + 5)
    w.varint(size)
    w.int8(0)
    w.varlongNumber(timestampDelta)
    w.varint(this.count)
    if (key === null) w.varint(-1)
    else {
      w.varint(key.length)
      w.raw(key)
    }
    if (value === null) w.varint(-1)
    else {
      w.varint(value.length)
      w.raw(value)
    }
    w.varint(headers.length)
    for (let i = 0; i < headers.length; i++) {
      w.varint(headerKeys[i])
      w.offset += w.buffer.write(headers[i].key, w.offset, 'utf8')
      const v = headers[i].value
      if (v === null) w.varint(-1)
      else {
        w.varint(v.length)
        w.raw(v)
      }
    }
    this.count++
  }

  /** Closes the batch: compresses the records if asked, fills in the header and the CRC. */
  async build(): Promise<Buffer> {
    if (this.count === 0) throw new ProtocolError('a record batch needs at least one record')
    const codec = this.options.compression ?? 'none'
    let out: Buffer
    if (codec === 'none') {
      out = this.w.finish()
    } else {
      const packed = await compress(codec, this.w.finish().subarray(BATCH_HEADER_SIZE))
      out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + packed.length)
      out.set(packed, BATCH_HEADER_SIZE)
    }
    const o = this.options
    const attributes = CODECS.indexOf(codec) | (o.transactional ? TRANSACTIONAL : 0) | (o.control ? CONTROL : 0)
    out.writeBigInt64BE(0n, 0)
    out.writeInt32BE(out.length - 12, BATCH.LENGTH)
    out.writeInt32BE(o.partitionLeaderEpoch ?? -1, BATCH.PARTITION_LEADER_EPOCH)
    out.writeInt8(2, BATCH.MAGIC)
    out.writeInt16BE(attributes, BATCH.ATTRIBUTES)
    out.writeInt32BE(this.count - 1, BATCH.LAST_OFFSET_DELTA)
    writeInt64Number(out, this.baseTimestamp, BATCH.BASE_TIMESTAMP)
    writeInt64Number(out, this.maxTimestamp, BATCH.MAX_TIMESTAMP)
    out.writeBigInt64BE(o.producerId ?? -1n, BATCH.PRODUCER_ID)
    out.writeInt16BE(o.producerEpoch ?? -1, BATCH.PRODUCER_EPOCH)
    out.writeInt32BE(o.baseSequence ?? -1, BATCH.BASE_SEQUENCE)
    out.writeInt32BE(this.count, BATCH.RECORD_COUNT)
    out.writeUInt32BE(crc32c(out, BATCH.ATTRIBUTES), BATCH.CRC)
    return out
  }
}

/** Writes a (safe integer) int64 in place, as batch headers hold base offsets and timestamps. */
export function writeInt64Number(buf: Buffer, v: number, at: number): void {
  const high = Math.floor(v / 0x1_0000_0000)
  buf.writeInt32BE(high, at)
  buf.writeUInt32BE(v - high * 0x1_0000_0000, at + 4)
}

/**
 * A record decoded from a v2 batch. `offset` is computed on first read, so decoding does no bigint
 * arithmetic per record; key and value are views into the batch bytes (keep the fetch buffer alive).
 */
export class BatchRecord implements KafkaRecord {
  constructor(
    private readonly baseOffset: bigint,
    readonly offsetDelta: number,
    readonly timestamp: number,
    readonly key: Buffer | null,
    readonly value: Buffer | null,
    readonly headers: RecordHeader[],
    readonly control: boolean,
  ) {}

  get offset(): bigint {
    return this.baseOffset + BigInt(this.offsetDelta)
  }
}

export interface BatchDecodeOptions {
  /** Verify each v2 batch's CRC-32C (the Java consumer's `check.crcs`); default true. */
  checkCrcs?: boolean
}

/**
 * Decodes every complete batch in a `records` field (RecordBatch v2, or legacy MessageSet v0/v1). A Fetch response may end with a partial batch
 * (the broker cuts at maxBytes); it is not an error and is left out. Only compressed batches wait for
 * a promise: uncompressed ones are decoded synchronously.
 */
export async function decodeRecordBatches(data: Buffer, options: BatchDecodeOptions = {}): Promise<RecordBatch[]> {
  const checkCrcs = options.checkCrcs ?? true
  const batches: RecordBatch[] = []
  for (const entry of splitBatches(data)) {
    const batch = decodeBatch(entry, checkCrcs)
    batches.push(batch instanceof Promise ? await batch : batch)
  }
  return batches
}

/**
 * The complete entries (v2 batches or legacy messages) of a `records` field, each a view of its own
 * bytes, read from their headers alone: nothing is checked or decompressed yet (decodeBatch does
 * that), so a consumer can hold a fetch compressed and decode it entry by entry.
 */
export function splitBatches(data: Buffer): Buffer[] {
  const entries: Buffer[] = []
  let offset = 0
  // a v2 batch and a legacy message both start with offset int64, length int32, and keep magic at byte 16
  while (data.length - offset >= 17) {
    const length = data.readInt32BE(offset + BATCH.LENGTH)
    const magic = data.readInt8(offset + BATCH.MAGIC)
    const minimum = magic === 2 ? BATCH_HEADER_SIZE - 12 : 14
    if (length < minimum) throw new ProtocolError(`record batch length ${length} is too small`)
    if (offset + 12 + length > data.length) break
    if (magic !== 0 && magic !== 1 && magic !== 2) throw new ProtocolError(`unknown record batch magic ${magic}`)
    entries.push(data.subarray(offset, offset + 12 + length))
    offset += 12 + length
  }
  return entries
}

/** The offset of an entry's last record, from its header (a legacy wrapper carries its last inner offset). */
export function lastOffsetOf(entry: Buffer): bigint {
  const base = entry.readBigInt64BE(0)
  return entry.readInt8(BATCH.MAGIC) === 2 ? base + BigInt(entry.readInt32BE(BATCH.LAST_OFFSET_DELTA)) : base
}

/** The partition leader epoch a batch was written in (v2 batches; -1 for legacy message sets). */
export function leaderEpochOf(entry: Buffer): number {
  return entry.readInt8(BATCH.MAGIC) === 2 ? entry.readInt32BE(BATCH.PARTITION_LEADER_EPOCH) : -1
}

/**
 * Makes the record objects of a v2 batch (a consumer makes its messages directly, saving an object
 * per record); `offset` is the batch's base offset plus `offsetDelta`.
 */
export type RecordFactory = (
  batch: RecordBatch,
  offsetDelta: number,
  timestamp: number,
  key: Buffer | null,
  value: Buffer | null,
  headers: RecordHeader[],
) => KafkaRecord

const batchRecord: RecordFactory = (batch, offsetDelta, timestamp, key, value, headers) =>
  new BatchRecord(batch.baseOffset, offsetDelta, timestamp, key, value, headers, batch.control)

/**
 * Decodes one entry of splitBatches(): synchronously when it is an uncompressed v2 batch. `make`
 * makes a v2 batch's records (legacy entries always yield plain records).
 */
export function decodeBatch(
  entry: Buffer,
  checkCrcs: boolean,
  make: RecordFactory = batchRecord,
): RecordBatch | Promise<RecordBatch> {
  const opened = openBatch(entry, checkCrcs)
  return opened instanceof Promise ? opened.then((cursor) => readAll(cursor, make)) : readAll(opened, make)
}

function readAll(cursor: RecordCursor, make: RecordFactory): RecordBatch {
  const records: KafkaRecord[] = []
  cursor.read(cursor.remaining, Number.POSITIVE_INFINITY, make, records)
  cursor.batch.records = records
  return cursor.batch
}

/**
 * Checks one entry of splitBatches() (CRC, then decompression) and returns a cursor over its
 * records, which decodes them as they are read: synchronously when it is an uncompressed v2 batch.
 */
export function openBatch(entry: Buffer, checkCrcs: boolean): RecordCursor | Promise<RecordCursor> {
  if (entry.readInt8(BATCH.MAGIC) !== 2)
    return decodeLegacyEntry(entry).then((batch) => new RecordCursor(batch, null, 0))
  const batch = decodeBatchHeader(entry, checkCrcs)
  const body = entry.subarray(BATCH_HEADER_SIZE)
  const count = entry.readInt32BE(BATCH.RECORD_COUNT)
  if (batch.compression === 'none') return new RecordCursor(batch, body, count)
  return decompress(batch.compression, body).then((records) => new RecordCursor(batch, records, count))
}

function decodeBatchHeader(batch: Buffer, checkCrcs: boolean): RecordBatch {
  if (checkCrcs) {
    const crc = batch.readUInt32BE(BATCH.CRC)
    const actual = crc32c(batch, BATCH.ATTRIBUTES)
    if (crc !== actual) {
      throw new ProtocolError(`record batch CRC mismatch: stored ${crc.toString(16)}, computed ${actual.toString(16)}`)
    }
  }
  const r = new Reader(batch, BATCH.ATTRIBUTES)
  const attributes = r.int16()
  return {
    baseOffset: batch.readBigInt64BE(0),
    partitionLeaderEpoch: batch.readInt32BE(BATCH.PARTITION_LEADER_EPOCH),
    compression: codecOf(attributes),
    logAppendTime: (attributes & LOG_APPEND_TIME) !== 0,
    transactional: (attributes & TRANSACTIONAL) !== 0,
    control: (attributes & CONTROL) !== 0,
    lastOffsetDelta: r.int32(),
    baseTimestamp: r.int64Number(),
    maxTimestamp: r.int64Number(),
    producerId: r.int64(),
    producerEpoch: r.int16(),
    baseSequence: r.int32(),
    records: [],
  }
}

/**
 * A batch's records, decoded a slice at a time as they are read (as the Java client iterates a
 * batch): a consumer makes only the messages it is about to hand out, so a batch of thousands of
 * records does not live as thousands of objects while they are handled. One Reader walks the
 * (decompressed) records section; each record must end exactly where its length prefix says. A
 * legacy entry comes decoded: its records are read from `batch.records`.
 */
export class RecordCursor {
  /** Records not read yet. */
  remaining: number
  private readonly r: Reader | undefined
  private index = 0

  constructor(
    readonly batch: RecordBatch,
    body: Buffer | null,
    count: number,
  ) {
    if (body === null) {
      this.remaining = batch.records.length
      return
    }
    // every record takes at least 7 bytes, so a count the body cannot hold is rejected up front
    if (count < 0 || count * 7 > body.length) throw new ProtocolError(`record count ${count} does not fit the batch`)
    this.remaining = count
    this.r = new Reader(body)
  }

  /**
   * Pushes up to `maxRecords` more records onto `out`, stopping once they took `maxBytes` of the
   * records section (at least one record). A malformed record throws a ProtocolError; the records
   * before it are in `out` by then.
   */
  read(maxRecords: number, maxBytes: number, make: RecordFactory, out: KafkaRecord[]): void {
    const n = Math.min(maxRecords, this.remaining)
    const r = this.r
    if (r === undefined) {
      for (let i = 0; i < n; i++) out.push(this.batch.records[this.index++])
      this.remaining -= n
      return
    }
    const batch = this.batch
    const body = r.buffer
    const { baseTimestamp, logAppendTime, maxTimestamp } = batch
    const stop = r.offset + maxBytes
    for (let i = 0; i < n && r.offset < stop; i++) {
      const length = varint(r)
      const start = r.offset
      const end = start + length
      if (length < 0 || end > r.end) throw new ProtocolError(`record length ${length} runs past the batch`)
      r.offset++ // record attributes: unused
      const timestampDelta = varlong(r)
      const offsetDelta = varint(r)
      const key = bytes(r)
      const value = bytes(r)
      const headerCount = varint(r)
      if (headerCount < 0 || headerCount * 2 > end - r.offset)
        throw new ProtocolError(`bad header count ${headerCount}`)
      const headers: RecordHeader[] = new Array(headerCount)
      for (let h = 0; h < headerCount; h++) {
        const keyLength = varint(r)
        if (keyLength < 0 || keyLength > end - r.offset)
          throw new ProtocolError(`bad record header key length ${keyLength}`)
        const key = body.toString('utf8', r.offset, r.offset + keyLength)
        r.offset += keyLength
        headers[h] = { key, value: bytes(r) }
      }
      if (r.offset !== end)
        throw new ProtocolError(`record ${this.index} is ${length} bytes but its fields take ${r.offset - start}`)
      out.push(
        make(batch, offsetDelta, logAppendTime ? maxTimestamp : baseTimestamp + timestampDelta, key, value, headers),
      )
      this.index++
      this.remaining--
    }
  }
}

// Record fields are varints of one or two bytes nearly always: those up to four bytes are read
// inline in int arithmetic; longer ones, and every bounds error, are left to the Reader.

/** The unsigned value of a varint of at most 4 bytes, or -1 (nothing read) for anything else. */
function shortUvarint(r: Reader): number {
  let pos = r.offset
  if (r.end - pos < 4) return -1
  const buf = r.buffer
  let v = 0
  for (let shift = 0; shift < 28; shift += 7) {
    const b = buf[pos++]
    v |= (b & 0x7f) << shift
    if (b < 0x80) {
      r.offset = pos
      return v
    }
  }
  return -1
}

function varint(r: Reader): number {
  const u = shortUvarint(r)
  return u === -1 ? r.varint() : (u >>> 1) ^ -(u & 1)
}

function varlong(r: Reader): number {
  const u = shortUvarint(r)
  return u === -1 ? r.varlongNumber() : (u >>> 1) ^ -(u & 1)
}

/** Varint-length bytes as a view into the batch: -1 is null. */
function bytes(r: Reader): Buffer | null {
  const length = varint(r)
  if (length === -1) return null
  if (length < 0 || length > r.end - r.offset) throw new ProtocolError(`bad record field length ${length}`)
  const buf = r.buffer
  const view = Buffer.from(buf.buffer, buf.byteOffset + r.offset, length)
  r.offset += length
  return view
}
