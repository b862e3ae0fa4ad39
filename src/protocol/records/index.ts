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
  decodeRecordBatches,
  type KafkaRecord,
  type RecordBatch,
  RecordBatchBuilder,
  type RecordHeader,
  type RecordInput,
} from './record-batch.ts'
