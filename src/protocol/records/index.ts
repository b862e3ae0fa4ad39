export {
  buildControlBatch,
  type ControlBatchOptions,
  type ControlType,
  controlType,
  decodeControlRecord,
  encodeControlRecord,
  type TransactionMarker,
} from './control.ts'
export {
  type BatchDecodeOptions,
  type BatchOptions,
  BatchRecord,
  decodeBatch,
  decodeRecordBatches,
  type KafkaRecord,
  lastOffsetOf,
  type RecordBatch,
  RecordBatchBuilder,
  type RecordFactory,
  type RecordHeader,
  type RecordInput,
  splitBatches,
} from './record-batch.ts'
