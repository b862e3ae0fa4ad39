// Consumer middleware: wrappers around a handler that retry it, dead-letter what still fails, log it,
// turn thrown non-Error values into errors and bound its run time. The consumer commits an offset
// only when the composed handler resolves, so each wrapper resolves only once the message is truly
// dealt with (handled, skipped, or durably written to the dead-letter topic).

import { RetryPolicy, sleep } from '../client/retry.ts'
import type { Logger } from '../observability/logger.ts'
import type { ProducerRecord, RecordMetadata } from '../producer/record.ts'
import { ConfigError, KafkaxError, type KafkaxErrorOptions, TimeoutError } from '../protocol/errors.ts'
import type { Handler, HandlerContext, Message, Middleware } from './message.ts'

/** A handler threw something that is not an Error (a string, an object, undefined): `cause` holds it. */
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
export function compose(middlewares: readonly Middleware[], handler: Handler): Handler {
  return middlewares.reduceRight<Handler>((next, middleware) => middleware(next), handler)
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

/** Options of the retry middleware (the consumer's `retry` option). */
export interface RetryMiddlewareOptions {
  /** Retries after the first attempt (default 3). */
  maxRetries?: number
  /** Wait before the first retry (default 100 ms); each next wait is `multiplier` times longer. */
  initialDelayMs?: number
  /** Upper bound of a wait (default 10 s). */
  maxDelayMs?: number
  /** Default 2. */
  multiplier?: number
  /** Random spread of each wait as a fraction of it: 0.2 means ±20% (default 0.2). */
  jitter?: number
  /** Which failures are worth another attempt (default: all of them). */
  retriable?: (error: unknown, message: Message) => boolean
  /** Called before each wait, e.g. to log or count retries. */
  onRetry?: (error: unknown, message: Message, attempt: number, delayMs: number) => void
}

/**
 * Re-invokes the handler with `context.attempt` counting up, waiting with exponential backoff and
 * jitter between attempts. When retries run out, the error is not retriable, or `context.signal`
 * aborts (the wait stops at once), the last error is thrown.
 */
export function retry(options: RetryMiddlewareOptions = {}): Middleware {
  const maxRetries = options.maxRetries ?? 3
  if (!Number.isInteger(maxRetries) || maxRetries < 0) {
    throw new ConfigError(`retry.maxRetries must be an integer >= 0, got ${maxRetries}`)
  }
  const policy = new RetryPolicy({
    initialDelayMs: options.initialDelayMs ?? 100,
    maxDelayMs: options.maxDelayMs ?? 10_000,
    multiplier: options.multiplier,
    jitter: options.jitter,
  })
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
 * Calls the handler; when it throws, writes the original key, value and headers to the dead-letter
 * topic with headers describing the failure, and resolves only after the broker acknowledged the
 * write, so the caller may commit. A failed write throws a DeadLetterError and nothing is committed.
 * Put it outside retry(): `[deadLetter(...), retry(...)]`; the attempts header counts retry()'s attempts
 * when the middlewares between the two pass the context on unchanged. A failure after `context.signal` aborted
 * (stop, revocation) is rethrown instead: the message was not given its full chance and is redelivered.
 */
export function deadLetter(options: DeadLetterOptions): Middleware {
  const prefix = options.headersPrefix ?? 'kafkax-dlq-'
  return (next) => async (message, context) => {
    try {
      return await next(message, context)
    } catch (thrown) {
      if (context.signal.aborted) throw thrown
      const error = toError(thrown)
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
