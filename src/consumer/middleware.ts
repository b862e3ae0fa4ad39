// Consumer middleware: wrappers around a handler that retry it, dead-letter what still fails, log it,
// turn thrown non-Error values into errors and bound its run time. The consumer commits an offset
// only when the composed handler resolves, so each wrapper resolves only once the message is truly
// dealt with (handled, skipped, or durably written to the dead-letter topic). Batch mode has its own
// retry and dead-letter middleware: a batch may fail in part (a BatchResult, or resolve() before a
// throw), and only what is still failed is retried and then dead-lettered.

import { RETRY_OPTIONS, RetryPolicy, sleep } from '../client/retry.ts'
import type { Logger } from '../observability/logger.ts'
import { type FieldsOf, group } from '../options/schema.ts'
import { resolveOptions } from '../options/validate.ts'
import type { ProducerRecord, RecordMetadata } from '../producer/record.ts'
import { ConfigError, KafkaxError, type KafkaxErrorOptions, TimeoutError } from '../protocol/errors.ts'
import type {
  BatchContext,
  BatchHandler,
  BatchMiddleware,
  BatchResult,
  Handler,
  HandlerContext,
  Message,
  Middleware,
} from './message.ts'

/**
 * A handler failed without an Error: it threw something else (a string, an object, undefined:
 * `cause` holds it), or a batch handler returned a result the consumer cannot use.
 */
export class HandlerError extends KafkaxError {
  constructor(message: string, options: KafkaxErrorOptions = {}) {
    super(message, 'EHANDLER', { retriable: false, ...options })
  }
}

/** A failed message could not be written to the dead-letter topic: `cause` is the write's error. */
export class DeadLetterError extends KafkaxError {
  /** What the handler threw, which sent the message to the dead-letter topic. */
  readonly handlerError: Error

  constructor(message: string, handlerError: Error, options: KafkaxErrorOptions = {}) {
    super(message, 'EDEADLETTER', { retriable: true, ...options })
    this.handlerError = handlerError
  }
}

/** Wraps `handler` in `middlewares`, the first one outermost. */
export function compose(middlewares: readonly Middleware[], handler: Handler): Handler
/** Wraps a batch handler in batch middlewares, the first one outermost. */
export function compose(middlewares: readonly BatchMiddleware[], handler: BatchHandler): BatchHandler
export function compose<H>(middlewares: readonly ((next: H) => H)[], handler: H): H {
  return middlewares.reduceRight<H>((next, middleware) => middleware(next), handler)
}

function describe(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value)
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

/** `value` itself when it is an Error, else a HandlerError carrying it as `cause`. */
function toError(value: unknown): Error {
  if (value instanceof Error) return value
  return new HandlerError(`handler threw a non-Error value: ${describe(value).slice(0, 200)}`, { cause: value })
}

/** The last attempt retry() made for a delivery, keyed by the context it was given, for deadLetter(). */
const attemptsMade = new WeakMap<HandlerContext, number>()

/** Options of the retry middleware (the consumer's `retry` option; defaults: HANDLER_RETRY_FIELDS). */
export interface RetryMiddlewareOptions {
  /** Retries after the first attempt. */
  maxRetries?: number
  /** Wait before the first retry; each next wait is `multiplier` times longer. */
  initialDelayMs?: number
  /** Upper bound of a wait. */
  maxDelayMs?: number
  multiplier?: number
  /** Random spread of each wait as a fraction of it: 0.2 means ±20%. */
  jitter?: number
  /** Which failures are worth another attempt (default: all of them). */
  retriable?: (error: unknown, message: Message) => boolean
  /** Called before each wait, e.g. to log or count retries. */
  onRetry?: (error: unknown, message: Message, attempt: number, delayMs: number) => void
}

/** Handler retries: the consumer's `retry` option, and the options of retry() and retryBatch(). */
export const HANDLER_RETRY_FIELDS = {
  maxRetries: { kind: 'integer', min: 0, default: 3, doc: 'Retries after the first attempt' },
  initialDelayMs: { kind: 'duration', min: 0, default: 100, doc: 'Delay before the first retry' },
  maxDelayMs: { kind: 'duration', min: 0, default: 10_000, doc: 'Upper bound of any delay' },
  multiplier: RETRY_OPTIONS.fields.multiplier,
  jitter: RETRY_OPTIONS.fields.jitter,
} satisfies FieldsOf<Omit<RetryMiddlewareOptions, 'retriable' | 'onRetry'>>

