// kafkajs 2.2's public types, as its users' code names them: the configuration, messages and
// record metadata (offsets and timestamps as decimal strings, headers as objects), topic and group
// descriptions, the consumer's and the transaction's.

import type { Socket } from 'node:net'
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls'
import type {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  CompressionTypes,
  ConfigResourceTypes,
  ConfigSource,
  ResourcePatternTypes,
} from './constants.ts'
import type { KafkaJSProtocolError } from './errors.ts'
import type { InstrumentationEvent, RemoveInstrumentationEventListener } from './instrumentation.ts'
import type { Logger, logCreator, logLevel } from './logger.ts'

// ---------------------------------------------------------------------------------------------
// Configuration

/** Bootstrap brokers, or a function (async or not) returning them, called at each connect. */
export type BrokersFunction = () => string[] | Promise<string[]>

/** `new Kafka(config)`. */
export interface KafkaConfig {
  brokers: string[] | BrokersFunction
  /** `true` for TLS with the system CAs, or Node's TLS options. */
  ssl?: TlsConnectionOptions | boolean
  sasl?: SASLOptions | Mechanism
  clientId?: string
  /** Milliseconds to open a connection (default 1000); with SASL, authenticationTimeout is added. */
  connectionTimeout?: number
  /** Milliseconds to authenticate with SASL (default 10000). */
  authenticationTimeout?: number
  /** kafkajs re-authenticated this long before the session expired; kafkax does so between 85% and 95% of it. */
  reauthenticationThreshold?: number
  /** Milliseconds per request (default 30000). */
  requestTimeout?: number
  /** kafkax always enforces request timeouts: `false` is accepted and not used. */
  enforceRequestTimeout?: boolean
  retry?: RetryOptions
  socketFactory?: ISocketFactory
  logLevel?: logLevel
  logCreator?: logCreator
}

/** What a socket factory is given. */
export interface ISocketFactoryArgs {
  host: string
  port: number
  ssl: TlsConnectionOptions
  onConnect: () => void
}

/** Opens a socket to a broker and calls `onConnect` once it is connected (TLS handshake done). */
export type ISocketFactory = (args: ISocketFactoryArgs) => Socket

/** What an OAUTHBEARER token provider returns. */
export interface OauthbearerProviderResponse {
  value: string
}

/** Built-in SASL mechanisms (kafkajs's `aws` is not offered: see docs/kafkajs.md). */
export type SASLOptions =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  | { mechanism: 'oauthbearer'; oauthBearerProvider: () => Promise<OauthbearerProviderResponse> }
  | {
      mechanism: 'aws'
      authorizationIdentity: string
      accessKeyId: string
      secretAccessKey: string
      sessionToken?: string
    }

/** A custom SASL mechanism in kafkajs's shape. */
export interface Mechanism {
  mechanism: string
  authenticationProvider: (args: AuthenticationProviderArgs) => Authenticator
}

/** What a custom mechanism's provider is given. */
export interface AuthenticationProviderArgs {
  host: string
  port: number
  logger: Logger
  saslAuthenticate: <ParseResult>(args: SaslAuthenticateArgs<ParseResult>) => Promise<ParseResult | undefined>
}

/** One SaslAuthenticate round trip: the bytes to send, and how to read the broker's answer. */
export interface SaslAuthenticateArgs<ParseResult> {
  request: { encode: () => Buffer | Promise<Buffer> }
  response?: {
    decode: (rawResponse: Buffer) => Buffer | Promise<Buffer>
    parse: (data: Buffer) => ParseResult
  }
}

/** Runs a custom mechanism's exchange. */
export interface Authenticator {
  authenticate: () => Promise<void>
}

/** kafkajs's retry settings: `retries` after the first attempt, exponential delays with jitter. */
export interface RetryOptions {
  /** Upper bound of one delay (default 30000 ms). */
  maxRetryTime?: number
  /** The first delay (default 300 ms). */
  initialRetryTime?: number
  /** Jitter, as a fraction of each delay (default 0.2). */
  factor?: number
  /** Growth of the delay per retry (default 2). */
  multiplier?: number
  /** Retries after the first attempt (default 5). */
  retries?: number
  /** Consumers only: whether to restart after a crash. */
  restartOnFailure?: (e: Error) => Promise<boolean>
}

