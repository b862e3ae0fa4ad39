// The kafkax Consumer: a fetcher feeds handlers (wrapped in middleware) through a bounded pool of
// `concurrency` workers that keeps order per partition (or per key); offsets are committed in order,
// never past a message that was not handled (or dead-lettered). In a group, partitions come and go
// with rebalances: a partition is revoked only after its handlers finished and its offset committed.

import { EventEmitter } from 'node:events'
import { Cluster } from '../client/cluster.ts'
import { Deque } from '../client/deque.ts'
import type { ClientOptions } from '../client/options.ts'
import type { RetryOptions } from '../client/retry.ts'
import { RetryPolicy, sleep } from '../client/retry.ts'
import { type Assignor, assignorByName } from '../group/assignors.ts'
import { ClassicGroupMember } from '../group/classic-member.ts'
import type { GroupMembership } from '../group/membership.ts'
import type { OffsetToCommit } from '../group/offsets.ts'
import { childLogger, type Logger, resolveLogger } from '../observability/logger.ts'
import { Summary } from '../observability/summary.ts'
import { traced } from '../observability/tracing.ts'
import { Producer, type ProducerOptions } from '../producer/producer.ts'
import { ErrorCode } from '../protocol/error-codes.ts'
import { ConfigError, KafkaError, KafkaxError } from '../protocol/errors.ts'
import { consumerChannels as channels } from './channels.ts'
import { Fetcher, type FetcherOptions, type SeekTarget } from './fetcher.ts'
import type { BatchHandler, Handler, HandlerContext, Message, Middleware, TopicPartition } from './message.ts'
import { tpKey } from './message.ts'
import { compose, deadLetter, HandlerError, retry } from './middleware.ts'

export interface ConsumerOptions extends Omit<ClientOptions, 'retry'> {
  /** The consumer group; without it, `assign` names the partitions to read (no group, no commits). */
  groupId?: string
  /** Static membership (KIP-345). */
  groupInstanceId?: string
  topics?: string[]
  assign?: { topic: string; partition: number; offset?: bigint }[]
  /** Partitions without a committed offset start at the earliest record (default: the latest). */
  fromBeginning?: boolean
  /** Handlers running at once (default 1). */
  concurrency?: number
  /** What keeps its order under concurrency: the partition (default) or the key within it. */
  orderBy?: 'partition' | 'key'
  /** Batch mode: the handler gets up to `size` messages of one partition, or what came within `timeoutMs`. */
  batch?: { size?: number; timeoutMs?: number }
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
}

export interface RunOptions {
  signal?: AbortSignal
  /** Stop cleanly on SIGTERM and SIGINT (default false). */
  handleSignals?: boolean
}

export interface PartitionLag {
  topic: string
  partition: number
  committed: bigint | null
  position: bigint | undefined
  highWatermark: bigint | undefined
  lag: bigint | undefined
}

export interface ConsumerStats {
  messages: number
  bytes: number
  fetches: number
  handlerErrors: number
  commits: number
  rebalances: number
  inFlight: number
  /** Messages between each assigned partition's position and its high watermark, summed. */
  lag: number
  handlerMs: { count: number; mean: number; p50: number; p99: number; max: number }
}

/** Offsets handed to handlers but not settled, in offset order; the head decides what may be committed. */
interface Pending {
  offset: bigint
  done: boolean
}

/** One assigned partition as the dispatcher sees it. */
class PartitionState {
  /** Messages waiting for their lane, in offset order. */
  readonly queue = new Deque<Message>()
  readonly pending = new Deque<Pending>()
  /** Handlers running on this partition's messages now (one, unless orderBy is 'key'). */
  running = 0
  /** Bumped on seek, failure and revocation: completions of an older epoch are ignored. */
  epoch = 0
  /** The next offset to commit (all before it handled), and the last one committed. */
  committable: bigint | undefined
  committed: bigint | undefined
  leaderEpoch = -1
  paused = false
  revoked = false
  batchTimer: NodeJS.Timeout | undefined
  failures = 0
  readonly controller = new AbortController()
  /** Aborts when the partition is lost or the consumer stops: the handlers' context signal. */
  readonly signal: AbortSignal

  constructor(
    readonly tp: TopicPartition,
    stop: AbortSignal,
  ) {
    this.signal = AbortSignal.any([this.controller.signal, stop])
  }
}

