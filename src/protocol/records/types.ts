// What decoding yields for both record formats (RecordBatch v2 and the legacy MessageSet): the
// shapes every reader of records shares, apart from the codecs that produce them.

import type { CompressionCodec } from '../compression/index.ts'

/** A record header: a key and a value (null allowed), in the order the producer wrote them. */
export interface RecordHeader {
  key: string
  value: Buffer | null
}

export interface KafkaRecord {
  offset: bigint
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
  /** True on the record of a control batch (a transaction marker); legacy messages leave it out. */
  control?: boolean
}

export interface RecordBatch {
  baseOffset: bigint
  partitionLeaderEpoch: number
  compression: CompressionCodec
  logAppendTime: boolean
  transactional: boolean
  /** A control batch: its one record is a marker (see control.ts), never for the application. */
  control: boolean
  lastOffsetDelta: number
  baseTimestamp: number
  maxTimestamp: number
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  records: KafkaRecord[]
}
