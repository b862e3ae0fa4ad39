// kafkajs's producer on kafkax Producers. Each send places its messages with the kafkajs partitioner
// (the topic's partitions from the kafkax producer's metadata cache), hands them to a kafkax Producer
// as one sendBatch with explicit partitions, and answers kafkajs's RecordMetadata: per partition the
// offset of the first message, as strings. kafkajs sets acks, compression and timeout per send, a
// kafkax Producer per producer: one kafkax Producer per combination in use (usually one).
// Transactions run on one more, transactional, kafkax Producer (one per transactionalId: two would
// fence each other), made by the first `transaction()`; their sends are placed as the others, and
// go through the kafkax transaction's handle.

import {
  type Acks,
  KafkaxError,
  type RecordMetadata as KafkaxMetadata,
  Producer as KafkaxProducer,
  type ProducerRecord as KafkaxRecord,
  type Transaction as KafkaxTransaction,
  RetryPolicy,
} from '../index.ts'
import { ErrorCode, kafkaError } from '../protocol/error-codes.ts'
import { COMPRESSION_NAMES } from './constants.ts'
import { KafkaJSError, KafkaJSNonRetriableError, type RetrySpent, toKafkaJSError } from './errors.ts'
import { clientEvents, Instrumentation } from './instrumentation.ts'
import { kafkaxLogger, type Logger } from './logger.ts'
import { type PartitionInfo, partitionMetadata } from './metadata.ts'
import { topicOffsets } from './offsets.ts'
import { clientOptions, type KafkaContext, resolveBrokers, retryPolicy } from './options.ts'
import { Partitioners } from './partitioners.ts'
import type {
  ClientOn,
  Message,
  PartitionerArgs,
  ProducerBatch,
  ProducerConfig,
  ProducerEvents,
  ProducerRecord,
  RecordMetadata,
  TopicMessages,
  Transaction,
} from './types.ts'

const ACKS: Record<number, Acks> = { [-1]: 'all', 1: 'leader', 0: 'none' }
/** setTimeout's limit: longer delivery timeouts would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1
/** kafkajs's transactionTimeout default (its eosManager's). */
const TRANSACTION_TIMEOUT_MS = 60_000

type Status = 'disconnected' | 'connected' | 'disconnecting'

/** kafkajs's message values: strings and bytes as they are, null, anything else as its string form. */
const bytesOf = (v: unknown): string | Buffer | Uint8Array | null | undefined =>
  v === null || v === undefined || typeof v === 'string' || v instanceof Uint8Array ? v : String(v)

/** kafkajs's RecordMetadata: per topic-partition (in the order of the messages) the first message's offset. */
function recordMetadata(records: readonly KafkaxRecord[], written: readonly KafkaxMetadata[]): RecordMetadata[] {
  const byTopic = new Map<string, Map<number, { first: bigint; meta: RecordMetadata }>>()
  const out: RecordMetadata[] = []
  for (let i = 0; i < records.length; i++) {
    const { topic, partition, offset, timestamp } = written[i]
    let partitions = byTopic.get(topic)
    if (!partitions) {
      partitions = new Map()
      byTopic.set(topic, partitions)
    }
    const seen = partitions.get(partition)
    if (seen) {
      if (offset < seen.first) {
        seen.first = offset
        seen.meta.baseOffset = String(offset)
      }
      continue
    }
    // a timestamp other than the one sent is the broker's: the topic uses LogAppendTime
    const appended = timestamp !== records[i].timestamp
    const meta: RecordMetadata = {
      topicName: topic,
      partition,
      errorCode: 0,
      baseOffset: String(offset),
      logAppendTime: appended ? String(timestamp) : '-1',
      logStartOffset: '-1',
    }
    partitions.set(partition, { first: offset, meta })
    out.push(meta)
  }
  return out
}

/** Validates a send as kafkajs does and merges the messages of repeated topics. */
function checkedTopicMessages(topicMessages: TopicMessages[]): TopicMessages[] {
  if (!Array.isArray(topicMessages)) throw new KafkaJSNonRetriableError(`Invalid topicMessages ${topicMessages}`)
  const merged = new Map<string, Message[]>()
  for (const { topic, messages } of topicMessages) {
    if (!topic || typeof topic !== 'string') throw new KafkaJSNonRetriableError('Invalid topic')
    if (!Array.isArray(messages))
      throw new KafkaJSNonRetriableError(`Invalid messages array [${messages}] for topic "${topic}"`)
    const missing = messages.find((m) => m === null || typeof m !== 'object' || m.value === undefined)
    if (missing !== undefined) {
      throw new KafkaJSNonRetriableError(
        `Invalid message without value for topic "${topic}": ${JSON.stringify(missing)}`,
      )
    }
    const list = merged.get(topic)
    if (list) list.push(...messages)
    else merged.set(topic, [...messages])
  }
  return [...merged].map(([topic, messages]) => ({ topic, messages }))
}

