// The share fetcher: the assigned partitions fetched from their leaders (one source per broker,
// source.ts), the records they acquire handed to the consumer as deliveries, the consumer's
// acknowledgements sent back, and the acquisition locks watched on a timer: a held record whose lock
// runs out within half its duration is renewed (KIP-1222) where the broker takes renewals, and one
// whose lock is about to run out anyway is lost (its outcome will not be acknowledged: the broker
// delivers it again). Records are fetched only while the consumer wants more, so a member never
// holds many more locks than it can work through. A partition no longer assigned is not fetched;
// what it still holds is acknowledged as handlers finish, then it is forgotten.

import type { Cluster } from '../client/cluster.ts'
import { type TopicPartition, tpKey } from '../client/topic-partition.ts'
import type { Logger } from '../observability/logger.ts'
import { type AckCode, type AcquiredRecord, HeldPartition } from './acknowledgements.ts'
import type { ShareFetchOptions } from './options.ts'
import { type ShareCounters, type ShareHost, ShareSource } from './source.ts'

export interface ShareFetcherOptions {
  groupId: string
  memberId: string
  /** The `fetch` option, defaults applied. */
  fetch: Required<ShareFetchOptions>
  log: Logger
  report: (error: Error) => void
}

/** The acquisition lock's duration until the broker names it (group.share.record.lock.duration.ms's default). */
const DEFAULT_LOCK_MS = 30_000

