// Retries in a share group are redeliveries: a handler that throws gives its record back (RELEASE),
// and the broker delivers it again (to any member) with its delivery count one higher. The share
// consumer's `retry` option decides, with the delivery count as the attempt: before the last
// attempt the record is released after the backoff; on the last one (the attempts the option
// allows, or the group's delivery count limit, after which the broker would archive the record
// instead of delivering it again) the error goes on to the dead-letter middleware (which writes the
// record to the dead-letter topic, and the record is then accepted) or, without one, to the
// consumer, which rejects the record. Without a `retry` option a record is released at once until
// the delivery count limit, or dead-lettered at its first failure when there is a dead-letter topic.

import { sleep } from '../client/retry.ts'
import type { Middleware } from '../consumer/message.ts'
import { type RetryMiddlewareOptions, retryBackoff } from '../consumer/middleware.ts'
import type { ShareHandlerContext } from './message.ts'

/**
 * The redelivery middleware, inside the dead-letter one. `deliveryCountLimit` reads the group's
 * limit (share.delivery.count.limit) as the consumer knows it.
 */
export function redelivery(
  options: RetryMiddlewareOptions | undefined,
  deadLetters: boolean,
  deliveryCountLimit: () => number,
): Middleware {
  const { maxRetries, policy } = options
    ? retryBackoff(options)
    : { maxRetries: deadLetters ? 0 : Number.POSITIVE_INFINITY, policy: undefined }
  const retriable = options?.retriable ?? (() => true)
  return (next) => async (message, context) => {
    const ctx = context as ShareHandlerContext
    try {
      return await next(message, context)
    } catch (error) {
      // the handler acknowledged the record before it threw: that stands
      if (ctx.acknowledgement() !== undefined) return undefined
      // stopping: the record was not given its full chance, another member takes it
      if (context.signal.aborted) {
        ctx.release()
        return undefined
      }
      const attempt = ctx.deliveryCount
      if (attempt > maxRetries || attempt >= deliveryCountLimit() || !retriable(error, message)) throw error
      const delayMs = policy ? policy.delay(attempt) : 0
      options?.onRetry?.(error, message, attempt, delayMs)
      // a stop during the wait releases the record at once
      if (delayMs > 0) await sleep(delayMs, context.signal).catch(() => {})
      ctx.release()
      return undefined
    }
  }
}
