// The dispatcher: hands fetched messages to the handler through a bounded pool of `concurrency`
// workers, keeping order per partition (or per key within it), and serves the partitions in turns
// so that one partition's backlog holds no other's records back. Batch mode hands up to
// `batch.size` messages of one partition at once. Each partition's offsets go through its offset
// tracker; a message that fails for good stops its partition there: nothing after it is committed,
// and after a backoff it is fetched and handled again.

import { Deque } from '../client/deque.ts'
import { RetryPolicy, sleep } from '../client/retry.ts'
import { Summary } from '../observability/summary.ts'
import { group, withDefaults } from '../options/schema.ts'
import { KafkaxError } from '../protocol/errors.ts'
import { consumerChannels as channels } from './channels.ts'
import type { FetchedBatch, SeekTarget } from './fetcher.ts'
import type { BatchContext, BatchHandler, Handler, HandlerContext, Message, TopicPartition } from './message.ts'
import { sendWithoutTransaction, tpKey } from './message.ts'
import { batchFailure, HandlerError } from './middleware.ts'
import { OffsetTracker, type PendingOffset } from './offset-tracker.ts'

/** The part of the fetcher the dispatcher uses. */
export interface RecordSource {
  /** The partition's next fetched batch, if one is buffered (paused or not). */
  take(tp: TopicPartition): FetchedBatch | undefined
  pause(tps: TopicPartition[]): void
  resume(tps: TopicPartition[]): void
  /** Moves the partition's position, dropping what was buffered of it. */
  seek(tp: TopicPartition, to: SeekTarget): Promise<void>
}

/** The consumer's `batch` option: batch mode, and how batches fill. */
export const BATCH_OPTIONS = group(
  'Batches handed to a batch handler',
  {
    size: { kind: 'integer', min: 1, default: 100, doc: 'Messages per batch at most' },
    timeoutMs: { kind: 'duration', min: 0, default: 100, doc: 'How long a batch waits to fill' },
  },
  { optional: true },
)

/** How the dispatcher runs handlers (from the consumer's options). */
export interface DispatcherOptions {
  concurrency: number
  orderBy?: 'partition' | 'key'
  /** Batch mode (defaults: BATCH_OPTIONS). */
  batch?: { size?: number; timeoutMs?: number }
  /** For the handler traces. */
  groupId?: string
  /** Aborts when the consumer stops: nothing new starts, failures no longer stop partitions. */
  stop: AbortSignal
  /** Where a failure that stops a partition is reported. */
  report: (error: Error) => void
  /** The wait before a failed message is fetched again (default 500 ms, doubling up to 30 s). */
  failureBackoff?: RetryPolicy
  /**
   * Whether a partition's next message may start now (the exactly-once transaction takes it, or
   * is being committed); one refused waits for the next pump().
   */
  admit?: (s: AssignedPartition, offset: bigint) => boolean
}

/** One partition assigned to the consumer, as the dispatcher sees it. */
export class AssignedPartition {
  /** Messages waiting for their lane, in offset order. */
  readonly queue = new Deque<Message>()
  readonly offsets: OffsetTracker
  /** Handlers running on this partition's messages now (one, unless orderBy is 'key'). */
  running = 0
  /** Bumped on seek, failure and revocation: completions of an older epoch are ignored. */
  epoch = 0
  paused = false
  revoked = false
  batchTimer: NodeJS.Timeout | undefined
  /** The head of the queue when the batch timer fired: a batch starting with it goes unfilled. */
  batchDue: Message | undefined
  failures = 0
  readonly controller = new AbortController()
  /** Aborts when the partition is lost or the consumer stops: the handlers' context signal. */
  readonly signal: AbortSignal

  constructor(
    readonly tp: TopicPartition,
    stop: AbortSignal,
  ) {
    this.offsets = new OffsetTracker(tp)
    this.signal = AbortSignal.any([this.controller.signal, stop])
  }
}

