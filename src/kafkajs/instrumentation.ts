// kafkajs's instrumentation events: `client.on(client.events.X, listener)` with events
// `{ id, type, timestamp, payload }`, a listener's failure logged rather than thrown, and the
// `*.network.*` events made from the network events of the kafkax clients underneath.

import type { NetworkEvent, NetworkEventListener } from '../index.ts'
import { KafkaJSNonRetriableError } from './errors.ts'
import type { Logger } from './logger.ts'

/** An instrumentation event as listeners receive it. */
export interface InstrumentationEvent<T> {
  id: number
  type: string
  timestamp: number
  payload: T
}

/** Removes the listener `on()` added. */
export type RemoveInstrumentationEventListener<_T = string> = () => void

/** The events of a client that is only connected or disconnected and makes requests (producer, admin). */
export function clientEvents<P extends string>(prefix: P) {
  return {
    CONNECT: `${prefix}.connect`,
    DISCONNECT: `${prefix}.disconnect`,
    REQUEST: `${prefix}.network.request`,
    REQUEST_TIMEOUT: `${prefix}.network.request_timeout`,
    REQUEST_QUEUE_SIZE: `${prefix}.network.request_queue_size`,
  } as const
}

const NETWORK = {
  request: 'REQUEST',
  'request-timeout': 'REQUEST_TIMEOUT',
  'request-queue-size': 'REQUEST_QUEUE_SIZE',
} as const

let nextId = 0

/** The listeners of one client's events. */
export class Instrumentation<E extends { [K in keyof E]: string }> {
  private readonly listeners = new Map<string, Set<(event: InstrumentationEvent<unknown>) => unknown>>()

  constructor(
    readonly events: E,
    private readonly logger: Logger,
  ) {}

  /**
   * Adds a listener of one of `events` (typed by the client's `on`, which names what each event
   * delivers); an unknown name is a KafkaJSNonRetriableError, as in kafkajs.
   */
  on(eventName: string, listener: (event: never) => unknown): RemoveInstrumentationEventListener<string> {
    const names: string[] = Object.values(this.events)
    if (!names.includes(eventName)) {
      const client = names[0].split('.')[0]
      const keys = Object.keys(this.events).map((key) => `${client}.events.${key}`)
      throw new KafkaJSNonRetriableError(`Event name should be one of ${keys.join(', ')}`)
    }
    let set = this.listeners.get(eventName)
    if (!set) {
      set = new Set()
      this.listeners.set(eventName, set)
    }
    const own = set
    // each event's listener gets that event: the client's `on` says which
    const added = listener as (event: InstrumentationEvent<unknown>) => unknown
    own.add(added)
    return () => {
      own.delete(added)
    }
  }

  has(type: string): boolean {
    return (this.listeners.get(type)?.size ?? 0) > 0
  }

  emit(type: string, payload: unknown = null): void {
    const set = this.listeners.get(type)
    if (!set || set.size === 0) return
    const event = { id: nextId++, type, timestamp: Date.now(), payload }
    for (const listener of set) {
      const failed = (error: unknown) =>
        this.logger.error(`Failed to execute listener: ${(error as Error)?.message}`, {
          eventName: type,
          stack: (error as Error)?.stack,
        })
      try {
        Promise.resolve(listener(event)).catch(failed)
      } catch (error) {
        failed(error)
      }
    }
  }

  /** The kafkax client option that turns its network events into this client's `*.network.*` events. */
  networkListener(): NetworkEventListener {
    return (event: NetworkEvent) => {
      const type = (this.events as Record<string, string>)[NETWORK[event.type]]
      if (!type || !this.has(type)) return
      const { type: _, ...payload } = event
      this.emit(type, payload)
    }
  }
}
