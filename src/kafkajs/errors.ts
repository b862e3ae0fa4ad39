// kafkajs's error classes (every one kafkajs 2.2 exports, with its hierarchy, `name`, `retriable`
// and extra fields), so that `instanceof` checks and `error.name` / `error.type` tests in users'
// code keep working, and the translation of the kafkax errors thrown underneath into them.

import {
  AuthenticationError,
  ConnectionError,
  KafkaError,
  KafkaxError,
  TimeoutError,
  TransactionError,
} from '../index.ts'

/** Options of KafkaJSError: whether retrying may help (default true, as kafkajs) and the cause. */
export interface KafkaJSErrorOptions {
  retriable?: boolean
  cause?: unknown
}

/** What kafkajs's protocol errors are made from: a Kafka error code's name, number and description. */
export interface KafkaJSProtocolErrorSource {
  message: string
  type?: string
  code?: number
  retriable?: boolean
}

const messageOf = (e: unknown): string =>
  typeof e === 'object' && e !== null && 'message' in e ? String(e.message) : String(e)

/** The base of every kafkajs error: `retriable` says whether kafkajs would retry it. */
export class KafkaJSError extends Error {
  readonly retriable: boolean
  helpUrl?: string

  constructor(e: Error | KafkaJSProtocolErrorSource | string, options: KafkaJSErrorOptions = {}) {
    super(messageOf(e), options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.retriable = options.retriable ?? true
    if (typeof e === 'object' && 'helpUrl' in e) this.helpUrl = String(e.helpUrl)
  }
}

/** An error retrying cannot fix. */
export class KafkaJSNonRetriableError extends KafkaJSError {
  constructor(e: Error | KafkaJSProtocolErrorSource | string, options: { cause?: unknown } = {}) {
    super(e, { retriable: false, cause: options.cause })
  }
}

/** A broker answered with a Kafka error code: `type` is its name (UNKNOWN_TOPIC_OR_PARTITION), `code` its number. */
export class KafkaJSProtocolError extends KafkaJSError {
  readonly type: string | undefined
  readonly code: number | undefined

