// The fake cluster's sense of time. Everything the broker decides by the clock (group session and
// rebalance timeouts, pending-member expiry, transaction timeouts, commit and LogAppendTime
// timestamps) reads this clock, so a test can swap in a ManualClock and advance time instead of
// waiting. Waits that belong to one request (a fetch's maxWait, an interceptor's delay) use real
// timers: a client times its requests out by the wall clock.

import { ConfigError } from '../protocol/errors.ts'

export interface Timer {
  cancel(): void
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  /** Runs `fn` once `ms` have passed on this clock. */
  schedule(ms: number, fn: () => void): Timer
}

/** The wall clock and Node's timers (unref'd: a pending session timeout keeps no process alive). */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const t = setTimeout(fn, ms)
    t.unref()
    return { cancel: () => clearTimeout(t) }
  },
}

interface Scheduled {
  at: number
  seq: number
  fn: () => void
  cancelled: boolean
}

/** A clock that moves only when the test calls `advance` (or `set`). */
export class ManualClock implements Clock {
  private current: number
  private timers: Scheduled[] = []
  private seq = 0

  constructor(start = Date.now()) {
    this.current = start
  }

  now(): number {
    return this.current
  }

  schedule(ms: number, fn: () => void): Timer {
    const timer: Scheduled = { at: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false }
    this.timers.push(timer)
    return {
      cancel: () => {
        timer.cancelled = true
      },
    }
  }

  /** Moves time forward by `ms`, running every timer that falls due, in order of due time. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new ConfigError(`cannot advance a clock by ${ms} ms`)
    this.set(this.current + ms)
  }

  /** Moves time forward to `time`; timers scheduled by the timers that run are honoured too. */
  set(time: number): void {
    if (time < this.current) throw new ConfigError('a ManualClock does not go backwards')
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled)
      let next: Scheduled | undefined
      for (const t of this.timers)
        if (t.at <= time && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t
      if (!next) break
      this.current = next.at
      next.cancelled = true
      next.fn()
    }
    this.current = time
  }

  /** Timers not yet due (for a test's assertion messages). */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length
  }
}
