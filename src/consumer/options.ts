// The Consumer's options and run options: their description (CONSUMER_OPTIONS: type, bounds,
// default of each, composed from the parts that use them) and the checks the constructor makes
// before any network work, those between options included.

import { CLIENT_FIELDS, type ClientOptions, clusterOptions, type ResolvedClientOptions } from '../client/options.ts'
import { RETRY_OPTIONS, type RetryOptions } from '../client/retry.ts'
import type { Assignor, CustomAssignor } from '../group/assignors.ts'
import { MEMBER_FIELDS } from '../group/options.ts'
import { type Subscription, splitSubscription } from '../group/subscription-pattern.ts'
import type { Logger } from '../observability/logger.ts'
import { type FieldsOf, group, omit, type Resolved, TOPIC } from '../options/schema.ts'
import { checkOptions, resolveOptions } from '../options/validate.ts'
import { didYouMean } from '../options/values.ts'
import type { ProducerOptions } from '../producer/options.ts'
import { Producer } from '../producer/producer.ts'
import { ConfigError } from '../protocol/errors.ts'
import { BATCH_OPTIONS } from './dispatcher.ts'
import { FETCH_FIELDS, type FetcherOptions, ISOLATION_LEVEL } from './fetcher.ts'
import { HANDLER_RETRY_FIELDS } from './middleware.ts'

/**
 * Options of a Consumer: the client's connection options, the group or assignment, and how handlers
 * run. Defaults and bounds: CONSUMER_OPTIONS, listed in docs/configuration.md.
 */
