// The kafkax Consumer: a fetcher feeds the dispatcher, which runs the handler (in its pipeline of
// middleware, retry and dead letters) on `concurrency` workers with order kept per partition (or
// per key); the committer commits in order, never past a message that was not handled (or
// dead-lettered). In a group, partitions come and go with rebalances: a partition is revoked only
// after its handlers finished and its offset committed. With `exactlyOnce`, offsets commit in the
// transactions of exactly-once.ts instead, with what the handlers wrote.

import { EventEmitter } from 'node:events'
import { Cluster } from '../client/cluster.ts'
import { assignorByName } from '../group/assignors.ts'
import { ClassicGroupMember } from '../group/classic-member.ts'
import { ConsumerGroupMember } from '../group/consumer-member.ts'
import type { GroupListener, GroupMembership } from '../group/membership.ts'
import { subscriptionRegex } from '../group/subscription-pattern.ts'
import { childLogger, type Logger, resolveLogger } from '../observability/logger.ts'
import { traced } from '../observability/tracing.ts'
import { resolveProducerOptions } from '../producer/options.ts'
import { Producer } from '../producer/producer.ts'
import type { ConsumerGroupMetadata } from '../producer/transaction-requests.ts'
import { ConfigError, TimeoutError } from '../protocol/errors.ts'
import { consumerChannels as channels } from './channels.ts'
import { Committer } from './committer.ts'
import { Dispatcher } from './dispatcher.ts'
import { ExactlyOnce, groupMetadata } from './exactly-once.ts'
import { Fetcher, type SeekTarget } from './fetcher.ts'
import { deadLetterProducerOptions, HandlerPipeline } from './handler-pipeline.ts'
import { messagesOf } from './iterator.ts'
import type { BatchHandler, BatchMiddleware, Handler, Message, Middleware, TopicPartition } from './message.ts'
import { tpKey } from './message.ts'
import {
  type ConsumerOptions,
  checkRunOptions,
  type ResolvedConsumerOptions,
  type RunOptions,
  resolveConsumerOptions,
  resolveStopOptions,
  type StopOptions,
} from './options.ts'

export type { ConsumerOptions, RunOptions, StopOptions } from './options.ts'

/** Where one assigned partition stands: what the group committed, where the consumer reads, how far behind it is. */
export interface PartitionLag {
  topic: string
  partition: number
  /** The group's committed offset (null: none, or no group). */
  committed: bigint | null
  /** The next offset the consumer fetches (undefined until known). */
  position: bigint | undefined
  /** The partition's high watermark at the last fetch (undefined until fetched). */
  highWatermark: bigint | undefined
  /** The high watermark less the committed offset, or less the position without one. */
  lag: bigint | undefined
}

/** Counters of a consumer since it was created, and what runs now (`Consumer.stats()`). */
export interface ConsumerStats {
  /** Messages handled (or dead-lettered). */
  messages: number
  /** Key and value bytes of the messages dispatched. */
  bytes: number
  fetches: number
  /** Handler runs that failed for good and stopped their partition. */
  handlerErrors: number
  commits: number
  rebalances: number
  /** Handlers running now. */
  inFlight: number
  /** Messages between each assigned partition's position and its high watermark, summed. */
  lag: number
  /** Handler run times (each run: a message, or a batch). */
  handlerMs: { count: number; mean: number; p50: number; p99: number; max: number }
  /** Record bytes prefetched and not yet dispatched, as received (compressed), bounded by `fetch.maxBufferedBytes`. */
  bufferedBytes: number
  /** Of those, the key and value bytes held decoded now: a chunk per partition at most. */
  decodedBytes: number
}

/**
 * Reads topics as a member of a consumer group (or assigned partitions without one) and runs a
 * handler on each message (or, with the `batch` option, on batches of one partition).
 */
