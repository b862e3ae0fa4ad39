// A share session with one broker (KIP-932), as the Java client's ShareSessionHandler keeps it:
// epoch 0 opens it with every partition to fetch; each later ShareFetch or ShareAcknowledge carries
// the next epoch, a ShareFetch lists only the partitions it adds (and those it acknowledges records
// of) and the ones to forget; epoch -1 closes it. An answer saying the session is unknown or out of
// step, and any failed request, make the next request open a new session: the records acquired in
// the old one are no longer this member's to acknowledge.

import { ErrorCode } from '../protocol/error-codes.ts'
import type {
  AcknowledgementBatch,
  FetchTopic,
  ForgottenTopic,
} from '../protocol/messages/generated/share-fetch-request.ts'

export const INITIAL_EPOCH = 0
export const FINAL_EPOCH = -1
const MAX_EPOCH = 0x7fffffff

/** The answers that end a share session: the next request opens a new one. */
const SESSION_ERRORS = new Set<number>([
  ErrorCode.SHARE_SESSION_NOT_FOUND,
  ErrorCode.INVALID_SHARE_SESSION_EPOCH,
  ErrorCode.SHARE_SESSION_LIMIT_REACHED,
])

/** A partition of a share session. */
export interface ShareSessionPartition {
  key: string
  topicId: string
  partition: number
}

export class ShareSession {
  epoch = INITIAL_EPOCH
  /** Bumped whenever the session is given up: an answer to a request of an older one is ignored. */
  generation = 0
  /** The partitions the broker's session holds (once the request in flight is answered). */
  private readonly partitions = new Map<string, ShareSessionPartition>()

  /** Whether the session is open at the broker, so that acknowledgements may be sent in it. */
  get open(): boolean {
    return this.epoch > INITIAL_EPOCH
  }

  has(key: string): boolean {
    return this.partitions.has(key)
  }

  /**
   * The topics and forgotten topics of a ShareFetch of exactly `wanted`, carrying the
   * acknowledgements of `acks` (keys of wanted partitions; none when the session is new, where the
   * broker takes none).
   */
  fetch(
    wanted: readonly ShareSessionPartition[],
    acks: ReadonlyMap<string, AcknowledgementBatch[]>,
  ): { topics: FetchTopic[]; forgottenTopicsData: ForgottenTopic[] } {
    const send = new Map<string, ShareSessionPartition>()
    const forget: ShareSessionPartition[] = []
    if (!this.open) {
      this.partitions.clear()
      for (const p of wanted) send.set(p.key, p)
    } else {
      const next = new Set(wanted.map((p) => p.key))
      for (const [key, p] of this.partitions) if (!next.has(key)) forget.push(p)
      for (const p of wanted) if (!this.partitions.has(p.key) || acks.has(p.key)) send.set(p.key, p)
    }
    for (const p of forget) this.partitions.delete(p.key)
    for (const p of wanted) this.partitions.set(p.key, p)
    const topics = new Map<string, FetchTopic>()
    for (const p of send.values()) {
      let topic = topics.get(p.topicId)
      if (!topic) {
        topic = { topicId: p.topicId, partitions: [] }
        topics.set(p.topicId, topic)
      }
      topic.partitions.push({ partitionIndex: p.partition, acknowledgementBatches: acks.get(p.key) ?? [] })
    }
    const forgotten = new Map<string, ForgottenTopic>()
    for (const p of forget) {
      const topic = forgotten.get(p.topicId) ?? { topicId: p.topicId, partitions: [] }
      topic.partitions.push(p.partition)
      forgotten.set(p.topicId, topic)
    }
    return { topics: [...topics.values()], forgottenTopicsData: [...forgotten.values()] }
  }

  /** An answer came: false when it ended the session (the next request opens a new one). */
  answered(errorCode: number): boolean {
    if (SESSION_ERRORS.has(errorCode)) {
      this.reset()
      return false
    }
    if (this.epoch !== FINAL_EPOCH) this.epoch = this.epoch >= MAX_EPOCH ? 1 : this.epoch + 1
    return true
  }

  /** The request failed (connection lost, timeout): the next one opens a new session. */
  reset(): void {
    this.epoch = INITIAL_EPOCH
    this.generation++
    this.partitions.clear()
  }

  /** The next request closes the session. */
  close(): void {
    this.epoch = FINAL_EPOCH
  }
}
