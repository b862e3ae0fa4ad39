// kafkajs's consumer on the kafkax Consumer. subscribe() collects topics (RegExps are matched against
// the cluster's topics then, as kafkajs does); run() starts a kafkax Consumer in batch mode that hands
// over each partition's fetched messages at once, partitionsConsumedConcurrently partitions at a time,
// and drives eachMessage / eachBatch over them as kafkajs's runner does: offsets are resolved per
// message (eachBatch: by resolveOffset, or all at the end), committed after each batch (autoCommit) and
// within one by autoCommitInterval / autoCommitThreshold; what was not resolved is read again (the
// partition is moved back to the first offset not resolved). A failed batch is retried with kafkajs's
// backoff; past the retries (or at once for a non-retriable error) the consumer crashes and restarts
// as kafkajs's does (retry.restartOnFailure). Heartbeats run on the kafkax member's own timer, so a
// slow handler keeps its membership and heartbeat() has nothing to do.

import {
  type GroupJoin,
  type HandlerContext,
  KafkaError,
  Consumer as KafkaxConsumer,
  type Message,
  type NetworkEvent,
  RetryPolicy,
  type TopicPartition,
} from '../index.ts'
import { ErrorCode } from '../protocol/error-codes.ts'
import { Admin } from './admin.ts'
import { groupAssignor, PartitionAssigners } from './assigners.ts'
import { kafkaMessage, PartitionBatch } from './batch.ts'
import {
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  type RetrySpent,
  toKafkaJSError,
} from './errors.ts'
import { Instrumentation } from './instrumentation.ts'
import { kafkaxLogger, type Logger } from './logger.ts'
import { partitionMetadata } from './metadata.ts'
import { offsetOf, topicOffsets } from './offsets.ts'
import { clientOptions, type KafkaContext, resolveBrokers, retryPolicy } from './options.ts'
import type {
  Assigner,
  ConsumerConfig,
  ConsumerEvents,
  ConsumerOn,
  ConsumerRunConfig,
  ConsumerSubscribeTopic,
  ConsumerSubscribeTopics,
  EachBatchPayload,
  GroupDescription,
  IBatchProcessEvent,
  OffsetsByTopicPartition,
  RetryOptions,
  TopicOffsets,
  TopicPartitionOffset,
  TopicPartitionOffsetAndMetadata,
  TopicPartitions,
} from './types.ts'

const CONSUMER_EVENTS: ConsumerEvents = {
  HEARTBEAT: 'consumer.heartbeat',
  COMMIT_OFFSETS: 'consumer.commit_offsets',
  GROUP_JOIN: 'consumer.group_join',
  FETCH: 'consumer.fetch',
  FETCH_START: 'consumer.fetch_start',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  CONNECT: 'consumer.connect',
  DISCONNECT: 'consumer.disconnect',
  STOP: 'consumer.stop',
  CRASH: 'consumer.crash',
  REBALANCING: 'consumer.rebalancing',
  RECEIVED_UNSUBSCRIBED_TOPICS: 'consumer.received_unsubscribed_topics',
  REQUEST: 'consumer.network.request',
  REQUEST_TIMEOUT: 'consumer.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'consumer.network.request_queue_size',
}

/** Fetch and Heartbeat (Kafka's API keys): requests whose answers make consumer events. */
const FETCH_API = 1
const HEARTBEAT_API = 12
/** kafkajs's special seek offsets: the latest and the earliest. */
const LATEST = -1n
const EARLIEST = -2n
/** kafkajs's retry: these errors of the handler are bugs, never retried. */
const UNRECOVERABLE = new Set(['RangeError', 'ReferenceError', 'SyntaxError', 'TypeError'])
const REBALANCE_ERRORS = new Set<number>([
  ErrorCode.REBALANCE_IN_PROGRESS,
  ErrorCode.ILLEGAL_GENERATION,
  ErrorCode.UNKNOWN_MEMBER_ID,
])

const tpKey = (topic: string, partition: number) => `${topic}\0${partition}`

type RunSettings = Required<Omit<ConsumerRunConfig, 'eachBatch' | 'eachMessage'>> &
  Pick<ConsumerRunConfig, 'eachBatch' | 'eachMessage'>

/** What this consumer knows of an assigned partition. */
interface Progress {
  tp: TopicPartition
  /** The next offset to read: the one after the last resolved message (undefined before the first batch). */
  resolved: bigint | undefined
  /** The offset committed last, as far as this consumer knows (a batch starts at a committed offset). */
  committed: bigint | undefined
  /** A batch of this partition is being processed. */
  busy: boolean
  /** Failed batches in a row. */
  failures: number
  retryTimer: NodeJS.Timeout | undefined
}

/** Whether kafkajs's retrier retries an error (and whether its crash restarts the consumer). */
function retriable(error: unknown): boolean {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { retriable?: unknown; name?: unknown }
  return e.retriable !== false && !UNRECOVERABLE.has(String(e.name))
}

