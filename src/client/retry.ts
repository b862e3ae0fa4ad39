// Retries with exponential backoff and jitter, used by every layer: only retriable errors are
// retried, within a number of attempts and an overall deadline (like the Java client's
// retry.backoff.ms / retry.backoff.max.ms / delivery and default API timeouts).

import { ConfigError, KafkaxError } from '../protocol/errors.ts'

/** Exponential backoff with jitter for retriable request errors. */
export interface RetryOptions {
  /** Attempts in all, the first included (default 5). */
  maxAttempts?: number
  /** Delay before the first retry (default 100 ms). */
  initialDelayMs?: number
  /** Upper bound of any delay (default 1000 ms, as the Java client's retry.backoff.max.ms). */
  maxDelayMs?: number
  /** Growth of the delay per attempt (default 2). */
  multiplier?: number
  /** Random spread of each delay, as a fraction of it: 0.2 means ±20% (default 0.2). */
  jitter?: number
  /** Overall time for all attempts together, from the first (default 30 s). */
  deadlineMs?: number
}

/** Per-operation options of `RetryPolicy.run`. */
export interface RetryRun {
  signal?: AbortSignal
  /** Decides which errors are worth another attempt; default: `error.retriable` of kafkax errors. */
  retriable?: (error: unknown) => boolean
  /** Called before each wait, e.g. to refresh metadata after NOT_LEADER_OR_FOLLOWER. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void | Promise<void>
}

const isRetriable = (e: unknown) => e instanceof KafkaxError && e.retriable

function check(name: string, value: number | undefined, min: number, integer = false): void {
  if (value === undefined) return
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new ConfigError(`retry.${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${value}`)
  }
}

/** Runs an operation again after retriable errors, with exponential backoff, within a deadline. */
export class RetryPolicy {
  readonly maxAttempts: number
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  readonly multiplier: number
  readonly jitter: number
  readonly deadlineMs: number

  constructor(options: RetryOptions = {}) {
    check('maxAttempts', options.maxAttempts, 1, true)
    check('initialDelayMs', options.initialDelayMs, 0)
    check('maxDelayMs', options.maxDelayMs, 0)
    check('multiplier', options.multiplier, 1)
    check('jitter', options.jitter, 0)
    check('deadlineMs', options.deadlineMs, 0)
    if (options.jitter !== undefined && options.jitter > 1)
      throw new ConfigError(`retry.jitter must be <= 1, got ${options.jitter}`)
    this.maxAttempts = options.maxAttempts ?? 5
    this.initialDelayMs = options.initialDelayMs ?? 100
    this.maxDelayMs = Math.max(options.maxDelayMs ?? 1000, this.initialDelayMs)
    this.multiplier = options.multiplier ?? 2
    this.jitter = options.jitter ?? 0.2
    this.deadlineMs = options.deadlineMs ?? 30_000
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
