// Leak checks for a test scenario: sockets and timers created while it ran must all be gone after
// the clients closed (async_hooks sees unref'd handles too, which process.getActiveResourcesInfo()
// leaves out), no rejection may go unhandled and no exception uncaught, and every promise the
// scenario was handed must have settled.

import { createHook } from 'node:async_hooks'

/** The async resource types that outlive a closed client when something forgot to clean up. */
const WATCHED = new Set(['TCPWRAP', 'TCPSERVERWRAP', 'Timeout'])

export class LeakWatch {
  /** Alive resources created since start(), with where they were created. */
  private readonly live = new Map<number, { type: string; origin: Error; at: number; handle: WeakRef<object> }>()
  private started = 0
  /** Set while stop() arms its own wait timer, which is no leak. */
  private ignoring = false
  readonly unhandledRejections: unknown[] = []
  readonly uncaughtExceptions: unknown[] = []
  private readonly hook = createHook({
    init: (id, type, _trigger, resource) => {
      if (!WATCHED.has(type) || this.ignoring) return
      // deep enough to get past node's own frames to whoever created the handle
      const limit = Error.stackTraceLimit
      Error.stackTraceLimit = 20
      const origin = new Error(type)
      Error.stackTraceLimit = limit
      this.live.set(id, { type, origin, at: Date.now(), handle: new WeakRef(resource) })
    },
    destroy: (id) => {
      this.live.delete(id)
    },
  })
  private readonly onRejection = (reason: unknown) => this.unhandledRejections.push(reason)
  private readonly onException = (error: unknown) => this.uncaughtExceptions.push(error)

  start(): this {
    this.started = Date.now()
    process.on('unhandledRejection', this.onRejection)
    process.on('uncaughtException', this.onException)
    this.hook.enable()
    return this
  }

  /**
   * Stops watching; resolves with what is still alive after waiting up to `graceMs` for sockets to
   * finish closing, and closes what it reports.
   */
  async stop(graceMs = 5000): Promise<LeakReport> {
    const deadline = Date.now() + graceMs
    while (this.live.size > 0 && Date.now() < deadline) {
      this.ignoring = true
      const wait = new Promise((r) => setTimeout(r, 50))
      this.ignoring = false
      await wait
    }
    this.hook.disable()
    process.off('unhandledRejection', this.onRejection)
    process.off('uncaughtException', this.onException)
    const leaked = [...this.live.values()].map(
      ({ type, origin, at }) => `${type} created ${at - this.started} ms in, ${where(origin)}`,
    )
    // reported, then closed: a leaked socket or timer would keep the test process from ever exiting
    for (const { type, handle } of this.live.values()) {
      const resource = handle.deref() as { close?: () => void } | undefined
      if (type === 'Timeout') clearTimeout(resource as NodeJS.Timeout)
      else resource?.close?.()
    }
    return {
      leaked,
      unhandledRejections: this.unhandledRejections.map(String),
      uncaughtExceptions: this.uncaughtExceptions.map(String),
    }
  }
}

export interface LeakReport {
  leaked: string[]
  unhandledRejections: string[]
  uncaughtExceptions: string[]
}

/** The first stack frames outside node's internals: who created the resource. */
function where(origin: Error): string {
  const frames = (origin.stack ?? '')
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => !l.includes('node:') && !l.includes('/leaks.ts'))
  return frames.slice(0, 4).join(' < ') || '(inside node)'
}

/** Counts promises handed out and settled, so a check can say how many were left pending. */
export class PromiseLedger {
  handed = 0
  settled = 0

  get pending(): number {
    return this.handed - this.settled
  }

  /** Tracks `promise` and returns it, its rejection observed here (never unhandled); outcomes go to `onSettled`. */
  track<T>(promise: Promise<T>, onSettled?: (result: PromiseSettledResult<T>) => void): Promise<T> {
    this.handed++
    promise.then(
      (value) => {
        this.settled++
        onSettled?.({ status: 'fulfilled', value })
      },
      (reason) => {
        this.settled++
        onSettled?.({ status: 'rejected', reason })
      },
    )
    return promise
  }
}
