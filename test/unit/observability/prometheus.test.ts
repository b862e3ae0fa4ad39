// prometheusMetrics() with a tiny registry that scrapes like prom-client's: every metric's get()
// called in one synchronous loop, then the values formatted in the text exposition format.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ConsumerStats } from '../../../src/consumer/consumer.ts'
import type { ProducerStats } from '../../../src/producer/producer.ts'
import { type CollectedMetric, prometheusMetrics } from '../../../src/prometheus/index.ts'

class TinyRegistry {
  readonly metrics = new Map<string, CollectedMetric>()
  registerMetric(metric: CollectedMetric): void {
    if (this.metrics.has(metric.name)) throw new Error(`${metric.name} is already registered`)
    this.metrics.set(metric.name, metric)
  }
  async scrape(): Promise<Map<string, string>> {
    const results = await Promise.all([...this.metrics.values()].map((m) => m.get()))
    const lines = new Map<string, string>()
    for (const r of results) {
      for (const v of r.values) {
        const labels = Object.entries(v.labels).map(([k, l]) => `${k}="${l}"`)
        lines.set(r.name, `${r.type} ${labels.length ? `{${labels.join(',')}}` : ''} ${v.value}`)
      }
    }
    return lines
  }
}

function producerStats(records: number): ProducerStats {
  return {
    records,
    bytes: records * 100,
    batches: 3,
    requests: 2,
    errors: 1,
    retries: 4,
    bufferUsed: 2048,
    batchSize: { count: 3, mean: records / 3, max: 9 },
    latencyMs: { count: 3, mean: 12, p50: 10, p99: 250, max: 300 },
  }
}

const consumerStats: ConsumerStats = {
  messages: 1000,
  bytes: 64_000,
  fetches: 17,
  handlerErrors: 2,
  commits: 5,
  rebalances: 1,
  inFlight: 3,
  lag: 12,
  handlerMs: { count: 1000, mean: 1.5, p50: 1, p99: 30, max: 40 },
  bufferedBytes: 4096,
  decodedBytes: 1024,
}

describe('prometheusMetrics', () => {
  it("exposes the producer's stats as counters and gauges, read on each scrape", async () => {
    const registry = new TinyRegistry()
    let records = 9
    let reads = 0
    const producer = {
      stats: () => {
        reads++
        return producerStats(records)
      },
    }
    const metrics = prometheusMetrics(registry, { producer, labels: { client_id: 'api' } })
    assert.equal(metrics.length, registry.metrics.size)
    assert.equal(reads, 0, 'nothing is read before a scrape')
    let lines = await registry.scrape()
    assert.equal(reads, 1, 'stats() once per scrape, not once per metric')
    assert.equal(lines.get('kafkax_producer_records_total'), 'counter {client_id="api"} 9')
    assert.equal(lines.get('kafkax_producer_bytes_total'), 'counter {client_id="api"} 900')
    assert.equal(lines.get('kafkax_producer_errors_total'), 'counter {client_id="api"} 1')
    assert.equal(lines.get('kafkax_producer_retries_total'), 'counter {client_id="api"} 4')
    assert.equal(lines.get('kafkax_producer_buffer_used_bytes'), 'gauge {client_id="api"} 2048')
    assert.equal(lines.get('kafkax_producer_latency_p99_seconds'), 'gauge {client_id="api"} 0.25')
    records = 30
    lines = await registry.scrape()
    assert.equal(reads, 2)
    assert.equal(lines.get('kafkax_producer_records_total'), 'counter {client_id="api"} 30')
    assert.equal(lines.get('kafkax_producer_batch_records_mean'), 'gauge {client_id="api"} 10')
  })

  it("exposes the consumer's stats, with a prefix of choice", async () => {
    const registry = new TinyRegistry()
    prometheusMetrics(registry, { consumer: { stats: () => consumerStats }, prefix: 'orders_' })
    const lines = await registry.scrape()
    assert.deepEqual(
      [...lines].filter(([name]) => !name.startsWith('orders_consumer_')),
      [],
      'every name carries the prefix',
    )
    assert.equal(lines.get('orders_consumer_messages_total'), 'counter  1000')
    assert.equal(lines.get('orders_consumer_handler_errors_total'), 'counter  2')
    assert.equal(lines.get('orders_consumer_rebalances_total'), 'counter  1')
    assert.equal(lines.get('orders_consumer_handlers_in_flight'), 'gauge  3')
    assert.equal(lines.get('orders_consumer_handler_max_seconds'), 'gauge  0.04')
  })

  it('registers both clients at once, under distinct names', () => {
    const registry = new TinyRegistry()
    prometheusMetrics(registry, {
      producer: { stats: () => producerStats(1) },
      consumer: { stats: () => consumerStats },
    })
    const names = [...registry.metrics.keys()]
    assert.ok(names.some((n) => n.startsWith('kafkax_producer_')))
    assert.ok(names.some((n) => n.startsWith('kafkax_consumer_')))
    for (const m of registry.metrics.values()) assert.ok(m.help.length > 0 && ['counter', 'gauge'].includes(m.type))
    for (const m of registry.metrics.values()) if (m.type === 'counter') assert.match(m.name, /_total$/)
  })
})
