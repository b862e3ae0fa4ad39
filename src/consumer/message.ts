// What handlers receive, and the shapes the consumer's parts share: a message read from a
// partition, the handler and middleware signatures, topic-partition keys.

import type { ProducerRecord } from '../producer/record.ts'
import { ConfigError } from '../protocol/errors.ts'
import type { RecordHeader } from '../protocol/records/index.ts'

export { type TopicPartition, tpKey } from '../client/topic-partition.ts'

/** A record as a handler sees it: key, value and header values are Buffers (or null). */
export interface Message {
  topic: string
  partition: number
  offset: bigint
  /** Milliseconds since the epoch (create time, or the broker's append time for LogAppendTime topics). */
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  /** In the order the producer wrote them; a key may repeat. */
  headers: RecordHeader[]
  /** The leader epoch of the batch the record came in (-1 when unknown): committed with the offset. */
  leaderEpoch: number
  /** The value of the first header called `name`: null for a header with a null value, undefined when absent. */
  header(name: string): Buffer | null | undefined
}

/** What a handler gets beside the message. */
export interface HandlerContext {
  /** Aborted when the consumer stops or the partition is revoked: long handlers should give up. */
  signal: AbortSignal
  /** 1 for the first delivery; the retry middleware counts up. */
  attempt: number
  /**
   * Writes records in the consumer's transaction (the `exactlyOnce` option): they join it when this
   * handler run succeeds, and become visible with the input's offset when it commits; a run that
   * fails (retried, dead-lettered) leaves none. Without `exactlyOnce` it throws a ConfigError.
   */
  send(records: ProducerRecord | readonly ProducerRecord[]): void
}

/** What a batch handler gets beside its messages: a handler's context, and a way to report progress. */
export interface BatchContext extends HandlerContext {
  /**
   * Marks the batch's messages up to `offset` (inclusive) handled, as kafkajs's `resolveOffset`:
   * they may be committed while the handler still runs, and a later failure in the batch neither
   * retries nor dead-letters them. Lower offsets than one resolved before change nothing.
   */
  resolve(offset: bigint): void
  /** The highest offset resolved so far (undefined: none). */
  resolvedOffset(): bigint | undefined
}

/**
 * A batch handler's partial failure, returned instead of throwing: the `failed` messages (of the
 * batch it was given) are retried and dead-lettered as a thrown error would have the whole batch;
 * every other message counts as handled.
 */
export interface BatchResult {
  failed: readonly Message[]
  /** Why they failed, e.g. for the dead-letter headers (default: a HandlerError saying so). */
  error?: unknown
}

/** Handles one message; the consumer commits it once this returns (or its promise resolves). */
export type Handler = (message: Message, context: HandlerContext) => unknown | Promise<unknown>
/**
 * Handles the messages of one partition at once (the consumer's `batch` option), in offset order.
 * Returning (or resolving) handles them all, unless the result is a BatchResult; throwing fails
 * those not resolved with `context.resolve()`.
 */
export type BatchHandler = (messages: Message[], context: BatchContext) => unknown | Promise<unknown>

/** Wraps a handler: `(next) => (message, context) => ...`. The first middleware added is outermost. */
export type Middleware = (next: Handler) => Handler
/** Wraps a batch handler: `(next) => (messages, context) => ...` (`Consumer.useBatch()`). */
export type BatchMiddleware = (next: BatchHandler) => BatchHandler

/** HandlerContext.send of a consumer without `exactlyOnce`. */
export function sendWithoutTransaction(): never {
  throw new ConfigError("context.send() writes in the consumer's transaction: it needs the exactlyOnce option")
}

/** The Message objects the fetcher hands out. */
export class ConsumedMessage implements Message {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: bigint,
    readonly timestamp: number,
    readonly key: Buffer | null,
    readonly value: Buffer | null,
    readonly headers: RecordHeader[],
    readonly leaderEpoch: number,
  ) {}

  header(name: string): Buffer | null | undefined {
    for (const h of this.headers) if (h.key === name) return h.value
    return undefined
  }
}
