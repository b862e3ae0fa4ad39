// The kafkax ShareConsumer: a member of a share group (KIP-932, Kafka's queues). Many members read
// the same partitions; each record is acquired by one of them, handled, and acknowledged on its own:
// accepted, released for redelivery, or rejected. The share fetcher hands acquired records to
// `concurrency` handler runs in the order they came, with no order kept per partition or key; the
// handler runs in the Consumer's pipeline of middleware and dead letters, with retries as
// redeliveries (redelivery.ts). Acknowledgements go back with the next ShareFetch, or alone.

import { EventEmitter } from 'node:events'
import { Cluster } from '../client/cluster.ts'
import { Deque } from '../client/deque.ts'
import { consumerChannels as channels } from '../consumer/channels.ts'
import { deadLetterProducerOptions, HandlerPipeline } from '../consumer/handler-pipeline.ts'
import { messagesOf } from '../consumer/iterator.ts'
import type { Handler, Middleware, TopicPartition } from '../consumer/message.ts'
import { DeadLetterError, HandlerError } from '../consumer/middleware.ts'
import {
  type ConsumerOptions,
  checkRunOptions,
  type RunOptions,
  resolveStopOptions,
  type StopOptions,
} from '../consumer/options.ts'
import { runUntilStopped } from '../consumer/run-until-stopped.ts'
import { childLogger, type Logger, resolveLogger } from '../observability/logger.ts'
import { Summary } from '../observability/summary.ts'
import { resolveProducerOptions } from '../producer/options.ts'
import { Producer } from '../producer/producer.ts'
import { ConfigError, TimeoutError } from '../protocol/errors.ts'
import { ACK, type AcquiredRecord } from './acknowledgements.ts'
import { ShareFetcher } from './fetcher.ts'
import { DEFAULT_SETTINGS, type ShareGroupSettings, shareGroupSettings } from './group-config.ts'
import { ShareGroupMember } from './member.ts'
import {
  type ShareHandler,
  type ShareHandlerContext,
  type ShareMessage,
  type ShareMiddleware,
  shareContext,
} from './message.ts'
import { type ResolvedShareConsumerOptions, resolveShareConsumerOptions, type ShareConsumerOptions } from './options.ts'
import { redelivery } from './redelivery.ts'

export type { ShareConsumerOptions } from './options.ts'

/** Counters of a share consumer since it was created, and what it holds now (`ShareConsumer.stats()`). */
export interface ShareConsumerStats {
  /** Handler runs finished. */
  messages: number
  /** Key and value bytes of the records handed to handlers. */
  bytes: number
  /** Acknowledgements sent (or queued), by type; those that came after the lock ran out are in `locksLost`. */
  accepted: number
  released: number
  rejected: number
  /** Handler runs that failed for good (the record was rejected). */
  handlerErrors: number
  /** ShareFetch and ShareAcknowledge requests answered. */
  fetches: number
  acknowledgeRequests: number
  /** Lock renewals the broker granted. */
  renewals: number
  /** Records whose lock was lost before their outcome reached the broker: not acknowledged, delivered again. */
  locksLost: number
  /** Acknowledgements the broker refused. */
  acknowledgeErrors: number
  /** Handlers running now, records waiting for one, records acquired and not yet acknowledged. */
  inFlight: number
  waiting: number
  held: number
  /** Handler run times. */
  handlerMs: { count: number; mean: number; p50: number; p99: number; max: number }
}

const ACK_CODES = { accept: ACK.accept, release: ACK.release, reject: ACK.reject } as const

/**
 * Reads topics as a member of a share group and runs a handler on each record it acquires; the
 * record is acknowledged by the handler's outcome (or explicitly). There is no per-partition order:
 * records of one partition are spread over the group's members and over `concurrency` handlers.
 */
