// The Producer's options: their description (PRODUCER_OPTIONS: type, bounds, default of each) and
// the checks the constructor makes before any network work, those between options included.

import { CLIENT_FIELDS, type ClientOptions, clusterOptions, type ResolvedClientOptions } from '../client/options.ts'
import type { Logger } from '../observability/logger.ts'
import { type FieldsOf, group, type Resolved } from '../options/schema.ts'
import { resolveOptions } from '../options/validate.ts'
import { CODECS, type CompressionCodec } from '../protocol/compression/index.ts'
import { ConfigError } from '../protocol/errors.ts'
import { PARTITIONER_NAMES, type PartitionerFunction, type PartitionerName } from './partitioners.ts'

/** Acknowledgement the producer waits for: every in-sync replica (`all`, -1), the leader (1), none (0). */
export type Acks = 'all' | 'leader' | 'none' | -1 | 0 | 1

/**
 * Options of the Producer, beside those of every client. Defaults and bounds: PRODUCER_OPTIONS,
 * listed in docs/configuration.md.
 */
export interface ProducerOptions extends ClientOptions {
  /** 'all' (-1), 'leader' (1) or 'none' (0). */
  acks?: Acks
  compression?: CompressionCodec
  partitioner?: PartitionerName | PartitionerFunction
  batch?: {
    /** Records per batch at most. */
    maxMessages?: number
    /** Bytes per batch at most, before compression (under the broker's message.max.bytes). */
    maxBytes?: number
    /** How long a batch waits for more records (as the Java client since Kafka 4.0). */
    lingerMs?: number
  }
  /** Exactly-once writes per partition (default true when acks is 'all', as the Java client). */
  idempotent?: boolean
  /**
   * Makes the producer transactional (KIP-98): records are sent in transactions that commit or abort
   * as a whole, and a newer producer with the same id fences this one. Implies idempotence and
   * acks 'all'. See docs/transactions.md.
   */
  transactionalId?: string
  /**
   * The coordinator aborts a transaction open longer than this (as the Java client; the broker
   * allows up to its transaction.max.timeout.ms, 15 min by default).
   */
  transactionTimeoutMs?: number
  /** Bytes of records waiting for brokers at most; `send` waits beyond. */
  bufferMemory?: number
  /**
   * How long `send` waits for buffer memory or metadata before a TimeoutError, and what a transaction
   * call (begin, commit, abort, sendOffsets) may take at most (as Java's max.block.ms).
   */
  maxBlockMs?: number
  /** A record is failed when not acknowledged this long after `send`; at least batch.lingerMs + requestTimeoutMs. */
  deliveryTimeoutMs?: number
  /** Largest Produce request (the Java client's max.request.size); larger records fail alone. */
  maxRequestSize?: number
  /** Let the broker create unknown topics on first use, if it allows it (as Java). */
  allowAutoTopicCreation?: boolean
  /** A pino- or console-like logger for connection losses, retries and failed batches (default: silent, or KAFKAX_LOG_LEVEL). */
  logger?: Logger
}

