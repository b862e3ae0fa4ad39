// ConsumerManager: several handlers, each bound to its topics with its own middleware and options,
// run as one unit: started together, stopped together (one line for SIGTERM), errors in one place.

import { ConfigError } from '../protocol/errors.ts'
import { Consumer, type ConsumerOptions, type RunOptions, type StopOptions } from './consumer.ts'
import type { Handler, Middleware } from './message.ts'
import { checkManagerOptions, checkRunOptions, resolveConsumerOptions, resolveStopOptions } from './options.ts'

/** Topics and the handler (with its own middleware and options) that handles them. */
export interface Route {
  topics: string[]
  handler: Handler
  middleware?: Middleware[]
  /** Options of this route's consumer, over the manager's (e.g. concurrency, groupId, dlq). */
  options?: Partial<ConsumerOptions>
}

/** Routes topics to handlers: one Consumer per route, started and stopped together. */
export class ConsumerManager {
  private readonly routes: Route[] = []
  private readonly shared: Middleware[] = []
  private consumers: Consumer[] = []
  private runs: Promise<void>[] = []

  constructor(private readonly options: Omit<ConsumerOptions, 'topics' | 'assign'>) {
    checkManagerOptions(options)
  }

  /** Routes `topics` to `handler`, wrapped in this route's middleware (inside the shared ones). */
  route(topics: string | string[], handler: Handler, ...middleware: Middleware[]): this
  route(route: Route): this
  route(first: string | string[] | Route, handler?: Handler, ...middleware: Middleware[]): this {
    if (this.consumers.length > 0) throw new ConfigError('add routes before start()')
    const route: Route =
      typeof first === 'string' || Array.isArray(first)
        ? { topics: typeof first === 'string' ? [first] : first, handler: handler!, middleware }
        : first
    const { topics, handler: routeHandler, middleware: own = [] } = (route ?? {}) as Partial<Route>
    if (!Array.isArray(topics) || topics.length === 0 || typeof routeHandler !== 'function') {
      throw new ConfigError('a route needs topics (a non-empty list) and a handler function')
    }
    if (!Array.isArray(own) || own.some((m) => typeof m !== 'function')) {
      throw new ConfigError("a route's middleware must be a list of functions (next) => handler")
    }
    // the route's consumer is made at start(): its options are checked now
    resolveConsumerOptions(this.consumerOptions(route), 'ConsumerManager route')
    const taken = new Set(this.routes.flatMap((r) => r.topics))
    const twice = topics.find((t) => taken.has(t))
    if (twice) throw new ConfigError(`topic ${twice} is routed twice`)
    this.routes.push(route)
    return this
  }

  private consumerOptions(route: Route): ConsumerOptions {
    return { ...this.options, ...route.options, topics: route.topics }
  }

  /** Middleware for every route (outermost, in the order added). */
  use(middleware: Middleware): this {
    if (typeof middleware !== 'function') throw new ConfigError('use() needs a middleware function (next) => handler')
    this.shared.push(middleware)
    return this
  }

  /** Starts one consumer per route; resolves once every one of them has its first assignment. */
  async start(options: RunOptions = {}): Promise<void> {
    if (this.routes.length === 0) throw new ConfigError('no routes: add some with route()')
    if (this.consumers.length > 0) throw new ConfigError('already started')
    checkRunOptions(options)
    this.consumers = this.routes.map((r) => {
      const consumer = new Consumer(this.consumerOptions(r))
      for (const m of [...this.shared, ...(r.middleware ?? [])]) consumer.use(m)
      return consumer
    })
    const assigned = this.consumers.map((c) => new Promise((resolve) => c.once('assigned', resolve)))
    this.runs = this.consumers.map((c, i) => c.run(this.routes[i].handler))
    const stop = () => void this.stop().catch((e) => this.options.onError?.(e))
    options.signal?.addEventListener('abort', stop, { once: true })
    if (options.handleSignals) {
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
    }
    // a consumer that fails to start fails start() (and the others are stopped)
    await Promise.race([Promise.all(assigned), Promise.all(this.runs)]).catch(async (error) => {
      await this.stop().catch((e) => this.options.onError?.(e))
      throw error
    })
  }

  /**
   * Stops every consumer (each finishes its handlers within `timeoutMs`, commits and leaves its
   * group); rejects with the first consumer's error once all of them stopped.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    resolveStopOptions(options)
    const stopped = await Promise.allSettled(this.consumers.map((c) => c.stop(options)))
    await Promise.allSettled(this.runs)
    const failed = stopped.find((s) => s.status === 'rejected')
    if (failed) throw failed.reason
  }

  /** The consumer of each route, in the order routes were added (for stats and lag). */
  get members(): readonly Consumer[] {
    return this.consumers
  }
}
