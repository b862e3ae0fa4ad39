// The ShareConsumer's options: their description (SHARE_CONSUMER_OPTIONS: type, bounds, default of
// each, from the parts that use them and the Consumer's where they mean the same) and the check the
// constructor makes of them before any network work.

import { CLIENT_FIELDS, type ClientOptions, clusterOptions, type ResolvedClientOptions } from '../client/options.ts'
import type { RetryOptions } from '../client/retry.ts'
import { FETCH_FIELDS } from '../consumer/fetcher.ts'
import { HANDLER_RETRY_FIELDS, type RetryMiddlewareOptions } from '../consumer/middleware.ts'
import { CONSUMER_FIELDS } from '../consumer/options.ts'
import type { Logger } from '../observability/logger.ts'
import { type FieldsOf, group, omit, pick, type Resolved, TOPIC } from '../options/schema.ts'
import { resolveOptions } from '../options/validate.ts'
import type { ProducerOptions } from '../producer/options.ts'

/** How a share consumer fetches (its `fetch` option). Defaults and bounds: SHARE_FETCH_FIELDS. */
export interface ShareFetchOptions {
  /** How long the broker may wait for `minBytes`. */
  maxWaitMs?: number
  /** Bytes the broker waits for before answering. */
  minBytes?: number
  /** Bytes per ShareFetch answer at most. */
  maxBytes?: number
  /**
   * Records per ShareFetch (Java's max.poll.records); the broker may exceed it to end on a batch
   * boundary. The consumer fetches again once fewer than half of this many wait for a handler.
   */
  maxRecords?: number
  /** Verify each batch's CRC-32C. */
  checkCrcs?: boolean
}

/**
 * Options of a ShareConsumer: the client's connection options, the share group, and how handlers
 * run. Defaults and bounds: SHARE_CONSUMER_OPTIONS, listed in docs/share-groups.md.
 */
export interface ShareConsumerOptions extends Omit<ClientOptions, 'retry'> {
  /** The share group (KIP-932). */
  groupId: string
  /** The subscription (exact topic names). */
  topics: string[]
  /** Handlers running at once; records are handed out in no particular order. */
  concurrency?: number
  /**
   * `implicit`: a handler that resolves accepts its record, one that throws is retried as `retry`
   * says. `explicit`: every handler acknowledges its record with `ctx.ack(type)` (or
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
   * handler keeps its record. Without renewals, or on a broker without them, a handler outliving the
   * lock is reported and its outcome is not acknowledged: the broker delivers the record again.
   */
  renewLocks?: boolean
  /** Errors outside handlers, records that failed for good, and locks that ran out (default: the 'error' event). */
  onError?: (error: Error) => void
  /** A pino- or console-like logger (default: silent, or KAFKAX_LOG_LEVEL). */
  logger?: Logger
}

/** The share consumer's `fetch` option: the Consumer's fetch sizes and wait, and records per fetch. */
export const SHARE_FETCH_FIELDS = {
  ...pick(FETCH_FIELDS, 'maxWaitMs', 'minBytes', 'maxBytes', 'checkCrcs'),
  maxRecords: { kind: 'integer', min: 1, default: 500, doc: 'Records per ShareFetch (max.poll.records)' },
} satisfies FieldsOf<ShareFetchOptions>

/** The share consumer's own options, beside CLIENT_FIELDS (whose `retry` is its `clientRetry`). */
const SHARE_CONSUMER_OWN_FIELDS = {
  groupId: { kind: 'string', doc: 'Share group' },
  topics: { kind: 'list', format: TOPIC, doc: 'Topics to subscribe to' },
  concurrency: { kind: 'integer', min: 1, default: 1, doc: 'Records handled at once, in no particular order' },
  acknowledgement: {
    kind: 'enum',
    values: ['implicit', 'explicit'],
    default: 'implicit',
    doc: "implicit: the handler's outcome acknowledges; explicit: the handler calls ctx.ack()",
  },
  retry: group(
    'Redeliveries of a record whose handler fails, before it goes to the DLQ or is rejected',
    {
      ...HANDLER_RETRY_FIELDS,
      retriable: { kind: 'function', doc: 'Code only: which failures are worth another delivery' },
      onRetry: { kind: 'function', doc: 'Code only: called before each release' },
    } satisfies FieldsOf<ShareConsumerOptions['retry']>,
    { optional: true },
  ),
  ...pick(CONSUMER_FIELDS, 'clientRetry', 'dlq'),
  rackId: { kind: 'string', doc: 'The rack of this member, for rack-aware assignment' },
  fetch: group('ShareFetch requests', SHARE_FETCH_FIELDS),
  renewLocks: {
    kind: 'boolean',
    default: true,
    doc: 'Renew the locks of records held long (KIP-1222, Kafka 4.2+)',
  },
  onError: { kind: 'function', doc: 'Code only: errors outside handlers (default: the error event)' },
  logger: { kind: 'object', doc: 'Code only: a pino- or console-like logger' },
} satisfies FieldsOf<Omit<ShareConsumerOptions, keyof Omit<ClientOptions, 'retry'>>>

export const SHARE_CONSUMER_FIELDS = { ...omit(CLIENT_FIELDS, 'retry'), ...SHARE_CONSUMER_OWN_FIELDS }

export const SHARE_CONSUMER_OPTIONS = group('ShareConsumer options', SHARE_CONSUMER_FIELDS, {
  required: ['brokers', 'groupId', 'topics'],
})

/** A share consumer's options as it runs with them: checked, defaults applied. */
export type ResolvedShareConsumerOptions = Resolved<ShareConsumerOptions, typeof SHARE_CONSUMER_FIELDS> & {
  client: ResolvedClientOptions
}

/** Checks a share consumer's options (one ConfigError, before any network work) and completes them. */
export function resolveShareConsumerOptions(options: ShareConsumerOptions): ResolvedShareConsumerOptions {
  const o = resolveOptions(SHARE_CONSUMER_OPTIONS, options, 'ShareConsumer')
  return { ...o, client: clusterOptions({ ...o, retry: o.clientRetry }) }
}
