// The acknowledgement bookkeeping of one share-partition as this member holds it (KIP-932): the
// records it acquired, each with its delivery count and the deadline of its acquisition lock, and
// the acknowledgements waiting to be sent. A record is acknowledged once: the first outcome counts,
// and an outcome comes too late once the lock ran out (the broker may have handed the record to
// another member, or to this one again). The deadline is kept on the safe side: it counts from
// when the request that acquired (or renewed) the record was sent, and an acknowledgement is given
// up `margin` ms before it, so that it never reaches the broker after the lock expired there.
// Offsets in an acquired range without a record of their own (control records, compacted ones)
// are acknowledged as gaps, as the Java client's ShareCompletedFetch does.

import { KafkaxError } from '../protocol/errors.ts'
import type { AcknowledgementBatch } from '../protocol/messages/generated/share-fetch-request.ts'
import type { SharedMessage } from './message.ts'

/** The AcknowledgeTypes of ShareFetchRequest.json / ShareAcknowledgeRequest.json: 0 Gap, 1 Accept, 2 Release, 3 Reject, 4 Renew. */
export const ACK = { gap: 0, accept: 1, release: 2, reject: 3, renew: 4 } as const
export type AckCode = (typeof ACK)[keyof typeof ACK]

/** One record this member acquired, from its acquisition until it is acknowledged or its lock is lost. */
export class AcquiredRecord {
  /** held: acquired, no outcome yet; acknowledged: its outcome is queued or sent; lost: its lock is gone. */
  state: 'held' | 'acknowledged' | 'lost' = 'held'
  /** A renewal of its lock is queued or in flight. */
  renewing = false

  constructor(
    readonly message: SharedMessage,
    /** When its acquisition lock runs out, as this member reckons it (ms since the epoch). */
    public deadline: number,
    readonly partition: HeldPartition,
  ) {}
}

interface PendingAck {
  type: AckCode
  /** The record's delivery (its deadline may move with a renewal); none for a gap. */
  delivery?: AcquiredRecord
  deadline: number
}

/** What one request carries of a partition's acknowledgements. */
export interface TakenAcks {
  batches: AcknowledgementBatch[]
  /** Deliveries whose lock the request renews. */
  renewals: AcquiredRecord[]
  /** Whether a batch carries a Renew (the request's IsRenewAck). */
  renew: boolean
  /** Records acknowledged (renewals not counted). */
  acknowledged: number
}