function originalCause(error: unknown): unknown {
  let e = error as { cause?: unknown } | undefined
  while (e && typeof e === 'object' && e.cause !== undefined) e = e.cause as { cause?: unknown }
  return e
}

function checkTopicPartitions(list: { topic: string; partitions?: number[] }[], verb: 'pause' | 'resume'): void {
  for (const tp of list ?? []) {
    if (!tp?.topic) throw new KafkaJSNonRetriableError(`Invalid topic ${tp?.topic ?? tp}`)
    if (
      tp.partitions !== undefined &&
      (!Array.isArray(tp.partitions) || tp.partitions.some((p) => Number.isNaN(Number(p))))
    ) {
      throw new KafkaJSNonRetriableError(
        `Array of valid partitions required to ${verb} specific partitions instead of ${tp.partitions}`,
      )
    }
  }
}

/** Paused topics and partitions, as kafkajs keeps them: a whole topic (and its later partitions) or some partitions. */
class PauseState {
  private readonly topics = new Map<string, { all: boolean; paused: Set<number>; resumed: Set<number> }>()

  private stateOf(topic: string) {
    let s = this.topics.get(topic)
    if (!s) {
      s = { all: false, paused: new Set(), resumed: new Set() }
      this.topics.set(topic, s)
    }
    return s
  }

  pause(list: { topic: string; partitions?: number[] }[]): void {
    for (const { topic, partitions } of list) {
      const s = this.stateOf(topic)
      if (partitions === undefined) {
        s.paused.clear()
        s.resumed.clear()
        s.all = true
      } else {
        for (const p of partitions) {
          s.paused.add(p)
          s.resumed.delete(p)
        }
        s.all = false
      }
    }
  }

  resume(list: { topic: string; partitions?: number[] }[]): void {
    for (const { topic, partitions } of list) {
      const s = this.stateOf(topic)
      if (partitions === undefined) {
        s.paused.clear()
        s.resumed.clear()
        s.all = false
      } else {
        for (const p of partitions) {
          s.paused.delete(p)
          if (s.all) s.resumed.add(p)
        }
      }
    }
  }

  isPaused(topic: string, partition: number): boolean {
    const s = this.topics.get(topic)
    return s !== undefined && ((s.all && !s.resumed.has(partition)) || s.paused.has(partition))
  }
}

/** A kafkajs consumer (`kafka.consumer(config)`); its methods may be called detached, as kafkajs's. */
export class Consumer {
  readonly events: ConsumerEvents = CONSUMER_EVENTS
  private readonly log: Logger
  private readonly instrumentation: Instrumentation<ConsumerEvents>
  private readonly groupId: string
  private readonly retry: RetryOptions
  private readonly retryOptions: ReturnType<typeof retryPolicy>['options']
  private readonly spent: RetrySpent
  private readonly backoff: RetryPolicy
  private readonly assigners: Assigner[]
  /** Topic metadata for RegExp subscriptions and describeGroup(). */
  private readonly admin: Admin
  /** Subscribed topics, and whether each starts at its beginning when the group has no offset. */
  private readonly topics = new Map<string, boolean>()
  private readonly pauses = new PauseState()
  /** Seeks asked for and not applied yet: until the partition's batch ends, or until it is assigned. */
  private readonly seeks = new Map<string, bigint>()
  private progress = new Map<string, Progress>()
  /** The kafkax Consumer of the current run. */
  private engine: KafkaxConsumer | undefined
  private settings: RunSettings | undefined
  private running = false
  private group: GroupJoin | undefined
  private rebalanceStarted = 0
  private lastCommit = Date.now()
  /** Commits go one after another, each with the offsets resolved when it starts. */
  private committing: Promise<void> = Promise.resolve()
  private commitWaiting: Promise<void> | undefined
  private restartTimer: NodeJS.Timeout | undefined
  private stopping: Promise<void> | undefined
  private crashing = false

  constructor(
    private readonly kafka: KafkaContext,
    private readonly config: ConsumerConfig,
  ) {
    if (!config?.groupId) throw new KafkaJSNonRetriableError('Consumer groupId must be a non-empty string.')
    this.groupId = config.groupId
    const { sessionTimeout = 30_000, heartbeatInterval = 3000 } = config
    if (heartbeatInterval >= sessionTimeout) {
      throw new KafkaJSNonRetriableError(
        `Consumer heartbeatInterval (${heartbeatInterval}) must be lower than sessionTimeout (${sessionTimeout}). It is recommended to set heartbeatInterval to approximately a third of the sessionTimeout.`,
      )
    }
    this.log = kafka.logger.namespace('Consumer')
    this.instrumentation = new Instrumentation(this.events, this.log)
    this.retry = { ...kafka.config.retry, ...(config.retry ?? { retries: 5 }) }
    const policy = retryPolicy(this.retry, kafka.config.requestTimeout ?? 30_000)
    this.retryOptions = policy.options
    this.spent = policy.spent
    this.backoff = new RetryPolicy(policy.options)
    // kafkajs's assigners see the metadata the kafkax leader refreshed for the group's topics
    const cluster = {
      findTopicPartitionMetadata: (topic: string) =>
        partitionMetadata(this.engine?.cluster.metadata.topics.get(topic)?.partitions ?? []),
    }
    this.assigners = (config.partitionAssigners ?? [PartitionAssigners.roundRobin]).map((create) =>
      create({ cluster, groupId: this.groupId, logger: this.log }),
    )
    this.admin = new Admin(kafka, { retry: config.retry })
  }