export class Consumer extends EventEmitter {
  readonly cluster: Cluster
  private readonly options: ResolvedConsumerOptions
  private readonly log: Logger
  private readonly fetcher: Fetcher
  private readonly member: GroupMembership | undefined
  private readonly committer: Committer | undefined
  private readonly exactlyOnce: ExactlyOnce | undefined
  private readonly isolationLevel: ConsumerOptions['isolationLevel']
  private readonly dispatcher: Dispatcher
  private readonly pipeline: HandlerPipeline
  private running: Promise<void> | undefined
  /** Settles once the consumer joined its group (or took its assignment): run()'s start. */
  private started: Promise<void> | undefined
  private stopping: Promise<void> | undefined
  private readonly stopped: Promise<void>
  private markStopped!: () => void
  private readonly stopController = new AbortController()
  private rebalances = 0

  constructor(options: ConsumerOptions) {
    super()
    this.stopped = new Promise((resolve) => {
      this.markStopped = resolve
    })
    const o = resolveConsumerOptions(options)
    // the dead-letter producer is made at run(): its options are checked now, with the others
    if (o.dlq) resolveProducerOptions(deadLetterProducerOptions(o), 'dead-letter producer')
    this.options = o
    const { groupId, subscription } = o
    this.cluster = new Cluster(o.client)
    this.log = childLogger(resolveLogger(o.logger), { clientId: o.client.clientId, groupId })
    const rackId = o.rackId ?? o.fetch.rackId
    // an exactly-once consumer handles committed input only, unless told otherwise
    this.isolationLevel = options.isolationLevel ?? (o.exactlyOnce ? 'read_committed' : o.isolationLevel)
    this.fetcher = new Fetcher(this.cluster, {
      ...o.fetch,
      rackId,
      isolationLevel: this.isolationLevel,
      resetPolicy: o.autoOffsetReset ?? (o.fromBeginning ? 'earliest' : 'latest'),
      logger: this.log,
    })
    this.dispatcher = new Dispatcher(this.fetcher, {
      concurrency: o.concurrency,
      orderBy: o.orderBy,
      batch: o.batch,
      groupId,
      stop: this.stopController.signal,
      report: (error) => this.report(error),
      admit: o.exactlyOnce ? (s, offset) => this.exactlyOnce!.admit(s, offset) : undefined,
    })
    this.fetcher.on('error', (error: Error) => this.report(error))
    this.fetcher.onData = () => this.dispatcher.pump()
    if (groupId && subscription) {
      const listener: GroupListener = {
        onAssigned: (tps) => this.rebalance('assigned', tps, () => this.onAssigned(tps)),
        onRevoked: (tps) => this.rebalance('revoked', tps, () => this.onRevoked(tps, true)),
        onLost: (tps) => this.rebalance('lost', tps, () => this.onRevoked(tps, false)),
        onError: (error) => this.report(error),
        onJoined: (group) => this.emit('joined', group),
      }
      const { groupInstanceId, rebalanceTimeoutMs } = o
      const { names, patterns } = subscription
      if (o.groupProtocol === 'consumer') {
        this.member = new ConsumerGroupMember(
          this.cluster,
          {
            groupId,
            groupInstanceId,
            topics: names,
            topicRegex: subscriptionRegex(patterns) ?? undefined,
            rebalanceTimeoutMs,
            serverAssignor: o.serverAssignor,
            rackId,
          },
          listener,
        )
      } else {
        this.member = new ClassicGroupMember(
          this.cluster,
          {
            groupId,
            groupInstanceId,
            topics: names,
            patterns,
            sessionTimeoutMs: o.sessionTimeoutMs,
            rebalanceTimeoutMs,
            heartbeatIntervalMs: o.heartbeatIntervalMs,
            assignors: o.assignors.map((a) => (typeof a === 'string' ? assignorByName(a) : a)),
            rackId,
          },
          listener,
        )
      }
      if (o.exactlyOnce) {
        this.exactlyOnce = new ExactlyOnce(o.exactlyOnce, {
          dispatcher: this.dispatcher,
          member: this.member,
          groupId,
          log: this.log,
          stop: this.stopController.signal,
          report: (error) => this.report(error),
          fatal: (error) => {
            this.report(error)
            void this.stop().catch((e) => this.report(e))
          },
        })
      } else this.committer = new Committer(this.member, groupId, this.log)
    }
    const eo = this.exactlyOnce
    this.pipeline = new HandlerPipeline(
      o,
      () => eo?.deadLetters ?? new Producer(deadLetterProducerOptions(o)),
      eo?.middleware,
    )
  }

