// The client layer's tracing channels (see observability/tracing.ts): connections and requests.

import { type TracingChannel, tracingChannel } from 'node:diagnostics_channel'

/** Opening a connection: socket, TLS, ApiVersions and SASL. */
export interface ConnectTrace {
  host: string
  port: number
  tls: boolean
  /** The SASL mechanism name, never the credentials. */
  sasl: string | undefined
}

/** One request to a broker, from encoding to its decoded response (`result`). */
export interface RequestTrace {
  apiName: string
  apiKey: number
  host: string
  port: number
  result?: unknown
  error?: unknown
}

export const clientChannels = {
  connect: tracingChannel('kafkax:connect') as TracingChannel<unknown, ConnectTrace>,
  request: tracingChannel('kafkax:request') as TracingChannel<unknown, RequestTrace>,
}