export class ShareConsumer extends EventEmitter {
  readonly cluster: Cluster
  private readonly options: ResolvedShareConsumerOptions
  private readonly log: Logger
  private readonly member: ShareGroupMember
  private readonly fetcher: ShareFetcher
  private readonly pipeline: HandlerPipeline
  private readonly concurrency: number
  private readonly explicit: boolean
  private settings: ShareGroupSettings = DEFAULT_SETTINGS
  private handler: Handler | undefined
  private readonly queue = new Deque<AcquiredRecord>()
  private readonly active = new Set<AcquiredRecord>()
  private readonly idle: (() => void)[] = []
  private readonly handlerTime = new Summary()
  private readonly counters = { messages: 0, bytes: 0, accepted: 0, released: 0, rejected: 0, handlerErrors: 0 }
  private running: Promise<void> | undefined
  private started: Promise<void> | undefined
  private stopping: Promise<void> | undefined
  private readonly stopped: Promise<void>
  private markStopped!: () => void
  private readonly stopController = new AbortController()
  /** stop() gave up waiting for the handlers still running: their outcomes count for nothing. */
  private abandoned = false

  constructor(options: ShareConsumerOptions) {
    super()
    const o = resolveShareConsumerOptions(options)
    // the dead-letter producer is made at run(): its options are checked now, with the others
    const dlqProducer = o.dlq && deadLetterProducerOptions(o as ConsumerOptions)
    if (dlqProducer) resolveProducerOptions(dlqProducer, 'dead-letter producer')
    this.stopped = new Promise((resolve) => {
      this.markStopped = resolve
    })
    this.options = o
    const { groupId, topics } = o
    this.concurrency = o.concurrency
    this.explicit = o.acknowledgement === 'explicit'
    this.cluster = new Cluster(o.client)
    this.log = childLogger(resolveLogger(o.logger), { clientId: o.client.clientId, groupId })
    this.member = new ShareGroupMember(
      this.cluster,
      { groupId, topics, rackId: o.rackId },
      {
        onAssignment: (tps) => this.assigned(tps),
        onFenced: () => this.fetcher.fenced(),
        onError: (error) => this.report(error),
      },
    )
    this.fetcher = new ShareFetcher(this.cluster, {
      groupId,
      memberId: this.member.memberId,
      fetch: o.fetch,
      log: this.log,
      report: (error) => this.report(error),
    })
    // more only once what was acquired has been handed out, as Java's poll loop: the broker caps the
    // records acquired per partition across all members (group.share.partition.max.record.locks), so
    // records prefetched here would be locks other members could work on (16 members: 0.88x -> 0.97x
    // the Java client's records/s)
    this.fetcher.wantRecords = () => !this.stopController.signal.aborted && this.queue.length < this.concurrency
    this.fetcher.onDeliveries = (deliveries) => {
      // a fetch answered while stopping: its records go back at once
      if (this.stopController.signal.aborted) for (const d of deliveries) this.fetcher.acknowledge(d, ACK.release)
      else for (const d of deliveries) this.queue.push(d)
      this.pump()
    }
    this.fetcher.onExpired = (deliveries) => this.expired(deliveries)
    // the dead-letter producer takes the consumer's connection settings, as the Consumer's does
    this.pipeline = new HandlerPipeline({ dlq: o.dlq }, () => new Producer(dlqProducer!))
    this.pipeline.middlewares.push(redelivery(o.retry, o.dlq !== undefined, () => this.settings.deliveryCountLimit))
  }

  /** The member id this consumer has in its share group (for the whole life of the consumer). */
  get memberId(): string {
    return this.member.memberId
  }

  /**
   * Adds a middleware; the first added is the outermost. The Consumer's middleware (logging,
   * timeout, recover...) work here too; a share middleware sees the share context.
   */
  use(middleware: Middleware | ShareMiddleware): this {
    if (this.running) throw new ConfigError('add middleware before run()')
    this.pipeline.middlewares.push(middleware as Middleware)
    return this
  }

  /** Consumes until stop() (or the signal); resolves once stopped. */
  run(handler: ShareHandler, options: RunOptions = {}): Promise<void> {
    if (this.running) throw new ConfigError('run() was already called')
    if (typeof handler !== 'function') throw new ConfigError('run() needs a handler function')
    const runOptions = checkRunOptions(options)
    this.handler = this.pipeline.build(handler as Handler)
    const { started, running } = runUntilStopped(
      () => this.begin(),
      () => this.stop(),
      this.stopped,
      runOptions,
      (error) => this.report(error),
    )
    this.started = started
    this.running = running
    return running
  }