/** The outcome of a handler that returned (anything else is what it threw). */
const HANDLED = Symbol('handled')
const REBALANCE_ERRORS = new Set<number>([
  ErrorCode.REBALANCE_IN_PROGRESS,
  ErrorCode.ILLEGAL_GENERATION,
  ErrorCode.UNKNOWN_MEMBER_ID,
])
/**
 * Messages one partition may run through a synchronous handler before the next partition's turn,
 * and messages one pump may run before it yields to I/O: fairness without a promise per message.
 */
const TURN_MESSAGES = 64
const PUMP_MESSAGES = 1024

export class Consumer extends EventEmitter {
  readonly cluster: Cluster
  private readonly options: ConsumerOptions
  private readonly log: Logger
  private readonly fetcher: Fetcher
  private readonly member: GroupMembership | undefined
  private readonly middlewares: Middleware[] = []
  private readonly partitions = new Map<string, PartitionState>()
  /** With orderBy 'key': the lanes (partition + key) with a handler running now. */
  private readonly busyKeys = new Set<string>()
  private readonly concurrency: number
  private readonly failureBackoff: RetryPolicy
  private handler: Handler | undefined
  private batchHandler: BatchHandler | undefined
  private dlqProducer: Producer | undefined
  private running: Promise<void> | undefined
  /** Settles once the consumer joined its group (or took its assignment): run()'s start. */
  private started: Promise<void> | undefined
  private stopping: Promise<void> | undefined
  private readonly stopped: Promise<void>
  private markStopped!: () => void
  private readonly stopController = new AbortController()
  private commitTimer: NodeJS.Timeout | undefined
  /** Partitions in the order the dispatcher serves them, and where the next turn starts. */
  private order: PartitionState[] = []
  private cursor = 0
  private pumping = false
  private pumpAgain = false
  private active = 0
  private idle: (() => void)[] = []
  private readonly counters = { messages: 0, bytes: 0, handlerErrors: 0, commits: 0, rebalances: 0 }
  private readonly handlerTime = new Summary()

