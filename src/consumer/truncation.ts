// Log truncation detection (KIP-320), as the Java client's position validation: a partition whose
// leader changed asks the new leader, with OffsetForLeaderEpoch, where the epoch of its position
// ends in its log. An end before the position means the log was truncated under it (an unclean
// leader election: records the consumer read are gone, others may take their offsets). Then, as
// Java does, the position moves back to that end, the first offset known to diverge, so nothing the
// new leader wrote is skipped; with the reset policy 'none' a LogTruncationError is raised instead
// and the partition waits for a seek. A fetch answer's diverging epoch (Fetch v12+, from the
// lastFetchedEpoch sent) says the same without the extra request.

import type { Cluster } from '../client/cluster.ts'
import { STALE_METADATA_ERRORS } from '../client/metadata.ts'
import type { Logger } from '../observability/logger.ts'
import { ErrorCode, kafkaError } from '../protocol/error-codes.ts'
import { KafkaError, LogTruncationError } from '../protocol/errors.ts'
import { loadApi, OffsetForLeaderEpochModule } from '../protocol/messages/index.ts'
import type { PartitionCursor } from './cursor.ts'
import type { ResetPolicy } from './offset-reset.ts'

/** OffsetForLeaderEpochRequest.json: the replica id a consumer sends. */
const CONSUMER_REPLICA_ID = -1

export interface TruncationHost {
  readonly log: Logger
  /** The position moved (or must be looked up): buffered records of the old one are dropped. */
  moveTo(cursor: PartitionCursor, offset: bigint | undefined, leaderEpoch?: number): void
  /** The leader knows no end for the epoch (it is older than the log): the reset policy decides. */
  needReset(cursor: PartitionCursor): void
  refresh(topics: string[]): void
  fail(error: unknown): void
  /** Something may be fetched again. */
  wake(): void
}

export class TruncationDetector {
  constructor(
    private readonly cluster: Cluster,
    private readonly policy: ResetPolicy,
    private readonly host: TruncationHost,
  ) {}

  /** Whether the partition got a new leader since its last fetch, with a position whose epoch is known. */
  needed(cursor: PartitionCursor, leaderEpoch: number): boolean {
    return cursor.fetchedLeaderEpoch >= 0 && leaderEpoch > cursor.fetchedLeaderEpoch && cursor.leaderEpoch >= 0
  }

  /** Asks the leader where the position's epoch ends; fetching waits meanwhile. */
  validate(cursor: PartitionCursor, leader: number, currentLeaderEpoch: number): void {
    // what was fetched from the old leader is not handed out before the position is known good
    if (cursor.fetchOffset !== cursor.position) this.host.moveTo(cursor, cursor.position, cursor.leaderEpoch)
    const { generation, position, leaderEpoch } = cursor
    cursor.validating = true
    this.endOffset(cursor, leader, currentLeaderEpoch, leaderEpoch)
      .then(
        ({ endOffset, epoch }) => {
          if (!cursor.isCurrent(generation) || cursor.position !== position) return
          cursor.fetchedLeaderEpoch = currentLeaderEpoch
          if (endOffset < 0n || epoch < 0) this.host.needReset(cursor)
          else if (endOffset < position!) this.diverged(cursor, endOffset, epoch)
        },
        (error) => {
          if (!cursor.isCurrent(generation)) return
          // a leader without OffsetForLeaderEpoch (v2+) cannot tell: fetching goes on, as Java's does
          if (error instanceof KafkaError && error.code === ErrorCode.UNSUPPORTED_VERSION) {
            cursor.fetchedLeaderEpoch = currentLeaderEpoch
            return
          }
          cursor.backoff(this.cluster.retry)
          if (error instanceof KafkaError && STALE_METADATA_ERRORS.has(error.code)) this.host.refresh([cursor.topic])
          else if (!(error instanceof KafkaError && error.retriable)) this.host.fail(error)
        },
      )
      .finally(() => {
        cursor.validating = false
        this.host.wake()
      })
  }

  /**
   * The leader's log ends the epoch at `endOffset` (from OffsetForLeaderEpoch or a Fetch answer's
   * diverging epoch): below the position, the log was truncated under it.
   */
  diverged(cursor: PartitionCursor, endOffset: bigint, epoch: number): void {
    const position = cursor.position ?? cursor.fetchOffset
    if (position === undefined || endOffset >= position) return
    const { topic, partition } = cursor
    if (this.policy === 'none') {
      this.host.moveTo(cursor, undefined)
      this.host.fail(
        new LogTruncationError(
          `${topic}-${partition}: the log was truncated at offset ${endOffset}, below the position ${position} (epoch ${cursor.leaderEpoch}); resetPolicy is none: seek to go on`,
          { topic, partition, offset: position, divergentOffset: endOffset },
        ),
      )
      return
    }
    this.host.log.warn?.(
      { topic, partition, position, divergentOffset: endOffset },
      'log truncation detected: going on from the first offset known to diverge',
    )
    this.host.moveTo(cursor, endOffset, epoch)
  }

  private async endOffset(
    cursor: PartitionCursor,
    leader: number,
    currentLeaderEpoch: number,
    leaderEpoch: number,
  ): Promise<{ endOffset: bigint; epoch: number }> {
    const api = await loadApi(OffsetForLeaderEpochModule)
    const connection = await this.cluster.connectionToNode(leader)
    const response = await connection.request(api, {
      replicaId: CONSUMER_REPLICA_ID,
      topics: [{ topic: cursor.topic, partitions: [{ partition: cursor.partition, currentLeaderEpoch, leaderEpoch }] }],
    })
    const p = response.topics[0]?.partitions[0]
    if (!p)
      throw kafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `OffsetForLeaderEpoch ${cursor.topic}-${cursor.partition}`)
    if (p.errorCode !== 0) throw kafkaError(p.errorCode, `OffsetForLeaderEpoch ${cursor.topic}-${cursor.partition}`)
    return { endOffset: p.endOffset, epoch: p.leaderEpoch }
  }
}
