// What the Consumer sees of its group, whatever the protocol: a membership that joins, tells its
// listener which partitions come and go, commits and fetches offsets as the member it is now, and
// leaves. The classic protocol (classic-member.ts) is one implementation; the consumer protocol
// (KIP-848, ConsumerGroupHeartbeat) is meant to be a second one beside it, not a branch inside the
// first. The parts every protocol shares live here too.

import { type TopicPartition, tpKey } from '../client/topic-partition.ts'
import { TimeoutError } from '../protocol/errors.ts'
import type { CommitIdentity, CommittedPosition, OffsetToCommit } from './offsets.ts'

export interface GroupListener {
  /** After a rebalance: partitions newly assigned. */
  onAssigned(partitions: TopicPartition[]): Promise<void> | void
  /** Before partitions leave: the consumer must finish/commit what was handled. Awaited. */
  onRevoked(partitions: TopicPartition[]): Promise<void> | void
  /** Partitions lost without a clean handover (fenced, session expired): must not commit them. */
  onLost(partitions: TopicPartition[]): Promise<void> | void
  /** Errors the member cannot recover from by itself (e.g. GROUP_AUTHORIZATION_FAILED). */
  onError?(error: Error): void
  /** After each rebalance, once onRevoked and onAssigned ran: who the member is now and all it owns. */
  onJoined?(group: GroupJoin): void
}

/** A rebalance's outcome for one member. */
export interface GroupJoin {
  memberId: string
  generationId: number
  /** The member that ran the assignor. */
  leaderId: string
  /** The assignor's name the group agreed on. */
  protocol: string
  /** Every partition the member owns now (not only the new ones). */
  assignment: TopicPartition[]
}

/** A consumer's membership of its group; the listener is given to the implementation's constructor. */
export interface GroupMembership {
  /** Joins the group; resolves after the first assignment, rejects when the member cannot join at all. */
  start(): Promise<void>
  /** Revokes the assignment (the listener may still commit), then leaves the group. */
  stop(): Promise<void>
  /** Asks for a new assignment (e.g. subscription changed); the current one is kept until it arrives. */
  requestRejoin(reason?: string): void
  /** The partitions this member owns now. */
  assignment(): TopicPartition[]
  /** Who this member commits as now (generation or member epoch). */
  commitIdentity(): CommitIdentity
  /**
   * Commits offsets as the member it is now. Retriable errors are retried; an error saying the
   * member is stale (rebalancing, fenced, unknown) is thrown as KafkaError for the caller to decide.
   */
  commit(offsets: OffsetToCommit[]): Promise<void>
  /** Committed offsets by tpKey (null: none). `requireStable` waits out pending transactional commits (read_committed). */
  committed(partitions: TopicPartition[], requireStable?: boolean): Promise<Map<string, CommittedPosition | null>>
}

/** Partitions of `owned` not in `assigned` (revoked) and of `assigned` not in `owned` (added). */
export function diffAssignment(
  owned: readonly TopicPartition[],
  assigned: readonly TopicPartition[],
): { revoked: TopicPartition[]; added: TopicPartition[] } {
  const ownedKeys = new Set(owned.map((p) => tpKey(p.topic, p.partition)))
  const assignedKeys = new Set(assigned.map((p) => tpKey(p.topic, p.partition)))
  return {
    revoked: owned.filter((p) => !assignedKeys.has(tpKey(p.topic, p.partition))),
    added: assigned.filter((p) => !ownedKeys.has(tpKey(p.topic, p.partition))),
  }
}

/**
 * Calls a GroupListener as every protocol must: nothing it throws breaks the membership (it is
 * reported to onError), and a call running past the rebalance timeout is reported, not cut short.
 */
export class ListenerInvoker {
  private readonly listener: GroupListener
  private readonly groupId: string
  private readonly rebalanceTimeoutMs: number

  constructor(listener: GroupListener, groupId: string, rebalanceTimeoutMs: number) {
    this.listener = listener
    this.groupId = groupId
    this.rebalanceTimeoutMs = rebalanceTimeoutMs
  }

  /** Calls onAssigned, onRevoked or onLost (not for an empty list) and waits for it. */
  async notify(kind: 'onAssigned' | 'onRevoked' | 'onLost', partitions: TopicPartition[]): Promise<void> {
    if (partitions.length === 0) return
    const slow = setTimeout(
      () =>
        this.report(
          new TimeoutError(
            `${kind} of group ${this.groupId} ran past the rebalance timeout (${this.rebalanceTimeoutMs} ms): the group may have moved on`,
          ),
        ),
      this.rebalanceTimeoutMs,
    )
    try {
      await this.listener[kind](partitions)
    } catch (error) {
      this.report(error)
    } finally {
      clearTimeout(slow)
    }
  }

  /** Calls onJoined; what it throws is reported. */
  joined(group: GroupJoin): void {
    try {
      this.listener.onJoined?.(group)
    } catch (error) {
      this.report(error)
    }
  }

  report(error: unknown): void {
    try {
      this.listener.onError?.(error instanceof Error ? error : new Error(String(error)))
    } catch {
      // a throwing error handler must not break the membership
    }
  }
}