/** `kafka.producer(config)`. */
export interface ProducerConfig {
  createPartitioner?: ICustomPartitioner
  retry?: RetryOptions
  metadataMaxAge?: number
  allowAutoTopicCreation?: boolean
  idempotent?: boolean
  transactionalId?: string
  transactionTimeout?: number
  maxInFlightRequests?: number
}

/** `kafka.admin(config)`. */
export interface AdminConfig {
  retry?: RetryOptions
}

// ---------------------------------------------------------------------------------------------
// Messages and metadata

/** Headers: a value or a list of values per key. */
export interface IHeaders {
  [key: string]: Buffer | string | (Buffer | string)[] | undefined
}

/** A message to send. */
export interface Message {
  key?: Buffer | string | null
  value: Buffer | string | null
  partition?: number
  headers?: IHeaders
  /** Milliseconds since the epoch, as a string (default: now). */
  timestamp?: string
}

/** One partition of a topic, as metadata describes it. */
export interface PartitionMetadata {
  partitionErrorCode: number
  partitionId: number
  leader: number
  replicas: number[]
  isr: number[]
  offlineReplicas?: number[]
}

/** What a kafkajs partitioner is asked: the topic, its partitions (from metadata) and the message. */
export interface PartitionerArgs {
  topic: string
  partitionMetadata: PartitionMetadata[]
  message: Message
}

/** A kafkajs partitioner factory: called once per producer, it returns the function placing each message. */
export type ICustomPartitioner = () => (args: PartitionerArgs) => number

/** `producer.send(record)`. */
export interface ProducerRecord {
  topic: string
  messages: Message[]
  /** -1 all in-sync replicas (default), 1 the leader, 0 none. */
  acks?: number
  /** Milliseconds the broker may wait for the acknowledgements (default 30000). */
  timeout?: number
  compression?: CompressionTypes
}

/** The messages of one topic in `sendBatch`. */
export interface TopicMessages {
  topic: string
  messages: Message[]
}

/** `producer.sendBatch(batch)`. */
export interface ProducerBatch {
  acks?: number
  timeout?: number
  compression?: CompressionTypes
  topicMessages?: TopicMessages[]
}

/** Where the messages of one send landed in one partition. */
export interface RecordMetadata {
  topicName: string
  partition: number
  errorCode: number
  /** The offset of the first of them. */
  baseOffset?: string
  /** The broker's append time when the topic uses LogAppendTime, else '-1'. */
  logAppendTime?: string
  /** '-1': the kafkax producer does not report it yet. */
  logStartOffset?: string
  /** Answers of old brokers only (Produce before v2). */
  offset?: string
  timestamp?: string
}

/** A partition and an offset. */
export interface PartitionOffset {
  partition: number
  offset: string
}

/** A committed offset and the metadata committed with it. */
export type FetchOffsetsPartition = PartitionOffset & { metadata: string | null }

/** Offsets of partitions of one topic. */
export interface TopicOffsets {
  topic: string
  partitions: PartitionOffset[]
}

/** Offsets of partitions of topics. */
export interface Offsets {
  topics: TopicOffsets[]
}

/** A partition and where to go in it. */
export type SeekEntry = PartitionOffset

/** A topic and partitions of it. */
export interface TopicPartitions {
  topic: string
  partitions: number[]
}

/** One partition of a topic. */
export interface TopicPartition {
  topic: string
  partition: number
}

/** One partition of a topic and an offset in it. */
export interface TopicPartitionOffset extends TopicPartition {
  offset: string
}

/** The same, with the metadata committed beside the offset. */
export interface TopicPartitionOffsetAndMetadata extends TopicPartitionOffset {
  metadata?: string | null
}

// ---------------------------------------------------------------------------------------------
// Events

/** A producer's or admin's event names. */
export interface ClientEvents<P extends string> {
  CONNECT: `${P}.connect`
  DISCONNECT: `${P}.disconnect`
  REQUEST: `${P}.network.request`
  REQUEST_TIMEOUT: `${P}.network.request_timeout`
  REQUEST_QUEUE_SIZE: `${P}.network.request_queue_size`
}
/** The producer's event names. */
export type ProducerEvents = ClientEvents<'producer'>
/** The admin client's event names. */
export type AdminEvents = ClientEvents<'admin'>

