// The public surface of kafkax: nothing else is public.

export {
  type Acl,
  type AclFilter,
  type AclOperation,
  type AclPatternType,
  type AclPermission,
  type AclResourceType,
  Admin,
  type AdminError,
  type AdminItemError,
  type AlterConfigOp,
  type AlterConfigsResource,
  type BrokerApi,
  type BrokerApiVersions,
  type ClusterDescription,
  type CommittedOffset,
  type ConfigEntry,
  type ConfigResource,
  type ConfigResourceType,
  type ConfigSource,
  type CreatedTopic,
  type FeatureDescription,
  type GroupDescription,
  type GroupMember,
  type ListedGroup,
  type NewPartitions,
  type NewTopic,
  type OffsetSpec,
  type PartitionDescription,
  type PartitionLag as GroupPartitionLag,
  type PartitionOffset,
  type ScramMechanism,
  type ScramUpsertion,
  type TopicDescription,
} from './client/admin.ts'
export type { Connector, ConnectTarget } from './client/connector.ts'
export type { ClientOptions } from './client/options.ts'
export { type RetryOptions, RetryPolicy, type RetryRun } from './client/retry.ts'
export type { OAuthBearerToken, SaslMechanism, SaslOptions } from './client/sasl/mechanism.ts'
export { unsecuredJwt } from './client/sasl/oauthbearer.ts'
export { type KafkaxConfig, type LoadConfigOptions, loadConfig } from './config/index.ts'
export {
  Consumer,
  type ConsumerOptions,
  type ConsumerStats,
  type PartitionLag,
  type RunOptions,
} from './consumer/consumer.ts'
export type { FetcherOptions, SeekTarget } from './consumer/fetcher.ts'
export { ConsumerManager, type Route } from './consumer/manager.ts'
export type {
  BatchHandler,
  Handler,
  HandlerContext,
  Message,
  Middleware,
  TopicPartition,
} from './consumer/message.ts'
export {
  compose,
  DeadLetterError,
  type DeadLetterOptions,
  type DeadLetterProducer,
  deadLetter,
  HandlerError,
  type Logger,
  type LoggingOptions,
  logging,
  type RetryMiddlewareOptions,
  recover,
  retry,
  timeout,
} from './consumer/middleware.ts'
export {
  type CommitTrace,
  type ConnectTrace,
  channels,
  type FetchTrace,
  type HandlerTrace,
  type ProduceTrace,
  type RebalanceTrace,
  type RequestTrace,
} from './observability/channels.ts'
export { jsonLogger, type LogLevel, type LogMethod } from './observability/logger.ts'
export {
  type OtelConsumerOptions,
  type OtelOptions,
  otelMiddleware,
  otelProducer,
  type TraceableProducer,
} from './observability/otel.ts'
export {
  type CollectedMetric,
  type MetricsRegistry,
  type MetricValue,
  type PrometheusOptions,
  prometheusMetrics,
} from './observability/prometheus.ts'
export {
  PartitionerError,
  type PartitionerFunction,
  type PartitionerName,
  type PartitionerRecord,
} from './producer/partitioners.ts'
export { type Acks, Producer, type ProducerOptions, type ProducerStats } from './producer/producer.ts'
export type { Bytes, HeadersInput, ProducerRecord, RecordMetadata } from './producer/record.ts'
export {
  AuthenticationError,
  ConfigError,
  ConnectionError,
  KafkaError,
  KafkaxError,
  type KafkaxErrorOptions,
  ProtocolError,
  TimeoutError,
} from './protocol/errors.ts'
export type { RecordHeader } from './protocol/records/index.ts'
