// The iterator form of a consumer (`for await (const message of consumer)`): a handler that hands
// each message to the loop and settles once the loop asks for the next one.

import { KafkaxError } from '../protocol/errors.ts'
import type { Handler, Message } from './message.ts'

/** What the iterator needs of the consumer. */
export interface IteratedConsumer {
  run(handler: Handler): Promise<void>
  stop(): Promise<void>
}

/**
 * A message handed to the loop, as the handler's result: a thenable rather than a promise, so that
 * the loop's next pull settles it at once and the dispatcher hands out the next message before the
 * loop looks for it (no promise and no wait per message).
 */
class Pulled {
  /** Undefined while the loop has not moved past it; then handled (true) or dropped (false, with `error`). */
  private outcome: boolean | undefined
  private error: Error | undefined
  private done: (() => void) | undefined
  private drop: ((error: unknown) => void) | undefined

  constructor(readonly message: Message) {}

  // biome-ignore lint/suspicious/noThenProperty: the dispatcher and middleware settle on it as on a promise
  then(done: () => void, drop: (error: unknown) => void): void {
    // a middleware may await the handler's result after the loop moved on
    if (this.outcome === undefined) {
      this.done = done
      this.drop = drop
    } else if (this.outcome) done()
    else drop(this.error)
  }

  handled(): void {
    this.outcome = true
    this.done?.()
  }

  dropped(error: Error): void {
    this.outcome = false
    this.error = error
    this.drop?.(error)
  }
}

/**
 * A message counts as handled when the loop asks for the next one; leaving the loop (break, return,
 * throw) stops the consumer, the last message counting as handled on break. `stopping` aborts when
 * the consumer stops by other means: the loop then ends. The consumer runs from the first pull.
 *
 * Written out rather than as an async generator: a generator's resumption costs about twice this
 * per message (its request queue and resumption promises).
 */
export function messagesOf<M extends Message>(consumer: IteratedConsumer, stopping: AbortSignal): AsyncGenerator<M> {
  return new Messages<M>(consumer, stopping)
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true })

class Messages<M extends Message> implements AsyncGenerator<M> {
  private readonly waiting: Pulled[] = []
  private current: Pulled | undefined
  private wake: (() => void) | undefined
  /** A pull waiting for a message; a further pull made meanwhile runs after it, as with a generator. */
  private pending: Promise<IteratorResult<M>> | undefined
  private ended: { error?: unknown; failed: boolean } | undefined
  private started = false
  /** Set once the loop left: messages handed out from then on are dropped. */
  private closing: Promise<void> | undefined
  private finished = false

  constructor(
    private readonly consumer: IteratedConsumer,
    private readonly stopping: AbortSignal,
  ) {}

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IteratorResult<M>> {
    if (this.pending !== undefined) return this.pending.then(this.nextAfter, this.nextAfter)
    if (this.finished) return Promise.resolve(DONE)
    if (!this.started) this.start()
    this.current?.handled()
    this.current = undefined
    return this.take()
  }

  return(): Promise<IteratorResult<M>> {
    if (this.pending !== undefined) return this.pending.then(this.returnAfter, this.returnAfter)
    return this.finish().then(() => DONE)
  }

  throw(error: unknown): Promise<IteratorResult<M>> {
    if (this.pending !== undefined)
      return this.pending.then(
        () => this.throw(error),
        () => this.throw(error),
      )
    return this.finish().then(() => Promise.reject(error))
  }

  private readonly nextAfter = () => this.next()
  private readonly returnAfter = () => this.return()

  private start(): void {
    this.started = true
    const run = this.consumer.run((message) => {
      const pulled = new Pulled(message)
      // a message handed out once the loop ended is not handled (a middleware may call late)
      if (this.closing !== undefined) pulled.dropped(stoppedError())
      else {
        this.waiting.push(pulled)
        this.wake?.()
      }
      return pulled
    })
    // one reaction on run(), not one per wait: a race per wait kept every wait alive until run() settled
    run.then(
      () => this.end({ failed: false }),
      (error) => this.end({ error, failed: true }),
    )
  }

  private end(ended: { error?: unknown; failed: boolean }): void {
    this.ended = ended
    this.wake?.()
  }

  private take(): Promise<IteratorResult<M>> {
    const next = this.waiting.shift()
    if (next !== undefined) {
      this.current = next
      return Promise.resolve({ value: next.message as M, done: false })
    }
    const ended = this.ended
    if (ended?.failed) return this.finish().then(() => Promise.reject(ended.error))
    if (ended !== undefined || this.stopping.aborted) return this.finish().then(() => DONE)
    const pending = new Promise<void>((resolve) => (this.wake = resolve)).then(() => {
      this.wake = undefined
      this.pending = undefined
      return this.take()
    })
    this.pending = pending
    return pending
  }

  /** Leaves the loop: stops the consumer, settles the current message and drops the ones not seen. */
  private finish(): Promise<void> {
    this.finished = true
    if (!this.started) return Promise.resolve()
    if (this.closing === undefined) {
      // stopping first: settling the current message then hands out no further one
      this.closing = this.consumer.stop()
      this.current?.handled()
      this.current = undefined
      // messages the loop never saw are not handled: they stay uncommitted
      for (const w of this.waiting.splice(0)) w.dropped(stoppedError())
    }
    return this.closing
  }
}

const stoppedError = () => new KafkaxError('the iterator stopped', 'ESTOPPED')