  /** Connects to the cluster. */
  connect = async (): Promise<void> => {
    await this.admin.connect()
    this.instrumentation.emit(this.events.CONNECT)
  }

  /** Stops the consumer, then closes the connections. */
  disconnect = async (): Promise<void> => {
    try {
      await this.stop()
      await this.admin.disconnect()
      this.instrumentation.emit(this.events.DISCONNECT)
    } catch (error) {
      this.log.error(`Caught error when disconnecting the consumer: ${(error as Error).message}`, {
        groupId: this.groupId,
      })
      throw error
    }
  }

  /** Adds topics to the subscription: names, or RegExps matched against the cluster's topics now. */
  subscribe = async (subscription: ConsumerSubscribeTopics | ConsumerSubscribeTopic): Promise<void> => {
    if (this.engine) throw new KafkaJSNonRetriableError('Cannot subscribe to topic while consumer is running')
    const {
      topic,
      topics,
      fromBeginning = false,
    } = (subscription ?? {}) as Partial<ConsumerSubscribeTopic & ConsumerSubscribeTopics>
    if (!topic && !topics) throw new KafkaJSNonRetriableError('Missing required argument "topics"')
    if (topics != null && !Array.isArray(topics))
      throw new KafkaJSNonRetriableError('Argument "topics" must be an array')
    const wanted = topics ?? [topic!]
    for (const t of wanted) {
      if (typeof t !== 'string' && !(t instanceof RegExp)) {
        throw new KafkaJSNonRetriableError(
          `Invalid topic ${t} (${typeof t}), the topic name has to be a String or a RegExp`,
        )
      }
    }
    const existing = wanted.some((t) => t instanceof RegExp) ? await this.admin.listTopics() : []
    for (const t of wanted) {
      if (typeof t === 'string') this.topics.set(t, fromBeginning)
      else {
        const matched = existing.filter((name) => t.test(name))
        this.log.debug('Subscription based on RegExp', {
          groupId: this.groupId,
          topicRegExp: String(t),
          matchedTopics: matched,
        })
        for (const name of matched) this.topics.set(name, fromBeginning)
      }
    }
  }

  /** Joins the group and starts consuming; resolves once the consumer joined. */
  run = async (config: ConsumerRunConfig = {}): Promise<void> => {
    if (this.engine || this.settings) {
      this.log.warn('consumer#run was called, but the consumer is already running', { groupId: this.groupId })
      return
    }
    if (this.topics.size === 0) {
      throw new KafkaJSNonRetriableError('The consumer subscribes to no topic: call subscribe() before run()')
    }
    const threshold = config.autoCommitThreshold ?? null
    const interval = config.autoCommitInterval ?? null
    this.settings = {
      autoCommit: config.autoCommit ?? true,
      autoCommitInterval: interval,
      autoCommitThreshold: threshold,
      eachBatchAutoResolve: config.eachBatchAutoResolve ?? true,
      partitionsConsumedConcurrently: config.partitionsConsumedConcurrently ?? 1,
      eachBatch: config.eachBatch ?? undefined,
      eachMessage: config.eachMessage ?? undefined,
    }
    await this.start(this.settings)
  }

  /** Stops consuming: the batches being processed finish, offsets are committed, the member leaves the group. */
  stop = (): Promise<void> => {
    this.stopping ??= (async () => {
      try {
        clearTimeout(this.restartTimer)
        const engine = this.engine
        this.settings = undefined
        if (engine) {
          this.running = false
          await engine.stop()
          this.engine = undefined
          for (const p of this.progress.values()) clearTimeout(p.retryTimer)
          this.progress = new Map()
          this.instrumentation.emit(this.events.STOP)
        }
        this.log.info('Stopped', { groupId: this.groupId })
      } finally {
        this.stopping = undefined
      }
    })()
    return this.stopping
  }

  /** Commits offsets (each the next offset to read) for the group. */
  commitOffsets = async (topicPartitions: TopicPartitionOffsetAndMetadata[] = []): Promise<void> => {
    const offsets = topicPartitions.map(({ topic, partition, offset, metadata = null }) => {
      if (!topic) throw new KafkaJSNonRetriableError(`Invalid topic ${topic}`)
      if (Number.isNaN(Number(partition)))
        throw new KafkaJSNonRetriableError(`Invalid partition, expected a number received ${partition}`)
      const value = offsetOf(offset)
      if (value < 0n) throw new KafkaJSNonRetriableError('Offset must not be a negative number')
      if (metadata !== null && typeof metadata !== 'string')
        throw new KafkaJSNonRetriableError(`Invalid offset metadata, expected string or null, received ${metadata}`)
      return { topic, partition: Number(partition), offset: value, metadata: metadata ?? undefined }
    })
    const engine = this.initialized()
    if (!engine || !this.running) return
    await this.commit(engine, offsets, true)
  }

