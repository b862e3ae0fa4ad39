export {
  type BatchOptions,
  decodeRecordBatches,
  type KafkaRecord,
  type RecordBatch,
  RecordBatchBuilder,
  type RecordHeader,
  type RecordInput,
} from './record-batch.ts'
