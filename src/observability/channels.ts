// diagnostics_channel tracing channels (as undici and node:http publish): APM tools and tests
// subscribe with `tracingChannel('kafkax:...').subscribe({ start, end, asyncStart, asyncEnd, error })`
// and need no dependency of kafkax. Publishers check `hasSubscribers` first, so a process where
// nobody listens builds no context object and adds no work per request or per message.
// docs/observability.md lists each channel's context fields.

import { type TracingChannel, tracingChannel } from 'node:diagnostics_channel'
import type { Message, TopicPartition } from '../consumer/message.ts'

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

/** One Produce request: the batches of every partition it carries. */
export interface ProduceTrace {
  nodeId: number
  acks: -1 | 0 | 1
  batches: { topic: string; partition: number; records: number }[]
  error?: unknown
}

/** One Fetch request to a broker, answer decoded and buffered (errors are handled inside: see kafkax:request). */
export interface FetchTrace {
  nodeId: number
  /** Each with topicId, currentLeaderEpoch and partitionMaxBytes too, as sent. */
  partitions: readonly { topic: string; partition: number; fetchOffset: bigint }[]
}

/** One handler run: a message (or, in batch mode, the messages of one partition). */
export interface HandlerTrace {
  groupId: string | undefined
  messages: readonly Message[]
  result?: unknown
  error?: unknown
}

/** Partitions given to or taken from the consumer; `lost` when they went without a clean revocation. */
export interface RebalanceTrace {
  groupId: string | undefined
  type: 'assigned' | 'revoked' | 'lost'
  partitions: readonly TopicPartition[]
  error?: unknown
}

/** One offset commit of the consumer group. */
export interface CommitTrace {
  groupId: string
  offsets: readonly { topic: string; partition: number; offset: bigint }[]
  error?: unknown
}

/**
 * A tracing channel whose `hasSubscribers` works everywhere: Bun's TracingChannel lacks the getter
 * (Node 20.13+ and Deno have it), which would leave every kafkax channel silent there.
 */
function tracing<C extends object>(name: string): TracingChannel<unknown, C> {
  const channel = tracingChannel(name) as TracingChannel<unknown, C>
  if (channel.hasSubscribers === undefined) {
    const parts = [channel.start, channel.end, channel.asyncStart, channel.asyncEnd, channel.error]
    Object.defineProperty(channel, 'hasSubscribers', { get: () => parts.some((part) => part.hasSubscribers) })
  }
  return channel
}

/** The kafkax:* tracing channels, by name (docs/observability.md lists each one's context). */
export const channels = {
  connect: tracing<ConnectTrace>('kafkax:connect'),
  request: tracing<RequestTrace>('kafkax:request'),
  produce: tracing<ProduceTrace>('kafkax:produce'),
  fetch: tracing<FetchTrace>('kafkax:fetch'),
  handler: tracing<HandlerTrace>('kafkax:handler'),
  rebalance: tracing<RebalanceTrace>('kafkax:rebalance'),
  commit: tracing<CommitTrace>('kafkax:commit'),
}

/**
 * Runs `fn` traced on `channel` when someone listens, with the context `describe` builds; else
 * just runs it. For rare events (connects, rebalances, commits): hot paths check inline.
 */
export function traced<C extends object, T>(
  channel: TracingChannel<unknown, C>,
  describe: () => C,
  fn: () => Promise<T>,
): Promise<T> {
  return channel.hasSubscribers ? channel.tracePromise(fn, describe()) : fn()
}