/** A kafkajs producer (`kafka.producer(config)`); its methods may be called detached, as kafkajs's. */
export class Producer {
  readonly events: ProducerEvents = clientEvents('producer')
  private readonly log: Logger
  private readonly instrumentation: Instrumentation<ProducerEvents>
  private readonly partition: (args: PartitionerArgs) => number
  private readonly idempotent: boolean
  private readonly retry: RetryPolicy
  private readonly spent: RetrySpent
  private readonly retryOptions: ReturnType<typeof retryPolicy>['options']
  /** One kafkax Producer per acks/compression/timeout a send asked for, and its connect; 'transactional' for transactions. */
  private readonly producers = new Map<string, { producer: KafkaxProducer; connected: Promise<void> }>()
  /** The transaction `transaction()` opened last. */
  private current: Transaction | undefined
  private warnedOfTransactionSettings = false
  private brokers: string[] | undefined
  private status: Status = 'disconnected'

  constructor(
    private readonly kafka: KafkaContext,
    private readonly config: ProducerConfig = {},
  ) {
    this.log = kafka.logger.namespace('Producer')
    this.instrumentation = new Instrumentation(this.events, this.log)
    this.partition = (config.createPartitioner ?? Partitioners.DefaultPartitioner)()
    this.idempotent = config.idempotent ?? false
    const retry = { ...kafka.config.retry, ...config.retry }
    if (this.idempotent && retry.retries !== undefined && retry.retries < 1) {
      throw new KafkaJSNonRetriableError('Idempotent producer must allow retries to protect against transient errors')
    }
    if (this.idempotent && retry.retries !== undefined && retry.retries < Number.MAX_SAFE_INTEGER) {
      this.log.warn('Limiting retries for the idempotent producer may invalidate EoS guarantees')
    }
    const policy = retryPolicy(retry, kafka.config.requestTimeout ?? 30_000)
    this.retryOptions = policy.options
    this.spent = policy.spent
    this.retry = new RetryPolicy(policy.options)
  }

  /** Connects to the cluster (fetches metadata); sends before this fail, as in kafkajs. */
  connect = async (): Promise<void> => {
    try {
      this.brokers = await resolveBrokers(this.kafka.config.brokers)
      await this.producerFor(-1, 0, undefined)
    } catch (error) {
      await this.closeAll()
      throw toKafkaJSError(error, this.spent)
    }
    this.status = 'connected'
    this.instrumentation.emit(this.events.CONNECT)
  }

  /** Delivers every message accepted before, then closes the connections; `connect()` may follow. */
  disconnect = async (): Promise<void> => {
    this.status = 'disconnecting'
    try {
      await this.closeAll()
    } finally {
      this.status = 'disconnected'
    }
    this.instrumentation.emit(this.events.DISCONNECT)
  }

  /** Sends messages to one topic; resolves with where they landed, per partition. */
  send = (record: ProducerRecord): Promise<RecordMetadata[]> => {
    const { topic, messages, acks, timeout, compression } = record ?? ({} as ProducerRecord)
    return this.sendBatch({ acks, timeout, compression, topicMessages: [{ topic, messages }] })
  }

  /** Sends messages to several topics in one go. */
  sendBatch = async (batch: ProducerBatch): Promise<RecordMetadata[]> => {
    const { acks = -1, timeout, compression = 0, topicMessages = [] } = batch ?? {}
    const topics = this.checkedSend(acks, topicMessages)
    try {
      return await this.produce(await this.producerFor(acks, compression, timeout), acks, topics)
    } catch (error) {
      throw toKafkaJSError(error, this.spent)
    }
  }

