// What the broker checks in a produce request's records before it appends them (Kafka's
// ProduceRequest.validateRecords, LogValidator and UnifiedLog.analyzeAndValidateRecords): exactly one
// RecordBatch v2 per partition (Produce v3+), whole, its CRC-32C right, its header consistent, no
// control batch from a client, not above max.message.bytes. The batch is not decompressed: it is
// stored as sent.

import { crc32c } from '../protocol/crc32c.ts'
import { ErrorCode } from '../protocol/error-codes.ts'
import { HEADER_SIZE } from '../protocol/records/record-batch.ts'

const ATTRIBUTES_AT = 21
const TRANSACTIONAL = 0x10
const CONTROL = 0x20

export interface ProducedBatch {
  bytes: Buffer
  lastOffsetDelta: number
  recordCount: number
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  transactional: boolean
}

export type Validated = { batch: ProducedBatch } | { errorCode: number; errorMessage: string }

function invalid(errorCode: number, errorMessage: string): Validated {
  return { errorCode, errorMessage }
}

/** The one batch of a partition's `records`, validated, or the partition's error. */
export function validateRecords(records: Buffer | null, maxMessageBytes: number): Validated {
  if (records === null || records.length < HEADER_SIZE)
    return invalid(ErrorCode.INVALID_RECORD, 'produce requests v3+ must have one record batch per partition')
  const length = records.readInt32BE(8) + 12
  const magic = records.readInt8(16)
  if (magic !== 2)
    return invalid(ErrorCode.INVALID_RECORD, `record batch magic ${magic}: produce v3+ takes magic 2 only`)
  if (length < HEADER_SIZE || length > records.length)
    return invalid(ErrorCode.CORRUPT_MESSAGE, `record batch of ${length} bytes does not fit the request`)
  if (length < records.length)
    return invalid(ErrorCode.INVALID_RECORD, 'produce requests v3+ may hold exactly one record batch per partition')
  if (length > maxMessageBytes)
    return invalid(
      ErrorCode.MESSAGE_TOO_LARGE,
      `batch of ${length} bytes is larger than max.message.bytes ${maxMessageBytes}`,
    )
  if (crc32c(records, ATTRIBUTES_AT) !== records.readUInt32BE(17))
    return invalid(ErrorCode.CORRUPT_MESSAGE, 'record batch CRC mismatch')
  const attributes = records.readInt16BE(ATTRIBUTES_AT)
  if (attributes & CONTROL) return invalid(ErrorCode.INVALID_RECORD, 'clients may not write control batches')
  const lastOffsetDelta = records.readInt32BE(23)
  const recordCount = records.readInt32BE(57)
  if (recordCount < 1 || lastOffsetDelta !== recordCount - 1)
    return invalid(
      ErrorCode.INVALID_RECORD,
      `batch header says ${recordCount} records but last offset delta ${lastOffsetDelta}`,
    )
  return {
    batch: {
      bytes: records,
      lastOffsetDelta,
      recordCount,
      producerId: records.readBigInt64BE(43),
      producerEpoch: records.readInt16BE(51),
      baseSequence: records.readInt32BE(53),
      transactional: (attributes & TRANSACTIONAL) !== 0,
    },
  }
}
