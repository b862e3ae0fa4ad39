// The benchmark cases: what each measures, with which clients, at which size. Full runs use the
// issue's workloads (1M x 100 B, 200k x 1 KB); --quick a tenth of the records and shorter latency runs.

export type Group = 'produce' | 'produce-single' | 'produce-latency' | 'consume' | 'e2e' | 'transactions'
export type Metric = 'throughput' | 'latency'

export interface BenchCase {
  group: Group
  name: string
  metric: Metric
  /** Node client mode (bench/clients/produce.ts) or Java harness mode. */
  mode: string
  records: number
  size: number
  acks: 'all' | 'leader'
  compression: 'none' | 'lz4' | 'zstd'
  lingerMs: number
  rate: number
  seconds: number
  /** Client ids; the first is the kafkax line the ratios are taken against. */
  clients: string[]
  /** Clients that cannot express the case, with the reason for the report. */
  skipped: Record<string, string>
  /** Transactions: committed every `records` records, or `durationMs` after they began. */
  transaction?: { records?: number; durationMs?: number }
}

/** Every figure of every repetition of one case, per client, and the failures. */
export interface CaseResult {
  case: BenchCase
  runs: Record<string, Record<string, number | undefined>[]>
  errors: Record<string, string[]>
}

export const BATCH_BYTES = 1_000_000
export const LINGER_MS = 5
export const LABELS: Record<string, string> = {
  kafkax: 'kafkax',
  'kafkax-batch': 'kafkax sendBatch()',
  'kafkax-send': 'kafkax send()',
  'kafkax-raw': 'kafkax Fetcher (raw)',
  'kafkax-iterator': 'kafkax for await',
  'kafkajs-batch': 'kafkajs eachBatch',
  kafkajs: 'kafkajs',
  'kafkax-kafkajs': 'kafkax/kafkajs',
  'kafkax-kafkajs-batch': 'kafkax/kafkajs eachBatch',
  platformatic: '@platformatic/kafka',
  confluent: '@confluentinc/kafka-javascript',
  java: 'Java client',
  kcat: 'kcat (librdkafka)',
}

const NODE_PEERS = ['kafkajs', 'platformatic']
/** kafkajs's code run on kafkax/kafkajs: the gain of changing only the import. */
const KAFKAJS_API = 'kafkax-kafkajs'
const acksLabel = (acks: 'all' | 'leader') => (acks === 'all' ? 'all' : '1')
const count = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1000 ? `${n / 1000}k` : String(n))
const sizeLabel = (size: number) => (size >= 1024 ? `${size / 1024} KB` : `${size} B`)

