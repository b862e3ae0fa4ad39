// The error classes every layer throws. They live at the bottom layer so that the protocol code
// can raise ProtocolError without importing upward; src/index.ts re-exports them all.

/** Options of every kafkax error: its cause, and whether retrying may succeed. */
export interface KafkaxErrorOptions {
  cause?: unknown
  retriable?: boolean
}

/** Base class: every error kafkax raises has a stable `code`, a `name` and `retriable`. */
export class KafkaxError extends Error {
  readonly code: string | number
  readonly retriable: boolean

  constructor(message: string, code: string | number, options: KafkaxErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.retriable = options.retriable ?? false
  }
}

/** A broker answered with a non-zero Kafka error code. `code` is the numeric code. */
export class KafkaError extends KafkaxError {
  declare readonly code: number
  /** Kafka's name of the code, e.g. NOT_LEADER_OR_FOLLOWER. */
  readonly type: string

  constructor(message: string, code: number, type: string, options: KafkaxErrorOptions = {}) {
    super(message, code, options)
    this.type = type
  }
}

/** The socket could not be opened, or was lost with requests in flight. */
export class ConnectionError extends KafkaxError {
  constructor(message: string, options: KafkaxErrorOptions = {}) {
    super(message, 'ECONNECTION', { retriable: true, ...options })
  }
}

/** SASL or TLS authentication was refused. Never retried: a wrong password stays wrong. */
export class AuthenticationError extends KafkaxError {
  constructor(message: string, options: KafkaxErrorOptions = {}) {
    super(message, 'EAUTHENTICATION', { retriable: false, ...options })
  }
}

/** A request, a delivery or a blocking call ran past its deadline. */
export class TimeoutError extends KafkaxError {
  constructor(message: string, options: KafkaxErrorOptions = {}) {
    super(message, 'ETIMEOUT', { retriable: true, ...options })
  }
}

/** Bytes that do not follow the Kafka protocol: truncated, out of bounds, bad CRC, bad codec data. */
export class ProtocolError extends KafkaxError {
  constructor(message: string, options: KafkaxErrorOptions = {}) {
    super(message, 'EPROTOCOL', { retriable: false, ...options })
  }
}

/** Options from the user (constructor options, YAML, environment) that cannot be used. */
export class ConfigError extends KafkaxError {
  constructor(message: string, options: KafkaxErrorOptions = {}) {
    super(message, 'ECONFIG', { retriable: false, ...options })
  }
}

/** Where a partition's log diverged from what the consumer read (KIP-320). */
export interface LogTruncation {
  topic: string
  partition: number
  /** The consumer's position when the truncation was found. */
  offset: bigint
  /** The first offset known to diverge: the new leader's end of the position's epoch. */
  divergentOffset: bigint
}

/**
 * A partition's log was truncated below the consumer's position (an unclean leader election) and
 * the reset policy is 'none': the partition stops until a seek (e.g. to `divergentOffset`).
 */
export class LogTruncationError extends KafkaxError implements LogTruncation {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  readonly divergentOffset: bigint

  constructor(message: string, truncation: LogTruncation, options: KafkaxErrorOptions = {}) {
    super(message, 'ETRUNCATED', { retriable: false, ...options })
    this.topic = truncation.topic
    this.partition = truncation.partition
    this.offset = truncation.offset
    this.divergentOffset = truncation.divergentOffset
  }
}
