// What a share-group handler receives: a message with its delivery count (KIP-932), and a context
// that acknowledges it. The consumer's Message, Handler and Middleware shapes stay the base, so the
// consumer's middleware (logging, timeout, recover, tracing adapters) wrap share handlers as well.

import { ConsumedMessage, type HandlerContext, type Message } from '../consumer/message.ts'
import { ConfigError } from '../protocol/errors.ts'
import type { RecordHeader } from '../protocol/records/index.ts'

/**
 * How a record is acknowledged (KIP-932): `accept` (processed: done), `release` (back to the queue,
 * delivered again with its delivery count one higher) or `reject` (unprocessable: archived, never
 * delivered again).
 */
export type AcknowledgeType = 'accept' | 'release' | 'reject'

/** A record of a share group, as a handler sees it. */
export interface ShareMessage extends Message {
  /** How many times the broker has delivered this record, this delivery included (1 the first time). */
  readonly deliveryCount: number
}

/** What a share handler gets beside the message. `attempt` is the delivery count. */
export interface ShareHandlerContext extends HandlerContext {
  /** How many times the broker has delivered this record, this delivery included. */
  deliveryCount: number
  /** Acknowledges the record as processed (the default when the handler resolves). */
  accept(): void
  /** Gives the record back at once: it is delivered again (to any member) with its delivery count one higher. */
  release(): void
  /** Archives the record: it is never delivered again. */
  reject(): void
  /**
   * Acknowledges the record: required in explicit acknowledgement mode, optional otherwise. The first
   * acknowledgement of a delivery counts; a second one throws a ConfigError.
   */
  ack(type: AcknowledgeType): void
  /** The acknowledgement given so far (undefined: none yet). */
  acknowledgement(): AcknowledgeType | undefined
}

/** Handles one record of a share group; resolving accepts it (unless the handler acknowledged it otherwise). */
export type ShareHandler = (message: ShareMessage, context: ShareHandlerContext) => unknown | Promise<unknown>

/** Wraps a share handler: `(next) => (message, context) => ...`. The first middleware added is outermost. */
export type ShareMiddleware = (next: ShareHandler) => ShareHandler

/** The records a share fetch hands out. */
export class SharedMessage extends ConsumedMessage implements ShareMessage {
  constructor(
    topic: string,
    partition: number,
    offset: bigint,
    timestamp: number,
    key: Buffer | null,
    value: Buffer | null,
    headers: RecordHeader[],
    leaderEpoch: number,
    readonly deliveryCount: number,
  ) {
    super(topic, partition, offset, timestamp, key, value, headers, leaderEpoch)
  }
}

const TYPES: readonly unknown[] = ['accept', 'release', 'reject'] satisfies AcknowledgeType[]

/**
 * The context of one delivery of `what` (`topic/partition@offset`): its acknowledgement methods
 * share one decision, taken once, which `acknowledge` sends on. Own closures, not methods, so that
 * middleware may spread the context (`{ ...context, attempt }`) and keep them.
 */
export function shareContext(
  signal: AbortSignal,
  deliveryCount: number,
  what: string,
  acknowledge: (type: AcknowledgeType) => void,
): ShareHandlerContext {
  let decided: AcknowledgeType | undefined
  const ack = (type: AcknowledgeType) => {
    if (!TYPES.includes(type)) {
      throw new ConfigError(`acknowledge type must be 'accept', 'release' or 'reject', got ${JSON.stringify(type)}`)
    }
    if (decided !== undefined) throw new ConfigError(`${what} was acknowledged already (${decided})`)
    decided = type
    acknowledge(type)
  }
  return {
    signal,
    attempt: deliveryCount,
    deliveryCount,
    ack,
    accept: () => ack('accept'),
    release: () => ack('release'),
    reject: () => ack('reject'),
    acknowledgement: () => decided,
    send: sendInShareGroup,
  }
}

/** HandlerContext.send in a share group: its acknowledgements cannot join a transaction (KIP-932). */
function sendInShareGroup(): never {
  throw new ConfigError(
    "context.send() writes in the consumer's transaction, and share groups have none (their acknowledgements are not transactional): use a Producer",
  )
}