/**
 * Messages one partition may start before the next partition's turn, and messages one pump may run
 * before it yields to I/O: fairness without a promise per message.
 */
const TURN_MESSAGES = 64
const PUMP_MESSAGES = 1024

/** Runs the handler on the messages of the assigned partitions. */
export class Dispatcher {
  readonly partitions = new Map<string, AssignedPartition>()
  readonly counters = { messages: 0, bytes: 0, handlerErrors: 0 }
  readonly handlerTime = new Summary()
  /** With orderBy 'key': the lanes (partition + key) with a handler running now. */
  private readonly busyKeys = new Set<string>()
  private readonly failureBackoff: RetryPolicy
  private readonly batch: { size: number; timeoutMs: number } | undefined
  private handler: Handler | undefined
  private batchHandler: BatchHandler | undefined
  /** Partitions in the order the dispatcher serves them, and where the next turn starts. */
  private order: AssignedPartition[] = []
  private cursor = 0
  /** Messages the partition whose turn it is may still start in it. */
  private turnLeft = TURN_MESSAGES
  private pumping = false
  private pumpAgain = false
  private active = 0
  private idle: (() => void)[] = []
  /** Set when drain() gave up waiting for handlers: nothing waits for them any more. */
  private abandoned = false

  constructor(
    private readonly source: RecordSource,
    private readonly options: DispatcherOptions,
  ) {
    if (options.batch) this.batch = withDefaults(BATCH_OPTIONS.fields, options.batch)
    this.failureBackoff = options.failureBackoff ?? new RetryPolicy({ initialDelayMs: 500, maxDelayMs: 30_000 })
  }

  /** Handlers running now. */
  get inFlight(): number {
    return this.active
  }

  /** The handler to run: a batch handler with the batch option. Dispatching starts with the next pump(). */
  handleWith(handler: Handler | BatchHandler): void {
    if (this.options.batch) this.batchHandler = handler as BatchHandler
    else this.handler = handler as Handler
  }

  // ------------------------------------------------------------------------------------------
  // Assignment

  assign(tps: TopicPartition[]): void {
    for (const tp of tps) {
      const state = new AssignedPartition(tp, this.options.stop)
      this.partitions.set(tpKey(tp.topic, tp.partition), state)
      this.order.push(state)
    }
  }

  get(tp: TopicPartition): AssignedPartition | undefined {
    return this.partitions.get(tpKey(tp.topic, tp.partition))
  }

  /** Stops handing out the partitions' messages; `lost` aborts their handlers' signal too. */
  revoke(tps: TopicPartition[], lost: boolean): AssignedPartition[] {
    const states = tps.map((tp) => this.get(tp)).filter((s) => s !== undefined)
    for (const s of states) {
      s.revoked = true
      s.queue.clear()
      clearTimeout(s.batchTimer)
      if (lost) s.controller.abort(new KafkaxError('partition lost', 'EREBALANCE'))
    }
    return states
  }

  /** Resolves once no handler runs on these partitions (or drain() abandoned them). */
  async settled(states: AssignedPartition[]): Promise<void> {
    while (!this.abandoned && states.some((s) => s.running > 0)) await this.waitIdle()
  }

  /** Forgets revoked partitions. */
  remove(states: AssignedPartition[]): void {
    for (const s of states) this.partitions.delete(tpKey(s.tp.topic, s.tp.partition))
    this.order = this.order.filter((s) => !s.revoked)
  }

