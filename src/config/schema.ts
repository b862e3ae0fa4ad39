// The one description of every configuration option: its type, allowed values, bounds and a doc
// line. Validation, the environment variable names and the documentation tables are all derived
// from it, so they cannot drift apart. Defaults live in defaults.yaml, validated by this schema.

import type { ClientOptions } from '../client/options.ts'
import type { RetryOptions } from '../client/retry.ts'
import type { ConsumerOptions } from '../consumer/consumer.ts'
import { PARTITIONER_NAMES } from '../producer/partitioners.ts'
import type { ProducerOptions } from '../producer/producer.ts'
import { CODECS } from '../protocol/compression/index.ts'

export interface Leaf {
  kind:
    | 'string'
    | 'integer'
    | 'number'
    | 'boolean'
    | 'duration' // milliseconds: a number, or '250ms', '5s', '2m', '1h'
    | 'size' // bytes: a number, or '512B', '16KiB', '1MB', '1MiB', '1GiB'
    | 'enum'
    | 'list' // of strings; a comma-separated string is accepted too
    | 'assignments' // [{ topic, partition, offset? }] or 'topic:partition[:offset]' strings
    | 'pem' // a PEM string or Buffer
    | 'code' // a function or object only code can pass
  doc: string
  min?: number
  max?: number
  /** Allowed values of an enum, or of each list item; compared case-insensitively. */
  values?: readonly string[]
  /** Other spellings of enum values, e.g. acks -1 for 'all'. */
  aliases?: Record<string, string>
  /** A string must be a `host:port` broker address or a legal topic name (lists: each item). */
  format?: 'broker' | 'topic'
  /** Never shown in messages; implies `file`. */
  secret?: boolean
  /** May be read from a file: `<name>File` in YAML and code, `<VARIABLE>_FILE` in the environment. */
  file?: boolean
  /** Code may pass a function instead of a named value (a custom partitioner). */
  orFunction?: boolean
}

export interface Group {
  kind: 'group'
  doc: string
  fields: Record<string, Spec>
  /** Fields that must be set once the group is set at all. */
  required?: string[]
  /** `true`/`false` stand for `{ enabled: true/false }` (tls). */
  shorthand?: boolean
}

export type Spec = Leaf | Group

type Fields<T> = { [K in keyof Required<NonNullable<T>>]: Spec }
/** Options only code can give (functions, objects): not in files or the environment. */
type CodeOnly = 'onError' | 'logger' | 'exactlyOnce'

const group = (doc: string, fields: Record<string, Spec>, extra: Partial<Group> = {}): Group => ({
  kind: 'group',
  doc,
  fields,
  ...extra,
})

const RETRY = group('Retries of retriable request errors, with exponential backoff', {
  maxAttempts: { kind: 'integer', min: 1, doc: 'Attempts in all, the first included' },
  initialDelayMs: { kind: 'duration', min: 0, doc: 'Delay before the first retry' },
  maxDelayMs: { kind: 'duration', min: 0, doc: 'Upper bound of any delay' },
  multiplier: { kind: 'number', min: 1, doc: 'Growth of the delay per attempt' },
  jitter: { kind: 'number', min: 0, max: 1, doc: 'Random spread of each delay, as a fraction of it' },
  deadlineMs: { kind: 'duration', min: 0, doc: 'Overall time for all attempts of one operation' },
} satisfies Fields<RetryOptions>)

const SASL = group(
  'SASL authentication',
  {
    mechanism: {
      kind: 'enum',
      values: ['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer', 'custom'],
      doc: 'SASL mechanism (oauthbearer and custom need `oauthBearerProvider` / `custom` from code)',
    },
    username: { kind: 'string', doc: 'User name (plain, scram)' },
    password: { kind: 'string', secret: true, doc: 'Password (plain, scram)' },
    oauthBearerProvider: { kind: 'code', doc: 'Code only: async function returning `{ value, extensions? }`' },
    custom: { kind: 'code', doc: 'Code only: a SaslMechanism `{ name, authenticate }`' },
  },
  { required: ['mechanism'] },
)

