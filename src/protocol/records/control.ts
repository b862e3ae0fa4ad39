// Control records: the transaction markers a transaction coordinator writes into each partition
// (KIP-98 "Transaction Markers"; Kafka docs, Implementation > Message Format > "Control Batches"):
//   key:   version int16 (0) | type int16 (0 ABORT, 1 COMMIT; 2-6 are KRaft-internal)
//   value: version int16 (0) | coordinatorEpoch int32      (Kafka's EndTxnMarker.json, version 0)
// A marker is the single record of a batch with the control (bit 5) and transactional (bit 4)
// attributes. Like Kafka's ControlRecordType and EndTransactionMarker, a newer key or value version
// is read for the fields it starts with; a negative version is an error.

import { ProtocolError } from '../errors.ts'
import { RecordBatchBuilder, type RecordInput } from './record-batch.ts'
import type { KafkaRecord } from './types.ts'

export type ControlType = 'ABORT' | 'COMMIT'

export interface TransactionMarker {
  type: ControlType
  coordinatorEpoch: number
}

const TYPES: readonly ControlType[] = ['ABORT', 'COMMIT']

/** The key and value of a transaction marker record. */
export function encodeControlRecord(marker: TransactionMarker, timestamp: number): RecordInput {
  const key = Buffer.alloc(4) // versions stay 0 (zero-filled)
  key.writeInt16BE(TYPES.indexOf(marker.type), 2)
  const value = Buffer.alloc(6)
  value.writeInt32BE(marker.coordinatorEpoch, 2)
  return { key, value, timestamp }
}

/** The type id in a control record's key. */
function typeId(key: Buffer | null): number {
  if (key === null || key.length < 4) throw new ProtocolError(`control record key of ${key?.length ?? 'null'} bytes`)
  if (key.readInt16BE(0) < 0) throw new ProtocolError(`control record key version ${key.readInt16BE(0)}`)
  return key.readInt16BE(2)
}

/** Reads a transaction marker; ProtocolError unless the record is an ABORT or COMMIT marker. */
export function decodeControlRecord(record: Pick<KafkaRecord, 'key' | 'value'>): TransactionMarker {
  const type = TYPES[typeId(record.key)]
  if (type === undefined)
    throw new ProtocolError(`control record type ${typeId(record.key)} is not a transaction marker`)
  const { value } = record
  if (value === null || value.length < 6)
    throw new ProtocolError(`transaction marker value of ${value?.length ?? 'null'} bytes`)
  if (value.readInt16BE(0) < 0) throw new ProtocolError(`transaction marker version ${value.readInt16BE(0)}`)
  return { type, coordinatorEpoch: value.readInt32BE(2) }
}

/**
 * The marker type of a record from a control batch, `'UNKNOWN'` for control types a client does not
 * act on (consumers skip those, as Kafka's ControlRecordType.UNKNOWN), null for an ordinary record.
 */
export function controlType(record: KafkaRecord): ControlType | 'UNKNOWN' | null {
  if (!record.control) return null
  return TYPES[typeId(record.key)] ?? 'UNKNOWN'
}

export interface ControlBatchOptions {
  producerId: bigint
  producerEpoch: number
  /** Milliseconds since the epoch. */
  timestamp: number
  partitionLeaderEpoch?: number
}

/** A control batch carrying one transaction marker (base sequence -1, as markers have no sequence). */
export function buildControlBatch(marker: TransactionMarker, options: ControlBatchOptions): Promise<Buffer> {
  const builder = new RecordBatchBuilder(
    {
      control: true,
      transactional: true,
      producerId: options.producerId,
      producerEpoch: options.producerEpoch,
      partitionLeaderEpoch: options.partitionLeaderEpoch,
    },
    128,
  )
  builder.append(encodeControlRecord(marker, options.timestamp))
  return builder.build()
}