export function buildCases(o: { quick: boolean; all: boolean; rate: number }): BenchCase[] {
  const scale = o.quick ? 0.1 : 1
  const seconds = o.quick ? 3 : 5
  const base = { lingerMs: LINGER_MS, rate: o.rate, seconds, skipped: {} as Record<string, string> }
  const cases: BenchCase[] = []
  const workloads = [
    [1_000_000, 100],
    [200_000, 1024],
  ] as const
  // acks x codec: every combination with --all; else both acks without compression and the
  // production-like acks=all with each codec
  const settings: ['all' | 'leader', 'none' | 'lz4' | 'zstd'][] = o.all
    ? (['leader', 'all'] as const).flatMap((a) =>
        (['none', 'lz4', 'zstd'] as const).map((c): ['all' | 'leader', 'none' | 'lz4' | 'zstd'] => [a, c]),
      )
    : [
        ['leader', 'none'],
        ['all', 'none'],
        ['all', 'lz4'],
        ['all', 'zstd'],
      ]
  for (const [records, size] of workloads) {
    for (const [acks, compression] of settings) {
      const n = Math.round(records * scale)
      cases.push({
        ...base,
        group: 'produce',
        name: `${count(n)} x ${sizeLabel(size)}, acks=${acksLabel(acks)}, ${compression}`,
        metric: 'throughput',
        mode: 'publish',
        records: n,
        size,
        acks,
        compression,
        clients: ['kafkax', 'kafkax-batch', KAFKAJS_API, ...NODE_PEERS, 'confluent', 'java', 'kcat'],
        skipped: {},
      })
    }
  }
  const single = Math.round(20_000 * scale)
  cases.push({
    ...base,
    group: 'produce-single',
    name: `${count(single)} x 100 B, acks=1, none, one record per send(), 1000 in flight`,
    metric: 'throughput',
    mode: 'single',
    records: single,
    size: 100,
    acks: 'leader',
    compression: 'none',
    clients: ['kafkax-send', KAFKAJS_API, ...NODE_PEERS],
    skipped: {
      java: 'send() per record is its only form: see the produce cases',
      kcat: 'one record per line is its only form: see the produce cases',
    },
  })
  const sequential = o.quick ? 300 : 2000
  for (const acks of ['leader', 'all'] as const) {
    cases.push({
      ...base,
      group: 'produce-latency',
      name: `${count(sequential)} awaited sends x 100 B, acks=${acksLabel(acks)}`,
      metric: 'latency',
      mode: 'sequential',
      records: sequential,
      size: 100,
      acks,
      compression: 'none',
      lingerMs: 0,
      clients: ['kafkax', KAFKAJS_API, ...NODE_PEERS, 'java'],
      skipped: { kcat: 'no per-record acknowledgement times on its command line' },
    })
  }
  for (const group of ['produce-latency', 'e2e'] as const) {
    cases.push({
      ...base,
      group,
      name: `${o.rate / 1000}k records/s x 100 B for ${seconds} s, acks=all${group === 'e2e' ? ', produce -> handler' : ''}`,
      metric: 'latency',
      mode: group === 'e2e' ? 'e2e' : 'rate',
      records: o.rate * seconds,
      size: 100,
      acks: 'all',
      compression: 'none',
      lingerMs: 0,
      clients: ['kafkax', KAFKAJS_API, ...NODE_PEERS, 'java'],
      skipped: { kcat: 'no per-record acknowledgement or delivery times on its command line' },
    })
  }
  for (const [records, size] of workloads) {
    for (const compression of ['none', 'lz4'] as const) {
      const n = Math.round(records * scale)
      cases.push({
        ...base,
        group: 'consume',
        name: `${count(n)} x ${sizeLabel(size)} (${compression}) from a pre-filled topic`,
        metric: 'throughput',
        mode: 'group',
        records: n,
        size,
        acks: 'leader',
        compression,
        clients: [
          'kafkax',
          'kafkax-iterator',
          'kafkax-raw',
          KAFKAJS_API,
          'kafkax-kafkajs-batch',
          'kafkajs',
          'kafkajs-batch',
          'platformatic',
          'confluent',
          'java',
          'kcat',
        ],
      })
    }
  }
  // transactional produce: fixed sizes (the Java side is bench/java/Transactions.java, the same loop),
  // and ProducerPerformance's own form, transactions of a fixed duration
  for (const [records, per] of [
    [30_000, 100],
    [100_000, 1000],
    [300_000, 10_000],
  ] as const) {
    const n = Math.max(per * 3, Math.round(records * scale))
    cases.push({
      ...base,
      group: 'transactions',
      name: `${count(n)} x 100 B in transactions of ${count(per)}`,
      metric: 'throughput',
      mode: 'records',
      records: n,
      size: 100,
      acks: 'all',
      compression: 'none',
      clients: ['kafkax', 'java'],
      transaction: { records: per },
    })
  }
  const timedRecords = Math.round(200_000 * scale)
  cases.push({
    ...base,
    group: 'transactions',
    name: `${count(timedRecords)} x 100 B in 100 ms transactions (ProducerPerformance --transaction-duration-ms)`,
    metric: 'throughput',
    mode: 'duration',
    records: timedRecords,
    size: 100,
    acks: 'all',
    compression: 'none',
    clients: ['kafkax', 'java'],
    transaction: { durationMs: 100 },
  })
  // consume-transform-produce (the kafkax Consumer's exactlyOnce option; bench/java/ConsumeTransformProduce.java)
  const ctpRecords = Math.round(200_000 * scale)
  for (const transaction of [{ records: 100 }, { records: 1000 }, { durationMs: 100 }]) {
    const per = transaction.records ? `transactions of ${count(transaction.records)} messages` : '100 ms transactions'
    cases.push({
      ...base,
      group: 'transactions',
      name: `consume-transform-produce ${count(ctpRecords)} x 100 B, read_committed, ${per}`,
      metric: 'throughput',
      mode: 'ctp',
      records: ctpRecords,
      size: 100,
      acks: 'all',
      compression: 'none',
      clients: ['kafkax', 'java'],
      transaction,
    })
  }
  return cases
}

/** Rough seconds one run of a case takes (calibrated on 2 cores), for the ETA; the progress line rescales it. */
export function estimate(c: BenchCase, client: string): number {
  const startup = client === 'java' ? 3 : 1.5
  const bytes = c.records * c.size
  if (c.group === 'consume') return startup + bytes / 40e6
  if (c.mode === 'ctp') return startup + c.records / (c.transaction?.records === 100 ? 3000 : 20_000)
  if (c.group === 'transactions') return startup + c.records / (c.transaction?.records === 100 ? 5000 : 40_000)
  if (c.metric === 'throughput') return startup + bytes / (c.group === 'produce-single' ? 0.5e6 : 15e6)
  if (c.mode === 'sequential') return startup + c.records * 0.0015
  return startup + c.seconds + 3
}