export class ShareFetcher implements ShareHost {
  readonly groupId: string
  readonly memberId: string
  readonly log: Logger
  readonly counters: ShareCounters = {
    fetches: 0,
    acknowledgeRequests: 0,
    records: 0,
    bytes: 0,
    renewals: 0,
    acknowledgeErrors: 0,
  }
  lockMs = DEFAULT_LOCK_MS
  /** Renew the locks of records held long, where the broker takes renewals. */
  renew = true
  /** Deliveries lost: their lock ran out, or their session or membership was lost. */
  lost = 0
  /** Whether the consumer takes more records now. */
  wantRecords: () => boolean = () => true
  /** Records acquired, for the consumer to run. */
  onDeliveries: (deliveries: AcquiredRecord[]) => void = () => {}
  /** Held records whose lock ran out (their handlers may still run). */
  onExpired: (deliveries: AcquiredRecord[]) => void = () => {}
  private readonly config: Required<ShareFetchOptions>
  private readonly reportError: (error: Error) => void
  /** Assigned partitions, and those still holding records since their unassignment, by tpKey. */
  private readonly held = new Map<string, HeldPartition>()
  private assigned = new Map<string, TopicPartition>()
  private readonly sources = new Map<number, ShareSource>()
  private scheduled = false
  private refreshing = false
  private closing = false
  private closed = false
  /** Wakes the sender for a backoff's end or acknowledgements' linger. */
  private wakeTimer: NodeJS.Timeout | undefined
  /** Per broker: when its oldest acknowledgement not yet sent was queued. */
  private readonly acksSince = new Map<number, number>()
  private lockTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly cluster: Cluster,
    options: ShareFetcherOptions,
  ) {
    this.groupId = options.groupId
    this.memberId = options.memberId
    this.log = options.log
    this.reportError = options.report
    this.config = options.fetch
  }

  /** Starts watching locks; fetching starts with the first assignment. */
  start(): void {
    this.watchLocks()
  }

  /** The whole assignment (from the membership): partitions no longer in it are not fetched. */
  assign(partitions: readonly TopicPartition[]): void {
    this.assigned = new Map(partitions.map((tp) => [tpKey(tp.topic, tp.partition), tp]))
    this.wake()
  }

  /** The membership was lost: every session starts anew and nothing held may be acknowledged. */
  fenced(): void {
    for (const source of this.sources.values()) source.session.reset()
    for (const held of this.held.values()) this.lost += held.reset()
    this.held.clear()
  }

  /** Queues the outcome of a delivery; false when it came too late (its lock is gone) and is dropped. */
  acknowledge(delivery: AcquiredRecord, type: AckCode): boolean {
    const lostBefore = delivery.state === 'lost'
    const now = Date.now()
    const queued = delivery.partition.acknowledge(delivery, type, now, this.margin())
    if (!queued && !lostBefore) this.lost++
    const { nodeId } = delivery.partition
    // the first acknowledgement waiting for a broker sets its linger; the later ones go with it
    if (queued && (this.closing || !this.acksSince.has(nodeId))) {
      if (!this.acksSince.has(nodeId)) this.acksSince.set(nodeId, now)
      this.wake()
    }
    return queued
  }

  /** Records held by this member now (acquired, no outcome sent yet). */
  holding(): number {
    let n = 0
    for (const held of this.held.values()) n += held.deliveries.size
    return n
  }

  /**
   * Sends what is left to acknowledge and closes every share session (ShareAcknowledge with epoch
   * -1, which also releases what is still acquired); fetches nothing more.
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closing = true
    clearTimeout(this.lockTimer)
    clearTimeout(this.wakeTimer)
    for (;;) {
      const inFlight = [...this.sources.values()].map((s) => s.inFlight).filter((p) => p !== undefined)
      if (inFlight.length === 0) break
      await Promise.allSettled(inFlight)
    }
    this.closed = true
    const now = Date.now()
    await Promise.allSettled(
      [...this.sources.values()]
        .filter((source) => source.session.open)
        .map((source) => source.acknowledge(this.onNode(source.nodeId), now, true)),
    )
    for (const held of this.held.values()) this.lost += held.reset()
    this.held.clear()
  }

  // ------------------------------------------------------------------------------------------
  // ShareHost: what the sources call back

  margin(): number {
    return Math.min(1000, Math.floor(this.lockMs / 10))
  }

  delivered(deliveries: AcquiredRecord[]): void {
    this.onDeliveries(deliveries)
  }

  sessionLost(nodeId: number, reason: string): void {
    let lost = 0
    for (const [key, held] of this.held) {
      if (held.nodeId !== nodeId) continue
      lost += held.reset()
      this.held.delete(key)
    }
    this.lost += lost
    if (lost > 0) this.log.warn?.({ nodeId, lost, reason }, 'share session lost: its records are delivered again')
  }

  leaderMoved(held: HeldPartition): void {
    this.lost += held.reset()
    this.held.delete(tpKey(held.topic, held.partition))
  }

  refresh(topics: string[]): void {
    if (this.refreshing) return
    this.refreshing = true
    this.cluster
      .refreshMetadata(topics)
      .catch((error) => this.report(error))
      .finally(() => {
        this.refreshing = false
        this.wake()
      })
  }

  report(error: Error): void {
    if (!this.closed) this.reportError(error)
  }

  // ------------------------------------------------------------------------------------------
  // Sending

  /** Sends what can be sent, once the current task is done (calls coalesce). */
  wake(): void {
    if (this.scheduled || this.closed) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.send()
    })
  }

  /**
   * Per broker without a request in flight: renewals first, then a fetch (carrying acknowledgements),
   * else acknowledgements alone once the oldest has waited `ackLingerMs` (so that a stream of
   * handlers finishing one by one costs a request per batch of them, not per record).
   */
  private send(): void {
    if (this.closed) return
    const now = Date.now()
    const fetchable = this.route()
    const want = !this.closing && this.wantRecords()
    let wakeAt = Number.POSITIVE_INFINITY
    const nodes = new Set([...fetchable.keys(), ...[...this.held.values()].map((h) => h.nodeId)])
    for (const nodeId of nodes) {
      const source = this.source(nodeId)
      if (source.inFlight) continue
      if (source.retryAt > now) {
        wakeAt = Math.min(wakeAt, source.retryAt)
        continue
      }
      const acking = this.onNode(nodeId).filter((h) => h.hasAcks)
      const toFetch = want ? (fetchable.get(nodeId) ?? []) : []
      const ackDue = (this.acksSince.get(nodeId) ?? now) + this.ackLingerMs()
      let run: Promise<void> | undefined
      if (source.session.open && acking.some((h) => h.hasRenewals)) run = source.acknowledge(acking, now)
      else if (toFetch.length > 0) run = source.fetch(toFetch, now)
      else if (source.session.open && acking.length > 0) {
        if (this.closing || ackDue <= now) run = source.acknowledge(acking, now)
        else wakeAt = Math.min(wakeAt, ackDue)
      }
      if (!run) continue
      this.acksSince.delete(nodeId)
      run.finally(() => {
        this.forgetIdle()
        this.wake()
      })
    }
    if (wakeAt !== Number.POSITIVE_INFINITY) {
      clearTimeout(this.wakeTimer)
      this.wakeTimer = setTimeout(() => this.wake(), Math.max(0, wakeAt - now))
      this.wakeTimer.unref()
    }
  }

  /** How long acknowledgements may wait for a fetch to carry them: half the margin, within 10 to 100 ms. */
  private ackLingerMs(): number {
    return Math.min(100, Math.max(10, Math.floor(this.margin() / 2)))
  }

  /** The assigned partitions by leader, each with its held state (new ones created, moved ones started over). */
  private route(): Map<number, HeldPartition[]> {
    const byNode = new Map<number, HeldPartition[]>()
    const unknown = new Set<string>()
    for (const [key, tp] of this.assigned) {
      const topic = this.cluster.metadata.topics.get(tp.topic)
      const info = topic?.partitions[tp.partition]
      if (!topic || !info || info.leader < 0) {
        unknown.add(tp.topic)
        continue
      }
      let held = this.held.get(key)
      if (held && held.nodeId !== info.leader) {
        this.leaderMoved(held)
        held = undefined
      }
      if (!held) {
        held = new HeldPartition(tp.topic, tp.partition, topic.topicId, info.leader)
        this.held.set(key, held)
      }
      const list = byNode.get(info.leader) ?? []
      list.push(held)
      byNode.set(info.leader, list)
    }
    if (unknown.size > 0) this.refresh([...unknown])
    return byNode
  }

  private onNode(nodeId: number): HeldPartition[] {
    return [...this.held.values()].filter((h) => h.nodeId === nodeId)
  }

  /** Unassigned partitions holding nothing more are dropped. */
  private forgetIdle(): void {
    for (const [key, held] of this.held) if (!this.assigned.has(key) && held.idle) this.held.delete(key)
  }

  private source(nodeId: number): ShareSource {
    let source = this.sources.get(nodeId)
    if (!source) {
      source = new ShareSource(nodeId, this.cluster, this.config, this)
      this.sources.set(nodeId, source)
    }
    return source
  }

  // ------------------------------------------------------------------------------------------
  // Acquisition locks

  /** Checks the locks every tenth of their duration (at least every second). */
  private watchLocks(): void {
    if (this.closing) return
    this.lockTimer = setTimeout(
      () => {
        this.checkLocks()
        this.watchLocks()
      },
      Math.max(50, Math.min(1000, Math.floor(this.lockMs / 10))),
    )
    this.lockTimer.unref()
  }

  private checkLocks(): void {
    const now = Date.now()
    const margin = this.margin()
    let renewals = 0
    for (const held of this.held.values()) {
      const source = this.sources.get(held.nodeId)
      if (this.renew && source?.renewable && source.session.open) renewals += held.renewDue(now, this.lockMs / 2)
      const expired = held.expire(now, margin)
      if (expired.length > 0) {
        this.lost += expired.length
        this.onExpired(expired)
      }
    }
    if (renewals > 0) this.wake()
  }
}