const RETRY_MIDDLEWARE = group('retry() options', {
  ...HANDLER_RETRY_FIELDS,
  retriable: { kind: 'function', doc: 'Which failures are worth another attempt' },
  onRetry: { kind: 'function', doc: 'Called before each wait' },
})

/** The number of retries and the backoff between them, of retry() and retryBatch() (and the share consumer's retries). */
export function retryBackoff(options: RetryMiddlewareOptions | BatchRetryOptions): {
  maxRetries: number
  policy: RetryPolicy
} {
  const o = resolveOptions(RETRY_MIDDLEWARE, options as RetryMiddlewareOptions, 'retry')
  const { initialDelayMs, maxDelayMs, multiplier, jitter } = o
  return { maxRetries: o.maxRetries, policy: new RetryPolicy({ initialDelayMs, maxDelayMs, multiplier, jitter }) }
}

/**
 * Re-invokes the handler with `context.attempt` counting up, waiting with exponential backoff and
 * jitter between attempts. When retries run out, the error is not retriable, or `context.signal`
 * aborts (the wait stops at once), the last error is thrown.
 */
export function retry(options: RetryMiddlewareOptions = {}): Middleware {
  const { maxRetries, policy } = retryBackoff(options)
  const retriable = options.retriable ?? (() => true)
  return (next) => async (message, context) => {
    for (let retries = 0; ; retries++) {
      const attempt = context.attempt + retries
      try {
        return await next(message, { ...context, attempt })
      } catch (error) {
        attemptsMade.set(context, attempt)
        if (retries >= maxRetries || context.signal.aborted || !retriable(error, message)) throw error
        const delayMs = policy.delay(retries + 1)
        options.onRetry?.(error, message, attempt, delayMs)
        // an abort during the wait ends the retries: the handler's error says more than the abort
        await sleep(delayMs, context.signal).catch(() => {
          throw error
        })
      }
    }
  }
}

/** Something that writes a record and resolves once the broker acknowledged it, like Producer. */
export interface DeadLetterProducer {
  /** Writes the record; resolves once the broker acknowledged it. */
  send(record: ProducerRecord): Promise<RecordMetadata>
}

/** Options of the dead-letter middleware (the consumer's `dlq` option). */
export interface DeadLetterOptions {
  producer: DeadLetterProducer
  /** The dead-letter topic, or a function choosing it per message. */
  topic: string | ((message: Message) => string)
  /** Prefix of the headers added to dead-lettered records (default 'kafkax-dlq-'). */
  headersPrefix?: string
}

const MAX_TEXT_BYTES = 2048
const utf8 = new TextEncoder()

/** The first 2 KB of `text` in UTF-8, cut between characters (encodeInto never splits one). */
function truncated(text: string): Buffer {
  const out = Buffer.allocUnsafe(MAX_TEXT_BYTES)
  return out.subarray(0, utf8.encodeInto(text, out).written)
}

/**
 * Writes the original key, value and headers of `message` to the dead-letter topic with headers
 * describing the failure; resolves once the broker acknowledged it, else throws a DeadLetterError.
 */
async function writeDeadLetter(
  options: DeadLetterOptions,
  message: Message,
  error: Error,
  context: HandlerContext,
): Promise<void> {
  const prefix = options.headersPrefix ?? 'kafkax-dlq-'
  let topic: string | undefined
  try {
    topic = typeof options.topic === 'function' ? options.topic(message) : options.topic
    await options.producer.send({
      topic,
      key: message.key,
      value: message.value,
      headers: [
        ...message.headers,
        { key: `${prefix}topic`, value: message.topic },
        { key: `${prefix}partition`, value: String(message.partition) },
        { key: `${prefix}offset`, value: String(message.offset) },
        { key: `${prefix}timestamp`, value: String(message.timestamp) },
        { key: `${prefix}error-name`, value: error.name },
        { key: `${prefix}error-message`, value: truncated(error.message) },
        { key: `${prefix}error-stack`, value: error.stack === undefined ? null : truncated(error.stack) },
        { key: `${prefix}attempts`, value: String(attemptsMade.get(context) ?? context.attempt) },
        { key: `${prefix}failed-at`, value: String(Date.now()) },
      ],
    })
  } catch (writeError) {
    const where = `${message.topic}/${message.partition}@${message.offset}`
    const why = writeError instanceof Error ? writeError.message : describe(writeError)
    throw new DeadLetterError(`could not dead-letter ${where} to ${topic ?? '(no topic)'}: ${why}`, error, {
      cause: writeError,
    })
  }
}