  /** Moves a partition to `offset` ('-2' earliest, '-1' latest) before its next batch; with autoCommit, commits it. */
  seek = ({ topic, partition, offset }: TopicPartitionOffset): void => {
    if (!topic) throw new KafkaJSNonRetriableError(`Invalid topic ${topic}`)
    if (Number.isNaN(Number(partition)))
      throw new KafkaJSNonRetriableError(`Invalid partition, expected a number received ${partition}`)
    const target = offsetOf(offset)
    if (target < 0n && target !== LATEST && target !== EARLIEST)
      throw new KafkaJSNonRetriableError('Offset must not be a negative number')
    const engine = this.initialized()
    const key = tpKey(topic, Number(partition))
    this.seeks.set(key, target)
    const p = this.progress.get(key)
    // a batch in progress ends first; an unassigned partition is moved once it is assigned
    if (engine && p && !p.busy) void this.applySeek(engine, p)
  }

  /** The group's state, protocol and members (their subscriptions and assignments as bytes). */
  describeGroup = async (): Promise<GroupDescription> => {
    const { groups } = await this.admin.describeGroups([this.groupId])
    return groups[0]
  }

  /** Stops fetching topics (every partition, also those assigned later) or some of their partitions. */
  pause = (topicPartitions: { topic: string; partitions?: number[] }[] = []): void => {
    checkTopicPartitions(topicPartitions, 'pause')
    const engine = this.initialized()
    this.log.info(`Pausing fetching from ${topicPartitions.length} topics`, { topicPartitions })
    this.pauses.pause(topicPartitions)
    engine?.pause(engine.assignment().filter((tp) => this.pauses.isPaused(tp.topic, tp.partition)))
  }

  /** Fetches paused topics or partitions again. */
  resume = (topicPartitions: { topic: string; partitions?: number[] }[] = []): void => {
    checkTopicPartitions(topicPartitions, 'resume')
    const engine = this.initialized()
    this.log.info(`Resuming fetching from ${topicPartitions.length} topics`, { topicPartitions })
    const before = (engine?.assignment() ?? []).filter((tp) => this.pauses.isPaused(tp.topic, tp.partition))
    this.pauses.resume(topicPartitions)
    engine?.resume(before.filter((tp) => !this.pauses.isPaused(tp.topic, tp.partition)))
  }

