// Network events of one client: its connections report each request answered or timed out, and how
// many requests wait for an in-flight slot, to that client's `onNetworkEvent` option. The tracing
// channels see every client of the process; these are per client, so a wrapper can tell its own
// requests apart (kafkax/kafkajs builds kafkajs's `*.network.*` instrumentation events on them).

/** What the network events of one request tell. Times are milliseconds since the epoch. */
export interface NetworkRequest {
  apiKey: number
  apiName: string
  apiVersion: number
  correlationId: number
  clientId: string
  /** `host:port` of the broker. */
  broker: string
  /** When the request was made. */
  createdAt: number
  /** When it was written to the socket, after waiting for an in-flight slot. */
  sentAt: number
  /** `sentAt - createdAt`: the wait for a slot. */
  pendingDuration: number
}

/**
 * `request`: the response arrived (`duration` from `sentAt`, `size` in bytes; 0 for requests the
 * broker does not answer, such as Produce with acks=0). `request-timeout`: none came in time.
 * `request-queue-size`: the number of requests of a connection waiting for an in-flight slot changed.
 */
export type NetworkEvent =
  | ({ type: 'request'; duration: number; size: number } & NetworkRequest)
  | ({ type: 'request-timeout' } & NetworkRequest)
  | { type: 'request-queue-size'; broker: string; clientId: string; queueSize: number }

/** Receives a client's network events, synchronously; whatever it throws is ignored. */
export type NetworkEventListener = (event: NetworkEvent) => void