  /** Adds a middleware; the first added is the outermost. */
  use(middleware: Middleware): this {
    if (this.running) throw new ConfigError('add middleware before run()')
    if (typeof middleware !== 'function') throw new ConfigError('use() needs a middleware function (next) => handler')
    this.pipeline.middlewares.push(middleware)
    return this
  }

  /**
   * Adds a batch middleware (batch mode: the `batch` option), which wraps the batch handler as
   * `use()` middleware wraps a message handler; the first added is the outermost.
   */
  useBatch(middleware: BatchMiddleware): this {
    if (this.running) throw new ConfigError('add middleware before run()')
    if (typeof middleware !== 'function') {
      throw new ConfigError('useBatch() needs a middleware function (next) => handler')
    }
    this.pipeline.batchMiddlewares.push(middleware)
    return this
  }

  /** Consumes until stop() (or the signal); resolves once stopped. */
  run(handler: Handler, options?: RunOptions): Promise<void>
  /** Batch mode (the `batch` option): the handler gets the messages of one partition at once. */
  run(handler: BatchHandler, options?: RunOptions): Promise<void>
  run(handler: Handler | BatchHandler, options: RunOptions = {}): Promise<void> {
    if (this.running) throw new ConfigError('run() was already called')
    if (typeof handler !== 'function') throw new ConfigError('run() needs a handler function')
    const { signal, handleSignals } = checkRunOptions(options)
    this.dispatcher.handleWith(
      this.options.batch ? this.pipeline.buildBatch(handler as BatchHandler) : this.pipeline.build(handler as Handler),
    )
    const stop = () => void this.stop().catch((e) => this.report(e))
    signal?.addEventListener('abort', stop, { once: true })
    if (handleSignals) {
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
    }
    this.started = this.begin()
    // run() settles once stop() has committed and left the group; a failure to start stops too
    this.running = this.started
      .then(
        () => this.stopped,
        async (error) => {
          await this.stop().catch((e) => this.report(e))
          throw error
        },
      )
      .finally(() => {
        signal?.removeEventListener('abort', stop)
        process.off('SIGTERM', stop)
        process.off('SIGINT', stop)
      })
    return this.running
  }

  /** Connects and joins (or takes the assignment); fetched data then drives the dispatcher. */
  private async begin(): Promise<void> {
    await this.cluster.connect()
    await this.exactlyOnce?.start()
    if (this.member) await this.member.start()
    else this.onAssigned(this.options.assign!.map(({ topic, partition }) => ({ topic, partition })))
    const { mode, intervalMs } = this.options.commit
    if (this.committer && mode === 'auto' && !this.stopController.signal.aborted) {
      this.committer.start(
        intervalMs,
        () => this.commitHandled(),
        (e) => this.report(e),
      )
    }
  }

  // ------------------------------------------------------------------------------------------
  // Assignment

  private rebalance(type: 'assigned' | 'revoked' | 'lost', tps: TopicPartition[], fn: () => Promise<void>) {
    const partitions = tps.map((tp) => `${tp.topic}-${tp.partition}`)
    if (type === 'lost') this.log.warn?.({ partitions }, 'partitions lost')
    else this.log.info?.({ partitions }, `partitions ${type}`)
    return traced(channels.rebalance, () => ({ groupId: this.options.groupId, type, partitions: tps }), fn)
  }