export class HeldPartition {
  /** Acquired records without an outcome yet, by offset. */
  readonly deliveries = new Map<bigint, AcquiredRecord>()
  private readonly pending = new Map<bigint, PendingAck>()

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly topicId: string,
    /** The leader the records were acquired from: their locks live there. */
    readonly nodeId: number,
  ) {}

  /** Whether acknowledgements wait to be sent. */
  get hasAcks(): boolean {
    return this.pending.size > 0
  }

  /** Whether a lock renewal waits to be sent (it needs a ShareAcknowledge). */
  get hasRenewals(): boolean {
    for (const ack of this.pending.values()) if (ack.type === ACK.renew) return true
    return false
  }

  /** Nothing held and nothing to send: the partition may be forgotten. */
  get idle(): boolean {
    return this.deliveries.size === 0 && this.pending.size === 0
  }

  /**
   * A record acquired, its lock running out at `deadline`. A delivery of the same offset still held
   * is lost: its lock ran out and the record came back.
   */
  acquire(message: SharedMessage, deadline: number): AcquiredRecord {
    const previous = this.deliveries.get(message.offset)
    if (previous) this.lose(previous)
    const delivery = new AcquiredRecord(message, deadline, this)
    this.deliveries.set(message.offset, delivery)
    return delivery
  }

  /**
   * An acquired offset without a record to hand out: acknowledged with the next request as a gap
   * (no record there), or rejected (its record is corrupt).
   */
  settle(offset: bigint, deadline: number, type: typeof ACK.gap | typeof ACK.reject = ACK.gap): void {
    this.pending.set(offset, { type, deadline })
  }

  /**
   * Queues the outcome of a delivery. False when it comes too late (the delivery lost its lock, or
   * it runs out within `margin` ms): nothing is sent. A delivery already acknowledged throws.
   */
  acknowledge(delivery: AcquiredRecord, type: AckCode, now: number, margin: number): boolean {
    if (delivery.state === 'acknowledged') {
      throw new KafkaxError(`${describe(delivery)} was acknowledged already`, 'EACKNOWLEDGED')
    }
    if (delivery.state === 'lost') return false
    if (delivery.deadline - margin <= now) {
      this.lose(delivery)
      return false
    }
    delivery.state = 'acknowledged'
    this.deliveries.delete(delivery.message.offset)
    this.pending.set(delivery.message.offset, { type, delivery, deadline: delivery.deadline })
    return true
  }

  /** Queues a Renew for every held delivery whose lock runs out within `within` ms; returns how many. */
  renewDue(now: number, within: number): number {
    let queued = 0
    for (const d of this.deliveries.values()) {
      if (d.renewing || d.deadline - now >= within) continue
      d.renewing = true
      this.pending.set(d.message.offset, { type: ACK.renew, delivery: d, deadline: d.deadline })
      queued++
    }
    return queued
  }

  /** A renewal sent at `sentAt` succeeded: the locks of `renewed` run `lockMs` from then. */
  renewed(renewed: readonly AcquiredRecord[], sentAt: number, lockMs: number): void {
    for (const d of renewed) {
      if (d.state === 'lost') continue
      d.deadline = Math.max(d.deadline, sentAt + lockMs)
      d.renewing = false
    }
  }

  /** A renewal failed: the deliveries keep their old deadline (and may be renewed again). */
  renewFailed(renewals: readonly AcquiredRecord[]): void {
    for (const d of renewals) d.renewing = false
  }

  /** Loses the held deliveries whose lock runs out within `margin` ms; returns them. */
  expire(now: number, margin: number): AcquiredRecord[] {
    const lost: AcquiredRecord[] = []
    for (const d of this.deliveries.values()) {
      if (d.deadline - margin > now) continue
      this.lose(d)
      lost.push(d)
    }
    return lost
  }

  /**
   * Takes the acknowledgements to send now, as AcknowledgementBatches; those whose lock runs out
   * within `margin` ms are dropped (the broker would refuse them, or apply them to a later delivery).
   */
  take(now: number, margin: number): TakenAcks {
    const acks: [bigint, AckCode][] = []
    const renewals: AcquiredRecord[] = []
    let acknowledged = 0
    for (const [offset, ack] of this.pending) {
      const deadline = ack.delivery?.deadline ?? ack.deadline
      if (deadline - margin <= now) {
        if (ack.delivery) this.lose(ack.delivery)
        continue
      }
      acks.push([offset, ack.type])
      if (ack.type === ACK.renew) renewals.push(ack.delivery!)
      else if (ack.type !== ACK.gap) acknowledged++
    }
    this.pending.clear()
    return { batches: acknowledgementBatches(acks), renewals, renew: renewals.length > 0, acknowledged }
  }

  /** Loses everything held and pending (the share session or the membership was lost); returns how many deliveries. */
  reset(): number {
    let lost = 0
    for (const d of this.deliveries.values()) {
      d.state = 'lost'
      lost++
    }
    this.deliveries.clear()
    this.pending.clear()
    return lost
  }

  private lose(delivery: AcquiredRecord): void {
    delivery.state = 'lost'
    delivery.renewing = false
    const offset = delivery.message.offset
    if (this.deliveries.get(offset) === delivery) this.deliveries.delete(offset)
    if (this.pending.get(offset)?.delivery === delivery) this.pending.delete(offset)
  }
}

/**
 * Acknowledgements as the protocol's AcknowledgementBatches: runs of consecutive offsets, each with
 * one type when the whole run has the same, else one type per offset (in offset order).
 */
export function acknowledgementBatches(acks: Iterable<readonly [bigint, AckCode]>): AcknowledgementBatch[] {
  const sorted = [...acks].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const batches: AcknowledgementBatch[] = []
  let start = 0
  for (let i = 1; i <= sorted.length; i++) {
    if (i < sorted.length) {
      if (sorted[i][0] === sorted[i - 1][0]) {
        throw new KafkaxError(`offset ${sorted[i][0]} acknowledged twice in one request`, 'EACKNOWLEDGED')
      }
      if (sorted[i][0] === sorted[i - 1][0] + 1n) continue
    }
    const run = sorted.slice(start, i)
    const types = run.map(([, type]) => type)
    batches.push({
      firstOffset: run[0][0],
      lastOffset: run[run.length - 1][0],
      acknowledgeTypes: types.every((t) => t === types[0]) ? [types[0]] : types,
    })
    start = i
  }
  return batches
}

function describe(delivery: AcquiredRecord): string {
  const { topic, partition, offset } = delivery.message
  return `${topic}/${partition}@${offset}`
}
