// A plain fake of the layer below the dispatcher: partitions as in-memory logs (offset = index),
// handed out as the Fetcher does (take() gives the next chunk from the position, nothing while
// paused; seek moves the position; a seek or a resume wakes the dispatcher later, as the Fetcher's
// onData does), and a dispatcher over it with a short failure backoff.

import { RetryPolicy } from '../../../src/client/retry.ts'
import { Dispatcher, type DispatcherOptions, type RecordSource } from '../../../src/consumer/dispatcher.ts'
import type { FetchedBatch, SeekTarget } from '../../../src/consumer/fetcher.ts'
import { ConsumedMessage, type TopicPartition } from '../../../src/consumer/message.ts'

export const TOPIC = 'orders'

export function message(partition: number, offset: number, key: string | null = null): ConsumedMessage {
  return new ConsumedMessage(
    TOPIC,
    partition,
    BigInt(offset),
    1_700_000_000_000 + offset,
    key === null ? null : Buffer.from(key),
    Buffer.from(`p${partition}-${offset}`),
    [],
    3,
  )
}

export class FakeFetcher implements RecordSource {
  readonly logs: ConsumedMessage[][]
  readonly positions: number[]
  readonly paused = new Set<number>()
  /** pause / seek / resume calls in order, e.g. `seek 0 5`. */
  readonly calls: string[] = []
  onData: () => void = () => {}

  /** `sizes[p]` messages on partition p (keys from `keyOf`), handed out `chunk` at a time. */
  constructor(
    sizes: number[],
    private readonly chunk = 50,
    keyOf: (partition: number, offset: number) => string | null = () => null,
  ) {
    this.logs = sizes.map((n, p) => Array.from({ length: n }, (_, o) => message(p, o, keyOf(p, o))))
    this.positions = sizes.map(() => 0)
  }

  get partitions(): TopicPartition[] {
    return this.logs.map((_, partition) => ({ topic: TOPIC, partition }))
  }

  take(tp: TopicPartition): FetchedBatch | undefined {
    const p = tp.partition
    const log = this.logs[p]
    if (this.paused.has(p) || this.positions[p] >= log.length) return undefined
    const messages = log.slice(this.positions[p], this.positions[p] + this.chunk)
    this.positions[p] += messages.length
    const end = BigInt(log.length)
    return { topic: TOPIC, partition: p, messages, highWatermark: end, lastStableOffset: end, logStartOffset: 0n }
  }

  pause(tps: TopicPartition[]): void {
    for (const { partition } of tps) {
      this.paused.add(partition)
      this.calls.push(`pause ${partition}`)
    }
  }

  resume(tps: TopicPartition[]): void {
    for (const { partition } of tps) {
      this.paused.delete(partition)
      this.calls.push(`resume ${partition}`)
    }
    setImmediate(this.onData)
  }

  async seek(tp: TopicPartition, to: SeekTarget): Promise<void> {
    if (typeof to !== 'bigint') throw new Error(`the fake seeks to offsets only, got ${String(to)}`)
    this.positions[tp.partition] = Number(to)
    this.calls.push(`seek ${tp.partition} ${to}`)
    setImmediate(this.onData)
  }
}

/** A dispatcher over `fetcher`'s partitions running `handler`; `stop()` aborts and waits for its handlers. */
export function dispatch(
  fetcher: FakeFetcher,
  handler: Parameters<Dispatcher['handleWith']>[0],
  options: Partial<DispatcherOptions> = {},
) {
  const stopping = new AbortController()
  const reported: Error[] = []
  const dispatcher = new Dispatcher(fetcher, {
    concurrency: 1,
    stop: stopping.signal,
    report: (error) => reported.push(error),
    failureBackoff: new RetryPolicy({ initialDelayMs: 30, maxDelayMs: 30, jitter: 0 }),
    ...options,
  })
  fetcher.onData = () => dispatcher.pump()
  dispatcher.assign(fetcher.partitions)
  dispatcher.handleWith(handler)
  // the first data arrives later, as from a Fetcher
  setImmediate(fetcher.onData)
  const committable = (partition: number) => dispatcher.get({ topic: TOPIC, partition })!.offsets.committable
  const stop = async () => {
    stopping.abort()
    await dispatcher.drain()
  }
  return { dispatcher, reported, committable, stop }
}