  constructor(e: Error | KafkaJSProtocolErrorSource | string, options: KafkaJSErrorOptions = {}) {
    const source = typeof e === 'object' ? (e as KafkaJSProtocolErrorSource) : undefined
    super(e, { retriable: options.retriable ?? source?.retriable, cause: options.cause })
    this.type = source?.type
    this.code = source?.code
  }
}

/** OFFSET_OUT_OF_RANGE of a partition. */
export class KafkaJSOffsetOutOfRange extends KafkaJSProtocolError {
  readonly topic: string
  readonly partition: number
  constructor(e: Error | KafkaJSProtocolErrorSource | string, metadata: { topic: string; partition: number }) {
    super(e)
    this.topic = metadata.topic
    this.partition = metadata.partition
  }
}

/** MEMBER_ID_REQUIRED: the group coordinator handed out a member id to join with. */
export class KafkaJSMemberIdRequired extends KafkaJSProtocolError {
  readonly memberId: string
  constructor(e: Error | KafkaJSProtocolErrorSource | string, metadata: { memberId: string }) {
    super(e)
    this.memberId = metadata.memberId
  }
}

/** The retries of an operation ran out; `cause` is the last error. */
export class KafkaJSNumberOfRetriesExceeded extends KafkaJSNonRetriableError {
  readonly retryCount: number
  readonly retryTime: number
  constructor(e: Error | string, metadata: { retryCount: number; retryTime: number }) {
    super(e, { cause: e })
    this.retryCount = metadata.retryCount
    this.retryTime = metadata.retryTime
    if (e instanceof Error) this.stack = `${this.name}\n  Caused by: ${e.stack}`
  }
}

/** A connection could not be opened or was lost. */
export class KafkaJSConnectionError extends KafkaJSError {
  readonly broker: string | undefined
  readonly code: string | undefined
  constructor(
    e: Error | string,
    metadata: { broker?: string; code?: string; retriable?: boolean; cause?: unknown } = {},
  ) {
    super(e, { retriable: metadata.retriable, cause: metadata.cause })
    this.broker = metadata.broker
    this.code = metadata.code
  }
}

/** The broker closed the connection. */
export class KafkaJSConnectionClosedError extends KafkaJSConnectionError {
  readonly host: string | undefined
  readonly port: number | undefined
  constructor(e: Error | string, metadata: { host?: string; port?: number } = {}) {
    super(e, { broker: `${metadata.host}:${metadata.port}` })
    this.host = metadata.host
    this.port = metadata.port
  }
}

/** A request got no response within the request timeout. */
export class KafkaJSRequestTimeoutError extends KafkaJSError {
  readonly broker: string | undefined
  readonly correlationId: number | undefined
  readonly createdAt: number | undefined
  readonly sentAt: number | undefined
  readonly pendingDuration: number | undefined
  constructor(
    e: Error | string,
    metadata: {
      broker?: string
      correlationId?: number
      createdAt?: number
      sentAt?: number
      pendingDuration?: number
      cause?: unknown
    } = {},
  ) {
    super(e, { cause: metadata.cause })
    this.broker = metadata.broker
    this.correlationId = metadata.correlationId
    this.createdAt = metadata.createdAt
    this.sentAt = metadata.sentAt
    this.pendingDuration = metadata.pendingDuration
  }
}

/** Cluster metadata is not there yet. */
export class KafkaJSMetadataNotLoaded extends KafkaJSError {}

/** A topic's metadata is not there yet. */
export class KafkaJSTopicMetadataNotLoaded extends KafkaJSMetadataNotLoaded {
  readonly topic: string | undefined
  constructor(e: Error | string, metadata: { topic?: string } = {}) {
    super(e)
    this.topic = metadata.topic
  }
}

/** An assignment names partitions the metadata does not know yet. */
export class KafkaJSStaleTopicMetadataAssignment extends KafkaJSError {
  readonly topic: string | undefined
  readonly unknownPartitions: unknown
  constructor(e: Error | string, metadata: { topic?: string; unknownPartitions?: unknown } = {}) {
    super(e)
    this.topic = metadata.topic
    this.unknownPartitions = metadata.unknownPartitions
  }
}

/** One group `deleteGroups` could not delete. */
export interface KafkaJSDeleteGroupsErrorGroups {
  groupId: string
  errorCode: number
  error: KafkaJSError
}

/** `deleteGroups` failed for some groups, listed in `groups`. */
export class KafkaJSDeleteGroupsError extends KafkaJSError {
  readonly groups: KafkaJSDeleteGroupsErrorGroups[]
  constructor(e: Error | string, groups: KafkaJSDeleteGroupsErrorGroups[] = []) {
    super(e)
    this.groups = groups
  }
}

/** The broker does not support an API (or any version of it kafkax speaks). */
export class KafkaJSServerDoesNotSupportApiKey extends KafkaJSNonRetriableError {
  readonly apiKey: number | undefined
  readonly apiName: string | undefined
  constructor(e: Error | string, metadata: { apiKey?: number; apiName?: string } = {}) {
    super(e)
    this.apiKey = metadata.apiKey
    this.apiName = metadata.apiName
  }
}

/** No broker of the cluster is known for a node id or partition leader. */
export class KafkaJSBrokerNotFound extends KafkaJSError {}

/** A message was cut short. */
export class KafkaJSPartialMessageError extends KafkaJSNonRetriableError {}

/** SASL (or TLS) authentication was refused. */
export class KafkaJSSASLAuthenticationError extends KafkaJSNonRetriableError {}

/** No coordinator could be found for a group. */
export class KafkaJSGroupCoordinatorNotFound extends KafkaJSNonRetriableError {}

/** Something kafkax/kafkajs does not offer. */
export class KafkaJSNotImplemented extends KafkaJSNonRetriableError {}

/** An operation ran past its time. */
export class KafkaJSTimeout extends KafkaJSNonRetriableError {}

/** A lock was not acquired in time. */
export class KafkaJSLockTimeout extends KafkaJSTimeout {}

/** A legacy message set of an unknown magic byte. */
export class KafkaJSUnsupportedMagicByteInMessageSet extends KafkaJSNonRetriableError {}

/** One partition `deleteTopicRecords` could not delete records of. */
export interface KafkaJSDeleteTopicRecordsErrorPartition {
  partition: number
  offset: string
  error: KafkaJSError
}

/** `deleteTopicRecords` failed for some partitions; retriable when every failure is. */
export class KafkaJSDeleteTopicRecordsError extends KafkaJSError {
  readonly partitions: KafkaJSDeleteTopicRecordsErrorPartition[]
  constructor(metadata: { topic?: string; partitions: KafkaJSDeleteTopicRecordsErrorPartition[] }) {
    const retriable = metadata.partitions.every((p) => p.error == null || p.error.retriable === true)
    super('Error while deleting records', { retriable })
    this.partitions = metadata.partitions
  }
}

/** A bug: something that must not happen did. */
export class KafkaJSInvariantViolation extends KafkaJSNonRetriableError {
  constructor(e: Error | string) {
    super(`Invariant violated: ${messageOf(e)}. This is likely a bug and should be reported.`)
  }
}

/** A malformed varint (kafkajs names it KafkaJSNonRetriableError). */
export class KafkaJSInvalidVarIntError extends KafkaJSNonRetriableError {
  constructor(e: Error | string) {
    super(e)
    this.name = 'KafkaJSNonRetriableError'
  }
}

/** A malformed int64 (kafkajs names it KafkaJSNonRetriableError). */
export class KafkaJSInvalidLongError extends KafkaJSNonRetriableError {
  constructor(e: Error | string) {
    super(e)
    this.name = 'KafkaJSNonRetriableError'
  }
}

/** A topic `createTopics` could not create. */
export class KafkaJSCreateTopicError extends KafkaJSProtocolError {
  readonly topic: string
  constructor(e: Error | KafkaJSProtocolErrorSource | string, topicName: string) {
    super(e)
    this.topic = topicName
  }
}

/** Several errors at once (createTopics' failed topics). Not a KafkaJSError, as in kafkajs. */
export class KafkaJSAggregateError extends Error {
  readonly errors: (Error | string)[]
  constructor(message: Error | string, errors: (Error | string)[]) {
    super(messageOf(message))
    this.name = 'KafkaJSAggregateError'
    this.errors = errors
  }
}

/** A fetch abandoned because the group rebalances. Not a KafkaJSError, as in kafkajs. */
export class KafkaJSFetcherRebalanceError extends Error {}

/** No broker could be reached. */
export class KafkaJSNoBrokerAvailableError extends KafkaJSError {
  constructor() {
    super('No broker available')
  }
}

/** A partition reassignment was refused. */
export class KafkaJSAlterPartitionReassignmentsError extends KafkaJSProtocolError {
  readonly topic: string | undefined
  readonly partition: number | undefined
  constructor(e: Error | KafkaJSProtocolErrorSource | string, topicName?: string, partition?: number) {
    super(e)
    this.topic = topicName
    this.partition = partition
  }
}

/** What a translated error says about the retries spent (kafkax does not count them: the policy's limits). */
export interface RetrySpent {
  retryCount: number
  retryTime: number
}

/** The kafkajs error of a broker error code: KafkaJSProtocolError with its name, number and retriability. */
export function protocolError(error: KafkaError): KafkaJSProtocolError {
  return new KafkaJSProtocolError(
    { message: error.message, type: error.type, code: error.code, retriable: error.retriable },
    { cause: error },
  )
}

/**
 * A failed transaction as kafkajs reports one: the broker's error (PRODUCER_FENCED, ...) as a
 * KafkaJSProtocolError, others as KafkaJSError; `retriable` when only this transaction failed
 * (abort it, and run it again), a KafkaJSNonRetriableError when the producer cannot go on or the
 * call did not fit.
 */
function transactionError(error: TransactionError): KafkaJSError {
  const { cause } = error
  const options = { retriable: error.retriable, cause: error }
  if (cause instanceof KafkaError)
    return new KafkaJSProtocolError({ message: error.message, type: cause.type, code: cause.code }, options)
  return error.retriable
    ? new KafkaJSError(error.message, options)
    : new KafkaJSNonRetriableError(error.message, options)
}

/**
 * A kafkax error as kafkajs would have thrown it. kafkax retries retriable errors before giving
 * up, so a retriable error that comes out is one kafkajs reports as KafkaJSNumberOfRetriesExceeded
 * (its `cause` the KafkaJSProtocolError, KafkaJSConnectionError or KafkaJSRequestTimeoutError).
 * kafkajs errors and errors that are not kafkax's (a user's callback) pass through.
 */
export function toKafkaJSError(error: unknown, spent: RetrySpent): unknown {
  if (error instanceof KafkaJSError || !(error instanceof KafkaxError)) return error
  // the transaction's own retries are done; what is left is the caller's: abort, or close
  if (error instanceof TransactionError) return transactionError(error)
  let translated: KafkaJSError
  if (error instanceof KafkaError) translated = protocolError(error)
  else if (error instanceof ConnectionError)
    translated = new KafkaJSConnectionError(error.message, { retriable: error.retriable, cause: error })
  else if (error instanceof TimeoutError) translated = new KafkaJSRequestTimeoutError(error.message, { cause: error })
  else if (error instanceof AuthenticationError)
    translated = new KafkaJSSASLAuthenticationError(error.message, { cause: error })
  else if (!error.retriable) translated = new KafkaJSNonRetriableError(error.message, { cause: error })
  else translated = new KafkaJSError(error.message, { cause: error })
  return translated.retriable ? new KafkaJSNumberOfRetriesExceeded(translated, spent) : translated
}