/** A connect or disconnect. */
export type ConnectEvent = InstrumentationEvent<null>
/** A disconnect. */
export type DisconnectEvent = InstrumentationEvent<null>

/** What the network events tell of a request. */
export interface RequestPayload {
  apiKey: number
  apiName: string
  apiVersion: number
  broker: string
  clientId: string
  correlationId: number
  createdAt: number
  pendingDuration: number
  sentAt: number
}

/** A request answered: how long it took, and the answer's size. */
export type RequestEvent = InstrumentationEvent<RequestPayload & { duration: number; size: number }>

/** A request that got no answer in time. */
export type RequestTimeoutEvent = InstrumentationEvent<RequestPayload>

/** The number of requests waiting for an in-flight slot changed. */
export type RequestQueueSizeEvent = InstrumentationEvent<{ broker: string; clientId: string; queueSize: number }>

/** What each event of a producer or admin client delivers, by the event's key in `events`. */
export interface ClientEventPayloads {
  CONNECT: ConnectEvent
  DISCONNECT: DisconnectEvent
  REQUEST: RequestEvent
  REQUEST_TIMEOUT: RequestTimeoutEvent
  REQUEST_QUEUE_SIZE: RequestQueueSizeEvent
}

/** The key in `E` (a client's `events`) of the event name `N`. */
type EventKey<E, N> = { [K in keyof E]: E[K] extends N ? K : never }[keyof E]

/** `on(eventName, listener)` of a client whose `events` are `E`: the listener gets what `P` says that event delivers. */
export type EventsOn<E, P> = <N extends E[keyof E]>(
  eventName: N,
  listener: (event: P[EventKey<E, N> & keyof P]) => void,
) => RemoveInstrumentationEventListener<N>

/** `on(eventName, listener)` of a producer or admin client. */
export type ClientOn<E extends ClientEvents<string>> = EventsOn<E, ClientEventPayloads>

// ---------------------------------------------------------------------------------------------
// Admin

/** A topic to create. */
export interface ITopicConfig {
  topic: string
  /** Default -1: the broker's num.partitions. */
  numPartitions?: number
  /** Default -1: the broker's default.replication.factor. */
  replicationFactor?: number
  replicaAssignment?: ReplicaAssignment[]
  configEntries?: IResourceConfigEntry[]
}

/** The replicas of one partition. */
export interface ReplicaAssignment {
  partition: number
  replicas: number[]
}

/** Partitions to add to a topic: the total count wanted, and the replicas of the new ones. */
export interface ITopicPartitionConfig {
  topic: string
  count: number
  assignments?: number[][]
}

/** A topic and its partitions. */
export interface ITopicMetadata {
  name: string
  partitions: PartitionMetadata[]
}

/** A config name and value. */
export interface IResourceConfigEntry {
  name: string
  value: string
}

/** Which configs `describeConfigs` asks for. */
export interface ResourceConfigQuery {
  type: ConfigResourceTypes
  name: string
  configNames?: string[]
}

/** New config values of one resource. */
export interface IResourceConfig {
  type: ConfigResourceTypes
  name: string
  configEntries: IResourceConfigEntry[]
}

/** A synonym of a config (kafkax does not ask for them: always empty). */
export interface ConfigSynonyms {
  configName: string
  configValue: string
  configSource: ConfigSource
}

/** One config of a resource. */
export interface ConfigEntries {
  configName: string
  configValue: string | null
  isDefault: boolean
  configSource: ConfigSource
  isSensitive: boolean
  readOnly: boolean
  configSynonyms: ConfigSynonyms[]
}

/** `describeConfigs`' answer. */
export interface DescribeConfigResponse {
  resources: {
    configEntries: ConfigEntries[]
    errorCode: number
    errorMessage: string | null
    resourceName: string
    resourceType: ConfigResourceTypes
  }[]
  throttleTime: number
}

/** `alterConfigs`' answer. */
export interface AlterConfigResponse {
  resources: {
    errorCode: number
    errorMessage: string | null
    resourceName: string
    resourceType: ConfigResourceTypes
  }[]
  throttleTime: number
}

