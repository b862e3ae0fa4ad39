// What the broker checks in a produce request's records before it appends them (Kafka's
// ProduceRequest.validateRecords, LogValidator and UnifiedLog.analyzeAndValidateRecords): exactly one
// RecordBatch v2 per partition (Produce v3+), whole, its CRC-32C right, its header consistent, no
// control batch from a client, not above max.message.bytes. The batch is not decompressed: it is
// stored as sent.

import { crc32c } from '../protocol/crc32c.ts'
import { ErrorCode } from '../protocol/error-codes.ts'
import { BATCH, BATCH_ATTRIBUTE, BATCH_HEADER_SIZE } from '../protocol/records/record-batch.ts'

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
  if (records === null || records.length < BATCH_HEADER_SIZE)
    return invalid(ErrorCode.INVALID_RECORD, 'produce requests v3+ must have one record batch per partition')
  const length = records.readInt32BE(BATCH.LENGTH) + 12
  const magic = records.readInt8(BATCH.MAGIC)
  if (magic !== 2)
    return invalid(ErrorCode.INVALID_RECORD, `record batch magic ${magic}: produce v3+ takes magic 2 only`)
  if (length < BATCH_HEADER_SIZE || length > records.length)
    return invalid(ErrorCode.CORRUPT_MESSAGE, `record batch of ${length} bytes does not fit the request`)
  if (length < records.length)
    return invalid(ErrorCode.INVALID_RECORD, 'produce requests v3+ may hold exactly one record batch per partition')
  if (length > maxMessageBytes)
    return invalid(
      ErrorCode.MESSAGE_TOO_LARGE,
      `batch of ${length} bytes is larger than max.message.bytes ${maxMessageBytes}`,
    )
  if (crc32c(records, BATCH.ATTRIBUTES) !== records.readUInt32BE(BATCH.CRC))
    return invalid(ErrorCode.CORRUPT_MESSAGE, 'record batch CRC mismatch')
  const attributes = records.readInt16BE(BATCH.ATTRIBUTES)
  if (attributes & BATCH_ATTRIBUTE.CONTROL)
    return invalid(ErrorCode.INVALID_RECORD, 'clients may not write control batches')
  const lastOffsetDelta = records.readInt32BE(BATCH.LAST_OFFSET_DELTA)
  const recordCount = records.readInt32BE(BATCH.RECORD_COUNT)
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
      producerId: records.readBigInt64BE(BATCH.PRODUCER_ID),
      producerEpoch: records.readInt16BE(BATCH.PRODUCER_EPOCH),
      baseSequence: records.readInt32BE(BATCH.BASE_SEQUENCE),
      transactional: (attributes & BATCH_ATTRIBUTE.TRANSACTIONAL) !== 0,
    },
  }
}
