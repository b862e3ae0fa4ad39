// The client layer's tracing channels (see observability/tracing.ts): connections and requests.

import { tracing } from '../observability/tracing.ts'

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
  connect: tracing<ConnectTrace>('kafkax:connect'),
  request: tracing<RequestTrace>('kafkax:request'),
}