export interface ConsumerOptions extends Omit<ClientOptions, 'retry'> {
  /** The consumer group; without it, `assign` names the partitions to read (no group, no commits). */
  groupId?: string
  /** Static membership (KIP-345). */
  groupInstanceId?: string
  /**
   * The subscription of a group member: topic names, and RegExps matching topic names (new matching
   * topics are consumed as they appear). With `groupProtocol: 'consumer'` the broker matches them,
   * translated to RE2/J: lookaround, backreferences and the g, y, v flags are a ConfigError there.
   */
  topics?: (string | RegExp)[]
  /** Partitions to read without a group, each from `offset` (default: as `fromBeginning` says). */
  assign?: { topic: string; partition: number; offset?: bigint }[]
  /** Partitions without a committed offset start at the earliest record (else at the latest). */
  fromBeginning?: boolean
  /**
   * Where a partition without a valid position starts: 'earliest', 'latest' (default: as
   * `fromBeginning` says) or 'none': an error instead, and on log truncation (KIP-320) a LogTruncationError.
   */
  autoOffsetReset?: 'earliest' | 'latest' | 'none'
  /** The consumer's rack: it fetches from a replica in it when the brokers allow (KIP-392), and tells its group. */
  rackId?: string
  /** Handlers running at once. */
  concurrency?: number
  /** What keeps its order under concurrency: the partition or the key within it. */
  orderBy?: 'partition' | 'key'
  /**
   * Batch mode: the handler gets up to `size` messages of one partition, or what came within
   * `timeoutMs` (0: what was fetched, at once). Middleware then comes from `useBatch()`; `retry`
   * and `dlq` apply to batches (see the README's batch mode).
   */
  batch?: { size?: number; timeoutMs?: number }
  /**
   * `auto` commits every `intervalMs`, `manual` only on `commit()`, both also on revocation and
   * stop; `off` only on `commit()`.
   */
  commit?: { mode?: 'auto' | 'manual' | 'off'; intervalMs?: number }
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
  /** In order of preference (default range, cooperative-sticky): names, or assignors of your own. */
  assignors?: ('range' | 'roundrobin' | 'cooperative-sticky' | Assignor | CustomAssignor)[]
  /**
   * `classic` (default, as the Java client): JoinGroup/SyncGroup, the client assigns. `consumer`
   * (KIP-848, Kafka 4.0+): the broker assigns and rebalances incrementally; session timeout and
   * heartbeat interval are then the broker's (group configs), `assignors` gives way to `serverAssignor`.
   */
  groupProtocol?: 'classic' | 'consumer'
  /** The broker's assignor for `groupProtocol: 'consumer'`: 'uniform' or 'range' (default: the broker's). */
  serverAssignor?: string
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
  /** A transaction commits once this many messages were handed out in it (at high rates, a bound on what an abort redoes). */
  maxMessages?: number
  /** A transaction commits at the latest this long after its first message was handed out. */
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
   * How long stop() waits for running handlers (the Java client's close timeout). Past it,
   * stop() commits only what was handled (never past a message whose handler still runs), leaves
   * the group, and rejects with a TimeoutError naming the partitions with handlers running; what
   * those handlers do afterwards counts for nothing. Committing and leaving are bounded by the
   * request timeout and the client's retry deadline.
   */
  timeoutMs?: number
}

/** The consumer's own options, beside CLIENT_FIELDS (whose `retry` is its `clientRetry`). */
const CONSUMER_OWN_FIELDS = {
  groupId: { kind: 'string', doc: 'Consumer group; without it, `assign` partitions are read without a group' },
  groupProtocol: {
    kind: 'enum',
    values: ['classic', 'consumer'],
    default: 'classic',
    doc: 'classic (JoinGroup, client-side assignors) or consumer (KIP-848, Kafka 4.0+: the broker assigns)',
  },
  topics: {
    kind: 'list',
    format: TOPIC,
    orRegExp: true,
    doc: 'Topics to subscribe to (in code also RegExp patterns)',
  },
  assign: { kind: 'assignments', doc: 'Partitions to read without subscribing: topic:partition[:offset]' },
  fromBeginning: { kind: 'boolean', default: false, doc: 'Start from the earliest offset when the group has none' },
  autoOffsetReset: {
    kind: 'enum',
    values: ['earliest', 'latest', 'none'],
    doc: 'Where a partition without a valid position starts (none: an error); default as fromBeginning says',
  },
  rackId: { kind: 'string', doc: 'The rack of this consumer: fetch from a replica in it (KIP-392), told to the group' },
  concurrency: { kind: 'integer', min: 1, default: 1, doc: 'Messages handled at once' },
  orderBy: {
    kind: 'enum',
    values: ['partition', 'key'],
    default: 'partition',
    doc: 'What stays in order under concurrency',
  },
  batch: BATCH_OPTIONS,
  commit: group('Offset commits', {
    mode: {
      kind: 'enum',
      values: ['auto', 'manual', 'off'],
      default: 'auto',
      doc: 'auto commits handled offsets (on a timer, on revocation and stop); manual on commit(), revocation and stop; off only on commit()',
    },
    intervalMs: { kind: 'duration', min: 1, default: 5000, doc: 'Time between automatic commits' },
  } satisfies FieldsOf<ConsumerOptions['commit']>),
  isolationLevel: ISOLATION_LEVEL,
  retry: group(
    'Retries of a failing handler before the message goes to the DLQ or fails',
    HANDLER_RETRY_FIELDS satisfies FieldsOf<ConsumerOptions['retry']>,
    { optional: true },
  ),
  clientRetry: RETRY_OPTIONS,
  dlq: group(
    'Dead-letter topic for messages whose handler keeps failing',
    {
      topic: { kind: 'string', format: TOPIC, doc: 'Dead-letter topic' },
      producer: { kind: 'object', doc: 'Code only: options of the dead-letter producer, over the consumer’s own' },
    } satisfies FieldsOf<ConsumerOptions['dlq']>,
    { required: ['topic'], optional: true },
  ),
  ...MEMBER_FIELDS,
  fetch: group('Fetch requests and prefetching', FETCH_FIELDS satisfies FieldsOf<ConsumerOptions['fetch']>),
  onError: { kind: 'function', doc: 'Code only: errors outside handlers (default: the error event)' },
  logger: { kind: 'object', doc: 'Code only: a pino- or console-like logger' },
  exactlyOnce: group(
    'Consume-transform-produce: outputs and offsets commit in one transaction',
    {
      producer: { kind: 'object', instanceOf: Producer, doc: 'Code only: a transactional Producer' },
      // 10,000 messages: at usual rates the 100 ms interval governs
      maxMessages: { kind: 'integer', min: 1, default: 10_000, doc: 'Messages per transaction at most' },
      intervalMs: { kind: 'duration', min: 1, default: 100, doc: 'How long a transaction stays open at most' },
    } satisfies FieldsOf<ConsumerOptions['exactlyOnce']>,
    { required: ['producer'], optional: true },
  ),
} satisfies FieldsOf<Omit<ConsumerOptions, keyof Omit<ClientOptions, 'retry'>>>

export const CONSUMER_FIELDS = { ...omit(CLIENT_FIELDS, 'retry'), ...CONSUMER_OWN_FIELDS }

export const CONSUMER_OPTIONS = group('Consumer options', CONSUMER_FIELDS, { required: ['brokers'] })

/** A ConsumerManager's options: those of its consumers but the topics (its routes say them). */
export const MANAGER_OPTIONS = group('ConsumerManager options', omit(CONSUMER_FIELDS, 'topics', 'assign'), {
  required: ['brokers'],
  unknownHint: (key) =>
    didYouMean(key, ['topics', 'assign']) ? '; each route names its topics: manager.route(topics, handler)' : undefined,
})

/** A consumer's options as it runs with them: checked, defaults applied. */
export type ResolvedConsumerOptions = Resolved<ConsumerOptions, typeof CONSUMER_FIELDS> & {
  /** The topics split into exact names and patterns, each checked for the group protocol. */
  subscription: Subscription | undefined
  client: ResolvedClientOptions
}

/** Checks a consumer's options (one ConfigError, before any network work) and completes them. */
export function resolveConsumerOptions(options: ConsumerOptions, what = 'Consumer'): ResolvedConsumerOptions {
  const o = resolveOptions(CONSUMER_OPTIONS, options, what)
  const { groupId, topics, assign } = o
  if (groupId && !topics?.length && !assign?.length) throw new ConfigError('a consumer needs topics (or assign)')
  if (!groupId && !assign?.length) {
    throw new ConfigError('without groupId, a consumer needs assign: [{ topic, partition, offset? }]')
  }
  if (groupId && topics?.length && assign?.length) throw new ConfigError('use either topics or assign, not both')
  if (!groupId && topics?.length) throw new ConfigError('topics need a groupId (without one, use assign)')
  for (const a of o.assignors) {
    const own = typeof a === 'object' && a !== null
    if (typeof a !== 'string' && (!own || typeof a.name !== 'string' || typeof a.assign !== 'function')) {
      throw new ConfigError('an assignor of your own needs a name and an assign(members, partitionsPerTopic) function')
    }
  }
  // a RegExp the broker cannot take (consumer protocol: RE2/J) is a ConfigError here
  const subscription = topics?.length ? splitSubscription(topics, o.groupProtocol) : undefined
  if (o.exactlyOnce) checkExactlyOnce(options)
  return { ...o, subscription, client: clusterOptions({ ...o, retry: o.clientRetry }) }
}

function checkExactlyOnce(options: ConsumerOptions): void {
  if (!options.exactlyOnce?.producer.transactionalId) {
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
}

/** Checks a ConsumerManager's options: those its consumers share. */
export function checkManagerOptions(options: Omit<ConsumerOptions, 'topics' | 'assign'>): void {
  checkOptions(MANAGER_OPTIONS, options, 'ConsumerManager')
}

const RUN_OPTIONS = group('Consumer.run() options', {
  signal: { kind: 'object', instanceOf: AbortSignal, doc: 'Stops the consumer when it aborts' },
  handleSignals: { kind: 'boolean', doc: 'Stop cleanly on SIGTERM and SIGINT' },
} satisfies FieldsOf<RunOptions>)

/** Checks the options of `Consumer.run()`. */
export function checkRunOptions(options: RunOptions): RunOptions {
  return checkOptions(RUN_OPTIONS, options, 'run()')
}

const STOP_OPTIONS = group('Consumer.stop() options', {
  timeoutMs: {
    kind: 'duration',
    min: 0,
    default: 30_000,
    doc: 'How long stop() waits for running handlers (as KafkaConsumer.close())',
  },
} satisfies FieldsOf<StopOptions>)

/** Checks the options of `stop()` and completes them. */
export function resolveStopOptions(options: StopOptions) {
  return resolveOptions(STOP_OPTIONS, options, 'stop()')
}
