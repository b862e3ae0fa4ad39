// Legacy MessageSet (magic 0 and 1), decode only, for data written before RecordBatch v2
// (protocol guide, "Message sets"; KIP-31/32 for v1):
//   offset int64 | messageSize int32 | crc uint32 | magic int8 | attributes int8 |
//   timestamp int64 (v1 only) | key bytes | value bytes
// The CRC is CRC-32 (IEEE) over magic..end. A compressed message's value is itself a message set;
// in v1 its inner offsets are relative, the wrapper carrying the absolute offset of the last one.

import { crc32 } from 'node:zlib'
import { codecOf, decompress } from '../compression/index.ts'
import { ProtocolError } from '../errors.ts'
import { Reader } from '../primitives/index.ts'
import type { KafkaRecord, RecordBatch } from './types.ts'

const LOG_APPEND_TIME = 0x08

/** Decodes one legacy entry (`entry` spans offset..end of the message) into a batch-shaped result. */
export async function decodeLegacyEntry(entry: Buffer): Promise<RecordBatch> {
  const r = new Reader(entry)
  const offset = r.int64()
  r.int32()
  const stored = r.uint32()
  const actual = crc32(entry.subarray(16)) >>> 0
  if (stored !== actual) {
    throw new ProtocolError(`message CRC mismatch: stored ${stored.toString(16)}, computed ${actual.toString(16)}`)
  }
  const magic = r.int8()
  const attributes = r.int8()
  const timestamp = magic === 1 ? r.int64Number() : -1
  const key = r.nullableBytes()
  const value = r.nullableBytes()
  const compression = codecOf(attributes)
  const logAppendTime = magic === 1 && (attributes & LOG_APPEND_TIME) !== 0
  let records: KafkaRecord[]
  if (compression === 'none') {
    records = [{ offset, timestamp, key, value, headers: [] }]
  } else {
    if (value === null) throw new ProtocolError('compressed message without a value')
    const inner = await decodeLegacySet(await decompress(compression, value))
    records = inner.flatMap((b) => b.records)
    const last = records.at(-1)
    if (magic === 1 && last) {
      const base = offset - last.offset
      for (const rec of records) rec.offset += base
    }
    if (logAppendTime) for (const rec of records) rec.timestamp = timestamp
  }
  return {
    baseOffset: records[0]?.offset ?? offset,
    partitionLeaderEpoch: -1,
    compression,
    logAppendTime,
    transactional: false,
    control: false,
    lastOffsetDelta: records.length - 1,
    baseTimestamp: timestamp,
    maxTimestamp: timestamp,
    producerId: -1n,
    producerEpoch: -1,
    baseSequence: -1,
    records,
  }
}

/** The messages of a (decompressed, inner) message set; a trailing partial message is left out. */
async function decodeLegacySet(data: Buffer): Promise<RecordBatch[]> {
  const out: RecordBatch[] = []
  let at = 0
  while (data.length - at >= 12) {
    const size = data.readInt32BE(at + 8)
    if (size < 14) throw new ProtocolError(`message size ${size} is too small`)
    if (at + 12 + size > data.length) break
    out.push(await decodeLegacyEntry(data.subarray(at, at + 12 + size)))
    at += 12 + size
  }
  return out
}