const TLS = group(
  'TLS; `true` uses the system CAs. Setting any tls option turns TLS on unless `enabled` is false',
  {
    enabled: { kind: 'boolean', doc: 'TLS on or off' },
    ca: { kind: 'pem', file: true, doc: 'CA certificates (PEM) trusted for the brokers' },
    cert: { kind: 'pem', file: true, doc: 'Client certificate (PEM) for mutual TLS' },
    key: { kind: 'pem', secret: true, doc: 'Private key (PEM) of the client certificate' },
    servername: { kind: 'string', doc: 'Server name for SNI and certificate checks' },
    rejectUnauthorized: { kind: 'boolean', doc: 'Refuse brokers whose certificate does not verify' },
  },
  { shorthand: true },
)

/** Options of every client; the `common` section holds exactly these. */
export const CLIENT_FIELDS = {
  brokers: { kind: 'list', format: 'broker', doc: 'Bootstrap brokers, host:port' },
  clientId: { kind: 'string', doc: 'Client id sent with every request' },
  tls: TLS,
  sasl: SASL,
  connectTimeoutMs: { kind: 'duration', min: 1, doc: 'Per connection attempt: socket, TLS, versions and SASL' },
  requestTimeoutMs: { kind: 'duration', min: 1, doc: 'Per request' },
  maxInFlight: { kind: 'integer', min: 1, doc: 'Unanswered requests per connection' },
  idleTimeoutMs: { kind: 'duration', min: 1, doc: 'Idle connections close after this' },
  retry: RETRY,
  metadataMaxAgeMs: { kind: 'duration', min: 1, doc: 'Metadata is refreshed at least this often' },
  connect: { kind: 'code', doc: "Code only: opens each connection's byte stream (a proxy, an in-process broker)" },
} satisfies Fields<ClientOptions>

const PRODUCER_FIELDS = {
  acks: {
    kind: 'enum',
    values: ['all', 'leader', 'none'],
    aliases: { '-1': 'all', '1': 'leader', '0': 'none' },
    doc: 'Acknowledgement awaited: all in-sync replicas, the leader, or none',
  },
  compression: {
    kind: 'enum',
    values: CODECS,
    doc: 'Batch compression (snappy, lz4, zstd need their optional package)',
  },
  partitioner: {
    kind: 'enum',
    values: PARTITIONER_NAMES,
    orFunction: true,
    doc: 'Partition of keyed records; murmur2 places keys as the Java client',
  },
  batch: group('Record batching per partition', {
    maxMessages: { kind: 'integer', min: 1, doc: 'Records per batch at most' },
    maxBytes: { kind: 'size', min: 1, doc: 'Bytes per batch at most, before compression' },
    lingerMs: { kind: 'duration', min: 0, doc: 'How long a batch waits for more records' },
  } satisfies Fields<ProducerOptions['batch']>),
  idempotent: { kind: 'boolean', doc: "Exactly-once writes per partition (default: true when acks is 'all')" },
  transactionalId: {
    kind: 'string',
    doc: 'Makes the producer transactional; a newer producer with the same id fences this one',
  },
  transactionTimeoutMs: { kind: 'duration', min: 1, doc: 'The coordinator aborts a transaction open longer than this' },
  bufferMemory: { kind: 'size', min: 1024, doc: 'Bytes of records waiting for brokers at most' },
  maxBlockMs: {
    kind: 'duration',
    min: 0,
    doc: 'How long send waits for buffer memory or metadata, and a transaction call at most',
  },
  deliveryTimeoutMs: { kind: 'duration', min: 1, doc: 'A record fails when not acknowledged this long after send' },
  maxRequestSize: { kind: 'size', min: 1024, doc: 'Largest Produce request' },
  allowAutoTopicCreation: { kind: 'boolean', doc: 'Let the broker create unknown topics on first use' },
} satisfies Fields<Omit<ProducerOptions, keyof ClientOptions | CodeOnly>>