/** A group as `listGroups` lists it. */
export interface GroupOverview {
  groupId: string
  protocolType: string
}

/** A member of a described group, its subscription and assignment as bytes (AssignerProtocol decodes them). */
export interface MemberDescription {
  clientHost: string
  clientId: string
  memberId: string
  memberAssignment: Buffer
  memberMetadata: Buffer
}

/** A group's state, as Kafka names them. */
export type ConsumerGroupState = 'Unknown' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead' | 'Empty'

/** A described group. */
export interface GroupDescription {
  groupId: string
  members: MemberDescription[]
  protocol: string
  protocolType: string
  state: ConsumerGroupState
  errorCode?: number
}

/** `describeGroups`' answer. */
export interface GroupDescriptions {
  groups: GroupDescription[]
}

/** A deleted group (`errorCode` 0), or one that could not be deleted. */
export interface DeleteGroupsResult {
  groupId: string
  errorCode?: number
  error?: KafkaJSProtocolError
}

/** An ACL's who, where, what and whether. */
export interface Acl {
  principal: string
  host: string
  operation: AclOperationTypes
  permissionType: AclPermissionTypes
}

/** The resource an ACL protects. */
export interface AclResource {
  resourceType: AclResourceTypes
  resourceName: string
  resourcePatternType: ResourcePatternTypes
}

/** An ACL with its resource. */
export type AclEntry = Acl & AclResource

/** A resource and its ACLs. */
export type DescribeAclResource = AclResource & { acls: Acl[] }

/** `describeAcls`' answer. */
export interface DescribeAclResponse {
  throttleTime: number
  errorCode: number
  errorMessage?: string | null
  resources: DescribeAclResource[]
}

/** Which ACLs `describeAcls` and `deleteAcls` match (ANY matches every value). */
export interface AclFilter {
  resourceType: AclResourceTypes
  resourceName?: string
  resourcePatternType: ResourcePatternTypes
  principal?: string
  host?: string
  operation: AclOperationTypes
  permissionType: AclPermissionTypes
}

/** An ACL a filter matched (and deleted). */
export interface MatchingAcl extends AclEntry {
  errorCode: number
  errorMessage?: string | null
}

/** What one filter deleted. */
export interface DeleteAclFilterResponses {
  errorCode: number
  errorMessage?: string | null
  matchingAcls: MatchingAcl[]
}

/** `deleteAcls`' answer. */
export interface DeleteAclResponse {
  throttleTime: number
  filterResponses: DeleteAclFilterResponses[]
}

/** A reassignment of a topic's partitions (not offered by kafkax/kafkajs yet). */
export interface PartitionReassignment {
  topic: string
  partitionAssignment: ReplicaAssignment[]
}

/** Reassignments in progress (not offered by kafkax/kafkajs yet). */
export interface ListPartitionReassignmentsResponse {
  topics: {
    topic: string
    partitions: { partitionIndex: number; replicas: number[]; addingReplicas?: number[]; removingReplicas?: number[] }[]
  }[]
}

// ---------------------------------------------------------------------------------------------
// Consumer

/** A consumer group's assignor in kafkajs's shape. */
export type PartitionAssigner = (config: { cluster: AssignerCluster; groupId: string; logger: Logger }) => Assigner

/** What an assignor may ask of the cluster. */
export interface AssignerCluster {
  findTopicPartitionMetadata(topic: string): PartitionMetadata[]
}

/** The assigned partitions per topic. */
export type Assignment = { [topic: string]: number[] }

/** A member as the group leader's assignor sees it. */
export interface GroupMember {
  memberId: string
  memberMetadata: Buffer
}

/** A member's assignment, encoded. */
export interface GroupMemberAssignment {
  memberId: string
  memberAssignment: Buffer
}

/** An assignor's protocol: its name and the member's encoded subscription. */
export interface GroupState {
  name: string
  metadata: Buffer
}

/** A kafkajs assignor. */
export interface Assigner {
  name: string
  version: number
  assign(group: { members: GroupMember[]; topics: string[] }): Promise<GroupMemberAssignment[]>
  protocol(subscription: { topics: string[] }): GroupState
}