/** The producer's own options, beside CLIENT_FIELDS. */
const PRODUCER_OWN_FIELDS = {
  acks: {
    kind: 'enum',
    values: ['all', 'leader', 'none'],
    aliases: { '-1': 'all', '1': 'leader', '0': 'none' },
    default: 'all',
    doc: 'Acknowledgement awaited: all in-sync replicas, the leader, or none',
  },
  compression: {
    kind: 'enum',
    values: CODECS,
    // snappy, lz4 and zstd come from optional packages that may be absent, gzip costs CPU
    default: 'none',
    doc: 'Batch compression (snappy, lz4, zstd need their optional package)',
  },
  partitioner: {
    kind: 'enum',
    values: PARTITIONER_NAMES,
    orFunction: true,
    default: 'murmur2',
    doc: 'Partition of keyed records; murmur2 places keys as the Java client',
  },
  batch: group('Record batching per partition', {
    maxMessages: { kind: 'integer', min: 1, default: 10_000, doc: 'Records per batch at most' },
    maxBytes: { kind: 'size', min: 1, default: 1_000_000, doc: 'Bytes per batch at most, before compression' },
    lingerMs: { kind: 'duration', min: 0, default: 5, doc: 'How long a batch waits for more records' },
  } satisfies FieldsOf<ProducerOptions['batch']>),
  // no default: it follows acks (on with acks all), so acks leader alone stays valid
  idempotent: { kind: 'boolean', doc: "Exactly-once writes per partition (default: true when acks is 'all')" },
  transactionalId: {
    kind: 'string',
    doc: 'Makes the producer transactional; a newer producer with the same id fences this one',
  },
  transactionTimeoutMs: {
    kind: 'duration',
    min: 1,
    default: 60_000,
    doc: 'The coordinator aborts a transaction open longer than this (needs transactionalId)',
  },
  bufferMemory: {
    kind: 'size',
    min: 1024,
    default: 32 * 1024 * 1024,
    doc: 'Bytes of records waiting for brokers at most',
  },
  maxBlockMs: {
    kind: 'duration',
    min: 0,
    default: 60_000,
    doc: 'How long send waits for buffer memory or metadata, and a transaction call at most',
  },
  deliveryTimeoutMs: {
    kind: 'duration',
    min: 1,
    default: 120_000,
    doc: 'A record fails when not acknowledged this long after send (at least batch.lingerMs + requestTimeoutMs)',
  },
  maxRequestSize: { kind: 'size', min: 1024, default: 1_048_576, doc: 'Largest Produce request' },
  allowAutoTopicCreation: {
    kind: 'boolean',
    default: true,
    doc: 'Let the broker create unknown topics on first use',
  },
  logger: { kind: 'object', doc: 'Code only: a pino- or console-like logger' },
} satisfies FieldsOf<Omit<ProducerOptions, keyof ClientOptions>>

export const PRODUCER_FIELDS = { ...CLIENT_FIELDS, ...PRODUCER_OWN_FIELDS }

export const PRODUCER_OPTIONS = group('Producer options', PRODUCER_FIELDS, { required: ['brokers'] })

/** A producer's options as it runs with them: checked, defaults applied, acks as a number. */
export type ResolvedProducerOptions = Omit<Resolved<ProducerOptions, typeof PRODUCER_FIELDS>, 'acks' | 'idempotent'> & {
  acks: -1 | 0 | 1
  idempotent: boolean
  client: ResolvedClientOptions
}

const ACKS = { all: -1, leader: 1, none: 0 } as const

/** Checks a producer's options (one ConfigError, before any network work) and completes them. */
export function resolveProducerOptions(options: ProducerOptions, what = 'Producer'): ResolvedProducerOptions {
  const o = resolveOptions(PRODUCER_OPTIONS, options, what)
  const acks = ACKS[o.acks as keyof typeof ACKS]
  if (o.idempotent === true && acks !== -1) {
    throw new ConfigError(`idempotent: true needs acks: 'all' (got acks: ${JSON.stringify(options.acks)})`)
  }
  if (o.transactionalId !== undefined) {
    if (o.idempotent === false)
      throw new ConfigError(
        'a transactional producer is idempotent: transactionalId does not go with idempotent: false',
      )
    if (acks !== -1)
      throw new ConfigError(`transactionalId needs acks: 'all' (got acks: ${JSON.stringify(options.acks)})`)
  } else if (options.transactionTimeoutMs !== undefined) {
    throw new ConfigError('transactionTimeoutMs needs a transactionalId')
  }
  // as the Java client: a record gets at least its linger and one full request before it expires
  const leastDeliveryMs = o.batch.lingerMs + o.requestTimeoutMs
  if (options.deliveryTimeoutMs !== undefined && o.deliveryTimeoutMs < leastDeliveryMs) {
    throw new ConfigError(
      `deliveryTimeoutMs (${o.deliveryTimeoutMs}) must be at least batch.lingerMs + requestTimeoutMs (${leastDeliveryMs})`,
    )
  }
  return {
    ...o,
    acks,
    idempotent: o.idempotent ?? acks === -1,
    deliveryTimeoutMs: Math.max(o.deliveryTimeoutMs, leastDeliveryMs),
    client: clusterOptions(o),
  }
}