  /** The assigned partitions that are paused, per topic. */
  paused = (): TopicPartitions[] => {
    const byTopic = new Map<string, number[]>()
    for (const tp of this.engine?.assignment() ?? []) {
      if (!this.pauses.isPaused(tp.topic, tp.partition)) continue
      const list = byTopic.get(tp.topic) ?? []
      list.push(tp.partition)
      byTopic.set(tp.topic, list)
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }))
  }

  /** Listens to one of `consumer.events`; returns the function that removes the listener. */
  on: ConsumerOn = (eventName, listener) => this.instrumentation.on(eventName, listener)

  /** The consumer's logger (namespace Consumer). */
  logger = (): Logger => this.log

  // ------------------------------------------------------------------------------------------
  // A run

  /** The kafkax Consumer of the run (none while it starts or restarts); before run(), kafkajs's error. */
  private initialized(): KafkaxConsumer | undefined {
    if (!this.settings) {
      throw new KafkaJSNonRetriableError('Consumer group was not initialized, consumer#run must be called first')
    }
    return this.engine
  }

  /** Starts a kafkax Consumer for `settings` and waits until it joined (a failure to start is a crash). */
  private async start(settings: RunSettings): Promise<void> {
    this.log.info('Starting', { groupId: this.groupId })
    let engine: KafkaxConsumer
    try {
      engine = await this.engineFor(settings)
    } catch (error) {
      return this.crash(toKafkaJSError(error, this.spent))
    }
    this.engine = engine
    this.running = true
    this.rebalanceStarted = Date.now()
    const joined = new Promise<void>((resolve) => engine.once('joined', () => resolve()))
    const ended = engine.run((messages: Message[], context: HandlerContext) =>
      this.process(engine, settings, messages, context),
    )
    let failed: unknown
    await Promise.race([joined, ended.catch((error) => (failed = error ?? new Error('the consumer stopped')))])
    if (failed !== undefined && this.engine === engine) await this.crash(toKafkaJSError(failed, this.spent))
  }

  private async engineFor(settings: RunSettings): Promise<KafkaxConsumer> {
    const brokers = await resolveBrokers(this.kafka.config.brokers)
    const c = this.config
    const topics = [...this.topics.keys()]
    // one reset policy for all: the latest unless every topic starts at its beginning; the others are moved on assignment
    const fromBeginning = [...this.topics.values()].every(Boolean)
    // the client's retries are the consumer's clientRetry; its `retry` (handler retries) stays off: this runner retries
    const { retry: clientRetry, ...client } = clientOptions(this.kafka.config, brokers, this.log, {
      retry: this.retryOptions,
      maxInFlightRequests: c.maxInFlightRequests,
      metadataMaxAge: c.metadataMaxAge,
    })
    const engine = new KafkaxConsumer({
      ...client,
      clientRetry,
      groupId: this.groupId,
      topics,
      fromBeginning,
      concurrency: settings.partitionsConsumedConcurrently,
      // a partition's fetched messages, at once
      batch: { size: Number.MAX_SAFE_INTEGER, timeoutMs: 0 },
      // this consumer commits; kafkax commits what was handled on revocation and stop only with autoCommit
      commit: { mode: settings.autoCommit ? 'manual' : 'off' },
      isolationLevel: c.readUncommitted ? 'read_uncommitted' : 'read_committed',
      sessionTimeoutMs: c.sessionTimeout ?? 30_000,
      rebalanceTimeoutMs: c.rebalanceTimeout ?? 60_000,
      heartbeatIntervalMs: c.heartbeatInterval ?? 3000,
      assignors: this.assigners.map((a) => groupAssignor(a, () => topics)),
      fetch: {
        maxWaitMs: c.maxWaitTimeInMs ?? 5000,
        minBytes: c.minBytes ?? 1,
        maxBytes: c.maxBytes ?? 10_485_760,
        partitionMaxBytes: c.maxBytesPerPartition ?? 1_048_576,
        rackId: c.rackId || undefined,
      },
      logger: kafkaxLogger(this.log),
      onNetworkEvent: this.networkListener(),
      onError: (error) => this.log.error(error.message, { groupId: this.groupId, error: error.message }),
    })
    // subscribed topics that do not exist yet are created when the group's leader looks them up
    engine.cluster.allowAutoTopicCreation = c.allowAutoTopicCreation ?? true
    engine.on('assigned', (tps: TopicPartition[]) => this.onAssigned(engine, tps, fromBeginning))
    engine.on('revoked', (tps: TopicPartition[]) => this.onRevoked(tps))
    engine.on('joined', (group: GroupJoin) => this.onJoined(group))
    return engine
  }

  private onAssigned(engine: KafkaxConsumer, tps: TopicPartition[], fromBeginning: boolean): void {
    const toReset: TopicPartition[] = []
    for (const tp of tps) {
      const p: Progress = {
        tp,
        resolved: undefined,
        committed: undefined,
        busy: false,
        failures: 0,
        retryTimer: undefined,
      }
      this.progress.set(tpKey(tp.topic, tp.partition), p)
      if (this.pauses.isPaused(tp.topic, tp.partition)) engine.pause([tp])
      if (this.seeks.has(tpKey(tp.topic, tp.partition))) void this.applySeek(engine, p)
      else if (this.topics.get(tp.topic) !== fromBeginning) toReset.push(tp)
    }
    if (toReset.length > 0) void this.resetToBeginning(engine, toReset)
  }

  /**
   * Partitions of a topic subscribed `fromBeginning` while the reset policy is the latest: held
   * while their committed offsets are looked up, those without one moved to the earliest offset.
   */
  private async resetToBeginning(engine: KafkaxConsumer, tps: TopicPartition[]): Promise<void> {
    engine.pause(tps)
    try {
      const lag = await engine.lag()
      const uncommitted = new Set(lag.filter((l) => l.committed === null).map((l) => tpKey(l.topic, l.partition)))
      for (const tp of tps) if (uncommitted.has(tpKey(tp.topic, tp.partition))) await engine.seek(tp, 'earliest')
    } catch (error) {
      this.log.error(`Could not move partitions to their beginning: ${(error as Error).message}`, {
        groupId: this.groupId,
      })
    }
    engine.resume(tps.filter((tp) => !this.pauses.isPaused(tp.topic, tp.partition)))
  }

  private onRevoked(tps: TopicPartition[]): void {
    for (const tp of tps) {
      const key = tpKey(tp.topic, tp.partition)
      clearTimeout(this.progress.get(key)?.retryTimer)
      this.progress.delete(key)
    }
    this.rebalanceStarted = Date.now()
    this.instrumentation.emit(this.events.REBALANCING, { groupId: this.groupId, memberId: this.group?.memberId ?? '' })
  }

  private onJoined(group: GroupJoin): void {
    this.group = group
    const memberAssignment: Record<string, number[]> = {}
    for (const { topic, partition } of group.assignment) {
      memberAssignment[topic] ??= []
      memberAssignment[topic].push(partition)
    }
    const payload = {
      groupId: this.groupId,
      memberId: group.memberId,
      leaderId: group.leaderId,
      isLeader: group.leaderId === group.memberId,
      memberAssignment,
      groupProtocol: group.protocol,
      duration: Date.now() - this.rebalanceStarted,
    }
    const assignedTopics = Object.keys(memberAssignment)
    const topicsNotSubscribed = assignedTopics.filter((t) => !this.topics.has(t))
    if (topicsNotSubscribed.length > 0) {
      const unsubscribed = {
        groupId: this.groupId,
        generationId: group.generationId,
        memberId: group.memberId,
        assignedTopics,
        topicsSubscribed: [...this.topics.keys()],
        topicsNotSubscribed,
      }
      this.instrumentation.emit(this.events.RECEIVED_UNSUBSCRIBED_TOPICS, unsubscribed)
      this.log.warn('Consumer group received unsubscribed topics', unsubscribed)
    }
    this.instrumentation.emit(this.events.GROUP_JOIN, payload)
    this.log.info('Consumer has joined the group', payload)
  }

  // ------------------------------------------------------------------------------------------
  // Batches

  /** One partition's fetched messages through eachMessage or eachBatch, as kafkajs's runner processes a batch. */
  private async process(
    engine: KafkaxConsumer,
    settings: RunSettings,
    messages: Message[],
    context: HandlerContext,
  ): Promise<void> {
    const { topic, partition } = messages[0]
    const key = tpKey(topic, partition)
    const p = this.progress.get(key)
    // a batch of a partition revoked since it was handed out: the next owner reads it
    if (!p) return
    p.busy = true
    const first = messages[0].offset
    const last = messages[messages.length - 1].offset
    p.resolved = first
    p.committed ??= first
    const highWatermark = String(engine.highWatermark(p.tp) ?? last + 1n)
    const events =
      this.instrumentation.has(this.events.START_BATCH_PROCESS) ||
      this.instrumentation.has(this.events.END_BATCH_PROCESS)
    const described = events ? batchEvent(topic, partition, highWatermark, messages) : undefined
    if (described) this.instrumentation.emit(this.events.START_BATCH_PROCESS, described)
    const startedAt = Date.now()
    let failure: unknown
    let failed = false
    try {
      if (settings.eachMessage) await this.eachMessage(settings, p, messages, context)
      else if (settings.eachBatch)
        await this.eachBatch(
          engine,
          settings,
          p,
          new PartitionBatch(topic, partition, highWatermark, messages),
          context,
        )
      p.failures = 0
      if (described)
        this.instrumentation.emit(this.events.END_BATCH_PROCESS, { ...described, duration: Date.now() - startedAt })
    } catch (error) {
      failure = error
      failed = true
      if (!(error instanceof KafkaJSError)) {
        this.log.error(`Error when calling ${settings.eachMessage ? 'eachMessage' : 'eachBatch'}`, {
          topic,
          partition,
          offset: String(p.resolved),
          stack: (error as Error)?.stack,
          error: (error as Error)?.message ?? String(error),
        })
      }
    } finally {
      p.busy = false
    }
    // what was resolved is committed, failure or not, as kafkajs's runner does; after a success the
    // next batch need not wait for it (the commits keep their order, and revocation and stop commit too)
    if (settings.autoCommit && failed) await this.commitResolved(engine)
    else if (settings.autoCommit) void this.commitResolved(engine)
    const seek = this.seeks.get(key)
    if (seek !== undefined) await this.applySeek(engine, p)
    // what was not resolved is read again (a partition revoked meanwhile is its next owner's)
    else if (p.resolved! <= last) await engine.seek(p.tp, p.resolved!).catch(() => {})
    if (failed) this.failed(engine, p, failure)
  }

  private async eachMessage(settings: RunSettings, p: Progress, messages: Message[], context: HandlerContext) {
    const { topic, partition } = p.tp
    const key = tpKey(topic, partition)
    const pause = this.pauser(p.tp)
    const eachMessage = settings.eachMessage!
    const checkCommit =
      settings.autoCommit && (settings.autoCommitInterval !== null || settings.autoCommitThreshold !== null)
    // the resolved offset is kept as the count of messages handled; made a bigint when asked for
    let handled = 0
    try {
      for (const m of messages) {
        if (!this.running || context.signal.aborted || this.seeks.has(key)) break
        await eachMessage({ topic, partition, message: kafkaMessage(m), heartbeat: this.heartbeat, pause })
        handled++
        if (checkCommit) {
          p.resolved = m.offset + 1n
          await this.commitIfNecessary()
        }
        if (this.pauses.isPaused(topic, partition)) break
      }
    } finally {
      if (handled > 0) p.resolved = messages[handled - 1].offset + 1n
    }
  }

  private async eachBatch(
    engine: KafkaxConsumer,
    settings: RunSettings,
    p: Progress,
    batch: PartitionBatch,
    context: HandlerContext,
  ): Promise<void> {
    const key = tpKey(p.tp.topic, p.tp.partition)
    const payload: EachBatchPayload = {
      batch,
      resolveOffset: (offset) => {
        p.resolved = offsetOf(offset) + 1n
      },
      heartbeat: this.heartbeat,
      pause: this.pauser(p.tp),
      commitOffsetsIfNecessary: async (offsets) => {
        if (!offsets) return this.commitIfNecessary()
        await this.commit(engine, topicOffsets(offsets.topics ?? []), true)
      },
      uncommittedOffsets: () => this.uncommittedOffsets(),
      isRunning: () => this.running,
      isStale: () => context.signal.aborted || this.seeks.has(key),
    }
    await settings.eachBatch!(payload)
    if (settings.eachBatchAutoResolve && !batch.isEmpty()) p.resolved = BigInt(batch.lastOffset()) + 1n
  }

  /** kafkax's member heartbeats on its own timer: nothing is left to do here. */
  private readonly heartbeat = async (): Promise<void> => {}

  private pauser(tp: TopicPartition): () => () => void {
    const list = [{ topic: tp.topic, partitions: [tp.partition] }]
    return () => {
      this.pause(list)
      return () => this.resume(list)
    }
  }

  /**
   * A failed batch: retried after kafkajs's backoff (the partition alone waits, from its first
   * offset not resolved); past `retries` failures in a row, or for an error not worth retrying, a crash.
   */
  private failed(engine: KafkaxConsumer, p: Progress, error: unknown): void {
    p.failures++
    const retries = this.retry.retries ?? 5
    if (!retriable(error) || p.failures > retries) {
      const crash = retriable(error)
        ? new KafkaJSNumberOfRetriesExceeded(error as Error, {
            retryCount: p.failures - 1,
            retryTime: this.backoff.delay(p.failures),
          })
        : new KafkaJSNonRetriableError(error as Error, { cause: error })
      void this.crash(crash)
      return
    }
    engine.pause([p.tp])
    p.retryTimer = setTimeout(() => {
      if (this.engine === engine && !this.pauses.isPaused(p.tp.topic, p.tp.partition)) engine.resume([p.tp])
    }, this.backoff.delay(p.failures))
  }

  /** Moves a partition to its pending seek. */
  private async applySeek(engine: KafkaxConsumer, p: Progress): Promise<void> {
    const key = tpKey(p.tp.topic, p.tp.partition)
    const target = this.seeks.get(key)
    if (target === undefined) return
    this.seeks.delete(key)
    try {
      if (target === EARLIEST || target === LATEST) {
        await engine.seek(p.tp, target === EARLIEST ? 'earliest' : 'latest')
        p.resolved = undefined
        return
      }
      await engine.seek(p.tp, target)
      p.resolved = target
      // kafkajs commits the offset it seeks to, with autoCommit
      if (this.settings?.autoCommit) await this.commit(engine, [{ ...p.tp, offset: target }], false)
    } catch (error) {
      this.log.error(`Seek of ${p.tp.topic}-${p.tp.partition} to ${target} failed: ${(error as Error).message}`, {
        groupId: this.groupId,
      })
    }
  }

  // ------------------------------------------------------------------------------------------
  // Offsets

  /** The resolved offsets not committed yet. */
  private uncommittedOffsets(): OffsetsByTopicPartition {
    const byTopic = new Map<string, TopicOffsets>()
    for (const p of this.progress.values()) {
      if (p.resolved === undefined || p.resolved === p.committed) continue
      let t = byTopic.get(p.tp.topic)
      if (!t) {
        t = { topic: p.tp.topic, partitions: [] }
        byTopic.set(p.tp.topic, t)
      }
      t.partitions.push({ partition: p.tp.partition, offset: String(p.resolved) })
    }
    return { topics: [...byTopic.values()] }
  }

  /** Commits the resolved offsets once autoCommitInterval passed or autoCommitThreshold were resolved. */
  private async commitIfNecessary(): Promise<void> {
    const s = this.settings
    const engine = this.engine
    if (!s || !engine) return
    const due = s.autoCommitInterval !== null && Date.now() >= this.lastCommit + s.autoCommitInterval
    let resolved = 0n
    if (!due && s.autoCommitThreshold !== null) {
      for (const p of this.progress.values()) if (p.resolved !== undefined) resolved += p.resolved - (p.committed ?? 0n)
    }
    if (due || (s.autoCommitThreshold !== null && resolved >= BigInt(s.autoCommitThreshold)))
      await this.commitResolved(engine)
  }

  /** Commits every resolved offset not committed yet; a rebalance under way is left to the revocation's commit. */
  private commitResolved(engine: KafkaxConsumer): Promise<void> {
    // one waiting commit is enough: it takes the offsets resolved when it starts
    if (this.commitWaiting) return this.commitWaiting
    const next = this.committing.then(async () => {
      this.commitWaiting = undefined
      const list = this.uncommittedOffsets().topics.flatMap((t) =>
        t.partitions.map((o) => ({ topic: t.topic, partition: o.partition, offset: BigInt(o.offset) })),
      )
      try {
        await this.commitNow(engine, list)
      } catch (error) {
        // a rebalance (or stop) under way commits what was resolved itself
        if (!this.running || (error instanceof KafkaError && REBALANCE_ERRORS.has(error.code))) return
        this.log.error(`Could not commit offsets: ${(error as Error).message}`, { groupId: this.groupId })
      }
    })
    this.committing = next
    this.commitWaiting = next
    return next
  }

  /** Commits `offsets` after the commits before it; `thrown`: its errors go to the caller, as kafkajs's. */
  private commit(
    engine: KafkaxConsumer,
    offsets: { topic: string; partition: number; offset: bigint; metadata?: string }[],
    thrown: boolean,
  ): Promise<void> {
    const next = this.committing.then(() => this.commitNow(engine, offsets))
    this.committing = next.catch(() => {})
    return thrown ? next.catch((error) => Promise.reject(toKafkaJSError(error, this.spent))) : this.committing
  }

  private async commitNow(
    engine: KafkaxConsumer,
    offsets: { topic: string; partition: number; offset: bigint; metadata?: string }[],
  ): Promise<void> {
    if (offsets.length > 0) {
      await engine.commit(offsets)
      const topics = new Map<string, TopicOffsets>()
      for (const o of offsets) {
        const p = this.progress.get(tpKey(o.topic, o.partition))
        if (p) p.committed = o.offset
        let t = topics.get(o.topic)
        if (!t) {
          t = { topic: o.topic, partitions: [] }
          topics.set(o.topic, t)
        }
        t.partitions.push({ partition: o.partition, offset: String(o.offset) })
      }
      this.instrumentation.emit(this.events.COMMIT_OFFSETS, {
        groupId: this.groupId,
        memberId: this.group?.memberId ?? '',
        groupGenerationId: this.group?.generationId ?? -1,
        topics: [...topics.values()],
      })
    }
    this.lastCommit = Date.now()
  }

  // ------------------------------------------------------------------------------------------
  // Crashes and events

  /**
   * kafkajs's crash: the consumer disconnects, CRASH says whether it restarts (retriable errors,
   * unless retry.restartOnFailure says no), and a restart follows after the retry time.
   */
  private async crash(error: unknown): Promise<void> {
    if (this.crashing) return
    this.crashing = true
    const settings = this.settings
    const e = error as KafkaJSError & { retryCount?: number; retryTime?: number }
    try {
      this.log.error(`Crash: ${e?.name}: ${e?.message}`, {
        groupId: this.groupId,
        retryCount: e?.retryCount,
        stack: e?.stack,
      })
      await this.disconnect().catch(() => {})
      let restart =
        e?.name === 'KafkaJSNumberOfRetriesExceeded' ||
        (originalCause(e) as { retriable?: unknown })?.retriable === true
      if (restart && this.retry.restartOnFailure) {
        restart = await this.retry.restartOnFailure(e).catch((failure) => {
          this.log.error(
            'Caught error when invoking user-provided "restartOnFailure" callback. Defaulting to restarting.',
            {
              error: (failure as Error)?.message ?? failure,
              cause: e?.message ?? e,
              groupId: this.groupId,
            },
          )
          return true
        })
      }
      this.instrumentation.emit(this.events.CRASH, { error: e, groupId: this.groupId, restart })
      if (restart && settings) {
        const retryTime = e?.retryTime || this.retry.initialRetryTime || 300
        this.log.error(`Restarting the consumer in ${retryTime}ms`, {
          retryCount: e?.retryCount,
          retryTime,
          groupId: this.groupId,
        })
        this.settings = settings
        this.restartTimer = setTimeout(() => void this.start(settings), retryTime)
      }
    } finally {
      this.crashing = false
    }
  }

  /** The kafkax Consumer's network events as `consumer.network.*`, and the heartbeats and fetches they tell of. */
  private networkListener(): (event: NetworkEvent) => void {
    const network = this.instrumentation.networkListener()
    return (event) => {
      network(event)
      if (event.type !== 'request') return
      if (event.apiKey === HEARTBEAT_API && this.instrumentation.has(this.events.HEARTBEAT)) {
        this.instrumentation.emit(this.events.HEARTBEAT, {
          groupId: this.groupId,
          memberId: this.group?.memberId ?? '',
          groupGenerationId: this.group?.generationId ?? -1,
        })
      } else if (event.apiKey === FETCH_API) {
        const fetchEvents =
          this.instrumentation.has(this.events.FETCH) || this.instrumentation.has(this.events.FETCH_START)
        if (!fetchEvents) return
        const [host, port] = [
          event.broker.slice(0, event.broker.lastIndexOf(':')),
          Number(event.broker.slice(event.broker.lastIndexOf(':') + 1)),
        ]
        let nodeId = -1
        for (const b of this.engine?.cluster.metadata.brokers.values() ?? [])
          if (b.host === host && b.port === port) nodeId = b.nodeId
        this.instrumentation.emit(this.events.FETCH_START, { nodeId })
        this.instrumentation.emit(this.events.FETCH, { numberOfBatches: 0, duration: event.duration, nodeId })
      }
    }
  }
}

/** What START_BATCH_PROCESS and END_BATCH_PROCESS say about a batch. */
function batchEvent(topic: string, partition: number, highWatermark: string, messages: Message[]): IBatchProcessEvent {
  const first = messages[0].offset
  const last = messages[messages.length - 1].offset
  const end = BigInt(highWatermark) - 1n
  return {
    topic,
    partition,
    highWatermark,
    offsetLag: String(end - last),
    offsetLagLow: String(end - first),
    batchSize: messages.length,
    firstOffset: String(first),
    lastOffset: String(last),
  }
}