  /** Connects, reads the group's settings and joins; the assignment then drives the fetcher. */
  private async begin(): Promise<void> {
    await this.cluster.connect()
    this.settings = await shareGroupSettings(this.cluster, this.options.groupId)
    this.fetcher.renew = this.options.renewLocks && this.settings.renewAllowed
    await this.member.start()
    this.fetcher.start()
  }

  /**
   * Stops fetching, gives back the records no handler took yet, lets running handlers finish (their
   * signal aborts) for up to `timeoutMs` and acknowledges them, closes the share sessions and leaves
   * the group; resolves when done. Past the timeout, the records of the handlers still running are
   * released with the sessions (what those handlers do afterwards counts for nothing) and stop()
   * rejects with a TimeoutError naming them. A second call returns the first one's promise.
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
      await this.started?.catch(() => {})
      for (let d = this.queue.shift(); d !== undefined; d = this.queue.shift()) {
        if (d.state === 'held') this.fetcher.acknowledge(d, ACK.release)
      }
      const unfinished = await this.drain(timeoutMs)
      await this.fetcher.close()
      await this.member.stop().catch((e) => this.report(e))
      await this.pipeline.close().catch((e) => this.report(e))
      await this.cluster.close()
      if (unfinished.length > 0) {
        const which = unfinished.slice(0, 5).map(where).join(', ')
        throw new TimeoutError(
          `stop() waited ${timeoutMs} ms for ${unfinished.length} handler(s) still running (${which}${unfinished.length > 5 ? ', ...' : ''}): their records were released`,
          { retriable: false },
        )
      }
    })().finally(() => this.markStopped())
    return this.stopping
  }

  /** Waits until no handler runs, or `timeoutMs`; returns the deliveries whose handlers still run (abandoned). */
  private async drain(timeoutMs: number): Promise<AcquiredRecord[]> {
    if (this.active.size === 0) return []
    let timer: NodeJS.Timeout | undefined
    // a timer cannot wait longer than 2^31-1 ms (it would fire at once): longer is unbounded
    const expired = new Promise<void>((resolve) => {
      if (timeoutMs < 2 ** 31) timer = setTimeout(resolve, timeoutMs)
    })
    await Promise.race([new Promise<void>((resolve) => this.idle.push(resolve)), expired])
    clearTimeout(timer)
    if (this.active.size === 0) return []
    this.abandoned = true
    return [...this.active]
  }

  /** The partitions assigned to this member now (shared with other members). */
  assignment(): TopicPartition[] {
    return this.member.assignment()
  }

  /** What the consumer did since it was created, and what it holds now. */
  stats(): ShareConsumerStats {
    const f = this.fetcher.counters
    return {
      ...this.counters,
      fetches: f.fetches,
      acknowledgeRequests: f.acknowledgeRequests,
      renewals: f.renewals,
      locksLost: this.fetcher.lost,
      acknowledgeErrors: f.acknowledgeErrors,
      inFlight: this.active.size,
      waiting: this.queue.length,
      held: this.fetcher.holding(),
      handlerMs: this.handlerTime.snapshot(),
    }
  }

  /**
   * The iterator form: a record is accepted when the loop asks for the next one; leaving the loop
   * (break, return, throw) stops the consumer, the last record accepted on break.
   */
  [Symbol.asyncIterator](): AsyncGenerator<ShareMessage> {
    return messagesOf<ShareMessage>(this, this.stopController.signal)
  }

  // ------------------------------------------------------------------------------------------
  // Handler runs

  private assigned(tps: TopicPartition[]): void {
    this.log.info?.({ partitions: tps.map((tp) => `${tp.topic}-${tp.partition}`) }, 'share partitions assigned')
    this.fetcher.assign(tps)
    this.emit('assigned', tps)
  }

