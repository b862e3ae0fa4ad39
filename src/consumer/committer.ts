// Offset commits of a group member: what the offset trackers say may be committed, on a timer in
// auto mode and when the consumer asks (commit(), revocation, stop). A commit refused because a
// rebalance is under way is skipped: the revocation that follows commits what was handled.

import type { OffsetToCommit } from '../group/offsets.ts'
import type { Logger } from '../observability/logger.ts'
import { traced } from '../observability/tracing.ts'
import { ErrorCode } from '../protocol/error-codes.ts'
import { KafkaError } from '../protocol/errors.ts'
import { consumerChannels as channels } from './channels.ts'
import type { OffsetTracker } from './offset-tracker.ts'

/** The part of the group member the committer uses. */
export interface OffsetCommitTarget {
  /** Commits with the member's generation; rejects with the broker's error. */
  commit(offsets: OffsetToCommit[]): Promise<void>
}

const REBALANCE_ERRORS = new Set<number>([
  ErrorCode.REBALANCE_IN_PROGRESS,
  ErrorCode.ILLEGAL_GENERATION,
  ErrorCode.UNKNOWN_MEMBER_ID,
  // the consumer protocol (KIP-848): the member epoch moved on, or the member left the group
  ErrorCode.STALE_MEMBER_EPOCH,
])

/** Commits the offsets of a group member's partitions. */
export class Committer {
  /** Commits the broker accepted. */
  commits = 0
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly member: OffsetCommitTarget,
    private readonly groupId: string,
    private readonly log: Logger,
  ) {}

  /** Runs `commit` every `intervalMs` until stop(), reporting its failures (auto mode). */
  start(intervalMs: number, commit: () => Promise<void>, report: (error: Error) => void): void {
    this.timer = setInterval(() => void commit().catch(report), intervalMs)
  }

  stop(): void {
    clearInterval(this.timer)
  }

  /** Commits, for each partition, the offset after the last message handled in order (when it moved). */
  async commit(trackers: OffsetTracker[]): Promise<void> {
    const offsets: OffsetToCommit[] = []
    const snapshot: [OffsetTracker, bigint][] = []
    for (const t of trackers) {
      const offset = t.toCommit()
      if (offset === undefined) continue
      offsets.push({ topic: t.tp.topic, partition: t.tp.partition, offset, leaderEpoch: t.leaderEpoch })
      snapshot.push([t, offset])
    }
    if (offsets.length === 0) return
    try {
      await this.commitOffsets(offsets)
      for (const [t, offset] of snapshot) t.committed = offset
    } catch (error) {
      // a rebalance is under way: the revocation commits what was handled
      if (error instanceof KafkaError && REBALANCE_ERRORS.has(error.code)) {
        this.log.info?.({ err: error }, 'commit skipped: a rebalance is under way')
        return
      }
      throw error
    }
  }

  /** Commits exactly `offsets` (each the next offset to read); every error, a rebalance's too, is thrown. */
  async commitOffsets(offsets: OffsetToCommit[]): Promise<void> {
    const member = this.member
    await traced(
      channels.commit,
      () => ({ groupId: this.groupId, offsets }),
      () => member.commit(offsets),
    )
    this.commits++
  }
}