/** A member's subscription (consumer protocol); `userData` is null when the member wrote none (-1). */
export interface MemberMetadata {
  version: number
  topics: string[]
  userData: Buffer | null
}

/** A member's assignment (consumer protocol); `userData` as in MemberMetadata. */
export interface MemberAssignment {
  version: number
  assignment: Assignment
  userData: Buffer | null
}

/** `kafka.consumer(config)`. */
export interface ConsumerConfig {
  groupId: string
  partitionAssigners?: PartitionAssigner[]
  metadataMaxAge?: number
  sessionTimeout?: number
  rebalanceTimeout?: number
  heartbeatInterval?: number
  maxBytesPerPartition?: number
  minBytes?: number
  maxBytes?: number
  maxWaitTimeInMs?: number
  retry?: RetryOptions & { restartOnFailure?: (err: Error) => Promise<boolean> }
  allowAutoTopicCreation?: boolean
  maxInFlightRequests?: number
  readUncommitted?: boolean
  rackId?: string
}

/** A consumed message: offsets and timestamps as strings, headers as an object (a key that repeats: an array). */
export interface KafkaMessage {
  key: Buffer | null
  value: Buffer | null
  timestamp: string
  attributes: number
  offset: string
  headers: IHeaders
  /** Record batches (v2) carry magic byte 2: the only kind kafkax reads. */
  magicByte: number
  /** Always false: control records are not handed out. */
  isControlRecord: boolean
}

/** The messages of one partition fetched together. */
export interface Batch {
  topic: string
  partition: number
  highWatermark: string
  messages: KafkaMessage[]
  isEmpty(): boolean
  firstOffset(): string | null
  lastOffset(): string
  offsetLag(): string
  offsetLagLow(): string
}

/** What `eachMessage` is called with. */
export interface EachMessagePayload {
  topic: string
  partition: number
  message: KafkaMessage
  heartbeat(): Promise<void>
  pause(): () => void
}

/** What `eachBatch` is called with. */
export interface EachBatchPayload {
  batch: Batch
  resolveOffset(offset: string): void
  heartbeat(): Promise<void>
  pause(): () => void
  commitOffsetsIfNecessary(offsets?: Offsets): Promise<void>
  uncommittedOffsets(): OffsetsByTopicPartition
  isRunning(): boolean
  isStale(): boolean
}

/** Offsets of partitions of topics, as the consumer commits them. */
export interface OffsetsByTopicPartition {
  topics: TopicOffsets[]
}

/** The old names of the payloads (@types/kafkajs). */
export type ConsumerEachMessagePayload = EachMessagePayload
export type ConsumerEachBatchPayload = EachBatchPayload

/** A message handler. */
export type EachMessageHandler = (payload: EachMessagePayload) => Promise<void>
/** A batch handler. */
export type EachBatchHandler = (payload: EachBatchPayload) => Promise<void>

/** `consumer.run(config)`. */
export interface ConsumerRunConfig {
  autoCommit?: boolean
  autoCommitInterval?: number | null
  autoCommitThreshold?: number | null
  eachBatchAutoResolve?: boolean
  partitionsConsumedConcurrently?: number
  eachBatch?: EachBatchHandler
  eachMessage?: EachMessageHandler
}

/** `consumer.subscribe(...)`: topics by name or RegExp. */
export type ConsumerSubscribeTopics = { topics: (string | RegExp)[]; fromBeginning?: boolean }
/** The older, single-topic form. */
export type ConsumerSubscribeTopic = { topic: string | RegExp; fromBeginning?: boolean }

/** The consumer's event names. */
export interface ConsumerEvents {
  HEARTBEAT: 'consumer.heartbeat'
  COMMIT_OFFSETS: 'consumer.commit_offsets'
  GROUP_JOIN: 'consumer.group_join'
  FETCH_START: 'consumer.fetch_start'
  FETCH: 'consumer.fetch'
  START_BATCH_PROCESS: 'consumer.start_batch_process'
  END_BATCH_PROCESS: 'consumer.end_batch_process'
  CONNECT: 'consumer.connect'
  DISCONNECT: 'consumer.disconnect'
  STOP: 'consumer.stop'
  CRASH: 'consumer.crash'
  REBALANCING: 'consumer.rebalancing'
  RECEIVED_UNSUBSCRIBED_TOPICS: 'consumer.received_unsubscribed_topics'
  REQUEST: 'consumer.network.request'
  REQUEST_TIMEOUT: 'consumer.network.request_timeout'
  REQUEST_QUEUE_SIZE: 'consumer.network.request_queue_size'
}

