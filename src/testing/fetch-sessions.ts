// Incremental fetch sessions (KIP-227), as Kafka's FetchManager and FetchSession: a full fetch
// (epoch 0) opens a session that remembers the partitions and what was last said about each; the
// next requests (epoch 1, 2, ...) only name the partitions that changed or are forgotten, and the
// response only holds partitions with news (records, a new high watermark or log start offset, an
// error). Epoch -1 closes a session (a sessionless fetch). A partition that returned records goes to
// the end of the session's order, so that every partition gets its turn under maxBytes.

import { ErrorCode } from '../protocol/error-codes.ts'

const INITIAL_EPOCH = 0
const FINAL_EPOCH = -1
/** max.incremental.fetch.session.cache.slots */
const MAX_SESSIONS = 1000

export interface SessionPartition extends FetchRequestPartition {
  /** What the last response said, -1 before one (a change makes the partition part of the next). */
  highWatermark: number
  logStartOffset: number
}

export class FetchSession {
  /** The epoch the next request must carry. */
  epoch = 1
  lastUsed = 0
  /** In fetch order. */
  readonly partitions = new Map<string, SessionPartition>()

  constructor(readonly id: number) {}
}

export interface FetchContext {
  kind: 'sessionless' | 'full' | 'incremental'
  /** The session an incremental fetch updates (a full fetch gets one when answered). */
  session?: FetchSession
  partitions: SessionPartition[]
}

/** A partition as a fetch request names it. */
export interface FetchRequestPartition {
  /** The topic name when the fetch names topics (v12-), else ''. */
  topic: string
  /** The topic id when the fetch names topic ids (v13+), else ''. */
  topicId: string
  partition: number
  fetchOffset: number
  maxBytes: number
  currentLeaderEpoch: number
  lastFetchedEpoch: number
}

export const partitionKey = (topic: string, topicId: string, partition: number) => `${topicId || topic}:${partition}`

export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>()

  /** The context of a fetch, or the top-level error it is answered with. */
  newContext(
    sessionId: number,
    epoch: number,
    partitions: FetchRequestPartition[],
    forgotten: { topic: string; topicId: string; partition: number }[],
    now: number,
  ): FetchContext | { errorCode: number } {
    const fresh = (p: FetchRequestPartition): SessionPartition => ({ ...p, highWatermark: -1, logStartOffset: -1 })
    if (epoch === FINAL_EPOCH || epoch === INITIAL_EPOCH) {
      if (sessionId !== 0) this.sessions.delete(sessionId)
      return { kind: epoch === FINAL_EPOCH ? 'sessionless' : 'full', partitions: partitions.map(fresh) }
    }
    const session = this.sessions.get(sessionId)
    if (!session) return { errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND }
    if (session.epoch !== epoch) return { errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH }
    for (const p of partitions) {
      const key = partitionKey(p.topic, p.topicId, p.partition)
      const known = session.partitions.get(key)
      if (known) Object.assign(known, p)
      else session.partitions.set(key, fresh(p))
    }
    for (const f of forgotten) session.partitions.delete(partitionKey(f.topic, f.topicId, f.partition))
    session.epoch = epoch === 0x7fff_ffff ? 1 : epoch + 1
    session.lastUsed = now
    return { kind: 'incremental', session, partitions: [...session.partitions.values()] }
  }

  /** Opens the session of an answered full fetch (0 when the cache is full of busier sessions). */
  create(partitions: SessionPartition[], now: number): number {
    if (this.sessions.size >= MAX_SESSIONS) {
      // evict the least recently used, as the broker evicts stale sessions first
      let oldest: FetchSession | undefined
      for (const s of this.sessions.values()) if (!oldest || s.lastUsed < oldest.lastUsed) oldest = s
      if (oldest) this.sessions.delete(oldest.id)
    }
    let id: number
    do id = 1 + Math.floor(Math.random() * 0x7fff_fffe)
    while (this.sessions.has(id))
    const session = new FetchSession(id)
    session.lastUsed = now
    for (const p of partitions) session.partitions.set(partitionKey(p.topic, p.topicId, p.partition), p)
    this.sessions.set(id, session)
    return id
  }

  /** Moves a partition that returned records to the end of its session's order. */
  rotate(session: FetchSession, p: SessionPartition): void {
    const key = partitionKey(p.topic, p.topicId, p.partition)
    session.partitions.delete(key)
    session.partitions.set(key, p)
  }

  get size(): number {
    return this.sessions.size
  }

  clear(): void {
    this.sessions.clear()
  }
}
