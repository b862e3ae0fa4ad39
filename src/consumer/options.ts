// The Consumer's options and run options, and the checks its constructor makes of them before any
// network work (the defaults are applied where each option is used).

import type { ClientOptions } from '../client/options.ts'
import type { RetryOptions } from '../client/retry.ts'
import type { Logger } from '../observability/logger.ts'
import { Producer, type ProducerOptions } from '../producer/producer.ts'
import { ConfigError } from '../protocol/errors.ts'
import type { FetcherOptions } from './fetcher.ts'

/** Options of a Consumer: the client's connection options, the group or assignment, and how handlers run. */
export interface ConsumerOptions extends Omit<ClientOptions, 'retry'> {
  /** The consumer group; without it, `assign` names the partitions to read (no group, no commits). */
  groupId?: string
  /** Static membership (KIP-345). */
  groupInstanceId?: string
  /** The subscription of a group member (exact topic names). */
  topics?: string[]
  /** Partitions to read without a group, each from `offset` (default: as `fromBeginning` says). */
  assign?: { topic: string; partition: number; offset?: bigint }[]
  /** Partitions without a committed offset start at the earliest record (default: the latest). */
  fromBeginning?: boolean
  /** Handlers running at once (default 1). */
  concurrency?: number
  /** What keeps its order under concurrency: the partition (default) or the key within it. */
  orderBy?: 'partition' | 'key'
  /**
   * Batch mode: the handler gets up to `size` messages of one partition (default 100), or what came
   * within `timeoutMs` (default 100). Middleware then comes from `useBatch()`; `retry` and `dlq` apply
   * to batches (see the README's batch mode).
   */
  batch?: { size?: number; timeoutMs?: number }
  /** `auto` (default) commits every `intervalMs` (default 5000), `manual` only on `commit()`; both on revocation and stop. */
  commit?: { mode?: 'auto' | 'manual'; intervalMs?: number }
  isolationLevel?: 'read_uncommitted' | 'read_committed'
  /** Handler retries (the retry middleware, outermost after the dead-letter one). */
  retry?: { maxRetries?: number; initialDelayMs?: number; maxDelayMs?: number; multiplier?: number; jitter?: number }
  /** Request retries of the client (connections, metadata, coordinator). */
  clientRetry?: RetryOptions
  /**
   * After the last retry, messages go to this topic, and are committed once it acknowledged them.
   * The topic must exist (it is not auto-created); `producer` tunes the dead-letter producer.
   */
  dlq?: { topic: string; producer?: Partial<ProducerOptions> }
  sessionTimeoutMs?: number
  rebalanceTimeoutMs?: number
  heartbeatIntervalMs?: number
  assignors?: ('range' | 'roundrobin' | 'cooperative-sticky')[]
  fetch?: Omit<FetcherOptions, 'isolationLevel' | 'resetPolicy' | 'logger'>
  /** Errors outside handlers, and handler failures that stop a partition (default: the 'error' event). */
  onError?: (error: Error) => void
  /** A pino- or console-like logger for rebalances, lost connections and errors (default: silent, or KAFKAX_LOG_LEVEL). */
  logger?: Logger
  /**
   * Consume-transform-produce in transactions: what handlers write with `context.send()` and the
   * offsets of the messages they handled commit together, once per `maxMessages` messages or
   * `intervalMs` (see docs/transactions.md). Reads read_committed unless `isolationLevel` says
   * otherwise; needs a group with `topics`, one message per handler run, order by partition.
   */
  exactlyOnce?: ExactlyOnceOptions
}

/** The Consumer's `exactlyOnce` option. */
export interface ExactlyOnceOptions {
  /** A transactional Producer (with a `transactionalId`) that only this consumer uses. */
  producer: Producer
  /** A transaction commits once this many messages were handed out in it (default 10,000: at high rates, a bound on what an abort redoes). */
  maxMessages?: number
  /** A transaction commits at the latest this long after its first message was handed out (default 100 ms). */
  intervalMs?: number
}

/** Options of `Consumer.run()`. */
export interface RunOptions {
  /** Stops the consumer when it aborts. */
  signal?: AbortSignal
  /** Stop cleanly on SIGTERM and SIGINT (default false). */
  handleSignals?: boolean
}

/** Options of `Consumer.stop()` and `ConsumerManager.stop()`. */
export interface StopOptions {
  /**
   * How long stop() waits for running handlers (default 30 s, the Java client's close timeout).
   * Past it, stop() commits only what was handled (never past a message whose handler still runs),
   * leaves the group, and rejects with a TimeoutError naming the partitions with handlers running;
   * what those handlers do afterwards counts for nothing. Committing and leaving are bounded by the
   * request timeout and the client's retry deadline.
   */
  timeoutMs?: number
}

/** Throws a ConfigError for options a consumer cannot start with. */
export function checkConsumerOptions(options: ConsumerOptions): void {
  const { groupId, topics, assign } = options
  if (groupId !== undefined && (typeof groupId !== 'string' || groupId === '')) {
    throw new ConfigError('groupId must be a non-empty string')
  }
  if (groupId && !topics?.length && !assign?.length) throw new ConfigError('a consumer needs topics (or assign)')
  if (!groupId && !assign?.length) {
    throw new ConfigError('without groupId, a consumer needs assign: [{ topic, partition, offset? }]')
  }
  if (groupId && topics?.length && assign?.length) throw new ConfigError('use either topics or assign, not both')
  const { concurrency } = options
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
    throw new ConfigError(`concurrency must be an integer >= 1, got ${options.concurrency}`)
  }
  if (options.orderBy !== undefined && options.orderBy !== 'partition' && options.orderBy !== 'key') {
    throw new ConfigError(`orderBy must be 'partition' or 'key', got ${JSON.stringify(options.orderBy)}`)
  }
  const mode = options.commit?.mode ?? 'auto'
  if (mode !== 'auto' && mode !== 'manual') throw new ConfigError(`commit.mode must be 'auto' or 'manual', got ${mode}`)
  if (options.exactlyOnce !== undefined) checkExactlyOnce(options)
}

function checkExactlyOnce(options: ConsumerOptions): void {
  const eo = options.exactlyOnce!
  if (eo === null || typeof eo !== 'object' || !(eo.producer instanceof Producer) || !eo.producer.transactionalId) {
    throw new ConfigError('exactlyOnce.producer must be a transactional Producer (one with a transactionalId)')
  }
  if (!options.groupId || !options.topics?.length) {
    throw new ConfigError('exactlyOnce commits offsets of a group: it needs groupId and topics')
  }
  // a batch's or a key lane's messages settle out of offset order: their records could not be told apart
  if (options.batch) throw new ConfigError('exactlyOnce runs one message per handler run: it does not take batch')
  if (options.orderBy === 'key')
    throw new ConfigError("exactlyOnce keeps order by partition: it does not take orderBy 'key'")
  if (options.commit) {
    throw new ConfigError(
      'exactlyOnce commits with its transactions: set exactlyOnce.intervalMs / maxMessages, not commit',
    )
  }
  for (const name of ['maxMessages', 'intervalMs'] as const) {
    const value = eo[name]
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new ConfigError(`exactlyOnce.${name} must be an integer >= 1, got ${JSON.stringify(value)}`)
    }
  }
}
