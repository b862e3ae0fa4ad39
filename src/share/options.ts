// The ShareConsumer's options and the checks its constructor makes of them before any network work
// (the defaults are applied where each option is used).

import type { ClientOptions } from '../client/options.ts'
import type { RetryOptions } from '../client/retry.ts'
import type { RetryMiddlewareOptions } from '../consumer/middleware.ts'
import type { Logger } from '../observability/logger.ts'
import type { ProducerOptions } from '../producer/producer.ts'
import { ConfigError } from '../protocol/errors.ts'
import type { ShareFetchOptions } from './fetcher.ts'

/** Options of a ShareConsumer: the client's connection options, the share group, and how handlers run. */
export interface ShareConsumerOptions extends Omit<ClientOptions, 'retry'> {
  /** The share group (KIP-932). */
  groupId: string
  /** The subscription (exact topic names). */
  topics: string[]
  /** Handlers running at once (default 1); records are handed out in no particular order. */
  concurrency?: number
  /**
   * `implicit` (default): a handler that resolves accepts its record, one that throws is retried as
   * `retry` says. `explicit`: every handler acknowledges its record with `ctx.ack(type)` (or
   * accept/release/reject); one that resolves without doing so has its record released and reported.
   * As the Java client's share.acknowledgement.mode.
   */
  acknowledgement?: 'implicit' | 'explicit'
  /**
   * Retries as redeliveries: before the last attempt a failed record is released after the backoff
   * (the delivery count is the attempt); on the last it is dead-lettered (with `dlq`) or rejected.
   * The last attempt is at most the group's share.delivery.count.limit.
   */
  retry?: RetryMiddlewareOptions
  /** Request retries of the client (connections, metadata, coordinator). */
  clientRetry?: RetryOptions
  /**
   * After the last attempt, records go to this topic and are accepted once it acknowledged them (the
   * headers are the Consumer's dead-letter headers). The topic must exist.
   */
  dlq?: { topic: string; producer?: Partial<ProducerOptions> }
  /** The member's rack, for rack-aware assignment. */
  rackId?: string
  /** How records are fetched: wait, bytes, and records per ShareFetch. */
  fetch?: ShareFetchOptions
  /**
   * Renew the acquisition lock of records held for half of it (KIP-1222, Kafka 4.2+), so a slow
   * handler keeps its record (default true). Without renewals, or on a broker without them, a handler
   * outliving the lock is reported and its outcome is not acknowledged: the broker delivers the
   * record again.
   */
  renewLocks?: boolean
  /** Errors outside handlers, records that failed for good, and locks that ran out (default: the 'error' event). */
  onError?: (error: Error) => void
  /** A pino- or console-like logger (default: silent, or KAFKAX_LOG_LEVEL). */
  logger?: Logger
}

/** Throws a ConfigError for options a share consumer cannot start with. */
export function checkShareConsumerOptions(options: ShareConsumerOptions): void {
  if (typeof options !== 'object' || options === null) throw new ConfigError('a ShareConsumer needs options')
  const { groupId, topics, concurrency, acknowledgement } = options
  if (typeof groupId !== 'string' || groupId === '') throw new ConfigError('groupId must be a non-empty string')
  if (!Array.isArray(topics) || topics.length === 0 || topics.some((t) => typeof t !== 'string' || t === '')) {
    throw new ConfigError('a ShareConsumer needs topics: a list of topic names')
  }
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
    throw new ConfigError(`concurrency must be an integer >= 1, got ${concurrency}`)
  }
  if (acknowledgement !== undefined && acknowledgement !== 'implicit' && acknowledgement !== 'explicit') {
    throw new ConfigError(`acknowledgement must be 'implicit' or 'explicit', got ${JSON.stringify(acknowledgement)}`)
  }
  if (options.dlq !== undefined && (typeof options.dlq?.topic !== 'string' || options.dlq.topic === '')) {
    throw new ConfigError('dlq.topic must be a non-empty topic name')
  }
}