const CONSUMER_FIELDS = {
  groupId: { kind: 'string', doc: 'Consumer group; without it, `assign` partitions are read without a group' },
  groupInstanceId: { kind: 'string', doc: 'Static membership id (KIP-345)' },
  topics: { kind: 'list', format: 'topic', doc: 'Topics to subscribe to' },
  assign: { kind: 'assignments', doc: 'Partitions to read without subscribing: topic:partition[:offset]' },
  fromBeginning: { kind: 'boolean', doc: 'Start from the earliest offset when the group has none' },
  concurrency: { kind: 'integer', min: 1, doc: 'Messages handled at once' },
  orderBy: { kind: 'enum', values: ['partition', 'key'], doc: 'What stays in order under concurrency' },
  batch: group('Batches handed to a batch handler', {
    size: { kind: 'integer', min: 1, doc: 'Messages per batch at most' },
    timeoutMs: { kind: 'duration', min: 0, doc: 'How long a batch waits to fill' },
  } satisfies Fields<ConsumerOptions['batch']>),
  commit: group('Offset commits', {
    mode: { kind: 'enum', values: ['auto', 'manual'], doc: 'auto commits handled offsets; manual leaves it to you' },
    intervalMs: { kind: 'duration', min: 1, doc: 'Time between automatic commits' },
  } satisfies Fields<ConsumerOptions['commit']>),
  isolationLevel: {
    kind: 'enum',
    values: ['read_uncommitted', 'read_committed'],
    doc: 'read_committed hides records of open and aborted transactions',
  },
  retry: group('Retries of a failing handler before the message goes to the DLQ or fails', {
    maxRetries: { kind: 'integer', min: 0, doc: 'Retries after the first attempt' },
    initialDelayMs: { kind: 'duration', min: 0, doc: 'Delay before the first retry' },
    maxDelayMs: { kind: 'duration', min: 0, doc: 'Upper bound of any delay' },
    multiplier: { kind: 'number', min: 1, doc: 'Growth of the delay per retry' },
    jitter: { kind: 'number', min: 0, max: 1, doc: 'Random spread of each delay, as a fraction of it' },
  } satisfies Fields<ConsumerOptions['retry']>),
  clientRetry: RETRY,
  dlq: group(
    'Dead-letter topic for messages whose handler keeps failing',
    {
      topic: { kind: 'string', format: 'topic', doc: 'Dead-letter topic' },
    } satisfies Fields<Omit<NonNullable<ConsumerOptions['dlq']>, 'producer'>>,
    { required: ['topic'] },
  ),
  sessionTimeoutMs: { kind: 'duration', min: 1, doc: 'The group drops a member silent this long' },
  rebalanceTimeoutMs: { kind: 'duration', min: 1, doc: 'Time members get to rejoin during a rebalance' },
  heartbeatIntervalMs: { kind: 'duration', min: 1, doc: 'Time between heartbeats' },
  assignors: {
    kind: 'list',
    values: ['range', 'roundrobin', 'cooperative-sticky'],
    doc: 'Partition assignors offered to the group, preferred first',
  },
  fetch: group('Fetch requests and prefetching', {
    minBytes: { kind: 'size', min: 0, doc: 'The broker waits for this many bytes' },
    maxBytes: { kind: 'size', min: 1, doc: 'Bytes per fetch response at most' },
    maxWaitMs: { kind: 'duration', min: 0, doc: 'How long the broker waits for minBytes' },
    partitionMaxBytes: { kind: 'size', min: 1, doc: 'Bytes per partition per fetch at most' },
    maxBufferedBytes: { kind: 'size', min: 1, doc: 'Prefetched bytes held at most' },
    checkCrcs: { kind: 'boolean', doc: 'Verify the CRC-32C of every fetched batch' },
    rackId: { kind: 'string', doc: 'The rack of this consumer, sent with fetches (KIP-392)' },
  } satisfies Fields<ConsumerOptions['fetch']>),
} satisfies Fields<Omit<ConsumerOptions, keyof Omit<ClientOptions, 'retry'> | CodeOnly>>

const { retry: _clientRetry, ...CLIENT_WITHOUT_RETRY } = CLIENT_FIELDS

/** The sections of a configuration file; `common` applies to the three others. */
export const SECTIONS = {
  common: CLIENT_FIELDS as Record<string, Spec>,
  producer: { ...CLIENT_FIELDS, ...PRODUCER_FIELDS } as Record<string, Spec>,
  consumer: { ...CLIENT_WITHOUT_RETRY, ...CONSUMER_FIELDS } as Record<string, Spec>,
  admin: CLIENT_FIELDS as Record<string, Spec>,
}

export type SectionName = keyof typeof SECTIONS
export const SECTION_NAMES = Object.keys(SECTIONS) as SectionName[]

/** Every leaf option under `fields`, with its path, depth first in schema order. */
export function* leaves(fields: Record<string, Spec>, path: string[] = []): Generator<[string[], Leaf]> {
  for (const [name, spec] of Object.entries(fields)) {
    if (spec.kind === 'group') yield* leaves(spec.fields, [...path, name])
    else yield [[...path, name], spec]
  }
}
