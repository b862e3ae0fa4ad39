// kafkax/kafkajs: kafkajs 2.2's API on the kafkax engine. Change the import, keep the code:
// `import { Kafka, logLevel, CompressionTypes, Partitioners } from 'kafkax/kafkajs'`.

export { Admin } from './admin.ts'
export { AssignerProtocol, PartitionAssigners } from './assigners.ts'
export {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  CompressionCodecs,
  CompressionTypes,
  ConfigResourceTypes,
  ConfigSource,
  type KafkaJSCodec,
  ResourcePatternTypes,
} from './constants.ts'
export { Consumer } from './consumer.ts'
export {
  KafkaJSAggregateError,
  KafkaJSAlterPartitionReassignmentsError,
  KafkaJSBrokerNotFound,
  KafkaJSConnectionClosedError,
  KafkaJSConnectionError,
  KafkaJSCreateTopicError,
  KafkaJSDeleteGroupsError,
  type KafkaJSDeleteGroupsErrorGroups,
  KafkaJSDeleteTopicRecordsError,
  type KafkaJSDeleteTopicRecordsErrorPartition,
  KafkaJSError,
  type KafkaJSErrorOptions,
  KafkaJSFetcherRebalanceError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSInvalidLongError,
  KafkaJSInvalidVarIntError,
  KafkaJSInvariantViolation,
  KafkaJSLockTimeout,
  KafkaJSMemberIdRequired,
  KafkaJSMetadataNotLoaded,
  KafkaJSNoBrokerAvailableError,
  KafkaJSNonRetriableError,
  KafkaJSNotImplemented,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSOffsetOutOfRange,
  KafkaJSPartialMessageError,
  KafkaJSProtocolError,
  type KafkaJSProtocolErrorSource,
  KafkaJSRequestTimeoutError,
  KafkaJSSASLAuthenticationError,
  KafkaJSServerDoesNotSupportApiKey,
  KafkaJSStaleTopicMetadataAssignment,
  KafkaJSTimeout,
  KafkaJSTopicMetadataNotLoaded,
  KafkaJSUnsupportedMagicByteInMessageSet,
} from './errors.ts'
export type { InstrumentationEvent, RemoveInstrumentationEventListener } from './instrumentation.ts'
export { Kafka } from './kafka.ts'
export {
  consoleLogCreator,
  type LogEntry,
  type Logger,
  type LoggerEntryContent,
  type logCreator,
  logLevel,
} from './logger.ts'
export { Partitioners } from './partitioners.ts'
export { Producer } from './producer.ts'
export type * from './types.ts'
