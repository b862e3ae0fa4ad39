// Retries with exponential backoff and jitter, used by every layer: only retriable errors are
// retried, within a number of attempts and an overall deadline (like the Java client's
// retry.backoff.ms / retry.backoff.max.ms / delivery and default API timeouts).

import { type FieldsOf, group } from '../options/schema.ts'
import { resolveOptions } from '../options/validate.ts'
import { KafkaxError } from '../protocol/errors.ts'

/** Exponential backoff with jitter for retriable request errors (defaults: RETRY_OPTIONS). */
export interface RetryOptions {
  /** Attempts in all, the first included. */
  maxAttempts?: number
  /** Delay before the first retry. */
  initialDelayMs?: number
  /** Upper bound of any delay (as the Java client's retry.backoff.max.ms). */
  maxDelayMs?: number
  /** Growth of the delay per attempt. */
  multiplier?: number
  /** Random spread of each delay, as a fraction of it: 0.2 means ±20%. */
  jitter?: number
  /** Overall time for all attempts together, from the first. */
  deadlineMs?: number
}

/** The retry options: types, bounds, defaults. */
export const RETRY_OPTIONS = group('Retries of retriable request errors, with exponential backoff', {
  maxAttempts: { kind: 'integer', min: 1, default: 5, doc: 'Attempts in all, the first included' },
  initialDelayMs: { kind: 'duration', min: 0, default: 100, doc: 'Delay before the first retry' },
  maxDelayMs: { kind: 'duration', min: 0, default: 1000, doc: 'Upper bound of any delay' },
  multiplier: { kind: 'number', min: 1, default: 2, doc: 'Growth of the delay per attempt' },
  jitter: { kind: 'number', min: 0, max: 1, default: 0.2, doc: 'Random spread of each delay, as a fraction of it' },
  deadlineMs: { kind: 'duration', min: 0, default: 30_000, doc: 'Overall time for all attempts of one operation' },
} satisfies FieldsOf<RetryOptions>)

/** Per-operation options of `RetryPolicy.run`. */
export interface RetryRun {
  signal?: AbortSignal
  /** Decides which errors are worth another attempt; default: `error.retriable` of kafkax errors. */
  retriable?: (error: unknown) => boolean
  /** Called before each wait, e.g. to refresh metadata after NOT_LEADER_OR_FOLLOWER. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void | Promise<void>
}

const isRetriable = (e: unknown) => e instanceof KafkaxError && e.retriable

/** Runs an operation again after retriable errors, with exponential backoff, within a deadline. */
export class RetryPolicy {
  readonly maxAttempts: number
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  readonly multiplier: number
  readonly jitter: number
  readonly deadlineMs: number

  constructor(options: RetryOptions = {}) {
    const o = resolveOptions(RETRY_OPTIONS, options, 'retry')
    this.maxAttempts = o.maxAttempts
    this.initialDelayMs = o.initialDelayMs
    this.maxDelayMs = Math.max(o.maxDelayMs, o.initialDelayMs)
    this.multiplier = o.multiplier
    this.jitter = o.jitter
    this.deadlineMs = o.deadlineMs
  }

  /** The wait before attempt `attempt + 1` (attempt counts from 1). */
  delay(attempt: number, random = Math.random): number {
    const base = Math.min(this.maxDelayMs, this.initialDelayMs * this.multiplier ** (attempt - 1))
    return Math.max(0, Math.round(base * (1 + this.jitter * (2 * random() - 1))))
  }

  /**
   * Runs `fn` until it succeeds, fails with a non-retriable error, or runs out of attempts or of
   * time: then the last error is thrown (a ConnectionError stays a ConnectionError).
   */
  async run<T>(fn: (attempt: number) => Promise<T>, run: RetryRun = {}): Promise<T> {
    const retriable = run.retriable ?? isRetriable
    const deadline = Date.now() + this.deadlineMs
    for (let attempt = 1; ; attempt++) {
      run.signal?.throwIfAborted()
      try {
        return await fn(attempt)
      } catch (error) {
        if (!retriable(error) || attempt >= this.maxAttempts) throw error
        const wait = this.delay(attempt)
        if (Date.now() + wait >= deadline) throw error
        await run.onRetry?.(error, attempt, wait)
        await sleep(wait, run.signal)
      }
    }
  }
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * `promise`, or a rejection with `timeout()` after `ms` if it has not settled by then (the work goes
 * on; a caller that must bound its wait uses this).
 */
export function within<T>(promise: Promise<T>, ms: number, timeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeout()), ms)
  })
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer))
}
