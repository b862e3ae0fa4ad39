// The public surface of kafkax: nothing else is public.

export {
  type Acl,
  type AclFilter,
  Admin,
  type AdminError,
  type BrokerApi,
  type BrokerApiVersions,
  type ClusterDescription,
  type ConfigEntry,
  type ConfigResource,
  type FeatureDescription,
  type GroupDescription,
  type NewTopic,
  type OffsetSpec,
  type PartitionOffset,
  type TopicDescription,
} from './client/admin.ts'
export type { ClientOptions } from './client/options.ts'
export { type RetryOptions, RetryPolicy } from './client/retry.ts'
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
export type { SeekTarget } from './consumer/fetcher.ts'
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
  deadLetter,
  HandlerError,
  type Logger,
  logging,
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
export { jsonLogger, type LogLevel } from './observability/logger.ts'
export { type OtelConsumerOptions, type OtelOptions, otelMiddleware, otelProducer } from './observability/otel.ts'
export { prometheusMetrics } from './observability/prometheus.ts'
export { PartitionerError, type PartitionerFunction, type PartitionerName } from './producer/partitioners.ts'
export { type Acks, Producer, type ProducerOptions, type ProducerStats } from './producer/producer.ts'
export type { Bytes, HeadersInput, ProducerRecord, RecordMetadata } from './producer/record.ts'
export {
  AuthenticationError,
  ConfigError,
  ConnectionError,
  KafkaError,
  KafkaxError,
  ProtocolError,
  TimeoutError,
} from './protocol/errors.ts'
export type { RecordHeader } from './protocol/records/index.ts'