  constructor(options: ConsumerOptions) {
    super()
    this.stopped = new Promise((resolve) => {
      this.markStopped = resolve
    })
    this.options = options
    const { groupId, topics, assign } = options
    if (groupId !== undefined && (typeof groupId !== 'string' || groupId === '')) {
      throw new ConfigError('groupId must be a non-empty string')
    }
    if (groupId && !topics?.length && !assign?.length) throw new ConfigError('a consumer needs topics (or assign)')
    if (!groupId && !assign?.length) {
      throw new ConfigError('without groupId, a consumer needs assign: [{ topic, partition, offset? }]')
    }
    if (groupId && topics?.length && assign?.length) throw new ConfigError('use either topics or assign, not both')
    this.concurrency = options.concurrency ?? 1
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new ConfigError(`concurrency must be an integer >= 1, got ${options.concurrency}`)
    }
    if (options.orderBy !== undefined && options.orderBy !== 'partition' && options.orderBy !== 'key') {
      throw new ConfigError(`orderBy must be 'partition' or 'key', got ${JSON.stringify(options.orderBy)}`)
    }
    const mode = options.commit?.mode ?? 'auto'
    if (mode !== 'auto' && mode !== 'manual')
      throw new ConfigError(`commit.mode must be 'auto' or 'manual', got ${mode}`)
    this.cluster = new Cluster({ ...options, retry: options.clientRetry })
    this.log = childLogger(resolveLogger(options.logger), { clientId: this.cluster.options.clientId, groupId })
    this.failureBackoff = new RetryPolicy({ initialDelayMs: 500, maxDelayMs: 30_000 })
    this.fetcher = new Fetcher(this.cluster, {
      ...options.fetch,
      isolationLevel: options.isolationLevel,
      resetPolicy: options.fromBeginning ? 'earliest' : 'latest',
      logger: this.log,
    })
    this.fetcher.on('error', (error: Error) => this.report(error))
    this.fetcher.onData = () => this.pump()
    if (groupId && topics?.length) {
      const assignors: Assignor[] | undefined = options.assignors?.map((name) => assignorByName(name))
      this.member = new ClassicGroupMember(
        this.cluster,
        {
          groupId,
          groupInstanceId: options.groupInstanceId,
          topics,
          sessionTimeoutMs: options.sessionTimeoutMs,
          rebalanceTimeoutMs: options.rebalanceTimeoutMs,
          heartbeatIntervalMs: options.heartbeatIntervalMs,
          assignors,
        },
        {
          onAssigned: (tps) => this.rebalance('assigned', tps, () => this.onAssigned(tps)),
          onRevoked: (tps) => this.rebalance('revoked', tps, () => this.onRevoked(tps, true)),
          onLost: (tps) => this.rebalance('lost', tps, () => this.onRevoked(tps, false)),
          onError: (error) => this.report(error),
        },
      )
    }
  }

  /** Adds a middleware; the first added is the outermost. */
  use(middleware: Middleware): this {
    if (this.running) throw new ConfigError('add middleware before run()')
    this.middlewares.push(middleware)
    return this
  }

  /** Consumes until stop() (or the signal); resolves once stopped. */
  run(handler: Handler, options?: RunOptions): Promise<void>
  run(handler: BatchHandler, options?: RunOptions): Promise<void>
  run(handler: Handler | BatchHandler, options: RunOptions = {}): Promise<void> {
    if (this.running) throw new ConfigError('run() was already called')
    if (typeof handler !== 'function') throw new ConfigError('run() needs a handler function')
    const chain = [...this.middlewares]
    if (this.options.dlq) {
      const o = this.options
      this.dlqProducer = new Producer({
        brokers: o.brokers,
        clientId: o.clientId,
        tls: o.tls,
        sasl: o.sasl,
        connectTimeoutMs: o.connectTimeoutMs,
        requestTimeoutMs: o.requestTimeoutMs,
        retry: o.clientRetry,
        allowAutoTopicCreation: false,
        ...o.dlq!.producer,
      })
      chain.unshift(deadLetter({ producer: this.dlqProducer, topic: this.options.dlq.topic }))
    }
    if (this.options.retry) chain.splice(this.options.dlq ? 1 : 0, 0, retry(this.options.retry))
    if (this.options.batch) this.batchHandler = handler as BatchHandler
    else this.handler = compose(chain, handler as Handler)
    const { signal, handleSignals } = options
    const stop = () => void this.stop()
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
          await this.stop()
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
    if (this.member) await this.member.start()
    else this.onAssigned(this.options.assign!.map(({ topic, partition }) => ({ topic, partition })))
    const mode = this.options.commit?.mode ?? 'auto'
    if (this.member && mode === 'auto' && !this.stopController.signal.aborted) {
      this.commitTimer = setInterval(
        () => void this.commitHandled().catch((e) => this.report(e)),
        this.options.commit?.intervalMs ?? 5000,
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
    this.counters.rebalances++
    const committed = this.member
      ? await this.member.committed(tps, this.options.isolationLevel === 'read_committed')
      : undefined
    const explicit = new Map((this.options.assign ?? []).map((a) => [tpKey(a.topic, a.partition), a.offset]))
    const stop = this.stopController.signal
    for (const tp of tps) {
      const state = new PartitionState(tp, stop)
      this.partitions.set(tpKey(tp.topic, tp.partition), state)
      this.order.push(state)
    }
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
    const states = tps.map((tp) => this.partitions.get(tpKey(tp.topic, tp.partition))).filter((s) => s !== undefined)
    this.fetcher.unassign(tps)
    for (const s of states) {
      s.revoked = true
      s.queue.clear()
      clearTimeout(s.batchTimer)
      if (!clean) s.controller.abort(new KafkaxError('partition lost', 'EREBALANCE'))
    }
    while (states.some((s) => s.running > 0)) await this.waitIdle()
    if (clean) await this.commitStates(states).catch((e) => this.report(e))
    for (const s of states) this.partitions.delete(tpKey(s.tp.topic, s.tp.partition))
    this.order = this.order.filter((s) => !s.revoked)
    this.emit('revoked', tps)
  }

  // ------------------------------------------------------------------------------------------
  // Dispatch

  /** Moves a partition's next fetched batch into its queue; false when the fetcher has none. */
  private refill(s: PartitionState): boolean {
    const batch = this.fetcher.take(s.tp)
    if (!batch) return false
    for (const m of batch.messages) {
      s.queue.push(m)
      s.leaderEpoch = m.leaderEpoch
      this.counters.bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0)
    }
    return true
  }

  private laneOf(s: PartitionState, m: Message): string {
    const key = tpKey(s.tp.topic, s.tp.partition)
    return this.options.orderBy === 'key' && m.key !== null ? `${key}\0${m.key.toString('base64')}` : key
  }

  /**
   * Starts handlers while workers are free, serving the partitions in turn from where the last turn
   * stopped, so no partition's backlog holds back another's records (and no worker idles while a
   * partition has records to hand out).
   */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true
      return
    }
    this.pumping = true
    try {
      let budget = PUMP_MESSAGES
      do {
        this.pumpAgain = false
        // a full round of partitions with nothing started ends it
        for (let idle = 0; idle < this.order.length && this.active < this.concurrency && budget > 0; ) {
          if (this.stopController.signal.aborted) return
          const s = this.order[this.cursor++ % this.order.length]
          const started = this.serve(s, Math.min(budget, TURN_MESSAGES))
          budget -= started
          idle = started > 0 ? 0 : idle + 1
        }
        if (budget <= 0) {
          setImmediate(() => this.pump())
          return
        }
      } while (this.pumpAgain)
    } finally {
      this.pumping = false
    }
  }

  /** One partition's turn: starts up to `limit` handlers on it; returns how many it started. */
  private serve(s: PartitionState, limit: number): number {
    if (s.paused || s.revoked) return 0
    if (s.queue.length === 0 && !this.refill(s)) return 0
    if (this.batchHandler) return this.dispatchBatch(s)
    let started = 0
    if (this.options.orderBy !== 'key') {
      // handlers settled synchronously free the partition at once: its turn goes on with the next message
      while (started < limit && s.running === 0 && !s.paused && !s.revoked && this.active < this.concurrency) {
        if (s.queue.length === 0 && !this.refill(s)) break
        this.start(s, undefined, this.take(s, 1))
        started++
      }
      return started
    }
    // orderBy key: walk the queue; a message goes unless its key is busy or waits behind an earlier one
    const blocked = new Set<string>()
    for (let i = 0; i < s.queue.length && this.active < this.concurrency && started < limit; ) {
      const lane = this.laneOf(s, s.queue.at(i)!)
      if (this.busyKeys.has(lane) || blocked.has(lane)) {
        blocked.add(lane)
        i++
        continue
      }
      const m = s.queue.removeAt(i)
      this.start(s, lane, [m])
      started++
    }
    return started
  }

  private dispatchBatch(s: PartitionState): number {
    if (s.running > 0) return 0
    const size = this.options.batch?.size ?? 100
    const waitMs = this.options.batch?.timeoutMs ?? 100
    while (s.queue.length < size && this.refill(s)) {}
    const oldest = s.queue.at(0)
    const ready = s.queue.length >= size
    if (!ready) {
      if (!s.batchTimer) {
        s.batchTimer = setTimeout(() => {
          s.batchTimer = undefined
          if (s.queue.length > 0 && s.queue.at(0) === oldest) this.start(s, undefined, this.take(s, size))
          else this.pump()
        }, waitMs)
      }
      return 0
    }
    clearTimeout(s.batchTimer)
    s.batchTimer = undefined
    this.start(s, undefined, this.take(s, size))
    return 1
  }

  private take(s: PartitionState, size: number): Message[] {
    return size === 1 ? [s.queue.shift()!] : s.queue.take(size)
  }

  /**
   * Runs the handler on `messages`. A handler that returns without a promise (no middleware, plain
   * function) is settled synchronously, so a partition's queue is handled without a promise per message.
   * `keyLane` is the message's key lane with orderBy 'key'.
   */
  private start(s: PartitionState, keyLane: string | undefined, messages: Message[]): void {
    const epoch = s.epoch
    const entries: Pending[] =
      messages.length === 1
        ? [{ offset: messages[0].offset, done: false }]
        : messages.map((m) => ({ offset: m.offset, done: false }))
    for (const e of entries) s.pending.push(e)
    s.running++
    if (keyLane !== undefined) this.busyKeys.add(keyLane)
    this.active++
    const started = performance.now()
    const context: HandlerContext = { signal: s.signal, attempt: 1 }
    let result: unknown
    try {
      result = channels.handler.hasSubscribers
        ? channels.handler.tracePromise(
            this.invokeAsync,
            { groupId: this.options.groupId, messages },
            this,
            messages,
            context,
          )
        : this.invoke(messages, context)
    } catch (error) {
      this.settle(s, keyLane, messages, entries, epoch, started, error, true)
      return
    }
    if (result !== null && typeof (result as PromiseLike<unknown>)?.then === 'function') {
      ;(result as PromiseLike<unknown>).then(
        () => this.settle(s, keyLane, messages, entries, epoch, started, HANDLED, false),
        (error) => this.settle(s, keyLane, messages, entries, epoch, started, error, false),
      )
    } else this.settle(s, keyLane, messages, entries, epoch, started, HANDLED, true)
  }

  private invoke(messages: Message[], context: HandlerContext): unknown {
    return this.batchHandler ? this.batchHandler(messages, context) : this.handler!(messages[0], context)
  }

  private async invokeAsync(messages: Message[], context: HandlerContext): Promise<unknown> {
    return this.invoke(messages, context)
  }

  /** Records a handler's outcome; `sync` settles inside pump(), which goes on by itself. */
  private settle(
    s: PartitionState,
    keyLane: string | undefined,
    messages: Message[],
    entries: Pending[],
    epoch: number,
    started: number,
    outcome: unknown,
    sync: boolean,
  ): void {
    if (outcome === HANDLED) {
      if (s.epoch === epoch) {
        for (const e of entries) e.done = true
        s.failures = 0
        this.counters.messages += messages.length
        this.advance(s)
      }
    } else if (s.epoch === epoch && !s.revoked && !this.stopController.signal.aborted) {
      this.counters.handlerErrors++
      this.fail(s, messages[0], outcome)
    }
    const took = performance.now() - started
    this.handlerTime.add(took)
    s.running--
    if (keyLane !== undefined) this.busyKeys.delete(keyLane)
    this.active--
    if (this.idle.length > 0) for (const wake of this.idle.splice(0)) wake()
    // a batch settled synchronously leaves its partition with more to dispatch: look again soon
    if (!sync) this.pump()
    else if (this.batchHandler) queueMicrotask(() => this.pump())
  }

  /** Moves the committable offset past every handled message at the head of the partition. */
  private advance(s: PartitionState): void {
    let next: bigint | undefined
    while (s.pending.length > 0 && s.pending.at(0)!.done) next = s.pending.shift()!.offset + 1n
    if (next !== undefined) s.committable = next
  }

  /**
   * A message failed for good (after the middleware's retries, without a dead letter): the partition
   * stops at it. Nothing after it is committed; after a backoff it is fetched and handled again.
   */
  private fail(s: PartitionState, message: Message, error: unknown): void {
    const wrapped =
      error instanceof Error
        ? error
        : new HandlerError(`handler failed with a non-Error value: ${String(error)}`, { cause: error })
    this.report(
      new KafkaxError(
        `handler failed on ${message.topic}-${message.partition} at offset ${message.offset}: ${wrapped.message}; the partition will retry from there`,
        'EHANDLER',
        { cause: wrapped },
      ),
    )
    s.epoch++
    this.advance(s)
    s.pending.clear()
    s.queue.clear()
    s.paused = true
    s.failures++
    this.fetcher.pause([s.tp])
    sleep(this.failureBackoff.delay(s.failures), this.stopController.signal)
      .then(async () => {
        if (s.revoked) return
        await this.fetcher.seek(s.tp, message.offset)
        s.paused = false
        this.fetcher.resume([s.tp])
      })
      .catch(() => {})
  }

  private waitIdle(): Promise<void> {
    return new Promise((resolve) => this.idle.push(resolve))
  }

  // ------------------------------------------------------------------------------------------
  // Commits

  /** Commits, for every partition, the offset after the last message handled in order. */
  async commit(): Promise<void> {
    if (!this.member) throw new ConfigError('commit() needs a groupId')
    await this.commitHandled()
  }

  private commitHandled(): Promise<void> {
    return this.commitStates([...this.partitions.values()].filter((s) => !s.revoked))
  }

  private async commitStates(states: PartitionState[]): Promise<void> {
    if (!this.member) return
    const offsets: OffsetToCommit[] = []
    const snapshot: [PartitionState, bigint][] = []
    for (const s of states) {
      if (s.committable === undefined || s.committable === s.committed) continue
      offsets.push({ topic: s.tp.topic, partition: s.tp.partition, offset: s.committable, leaderEpoch: s.leaderEpoch })
      snapshot.push([s, s.committable])
    }
    if (offsets.length === 0) return
    try {
      const member = this.member
      await traced(
        channels.commit,
        () => ({ groupId: this.options.groupId!, offsets }),
        () => member.commit(offsets),
      )
      for (const [s, offset] of snapshot) s.committed = offset
      this.counters.commits++
    } catch (error) {
      // a rebalance is under way: the revocation commits what was handled
      if (error instanceof KafkaError && REBALANCE_ERRORS.has(error.code)) {
        this.log.info?.({ err: error }, 'commit skipped: a rebalance is under way')
        return
      }
      throw error
    }
  }

  // ------------------------------------------------------------------------------------------
  // Control

  /** Stops fetching, lets running handlers finish, commits, leaves the group; resolves when done. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopController.abort()
      clearInterval(this.commitTimer)
      for (const s of this.partitions.values()) clearTimeout(s.batchTimer)
      await this.started?.catch(() => {})
      while (this.active > 0) await this.waitIdle()
      await this.commitHandled().catch((e) => this.report(e))
      // leaving the group revokes (nothing left to run) before the LeaveGroup
      await this.member?.stop().catch((e) => this.report(e))
      await this.fetcher.close()
      await this.dlqProducer?.close().catch((e) => this.report(e))
      await this.cluster.close()
    })().finally(() => this.markStopped())
    return this.stopping
  }

  /** Moves a partition's position; what was fetched and not handled yet is dropped. */
  async seek(tp: TopicPartition, to: SeekTarget): Promise<void> {
    const s = this.partitions.get(tpKey(tp.topic, tp.partition))
    if (!s) throw new ConfigError(`${tp.topic}-${tp.partition} is not assigned to this consumer`)
    s.epoch++
    s.pending.clear()
    s.queue.clear()
    await this.fetcher.seek(tp, to)
    if (typeof to === 'bigint') s.committable = to
  }

  pause(tps: TopicPartition[]): void {
    for (const tp of tps) {
      const s = this.partitions.get(tpKey(tp.topic, tp.partition))
      if (s) s.paused = true
    }
    this.fetcher.pause(tps)
  }

  resume(tps: TopicPartition[]): void {
    for (const tp of tps) {
      const s = this.partitions.get(tpKey(tp.topic, tp.partition))
      if (s) s.paused = false
    }
    this.fetcher.resume(tps)
    this.pump()
  }

  assignment(): TopicPartition[] {
    return [...this.partitions.values()].map((s) => s.tp)
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

  stats(): ConsumerStats {
    const f = this.fetcher.stats()
    let lag = 0
    for (const s of this.partitions.values()) {
      const hw = this.fetcher.highWatermark(s.tp)
      const position = this.fetcher.position(s.tp)
      if (hw !== undefined && position !== undefined && hw > position) lag += Number(hw - position)
    }
    return {
      ...this.counters,
      fetches: f.fetches,
      inFlight: this.active,
      lag,
      handlerMs: this.handlerTime.snapshot(),
    }
  }

  /**
   * The iterator form: a message counts as handled when the loop asks for the next one; leaving the
   * loop (break, return, throw) stops the consumer, the last message counting as handled on break.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Message> {
    const waiting: { message: Message; done: () => void; drop: (e: Error) => void }[] = []
    let wake: (() => void) | undefined
    let current: (() => void) | undefined
    const run = this.run(
      (message) =>
        new Promise<void>((done, drop) => {
          waiting.push({ message, done, drop })
          wake?.()
        }),
    )
    try {
      for (;;) {
        while (waiting.length === 0) {
          if (this.stopController.signal.aborted) return
          await Promise.race([new Promise<void>((r) => (wake = r)), run])
        }
        const next = waiting.shift()!
        current = next.done
        yield next.message
        current = undefined
        next.done()
      }
    } finally {
      current?.()
      // messages the loop never saw are not handled: they stay uncommitted
      for (const w of waiting.splice(0)) w.drop(new KafkaxError('the iterator stopped', 'ESTOPPED'))
      await this.stop()
    }
  }

  private report(error: Error): void {
    this.log.error?.({ err: error }, error.message)
    if (this.options.onError) this.options.onError(error)
    else if (this.listenerCount('error') > 0) this.emit('error', error)
  }
}
