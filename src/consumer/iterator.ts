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
 * A message counts as handled when the loop asks for the next one; leaving the loop (break, return,
 * throw) stops the consumer, the last message counting as handled on break. `stopping` aborts when
 * the consumer stops by other means: the loop then ends.
 */
export async function* messagesOf(consumer: IteratedConsumer, stopping: AbortSignal): AsyncGenerator<Message> {
  const waiting: { message: Message; done: () => void; drop: (e: Error) => void }[] = []
  let wake: (() => void) | undefined
  let current: (() => void) | undefined
  const run = consumer.run(
    (message) =>
      new Promise<void>((done, drop) => {
        waiting.push({ message, done, drop })
        wake?.()
      }),
  )
  try {
    for (;;) {
      while (waiting.length === 0) {
        if (stopping.aborted) return
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
    await consumer.stop()
  }
}
