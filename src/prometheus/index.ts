// Prometheus metrics for users of prom-client, without depending on it: the metrics below have the
// shape prom-client's Registry reads (`name`, `help`, `type`, `get()`), so `registerMetric` takes
// them, and each scrape reads the clients' stats() through their collect() callbacks.

import type { ConsumerStats } from '../consumer/consumer.ts'
import type { ProducerStats } from '../producer/producer.ts'

/** One sample of a metric, with its labels. */
export interface MetricValue {
  value: number
  labels: Record<string, string>
}

/** A metric as prom-client's Registry reads it on each scrape. */
export interface CollectedMetric {
  /** Not readonly: prom-client drops a counter's `_total` here for OpenMetrics output, and adds it back. */
  name: string
  readonly help: string
  readonly type: 'counter' | 'gauge'
  readonly aggregator: 'sum'
  /** The metric's current values. */
  get(): Promise<{ name: string; help: string; type: 'counter' | 'gauge'; aggregator: 'sum'; values: MetricValue[] }>
  /** The values are the clients' own counters: nothing to reset here. */
  reset(): void
}

/** The part of prom-client's Registry used: `registerMetric` (prom-client's `register` or a `new Registry()`). */
export interface MetricsRegistry {
  /** Adds a metric to the registry. */
  registerMetric(metric: CollectedMetric): void
}

/** The clients to expose, and how to name and label their metrics. */
export interface PrometheusOptions {
  /** A Producer (or anything with its `stats()`). */
  producer?: {
    /** Read on each scrape. */
    stats(): ProducerStats
  }
  /** A Consumer (or anything with its `stats()`). */
  consumer?: {
    /** Read on each scrape. */
    stats(): ConsumerStats
  }
  /** Labels on every value, e.g. `{ client_id: 'orders-api' }` to tell several clients apart. */
  labels?: Record<string, string>
  /** Default 'kafkax_'. */
  prefix?: string
}

type Definition<S> = [name: string, type: 'counter' | 'gauge', help: string, collect: (stats: S) => number]

const PRODUCER: Definition<ProducerStats>[] = [
  ['producer_records_total', 'counter', 'Records acknowledged by the brokers', (s) => s.records],
  ['producer_bytes_total', 'counter', 'Bytes of record batches acknowledged', (s) => s.bytes],
  ['producer_batches_total', 'counter', 'Record batches settled (written or failed)', (s) => s.batches],
  ['producer_requests_total', 'counter', 'Produce requests sent', (s) => s.requests],
  ['producer_errors_total', 'counter', 'Record batches that failed for good', (s) => s.errors],
  ['producer_retries_total', 'counter', 'Record batch retries', (s) => s.retries],
  ['producer_buffer_used_bytes', 'gauge', 'Bytes of records waiting for the brokers', (s) => s.bufferUsed],
  ['producer_batch_records_mean', 'gauge', 'Mean records per batch', (s) => s.batchSize.mean],
  [
    'producer_latency_p50_seconds',
    'gauge',
    'Median batch latency, append to acknowledgement',
    (s) => s.latencyMs.p50 / 1000,
  ],
  ['producer_latency_p99_seconds', 'gauge', '99th percentile batch latency', (s) => s.latencyMs.p99 / 1000],
  ['producer_latency_max_seconds', 'gauge', 'Largest batch latency', (s) => s.latencyMs.max / 1000],
]

const CONSUMER: Definition<ConsumerStats>[] = [
  ['consumer_messages_total', 'counter', 'Messages handled', (s) => s.messages],
  ['consumer_bytes_total', 'counter', 'Key and value bytes of messages received', (s) => s.bytes],
  ['consumer_fetches_total', 'counter', 'Fetch requests answered', (s) => s.fetches],
  ['consumer_handler_errors_total', 'counter', 'Handler runs that failed', (s) => s.handlerErrors],
  ['consumer_commits_total', 'counter', 'Offset commits', (s) => s.commits],
  ['consumer_rebalances_total', 'counter', 'Partition assignments received', (s) => s.rebalances],
  ['consumer_handlers_in_flight', 'gauge', 'Handlers running now', (s) => s.inFlight],
  ['consumer_handler_mean_seconds', 'gauge', 'Mean handler run time', (s) => s.handlerMs.mean / 1000],
  ['consumer_handler_max_seconds', 'gauge', 'Longest handler run time', (s) => s.handlerMs.max / 1000],
  [
    'consumer_handler_p99_seconds',
    'gauge',
    '99th percentile of recent handler run times',
    (s) => s.handlerMs.p99 / 1000,
  ],
  ['consumer_lag_messages', 'gauge', 'Messages between the positions and the high watermarks', (s) => s.lag],
]

/** stats() once per scrape: prom-client's Registry calls every get() in one synchronous loop. */
function perScrape<S>(read: () => S): () => S {
  let cached: S | undefined
  return () => {
    if (cached === undefined) {
      cached = read()
      queueMicrotask(() => {
        cached = undefined
      })
    }
    return cached
  }
}

function define<S>(prefix: string, labels: Record<string, string>, read: () => S, d: Definition<S>): CollectedMetric {
  const [suffix, type, help, collect] = d
  return {
    name: prefix + suffix,
    help,
    type,
    aggregator: 'sum',
    async get() {
      return { name: this.name, help, type, aggregator: 'sum', values: [{ value: collect(read()), labels }] }
    },
    reset: () => {},
  }
}

/**
 * Registers gauges and counters of the producer's and the consumer's stats() with a prom-client
 * registry; their values are read on each scrape. Returns the metrics registered.
 */
export function prometheusMetrics(registry: MetricsRegistry, options: PrometheusOptions): CollectedMetric[] {
  const prefix = options.prefix ?? 'kafkax_'
  const labels = options.labels ?? {}
  const metrics: CollectedMetric[] = []
  const { producer, consumer } = options
  if (producer) {
    const read = perScrape(() => producer.stats())
    for (const d of PRODUCER) metrics.push(define(prefix, labels, read, d))
  }
  if (consumer) {
    const read = perScrape(() => consumer.stats())
    for (const d of CONSUMER) metrics.push(define(prefix, labels, read, d))
  }
  for (const m of metrics) registry.registerMetric(m)
  return metrics
}
