// Fault injection per request, as franz-go's kfake ControlKey: a test registers a function for an
// API key that sees every request of that API (decoded, with the broker it came to) and may answer
// it itself, fail it with an error code, drop it unanswered, cut the connection, or delay it.

import { ErrorCode, type ErrorName } from '../protocol/error-codes.ts'
import { ConfigError } from '../protocol/errors.ts'
import type { ApiHandler, RequestContext } from './api-handler.ts'

export interface InterceptedRequest<Req = any> {
  apiKey: number
  /** The API's name, e.g. 'Produce'. */
  api: string
  version: number
  /** The node id of the broker the request came to. */
  broker: number
  listener: string
  clientId: string | null
  correlationId: number
  request: Req
}

/**
 * What an interceptor decides. Nothing (undefined) leaves the request to the next interceptor and
 * then to the broker. `delayMs` waits first (on real time), then applies the rest of the decision,
 * or serves the request normally when there is no other field.
 */
export type Interception<Res = any> =
  | undefined
  | {
      /** Answer with this response body. */
      response?: Res
      /** Answer with the API's error response for this code or Kafka error name (every partition or member failing alike). */
      errorCode?: number | ErrorName
      /** Never answer (the connection stays open: the client's request times out). */
      drop?: boolean
      /** Close the connection without answering. */
      disconnect?: boolean
      delayMs?: number
    }

export type Interceptor<Req = any, Res = any> = (
  request: InterceptedRequest<Req>,
) => Interception<Res> | Promise<Interception<Res>>

export interface InterceptOptions {
  /** Removed after deciding this many requests (a decision other than undefined); default: until removed. */
  times?: number
}

/** A registered interceptor. */
export interface InterceptHandle {
  /** Requests it decided so far. */
  readonly handled: number
  remove(): void
}

export type Decision =
  | { kind: 'serve' }
  | { kind: 'response'; response: unknown }
  | { kind: 'error'; errorCode: number }
  | { kind: 'drop' }
  | { kind: 'disconnect' }

const SERVE: Decision = { kind: 'serve' }

interface Entry {
  apiKey: number
  fn: Interceptor
  times: number
  handled: number
}

export class Interceptors {
  private entries: Entry[] = []

  add(apiKey: number, fn: Interceptor, options: InterceptOptions = {}): InterceptHandle {
    const entry: Entry = { apiKey, fn, times: options.times ?? Number.POSITIVE_INFINITY, handled: 0 }
    this.entries.push(entry)
    return {
      get handled() {
        return entry.handled
      },
      remove: () => {
        this.entries = this.entries.filter((e) => e !== entry)
      },
    }
  }

  clear(): void {
    this.entries = []
  }

  /** The decision for one request: the first interceptor of its API that decides, else serve it. */
  async run(handler: ApiHandler, request: unknown, ctx: RequestContext): Promise<Decision> {
    if (this.entries.length === 0) return SERVE
    for (const entry of this.entries) {
      if (entry.apiKey !== handler.api.apiKey || entry.handled >= entry.times) continue
      const decision = await entry.fn({
        apiKey: handler.api.apiKey,
        api: handler.api.name,
        version: ctx.version,
        broker: ctx.broker.nodeId,
        listener: ctx.listener.name,
        clientId: ctx.header.clientId,
        correlationId: ctx.header.correlationId,
        request,
      })
      if (!decision) continue
      entry.handled++
      if (entry.handled >= entry.times) this.entries = this.entries.filter((e) => e !== entry)
      if (decision.delayMs !== undefined && decision.delayMs > 0)
        await new Promise((r) => setTimeout(r, decision.delayMs))
      if (decision.disconnect) return { kind: 'disconnect' }
      if (decision.drop) return { kind: 'drop' }
      if (decision.response !== undefined) return { kind: 'response', response: decision.response }
      if (decision.errorCode !== undefined) return { kind: 'error', errorCode: codeOf(decision.errorCode) }
      return SERVE
    }
    return SERVE
  }
}

/** A Kafka error code from its number or name (ConfigError for a name Kafka does not have). */
function codeOf(error: number | ErrorName): number {
  if (typeof error === 'number') return error
  const code = ErrorCode[error as ErrorName]
  if (code === undefined)
    throw new ConfigError(`interceptor answered errorCode ${JSON.stringify(error)}, which is no Kafka error name`)
  return code
}