  /**
   * Clears the batch timers and waits, up to `timeoutMs` (unbounded without it), until no handler
   * runs (the consumer stops). Handlers still running then are abandoned: what they do later moves
   * no offset (their partition's epoch moves on) and settled() no longer waits for them, nor does
   * a later drain(). Resolves with the partitions they run on.
   */
  async drain(timeoutMs = Number.POSITIVE_INFINITY): Promise<TopicPartition[]> {
    for (const s of this.partitions.values()) clearTimeout(s.batchTimer)
    if (this.active === 0 || this.abandoned) return []
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<'expired'>((resolve) => {
      // a timer cannot wait longer than 2^31-1 ms (it would fire at once): longer is unbounded
      if (timeoutMs < 2 ** 31) timer = setTimeout(() => resolve('expired'), timeoutMs)
    })
    try {
      while (this.active > 0) if ((await Promise.race([this.waitIdle(), expired])) === 'expired') break
    } finally {
      clearTimeout(timer)
    }
    if (this.active === 0) return []
    const running = [...this.partitions.values()].filter((s) => s.running > 0)
    for (const s of running) s.epoch++
    this.abandoned = true
    for (const wake of this.idle.splice(0)) wake()
    return running.map((s) => s.tp)
  }

  // ------------------------------------------------------------------------------------------
  // Position

  /** Moves a partition's position; what was fetched and not handled yet is dropped. */
  async seek(s: AssignedPartition, to: SeekTarget): Promise<void> {
    s.epoch++
    s.offsets.drop()
    s.queue.clear()
    await this.source.seek(s.tp, to)
    if (typeof to === 'bigint') s.offsets.committable = to
  }

  pause(tps: TopicPartition[]): void {
    for (const tp of tps) {
      const s = this.get(tp)
      if (s) s.paused = true
    }
    this.source.pause(tps)
  }

  resume(tps: TopicPartition[]): void {
    for (const tp of tps) {
      const s = this.get(tp)
      if (s) s.paused = false
    }
    this.source.resume(tps)
    this.pump()
  }

  // ------------------------------------------------------------------------------------------
  // Dispatch