  /**
   * Begins a transaction (the first one also fences older producers with this transactionalId):
   * what its `send` and `sendBatch` write and the offsets `sendOffsets` commits become visible to
   * read_committed consumers together at `commit()`, never after `abort()`. One at a time.
   */
  transaction = async (): Promise<Transaction> => {
    if (!this.config.transactionalId) {
      throw new KafkaJSNonRetriableError('Must provide transactional id for transactional producer')
    }
    if (this.current?.isActive()) {
      throw new KafkaJSNonRetriableError(
        'There is already an ongoing transaction for this producer. Please end the transaction before beginning another.',
      )
    }
    if (this.status !== 'connected') throw new KafkaJSError('The producer is disconnected')
    let target: KafkaxProducer
    let handle: KafkaxTransaction
    try {
      target = await this.producerFor(-1, 0, undefined, true)
      handle = await target.beginTransaction()
    } catch (error) {
      throw toKafkaJSError(error, this.spent)
    }
    let ended = false
    // a disconnect ends it too (closing the transactional producer aborts it)
    const isActive = () => !ended && this.current === transaction
    /** kafkajs's guard: nothing once the transaction ended; errors as kafkajs's. */
    const guarded =
      <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        if (!isActive()) throw new KafkaJSNonRetriableError('Cannot continue to use transaction once ended')
        try {
          return await fn(...args)
        } catch (error) {
          throw toKafkaJSError(error, this.spent)
        }
      }
    const sendBatch = guarded(async (batch: ProducerBatch) => {
      const { acks = -1, timeout, compression = 0, topicMessages = [] } = batch ?? {}
      const topics = this.checkedSend(acks, topicMessages, true)
      if ((compression || timeout !== undefined) && !this.warnedOfTransactionSettings) {
        this.warnedOfTransactionSettings = true
        this.log.warn(
          'compression and timeout of sends within a transaction are not applied: its records are written uncompressed, with the request timeout (see docs/kafkajs.md)',
        )
      }
      return this.produce(target, -1, topics, handle)
    })
    const transaction: Transaction = {
      sendBatch,
      send: (record: ProducerRecord) => {
        const { topic, messages, acks, timeout, compression } = record ?? ({} as ProducerRecord)
        return sendBatch({ acks, timeout, compression, topicMessages: [{ topic, messages }] })
      },
      sendOffsets: guarded(async (offsets: Parameters<Transaction['sendOffsets']>[0]) => {
        const { consumerGroupId, topics } = offsets ?? {}
        if (!consumerGroupId) throw new KafkaJSNonRetriableError('Missing consumerGroupId')
        if (!topics) throw new KafkaJSNonRetriableError('Missing offset topics')
        await handle.sendOffsets(topicOffsets(topics), { groupId: consumerGroupId })
      }),
      commit: guarded(async () => {
        await target.commitTransaction()
        ended = true
      }),
      abort: guarded(async () => {
        await target.abortTransaction()
        ended = true
      }),
      isActive,
    }
    this.current = transaction
    return transaction
  }

  /** Whether the producer was made with `idempotent: true`. */
  isIdempotent = (): boolean => this.idempotent

  /** Listens to one of `producer.events`; returns the function that removes the listener. */
  on: ClientOn<ProducerEvents> = (eventName, listener) => this.instrumentation.on(eventName, listener)

  /** The producer's logger (namespace Producer). */
  logger = (): Logger => this.log

  /** A send's checks, as kafkajs's producer makes them (a transaction's sends are idempotent ones). */
  private checkedSend(acks: number, topicMessages: TopicMessages[], idempotent = this.idempotent): TopicMessages[] {
    const topics = checkedTopicMessages(topicMessages)
    if (idempotent && acks !== -1) {
      throw new KafkaJSNonRetriableError(
        "Not requiring ack for all messages invalidates the idempotent producer's EoS guarantees",
      )
    }
    if (this.status === 'disconnecting') {
      throw new KafkaJSNonRetriableError(
        "The producer is disconnecting; therefore, it can't safely accept messages anymore",
      )
    }
    if (this.status === 'disconnected') throw new KafkaJSError('The producer is disconnected')
    return topics
  }

  /**
   * Places the messages and sends them through `target` (or its transaction `via`) as one batch. Metadata of a topic the
   * producer has not seen yet is fetched first (with auto-creation, as allowed).
   */
  private async produce(
    target: KafkaxProducer,
    acks: number,
    topicMessages: TopicMessages[],
    via: Pick<KafkaxTransaction, 'sendBatch'> = target,
  ): Promise<RecordMetadata[]> {
    const records: KafkaxRecord[] = []
    const now = Date.now()
    for (const { topic, messages } of topicMessages) {
      // an explicit partition the cached metadata does not have yet (partitions added since) refreshes it
      let wanted = 1
      for (const m of messages) if (typeof m.partition === 'number' && m.partition >= wanted) wanted = m.partition + 1
      const partitions = partitionMetadata(await this.partitionsOf(target, topic, wanted))
      for (const message of messages) {
        const partition = this.partition({ topic, partitionMetadata: partitions, message })
        if (!Number.isInteger(partition) || partition < 0) {
          throw new KafkaJSNonRetriableError(
            `The partitioner returned ${String(partition)} for a message to ${topic}: not a partition`,
          )
        }
        records.push({
          topic,
          key: bytesOf(message.key),
          value: bytesOf(message.value) ?? null,
          headers: message.headers as KafkaxRecord['headers'],
          partition,
          timestamp: message.timestamp === undefined || message.timestamp === null ? now : Number(message.timestamp),
        })
      }
    }
    const written = await via.sendBatch(records)
    return acks === 0 ? [] : recordMetadata(records, written)
  }

  /**
   * A topic's partitions (`wanted` at least) from `target`'s metadata, fetched when missing: retried
   * while the topic is created or unknown, or has fewer partitions.
   */
  private async partitionsOf(target: KafkaxProducer, topic: string, wanted: number): Promise<readonly PartitionInfo[]> {
    const cached = target.cluster.metadata.topics.get(topic)
    if (cached && cached.errorCode === 0 && cached.partitions.length >= wanted) return cached.partitions
    return this.retry.run(
      async () => {
        const t = (await target.cluster.refreshMetadata([topic])).topics.get(topic)
        if (t?.errorCode) throw kafkaError(t.errorCode, `topic ${topic}`)
        if (!t || t.partitions.length < wanted) {
          throw kafkaError(
            ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            `topic ${topic} (${t?.partitions.length ?? 0} partitions)`,
          )
        }
        return t.partitions
      },
      { retriable: (e) => (e instanceof KafkaxError || e instanceof KafkaJSError) && e.retriable },
    )
  }

  /**
   * The kafkax Producer for a send's settings, made and connected (metadata, its refresh timer) on
   * first use; the transactional one is also initialized (InitProducerId) by its connect.
   */
  private async producerFor(
    acks: number,
    compression: number,
    timeout: number | undefined,
    transactional = false,
  ): Promise<KafkaxProducer> {
    const key = transactional ? 'transactional' : `${acks}/${compression}/${timeout}`
    const known = this.producers.get(key)
    if (known) {
      await known.connected
      return known.producer
    }
    const codec = COMPRESSION_NAMES[compression]
    if (codec === undefined) throw new KafkaJSNonRetriableError(`Unknown compression type ${compression}`)
    if (ACKS[acks] === undefined) throw new KafkaJSNonRetriableError(`acks must be -1, 0 or 1, got ${acks}`)
    const { config } = this.kafka
    const options = clientOptions(config, this.brokers!, this.log, {
      retry: this.retryOptions,
      maxInFlightRequests: this.config.maxInFlightRequests,
      metadataMaxAge: this.config.metadataMaxAge,
    })
    const requestTimeoutMs = timeout ?? options.requestTimeoutMs!
    const producer = new KafkaxProducer({
      ...options,
      requestTimeoutMs,
      acks: ACKS[acks],
      compression: codec,
      idempotent: transactional || (this.idempotent && acks === -1),
      ...(transactional && {
        transactionalId: this.config.transactionalId,
        transactionTimeoutMs: this.config.transactionTimeout ?? TRANSACTION_TIMEOUT_MS,
      }),
      // kafkajs sends each call at once: the messages of one call (and of calls made meanwhile) batch together
      batch: { lingerMs: 0 },
      allowAutoTopicCreation: this.config.allowAutoTopicCreation ?? true,
      deliveryTimeoutMs: Math.round(Math.min(MAX_TIMER_MS, Math.max(this.retryOptions.deadlineMs!, requestTimeoutMs))),
      logger: kafkaxLogger(this.log),
      onNetworkEvent: this.instrumentation.networkListener(),
    })
    const connected = producer.connect()
    this.producers.set(key, { producer, connected })
    try {
      await connected
    } catch (error) {
      // the next send tries again with a new one
      if (this.producers.get(key)?.producer === producer) this.producers.delete(key)
      await producer.close().catch(() => {})
      throw error
    }
    return producer
  }

  private async closeAll(): Promise<void> {
    this.current = undefined
    const producers = [...this.producers.values()].map((p) => p.producer)
    this.producers.clear()
    const closed = await Promise.allSettled(producers.map((p) => p.close()))
    const failed = closed.find((c) => c.status === 'rejected')
    if (failed) throw toKafkaJSError((failed as PromiseRejectedResult).reason, this.spent)
  }
}
