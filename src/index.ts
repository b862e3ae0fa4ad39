// The public surface of kafkax: nothing else is public.

import { clientChannels } from './client/channels.ts'
import { consumerChannels } from './consumer/channels.ts'
import { producerChannels } from './producer/channels.ts'

export type { ConnectTrace, RequestTrace } from './client/channels.ts'
export type { CommitTrace, FetchTrace, HandlerTrace, RebalanceTrace } from './consumer/channels.ts'
export type { ProduceTrace } from './producer/channels.ts'

/** Every tracing channel kafkax publishes (node:diagnostics_channel), by what it traces. */
export const channels = { ...clientChannels, ...producerChannels, ...consumerChannels }

export type {
  Acl,
  AclFilter,
  AclOperation,
  AclPatternType,
  AclPermission,
  AclResourceType,
} from './admin/acls.ts'
export { Admin } from './admin/admin.ts'
export type { BrokerApi, BrokerApiVersions, ClusterDescription, FeatureDescription } from './admin/cluster.ts'
export type {
  AlterConfigOp,
  AlterConfigsResource,
  ConfigEntry,
  ConfigResource,
  ConfigResourceType,
  ConfigSource,
} from './admin/configs.ts'
export type { AdminError, AdminItemError } from './admin/engine.ts'
export type {
  GroupCommittedOffset as CommittedOffset,
  GroupDescription,
  GroupMemberDescription as GroupMember,
  GroupPartitionLag,
  ListedGroup,
} from './admin/groups.ts'
export type { AdminOptions } from './admin/options.ts'
export type { OffsetSpec, PartitionOffset } from './admin/records.ts'
export type { ScramMechanism, ScramUpsertion } from './admin/scram.ts'
export type {
  ShareGroupDescription,
  ShareGroupMemberDescription,
  ShareGroupPartitionOffset,
} from './admin/share-groups.ts'
export type { CreatedTopic, NewPartitions, NewTopic, PartitionDescription, TopicDescription } from './admin/topics.ts'
export type { Connector, ConnectTarget } from './client/connector.ts'
export type { NetworkEvent, NetworkEventListener, NetworkRequest } from './client/network-events.ts'
export type { ClientOptions } from './client/options.ts'
export { type RetryOptions, RetryPolicy, type RetryRun } from './client/retry.ts'
export type { OAuthBearerToken, SaslMechanism, SaslOptions } from './client/sasl/mechanism.ts'
export { unsecuredJwt } from './client/sasl/oauthbearer.ts'
export type { OffsetToCommit } from './client/topic-partition.ts'
export { type KafkaxConfig, type LoadConfigOptions, loadConfig } from './config/index.ts'
export {
  Consumer,
  type ConsumerOptions,
  type ConsumerStats,
  type PartitionLag,
  type RunOptions,
  type StopOptions,
} from './consumer/consumer.ts'
export type { FetcherOptions, SeekTarget } from './consumer/fetcher.ts'
export { ConsumerManager, type Route } from './consumer/manager.ts'
export type {
  BatchContext,
  BatchHandler,
  BatchMiddleware,
  BatchResult,
  Handler,
  HandlerContext,
  Message,
  Middleware,
  TopicPartition,
} from './consumer/message.ts'
export {
  type BatchRetryOptions,
  compose,
  DeadLetterError,
  type DeadLetterOptions,
  type DeadLetterProducer,
  deadLetter,
  deadLetterBatch,
  HandlerError,
  type Logger,
  type LoggingOptions,
  logging,
  type RetryMiddlewareOptions,
  recover,
  retry,
  retryBatch,
  timeout,
} from './consumer/middleware.ts'
export type { ExactlyOnceOptions } from './consumer/options.ts'
export type { Assignor, CustomAssignor, MemberSubscription } from './group/assignors.ts'
export type { GroupJoin } from './group/membership.ts'
export { jsonLogger, type LogLevel, type LogMethod } from './observability/logger.ts'
// the adapters' own entry points are kafkax/otel and kafkax/prometheus; these names stay for compatibility
export {
  type OtelConsumerOptions,
  type OtelOptions,
  otelMiddleware,
  otelProducer,
  type TraceableProducer,
} from './otel/index.ts'
export { murmur2, murmur2Partition } from './producer/murmur2.ts'
export {
  PartitionerError,
  type PartitionerFunction,
  type PartitionerName,
  type PartitionerRecord,
} from './producer/partitioners.ts'
export { type Acks, Producer, type ProducerOptions, type ProducerStats, type Transaction } from './producer/producer.ts'
export type { Bytes, HeadersInput, ProducerRecord, RecordMetadata } from './producer/record.ts'
export { TransactionError, type TransactionErrorKind } from './producer/transaction-error.ts'
export type { ConsumerGroupMetadata } from './producer/transaction-requests.ts'
export {
  type CollectedMetric,
  type MetricsRegistry,
  type MetricValue,
  type PrometheusOptions,
  prometheusMetrics,
} from './prometheus/index.ts'
export { ErrorCode, type ErrorName } from './protocol/error-codes.ts'
export {
  AuthenticationError,
  ConfigError,
  ConnectionError,
  KafkaError,
  KafkaxError,
  type KafkaxErrorOptions,
  type LogTruncation,
  LogTruncationError,
  ProtocolError,
  TimeoutError,
} from './protocol/errors.ts'
export type { RecordHeader } from './protocol/records/index.ts'
export { ShareConsumer, type ShareConsumerOptions, type ShareConsumerStats } from './share/consumer.ts'
export type {
  AcknowledgeType,
  ShareHandler,
  ShareHandlerContext,
  ShareMessage,
  ShareMiddleware,
} from './share/message.ts'
export type { ShareFetchOptions } from './share/options.ts'