  /** Moves a partition's next fetched batch into its queue; false when the fetcher has none. */
  private refill(s: AssignedPartition): boolean {
    const batch = this.source.take(s.tp)
    if (!batch) return false
    for (const m of batch.messages) {
      s.queue.push(m)
      s.offsets.leaderEpoch = m.leaderEpoch
      this.counters.bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0)
    }
    return true
  }

  private laneOf(s: AssignedPartition, m: Message): string {
    const key = tpKey(s.tp.topic, s.tp.partition)
    return this.options.orderBy === 'key' && m.key !== null ? `${key}\0${m.key.toString('base64')}` : key
  }

  /**
   * Starts handlers while workers are free, serving the partitions in turn from where the last turn
   * stopped, so no partition's backlog holds back another's records (and no worker idles while a
   * partition has records to hand out).
   */
  pump(): void {
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
        for (let idle = 0; idle < this.order.length && this.active < this.options.concurrency && budget > 0; ) {
          if (this.options.stop.aborted) return
          const s = this.order[this.cursor % this.order.length]
          const started = this.serve(s, Math.min(budget, this.turnLeft))
          budget -= started
          this.turnLeft -= started
          // a partition keeps its turn across pumps until it used its share or has nothing to start
          // (an asynchronous handler starts one message per pump, and a turn per message would look
          // through every empty partition for each one); a batch is a turn of its own
          if (started === 0 || this.turnLeft <= 0 || s.queue.length === 0 || this.batchHandler) {
            this.cursor++
            this.turnLeft = TURN_MESSAGES
          }
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
  private serve(s: AssignedPartition, limit: number): number {
    if (s.paused || s.revoked) return 0
    if (s.queue.length === 0 && !this.refill(s)) return 0
    if (this.batchHandler) return this.dispatchBatch(s)
    const { concurrency } = this.options
    let started = 0
    if (this.options.orderBy !== 'key') {
      // handlers settled synchronously free the partition at once: its turn goes on with the next message
      const admit = this.options.admit
      while (started < limit && s.running === 0 && !s.paused && !s.revoked && this.active < concurrency) {
        if (s.queue.length === 0 && !this.refill(s)) break
        if (admit && !admit(s, s.queue.at(0)!.offset)) break
        this.launch(s, undefined, this.take(s, 1))
        started++
      }
      return started
    }
    // orderBy key: walk the queue; a message goes unless its key is busy or waits behind an earlier one
    const blocked = new Set<string>()
    for (let i = 0; i < s.queue.length && this.active < concurrency && started < limit; ) {
      const lane = this.laneOf(s, s.queue.at(i)!)
      if (this.busyKeys.has(lane) || blocked.has(lane)) {
        blocked.add(lane)
        i++
        continue
      }
      const m = s.queue.removeAt(i)
      this.launch(s, lane, [m])
      started++
    }
    return started
  }

  /**
   * Starts a batch once `size` messages wait, or once the oldest waited `timeoutMs`: the timer only
   * marks the batch due, and it starts on a pump's turn like any other, within `concurrency`.
   */
  private dispatchBatch(s: AssignedPartition): number {
    if (s.running > 0) return 0
    const { size, timeoutMs: waitMs } = this.batch!
    while (s.queue.length < size && this.refill(s)) {}
    const oldest = s.queue.at(0)
    const ready = s.queue.length >= size || waitMs <= 0 || (oldest !== undefined && oldest === s.batchDue)
    if (!ready) {
      if (!s.batchTimer) {
        s.batchTimer = setTimeout(() => {
          s.batchTimer = undefined
          if (s.queue.length > 0 && s.queue.at(0) === oldest) s.batchDue = oldest
          this.pump()
        }, waitMs)
      }
      return 0
    }
    clearTimeout(s.batchTimer)
    s.batchTimer = undefined
    s.batchDue = undefined
    this.launch(s, undefined, this.take(s, size))
    return 1
  }

  private take(s: AssignedPartition, size: number): Message[] {
    return size === 1 ? [s.queue.shift()!] : s.queue.take(size)
  }

  /**
   * Runs the handler on `messages`. A handler that returns without a promise (no middleware, plain
   * function) is settled synchronously, so a partition's queue is handled without a promise per message.
   * `keyLane` is the message's key lane with orderBy 'key'.
   */
  private launch(s: AssignedPartition, keyLane: string | undefined, messages: Message[]): void {
    const epoch = s.epoch
    const entries: PendingOffset[] =
      messages.length === 1 ? [s.offsets.track(messages[0].offset)] : messages.map((m) => s.offsets.track(m.offset))
    s.running++
    if (keyLane !== undefined) this.busyKeys.add(keyLane)
    this.active++
    const started = performance.now()
    const context: HandlerContext = this.batchHandler
      ? this.batchContext(s, epoch, messages, entries)
      : { signal: s.signal, attempt: 1, send: sendWithoutTransaction }
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
      this.settle(s, keyLane, messages, entries, context, epoch, started, true, error, true)
      return
    }
    if (result !== null && typeof (result as PromiseLike<unknown>)?.then === 'function') {
      ;(result as PromiseLike<unknown>).then(
        (value) => this.settle(s, keyLane, messages, entries, context, epoch, started, false, value, false),
        (error) => this.settle(s, keyLane, messages, entries, context, epoch, started, true, error, false),
      )
    } else this.settle(s, keyLane, messages, entries, context, epoch, started, false, result, true)
  }

  /**
   * A batch's context: resolve(offset) marks the batch's messages up to it handled at once (while
   * the batch is current), so that they may be committed before the handler returns.
   */
  private batchContext(s: AssignedPartition, epoch: number, messages: Message[], entries: PendingOffset[]) {
    let resolved: bigint | undefined
    let next = 0
    const context: BatchContext = {
      signal: s.signal,
      attempt: 1,
      send: sendWithoutTransaction,
      resolve: (offset) => {
        if (typeof offset !== 'bigint') {
          throw new HandlerError(`resolve() needs a bigint offset, got ${typeof offset} ${String(offset)}`)
        }
        if (resolved !== undefined && offset <= resolved) return
        resolved = offset
        while (next < messages.length && messages[next].offset <= offset) entries[next++].done = true
        if (s.epoch === epoch) s.offsets.advance(s.queue.at(0)?.offset)
      },
      resolvedOffset: () => resolved,
    }
    return context
  }

  private invoke(messages: Message[], context: HandlerContext): unknown {
    return this.batchHandler
      ? this.batchHandler(messages, context as BatchContext)
      : this.handler!(messages[0], context)
  }

  private async invokeAsync(messages: Message[], context: HandlerContext): Promise<unknown> {
    return this.invoke(messages, context)
  }

  /**
   * Records a handler's outcome (what it returned, or what it threw when `threw`); `sync` settles
   * inside pump(), which goes on by itself.
   */
  private settle(
    s: AssignedPartition,
    keyLane: string | undefined,
    messages: Message[],
    entries: PendingOffset[],
    context: HandlerContext,
    epoch: number,
    started: number,
    threw: boolean,
    value: unknown,
    sync: boolean,
  ): void {
    if (this.batchHandler) this.settleBatch(s, messages, entries, context as BatchContext, epoch, threw, value)
    else if (!threw) {
      if (s.epoch === epoch) {
        entries[0].done = true
        s.failures = 0
        this.counters.messages++
        s.offsets.advance(s.queue.at(0)?.offset)
      }
    } else if (s.epoch === epoch && !s.revoked && !this.options.stop.aborted) {
      this.counters.handlerErrors++
      this.fail(s, messages[0], value)
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

  /**
   * A batch's outcome: every message not failed counts as handled (those resolved already do); the
   * first failed one stops the partition, as a failed message does.
   */
  private settleBatch(
    s: AssignedPartition,
    messages: Message[],
    entries: PendingOffset[],
    context: BatchContext,
    epoch: number,
    threw: boolean,
    value: unknown,
  ): void {
    if (s.epoch !== epoch) return
    const failure = batchFailure(messages, context, threw, value)
    // failure.failed is a subsequence of messages: walk both
    let f = 0
    for (let i = 0; i < messages.length; i++) {
      if (failure && messages[i] === failure.failed[f]) f++
      else if (!entries[i].done) entries[i].done = true
    }
    this.counters.messages += messages.length - f
    if (!failure) {
      s.failures = 0
      s.offsets.advance(s.queue.at(0)?.offset)
    } else if (!s.revoked && !this.options.stop.aborted) {
      this.counters.handlerErrors++
      this.fail(s, failure.failed[0], failure.error)
    } else s.offsets.advance(s.queue.at(0)?.offset)
  }

  /**
   * A message failed for good (after the middleware's retries, without a dead letter): the partition
   * stops at it. Nothing after it is committed; after a backoff it is fetched and handled again.
   */
  private fail(s: AssignedPartition, message: Message, error: unknown): void {
    const wrapped =
      error instanceof Error
        ? error
        : new HandlerError(`handler failed with a non-Error value: ${String(error)}`, { cause: error })
    this.options.report(
      new KafkaxError(
        `handler failed on ${message.topic}-${message.partition} at offset ${message.offset}: ${wrapped.message}; the partition will retry from there`,
        'EHANDLER',
        { cause: wrapped },
      ),
    )
    const epoch = ++s.epoch
    s.offsets.advance(s.queue.at(0)?.offset)
    s.offsets.drop()
    s.queue.clear()
    s.paused = true
    s.failures++
    this.source.pause([s.tp])
    sleep(this.failureBackoff.delay(s.failures), this.options.stop)
      .then(async () => {
        if (s.revoked) return
        // a seek meanwhile (the user's, an aborted transaction's rewind) placed the partition already
        if (s.epoch === epoch) await this.source.seek(s.tp, message.offset)
        s.paused = false
        this.source.resume([s.tp])
      })
      .catch(() => {})
  }

  private waitIdle(): Promise<void> {
    return new Promise((resolve) => this.idle.push(resolve))
  }
}
