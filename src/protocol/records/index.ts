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
  type BatchOptions,
  BatchRecord,
  type DecodeOptions,
  decodeRecordBatches,
  type KafkaRecord,
  type RecordBatch,
  RecordBatchBuilder,
  type RecordHeader,
  type RecordInput,
} from './record-batch.ts'
