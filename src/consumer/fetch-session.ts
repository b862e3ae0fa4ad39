// A fetch session with one broker (KIP-227), kept as the Java client's FetchSessionHandler keeps it
// (the broker's side is a FetchSession). The first request of a session is "full": it lists every
// partition, and the broker answers with a session id. Later requests are "incremental": they
// carry the session id and the next epoch, and list only the partitions whose fetch parameters
// changed since the broker last saw them, plus the partitions to forget. Any failure makes the next
// request full again (closing the old session when there was one).

import { ErrorCode } from '../protocol/error-codes.ts'
import type { FetchTopic, ForgottenTopic } from '../protocol/messages/generated/fetch-request.ts'

/** Epoch 0 asks for a new session; the session id sent with it (if any) is closed. */
const INITIAL_EPOCH = 0
const MAX_EPOCH = 0x7fffffff

/** What the broker must know of one partition of the session. */
export interface FetchSessionPartition {
  topic: string
  topicId: string
  partition: number
  fetchOffset: bigint
  currentLeaderEpoch: number
  /** The leader epoch of the record before fetchOffset (-1: unknown), for the broker to check (KIP-320, Fetch v12+). */
  lastFetchedEpoch: number
  partitionMaxBytes: number
}

export interface SessionRequest {
  sessionId: number
  sessionEpoch: number
  topics: FetchTopic[]
  forgottenTopicsData: ForgottenTopic[]
  /** A full request (lists every partition); false for an incremental one. */
  full: boolean
}

export class FetchSessionHandler {
  sessionId = 0
  epoch = INITIAL_EPOCH
  /** The partitions as the broker's session holds them (after the last successful answer). */
  private partitions = new Map<string, FetchSessionPartition>()
  /** What the session will hold once the request in flight succeeds. */
  private pending: Map<string, FetchSessionPartition> | undefined
  /** Whether the session was built with topic ids (Fetch v13+): switching means a new session. */
  private topicIds = false

  /** The request that fetches exactly `next` (keys: tpKey) within this session; `epochs`: the version takes lastFetchedEpoch. */
  build(next: Map<string, FetchSessionPartition>, useTopicIds: boolean, epochs = true): SessionRequest {
    if (useTopicIds !== this.topicIds) {
      this.topicIds = useTopicIds
      this.epoch = INITIAL_EPOCH
    }
    this.pending = next
    const full = this.epoch === INITIAL_EPOCH
    const send: FetchSessionPartition[] = []
    const forget: FetchSessionPartition[] = []
    if (full) send.push(...next.values())
    else {
      for (const [key, p] of next) {
        const known = this.partitions.get(key)
        if (!known || !samePartition(known, p)) send.push(p)
      }
      for (const [key, p] of this.partitions) if (!next.has(key)) forget.push(p)
    }
    return {
      sessionId: this.sessionId,
      sessionEpoch: this.epoch,
      topics: groupByTopic(send, useTopicIds, (p) => ({
        partition: p.partition,
        currentLeaderEpoch: p.currentLeaderEpoch,
        fetchOffset: p.fetchOffset,
        lastFetchedEpoch: epochs ? p.lastFetchedEpoch : -1,
        partitionMaxBytes: p.partitionMaxBytes,
      })).map(([topic, partitions]) => ({ ...topic, partitions })),
      forgottenTopicsData: groupByTopic(forget, useTopicIds, (p) => p.partition).map(([topic, partitions]) => ({
        ...topic,
        partitions,
      })),
      full,
    }
  }

  /**
   * Applies the answer's top-level error code and session id. False when the session failed: the
   * answer carries no partition data and the next request is full.
   */
  onResponse(errorCode: number, sessionId: number): boolean {
    if (errorCode !== 0) {
      // an unknown session cannot be closed: ask for a fresh one without naming it
      if (errorCode === ErrorCode.FETCH_SESSION_ID_NOT_FOUND) this.sessionId = 0
      this.onError()
      return false
    }
    if (this.epoch === INITIAL_EPOCH) {
      // session id 0: the broker keeps no session (cache full); every request stays full
      this.sessionId = sessionId
      this.epoch = sessionId === 0 ? INITIAL_EPOCH : 1
    } else this.epoch = this.epoch === MAX_EPOCH ? 1 : this.epoch + 1
    this.partitions = this.pending ?? new Map()
    this.pending = undefined
    return true
  }

  /** The request failed (connection, timeout, session error): start over with a full request. */
  onError(): void {
    this.epoch = INITIAL_EPOCH
    this.partitions = new Map()
    this.pending = undefined
  }
}

function samePartition(a: FetchSessionPartition, b: FetchSessionPartition): boolean {
  return (
    a.fetchOffset === b.fetchOffset &&
    a.currentLeaderEpoch === b.currentLeaderEpoch &&
    a.lastFetchedEpoch === b.lastFetchedEpoch &&
    a.partitionMaxBytes === b.partitionMaxBytes &&
    a.topicId === b.topicId
  )
}

/** Partitions grouped per topic, named by id (v13+) or by name, in first-seen order. */
function groupByTopic<T>(
  partitions: FetchSessionPartition[],
  useTopicIds: boolean,
  map: (p: FetchSessionPartition) => T,
): [{ topic?: string; topicId?: string }, T[]][] {
  const groups = new Map<string, [{ topic?: string; topicId?: string }, T[]]>()
  for (const p of partitions) {
    let group = groups.get(p.topic)
    if (!group) {
      group = [useTopicIds ? { topicId: p.topicId } : { topic: p.topic }, []]
      groups.set(p.topic, group)
    }
    group[1].push(map(p))
  }
  return [...groups.values()]
}
