// Tracing on node:diagnostics_channel (as undici and node:http publish): each layer declares the
// channels of what it does next to the code that does it; APM tools and tests subscribe with
// `tracingChannel('kafkax:...').subscribe({ start, end, asyncStart, asyncEnd, error })` and need no
// dependency of kafkax. Publishers check `hasSubscribers` first, so a process where nobody listens
// builds no context object and adds no work per request or per message. docs/observability.md lists
// each channel's context fields; src/index.ts gathers them as `channels`.

import { type TracingChannel, tracingChannel } from 'node:diagnostics_channel'

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

/**
 * A tracing channel whose `hasSubscribers` works everywhere: Bun's TracingChannel lacks the getter
 * (Node 20.13+ and Deno have it), which would leave every kafkax channel silent there.
 */
export function tracing<C extends object>(name: string): TracingChannel<unknown, C> {
  const channel = tracingChannel(name) as TracingChannel<unknown, C>
  if (channel.hasSubscribers === undefined) {
    const parts = [channel.start, channel.end, channel.asyncStart, channel.asyncEnd, channel.error]
    Object.defineProperty(channel, 'hasSubscribers', { get: () => parts.some((part) => part.hasSubscribers) })
  }
  return channel
}
