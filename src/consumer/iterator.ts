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
 * the consumer stops by other means: the loop then ends.
 */
export async function* messagesOf(consumer: IteratedConsumer, stopping: AbortSignal): AsyncGenerator<Message> {
  const waiting: Pulled[] = []
  let wake: (() => void) | undefined
  let current: Pulled | undefined
  let ended: { error?: unknown; failed: boolean } | undefined
  let closed = false
  const run = consumer.run((message) => {
    const pulled = new Pulled(message)
    // a message handed out once the loop ended is not handled (a middleware may call late)
    if (closed) pulled.dropped(stoppedError())
    else {
      waiting.push(pulled)
      wake?.()
    }
    return pulled
  })
  // one reaction on run(), not one per wait: a race per wait kept every wait alive until run() settled
  run.then(
    () => {
      ended = { failed: false }
      wake?.()
    },
    (error) => {
      ended = { error, failed: true }
      wake?.()
    },
  )
  try {
    for (;;) {
      while (waiting.length === 0) {
        if (ended?.failed) throw ended.error
        if (ended || stopping.aborted) return
        await new Promise<void>((resolve) => (wake = resolve))
        wake = undefined
      }
      const next = waiting.shift()!
      current = next
      yield next.message
      current = undefined
      next.handled()
    }
  } finally {
    closed = true
    // stopping first: settling the current message then hands out no further one
    const stopped = consumer.stop()
    current?.handled()
    // messages the loop never saw are not handled: they stay uncommitted
    for (const w of waiting.splice(0)) w.dropped(stoppedError())
    await stopped
  }
}

const stoppedError = () => new KafkaxError('the iterator stopped', 'ESTOPPED')