  /** Starts handlers on waiting records while fewer than `concurrency` run. */
  private pump(): void {
    while (this.active.size < this.concurrency && !this.stopController.signal.aborted) {
      const d = this.queue.shift()
      if (d === undefined) break
      if (d.state === 'held') this.start(d)
    }
    if (this.fetcher.wantRecords()) this.fetcher.wake()
  }

  private start(d: AcquiredRecord): void {
    this.active.add(d)
    const { message } = d
    this.counters.bytes += (message.key?.length ?? 0) + (message.value?.length ?? 0)
    const context = this.context(d)
    const started = performance.now()
    let result: unknown
    try {
      result = channels.handler.hasSubscribers
        ? channels.handler.tracePromise(
            this.invokeAsync,
            { groupId: this.options.groupId, messages: [message] },
            this,
            message,
            context,
          )
        : this.handler!(message, context)
    } catch (error) {
      this.finish(d, context, started, true, error)
      return
    }
    if (result !== null && typeof (result as PromiseLike<unknown>)?.then === 'function') {
      ;(result as PromiseLike<unknown>).then(
        () => this.finish(d, context, started, false, undefined),
        (error) => this.finish(d, context, started, true, error),
      )
    } else this.finish(d, context, started, false, undefined)
  }

  /** The handler as a promise, for the tracing channel. */
  private async invokeAsync(message: ShareMessage, context: ShareHandlerContext): Promise<unknown> {
    return this.handler!(message, context)
  }

  /** The context of one delivery; its acknowledgement goes to the fetcher (counted once it is queued). */
  private context(d: AcquiredRecord): ShareHandlerContext {
    return shareContext(this.stopController.signal, d.message.deliveryCount, where(d), (type) => {
      if (!this.abandoned && this.fetcher.acknowledge(d, ACK_CODES[type])) {
        this.counters[type === 'accept' ? 'accepted' : type === 'release' ? 'released' : 'rejected']++
      }
    })
  }

  /** A handler run ended: its record is acknowledged as it decided, or by its outcome. */
  private finish(
    d: AcquiredRecord,
    context: ShareHandlerContext,
    started: number,
    threw: boolean,
    error: unknown,
  ): void {
    this.handlerTime.add(performance.now() - started)
    this.counters.messages++
    this.active.delete(d)
    if (context.acknowledgement() === undefined && !this.abandoned) {
      if (!threw) {
        if (this.explicit) {
          this.report(
            new ConfigError(
              `the handler of ${where(d)} resolved without acknowledging it (explicit acknowledgement): released`,
            ),
          )
          context.release()
        } else context.accept()
      } else if (error instanceof DeadLetterError || this.stopController.signal.aborted) {
        // not dealt with: delivered again
        if (error instanceof DeadLetterError) this.report(error)
        context.release()
      } else {
        this.counters.handlerErrors++
        this.report(
          error instanceof Error ? error : new HandlerError(`the handler of ${where(d)} failed`, { cause: error }),
        )
        context.reject()
      }
    }
    if (this.active.size === 0) for (const wake of this.idle.splice(0)) wake()
    this.pump()
  }

  /** Records whose lock ran out: those whose handler still runs are reported (their outcome is dropped). */
  private expired(deliveries: AcquiredRecord[]): void {
    const running = deliveries.filter((d) => this.active.has(d))
    if (running.length === 0) return
    const which = running.slice(0, 5).map(where).join(', ')
    this.report(
      new TimeoutError(
        `the acquisition lock of ${running.length} record(s) ran out while their handlers ran (${which}${running.length > 5 ? ', ...' : ''}): their outcomes will not be acknowledged, and the broker delivers them again`,
      ),
    )
  }

  private report(error: Error): void {
    this.log.error?.({ err: error }, error.message)
    if (this.options.onError) this.options.onError(error)
    else if (this.listenerCount('error') > 0) this.emit('error', error)
  }
}

function where(d: AcquiredRecord): string {
  const { topic, partition, offset } = d.message
  return `${topic}/${partition}@${offset}`
}