  private async onAssigned(tps: TopicPartition[]): Promise<void> {
    this.rebalances++
    const committed = this.member
      ? await this.member.committed(tps, this.isolationLevel === 'read_committed')
      : undefined
    const explicit = new Map((this.options.assign ?? []).map((a) => [tpKey(a.topic, a.partition), a.offset]))
    this.dispatcher.assign(tps)
    this.fetcher.assign(
      tps.map((tp) => {
        const c = committed?.get(tpKey(tp.topic, tp.partition))
        const offset = c ? c.offset : explicit.get(tpKey(tp.topic, tp.partition))
        return { ...tp, offset, leaderEpoch: c?.leaderEpoch }
      }),
    )
    this.emit('assigned', tps)
  }

  /** Revocation (clean: wait for handlers, commit) or loss (abort handlers, commit nothing). */
  private async onRevoked(tps: TopicPartition[], clean: boolean): Promise<void> {
    this.fetcher.unassign(tps)
    const states = this.dispatcher.revoke(tps, !clean)
    await this.dispatcher.settled(states)
    // an exactly-once consumer's open transaction holds these partitions' records: it ends first
    if (this.exactlyOnce)
      await (clean ? this.exactlyOnce.commit() : this.exactlyOnce.abort()).catch((e) => this.report(e))
    else if (clean && this.options.commit.mode !== 'off')
      await this.committer?.commit(states.map((s) => s.offsets)).catch((e) => this.report(e))
    this.dispatcher.remove(states)
    this.emit('revoked', tps)
  }

  // ------------------------------------------------------------------------------------------
  // Commits

  /**
   * Commits, for every partition, the offset after the last message handled in order; or exactly
   * `offsets` (each the next offset to read), whatever was handled. Rebalance errors are thrown then.
   */
  async commit(offsets?: { topic: string; partition: number; offset: bigint; metadata?: string }[]): Promise<void> {
    if (!this.member) throw new ConfigError('commit() needs a groupId')
    if (!offsets) return this.commitHandled()
    if (!this.committer) throw new ConfigError('commit(offsets) does not go with exactlyOnce: its transactions commit')
    const states = offsets.map((o) => this.dispatcher.get(o))
    await this.committer.commitOffsets(offsets.map((o, i) => ({ ...o, leaderEpoch: states[i]?.offsets.leaderEpoch })))
    offsets.forEach((o, i) => {
      if (states[i]) states[i].offsets.committed = o.offset
    })
  }

  private async commitHandled(): Promise<void> {
    if (this.exactlyOnce) return this.exactlyOnce.commit()
    const partitions = [...this.dispatcher.partitions.values()].filter((s) => !s.revoked)
    await this.committer?.commit(partitions.map((s) => s.offsets))
  }

  // ------------------------------------------------------------------------------------------
  // Control

  /**
   * Stops fetching, lets running handlers finish (their signal aborts) for up to `timeoutMs`,
   * commits what was handled, leaves the group; resolves when done, or rejects with a TimeoutError
   * if handlers were still running at the timeout. A second call returns the first one's promise.
   */
  stop(options: StopOptions = {}): Promise<void> {
    let timeoutMs: number
    try {
      ;({ timeoutMs } = resolveStopOptions(options))
    } catch (error) {
      return Promise.reject(error)
    }
    this.stopping ??= (async () => {
      this.stopController.abort()
      this.committer?.stop()
      await this.started?.catch(() => {})
      const unfinished = await this.dispatcher.drain(timeoutMs)
      if (this.options.commit.mode !== 'off') await this.commitHandled().catch((e) => this.report(e))
      // leaving the group revokes (nothing left to run) before the LeaveGroup
      await this.member?.stop().catch((e) => this.report(e))
      await this.fetcher.close()
      await this.pipeline.close().catch((e) => this.report(e))
      await this.cluster.close()
      if (unfinished.length > 0) {
        const partitions = unfinished.map((tp) => `${tp.topic}-${tp.partition}`).join(', ')
        throw new TimeoutError(
          `stop() waited ${timeoutMs} ms for handlers still running on ${partitions}; committed only what was handled before them`,
          { retriable: false },
        )
      }
    })().finally(() => this.markStopped())
    return this.stopping
  }