/**
 * Calls the handler; when it throws, writes the original key, value and headers to the dead-letter
 * topic with headers describing the failure, and resolves only after the broker acknowledged the
 * write, so the caller may commit. A failed write throws a DeadLetterError and nothing is committed.
 * Put it outside retry(): `[deadLetter(...), retry(...)]`; the attempts header counts retry()'s attempts
 * when the middlewares between the two pass the context on unchanged. A failure after `context.signal` aborted
 * (stop, revocation) is rethrown instead: the message was not given its full chance and is redelivered.
 */
export function deadLetter(options: DeadLetterOptions): Middleware {
  return (next) => async (message, context) => {
    try {
      return await next(message, context)
    } catch (thrown) {
      if (context.signal.aborted) throw thrown
      await writeDeadLetter(options, message, toError(thrown), context)
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Batch mode

/** What a batch handler's run left failed: messages of its batch, in offset order, and why. */
export interface BatchFailure extends BatchResult {
  readonly failed: Message[]
}

/**
 * What failed of `messages` when the handler given them threw `value` (`threw`) or returned it:
 * after a throw, the messages not resolved; after a BatchResult, its failed messages not resolved;
 * after anything else, none (undefined). A BatchResult naming messages that are not in the batch
 * fails the whole batch with a HandlerError.
 */
export function batchFailure(
  messages: readonly Message[],
  context: BatchContext,
  threw: boolean,
  value: unknown,
): BatchFailure | undefined {
  const resolved = context.resolvedOffset()
  const open = (m: Message) => resolved === undefined || m.offset > resolved
  if (threw) return failedOf(messages.filter(open), value)
  if (typeof value !== 'object' || value === null || !('failed' in value)) return undefined
  const result = value as BatchResult
  if (!Array.isArray(result.failed)) {
    const got = describe(result.failed).slice(0, 200)
    return failedOf(messages.filter(open), new HandlerError(`a BatchResult needs failed: Message[], got ${got}`))
  }
  const offsets = new Set<unknown>(result.failed.map((m) => (m as Message | undefined)?.offset))
  for (const m of messages) offsets.delete(m.offset)
  if (offsets.size > 0) {
    const foreign = [...offsets].map(String).join(', ')
    const error = new HandlerError(
      `a batch handler reported messages failed that are not in its batch (offsets ${foreign})`,
    )
    return failedOf(messages.filter(open), error)
  }
  const listed = new Set(result.failed.map((m) => m.offset))
  const failed = messages.filter((m) => listed.has(m.offset) && open(m))
  const error =
    result.error ??
    new HandlerError(`the batch handler reported ${failed.length} of ${messages.length} messages failed`)
  return failedOf(failed, error)
}

function failedOf(failed: Message[], error: unknown): BatchFailure | undefined {
  return failed.length > 0 ? { failed, error } : undefined
}

/** Options of the batch retry middleware (the consumer's `retry` option in batch mode). */
export interface BatchRetryOptions extends Omit<RetryMiddlewareOptions, 'retriable' | 'onRetry'> {
  /** Which failures are worth another attempt (default: all of them). */
  retriable?: (error: unknown, failed: readonly Message[]) => boolean
  /** Called before each wait, e.g. to log or count retries. */
  onRetry?: (error: unknown, failed: readonly Message[], attempt: number, delayMs: number) => void
}

/**
 * retry() for batches: re-invokes the handler with what failed of the batch (all of it after a
 * throw, less what was resolved; the failed messages of a BatchResult), `context.attempt` counting
 * up, with exponential backoff and jitter between attempts. When retries run out, the failure is
 * not retriable, or `context.signal` aborts, it returns what is still failed as a BatchResult.
 */
export function retryBatch(options: BatchRetryOptions = {}): BatchMiddleware {
  const { maxRetries, policy } = retryBackoff(options)
  const retriable = options.retriable ?? (() => true)
  return (next) => async (messages, context) => {
    let batch = messages
    for (let retries = 0; ; retries++) {
      const attempt = context.attempt + retries
      let threw = false
      let value: unknown
      try {
        value = await next(batch, { ...context, attempt })
      } catch (error) {
        threw = true
        value = error
      }
      const failure = batchFailure(batch, context, threw, value)
      if (!failure) return threw ? undefined : value
      attemptsMade.set(context, attempt)
      if (retries >= maxRetries || context.signal.aborted || !retriable(failure.error, failure.failed)) return failure
      const delayMs = policy.delay(retries + 1)
      options.onRetry?.(failure.error, failure.failed, attempt, delayMs)
      // an abort during the wait ends the retries
      const waited = await sleep(delayMs, context.signal).then(
        () => true,
        () => false,
      )
      if (!waited) return failure
      batch = failure.failed
    }
  }
}

/**
 * deadLetter() for batches: calls the handler, and writes what failed of the batch (see
 * retryBatch) to the dead-letter topic, one record per message with deadLetter()'s headers; it
 * resolves once the broker acknowledged every write, so the whole batch may be committed. Messages
 * whose write failed are returned as a BatchResult with a DeadLetterError: they stay uncommitted.
 * Put it outside retryBatch(). After `context.signal` aborted (stop, revocation) nothing is
 * written: the failure is passed on and the messages are redelivered.
 */
export function deadLetterBatch(options: DeadLetterOptions): BatchMiddleware {
  return (next) => async (messages, context) => {
    let value: unknown
    let failure: BatchFailure | undefined
    try {
      value = await next(messages, context)
      failure = batchFailure(messages, context, false, value)
    } catch (thrown) {
      if (context.signal.aborted) throw thrown
      failure = batchFailure(messages, context, true, thrown)
    }
    if (!failure) return value
    if (context.signal.aborted) return failure
    const error = toError(failure.error)
    const writes = await Promise.allSettled(failure.failed.map((m) => writeDeadLetter(options, m, error, context)))
    const unwritten = failure.failed.filter((_, i) => writes[i].status === 'rejected')
    if (unwritten.length === 0) return undefined
    const first = writes.find((w) => w.status === 'rejected') as PromiseRejectedResult
    return { failed: unwritten, error: first.reason }
  }
}

export type { Logger }

type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error'

/** Options of the logging middleware. */
export interface LoggingOptions {
  /** Level of the start and finish lines (default 'debug'). */
  level?: LogLevel
  /** Level of the failure line (default 'error'). */
  errorLevel?: LogLevel
}

/** Logs each handler run's start, finish and failure with where the message came from and how long it took. */
export function logging(logger: Logger, options: LoggingOptions = {}): Middleware {
  const level = options.level ?? 'debug'
  const errorLevel = options.errorLevel ?? 'error'
  return (next) => async (message, context) => {
    // offsets as strings: JSON loggers cannot serialise a bigint
    const fields = {
      topic: message.topic,
      partition: message.partition,
      offset: String(message.offset),
      attempt: context.attempt,
    }
    const started = performance.now()
    logger[level]?.(fields, 'handler started')
    try {
      const result = await next(message, context)
      logger[level]?.({ ...fields, durationMs: performance.now() - started }, 'handler finished')
      return result
    } catch (err) {
      logger[errorLevel]?.({ ...fields, durationMs: performance.now() - started, err }, 'handler failed')
      throw err
    }
  }
}

/**
 * Makes every failure an Error (a thrown string, object or undefined becomes a HandlerError with the
 * value as `cause`), and lets `onError` skip the message by returning (or resolving) 'skip': the message
 * counts as handled. Any other result rethrows the error.
 */
export function recover(onError?: (error: Error, message: Message, context: HandlerContext) => unknown): Middleware {
  return (next) => async (message, context) => {
    try {
      return await next(message, context)
    } catch (thrown) {
      const error = toError(thrown)
      if (onError && (await onError(error, message, context)) === 'skip') return undefined
      throw error
    }
  }
}

/**
 * Fails a handler run that takes longer than `ms` with a TimeoutError, aborting the signal it was
 * given so that it can stop its work. The inner signal also follows the outer one.
 */
export function timeout(ms: number): Middleware {
  if (!Number.isFinite(ms) || ms <= 0) throw new ConfigError(`timeout must be a number of ms > 0, got ${ms}`)
  return (next) => async (message, context) => {
    const controller = new AbortController()
    // a listener removed in `finally`, not AbortSignal.any: the outer signal lives as long as the partition
    const follow = () => controller.abort(context.signal.reason)
    if (context.signal.aborted) follow()
    else context.signal.addEventListener('abort', follow, { once: true })
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new TimeoutError(`handler ran longer than ${ms} ms`)
        controller.abort(error)
        reject(error)
      }, ms)
    })
    try {
      return await Promise.race([next(message, { ...context, signal: controller.signal }), expired])
    } finally {
      clearTimeout(timer)
      context.signal.removeEventListener('abort', follow)
    }
  }
}