/** A heartbeat sent. */
export type ConsumerHeartbeatEvent = InstrumentationEvent<{
  groupId: string
  memberId: string
  groupGenerationId: number
}>
/** Offsets committed. */
export type ConsumerCommitOffsetsEvent = InstrumentationEvent<{
  groupId: string
  memberId: string
  groupGenerationId: number
  topics: TopicOffsets[]
}>
/** Partitions per topic. */
export interface IMemberAssignment {
  [key: string]: number[]
}
/** The member joined (or rejoined) its group and has its assignment. */
export type ConsumerGroupJoinEvent = InstrumentationEvent<{
  duration: number
  groupId: string
  isLeader: boolean
  leaderId: string
  groupProtocol: string
  memberId: string
  memberAssignment: IMemberAssignment
}>
/** A fetch request is about to go to a broker. */
export type ConsumerFetchStartEvent = InstrumentationEvent<{ nodeId: number }>
/** A fetch request was answered. */
export type ConsumerFetchEvent = InstrumentationEvent<{ numberOfBatches: number; duration: number; nodeId: number }>
/** What a batch-process event says about the batch. */
export interface IBatchProcessEvent {
  topic: string
  partition: number
  highWatermark: string
  offsetLag: string
  offsetLagLow: string
  batchSize: number
  firstOffset: string
  lastOffset: string
}
/** A batch is handed to eachBatch (or its messages to eachMessage). */
export type ConsumerStartBatchProcessEvent = InstrumentationEvent<IBatchProcessEvent>
/** A batch was processed. */
export type ConsumerEndBatchProcessEvent = InstrumentationEvent<IBatchProcessEvent & { duration: number }>
/** The consumer crashed; `restart` says whether it starts again. */
export type ConsumerCrashEvent = InstrumentationEvent<{ error: Error; groupId: string; restart: boolean }>
/** The group is rebalancing. */
export type ConsumerRebalancingEvent = InstrumentationEvent<{ groupId: string; memberId: string }>
/** The assignment named topics this member does not subscribe to. */
export type ConsumerReceivedUnsubcribedTopicsEvent = InstrumentationEvent<{
  groupId: string
  generationId: number
  memberId: string
  assignedTopics: string[]
  topicsSubscribed: string[]
  topicsNotSubscribed: string[]
}>

/** What each event of a consumer delivers, by the event's key in `events`. */
export interface ConsumerEventPayloads extends ClientEventPayloads {
  HEARTBEAT: ConsumerHeartbeatEvent
  COMMIT_OFFSETS: ConsumerCommitOffsetsEvent
  GROUP_JOIN: ConsumerGroupJoinEvent
  FETCH_START: ConsumerFetchStartEvent
  FETCH: ConsumerFetchEvent
  START_BATCH_PROCESS: ConsumerStartBatchProcessEvent
  END_BATCH_PROCESS: ConsumerEndBatchProcessEvent
  STOP: InstrumentationEvent<null>
  CRASH: ConsumerCrashEvent
  REBALANCING: ConsumerRebalancingEvent
  RECEIVED_UNSUBSCRIBED_TOPICS: ConsumerReceivedUnsubcribedTopicsEvent
}

/** `on(eventName, listener)` of a consumer. */
export type ConsumerOn = EventsOn<ConsumerEvents, ConsumerEventPayloads>

// ---------------------------------------------------------------------------------------------
// Transactions

/** What sends messages: a producer or a transaction. */
export interface Sender {
  send(record: ProducerRecord): Promise<RecordMetadata[]>
  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]>
}

/** A transaction of a transactional producer: its sends, the group offsets it commits, its end. */
export type Transaction = Sender & {
  sendOffsets(offsets: Offsets & { consumerGroupId: string }): Promise<void>
  commit(): Promise<void>
  abort(): Promise<void>
  isActive(): boolean
}