  /** Moves a partition's position; what was fetched and not handled yet is dropped. */
  async seek(tp: TopicPartition, to: SeekTarget): Promise<void> {
    const s = this.dispatcher.get(tp)
    if (!s) throw new ConfigError(`${tp.topic}-${tp.partition} is not assigned to this consumer`)
    await this.dispatcher.seek(s, to)
  }

  /** Stops handing out these partitions' messages (and fetching them) until resume(); running handlers go on. */
  pause(tps: TopicPartition[]): void {
    this.dispatcher.pause(tps)
  }

  /** Hands out (and fetches) these partitions' messages again. */
  resume(tps: TopicPartition[]): void {
    this.dispatcher.resume(tps)
  }

  /** A partition's high watermark as of its last fetch (undefined before one). */
  highWatermark(tp: TopicPartition): bigint | undefined {
    return this.fetcher.highWatermark(tp)
  }

  /**
   * The group member this consumer is now, for `producer.sendOffsetsToTransaction()` (as the Java
   * consumer's `groupMetadata()`): with the generation (or member epoch), member id and instance id
   * the coordinator refuses the offsets of a member the group has fenced since (KIP-447). A consumer
   * without a group has no such metadata: a ConfigError.
   */
  groupMetadata(): ConsumerGroupMetadata {
    if (!this.member) throw new ConfigError('groupMetadata: the consumer has no groupId')
    return groupMetadata(this.member)
  }

  /** The partitions assigned to this consumer now. */
  assignment(): TopicPartition[] {
    return [...this.dispatcher.partitions.values()].map((s) => s.tp)
  }

  /** Per assigned partition: committed offset, position, high watermark and lag (high watermark - committed or position). */
  async lag(): Promise<PartitionLag[]> {
    const tps = this.assignment()
    const committed = this.member ? await this.member.committed(tps) : new Map()
    return tps.map((tp) => {
      const c = committed.get(tpKey(tp.topic, tp.partition))?.offset ?? null
      const position = this.fetcher.position(tp)
      const highWatermark = this.fetcher.highWatermark(tp)
      const from = c ?? position
      return {
        ...tp,
        committed: c,
        position,
        highWatermark,
        lag: highWatermark !== undefined && from !== undefined ? highWatermark - from : undefined,
      }
    })
  }

  /** What the consumer did since it was created, and what runs now. */
  stats(): ConsumerStats {
    const f = this.fetcher.stats()
    let lag = 0
    for (const s of this.dispatcher.partitions.values()) {
      const hw = this.fetcher.highWatermark(s.tp)
      const position = this.fetcher.position(s.tp)
      if (hw !== undefined && position !== undefined && hw > position) lag += Number(hw - position)
    }
    const { messages, bytes, handlerErrors } = this.dispatcher.counters
    return {
      messages,
      bytes,
      handlerErrors,
      commits: (this.exactlyOnce ?? this.committer)?.commits ?? 0,
      rebalances: this.rebalances,
      fetches: f.fetches,
      inFlight: this.dispatcher.inFlight,
      lag,
      handlerMs: this.dispatcher.handlerTime.snapshot(),
      bufferedBytes: f.bufferedBytes,
      decodedBytes: f.decodedBytes,
    }
  }

  /**
   * The iterator form: a message counts as handled when the loop asks for the next one; leaving the
   * loop (break, return, throw) stops the consumer, the last message counting as handled on break.
   */
  [Symbol.asyncIterator](): AsyncGenerator<Message> {
    return messagesOf(this, this.stopController.signal)
  }

  private report(error: Error): void {
    this.log.error?.({ err: error }, error.message)
    if (this.options.onError) this.options.onError(error)
    else if (this.listenerCount('error') > 0) this.emit('error', error)
  }
}
