// Offset lookups and the reset policy (auto.offset.reset): where a partition without a valid
// position starts, asked of its leader with ListOffsets (the earliest or the latest offset, or the
// first at or after a timestamp). A lookup applies only if its cursor is still in the generation it
// began in: a seek or a reset meanwhile wins.

import type { Cluster } from '../client/cluster.ts'
import { STALE_METADATA_ERRORS } from '../client/metadata.ts'
import { ErrorCode, kafkaError } from '../protocol/error-codes.ts'
import { KafkaError } from '../protocol/errors.ts'
import { ListOffsets } from '../protocol/messages/index.ts'
import type { PartitionCursor } from './cursor.ts'

/**
 * Where `seek` moves a partition: to an offset, to the earliest or the latest offset, or to the
 * first record at or after a timestamp (milliseconds; the latest offset when there is none).
 */
export type SeekTarget = bigint | 'earliest' | 'latest' | { timestamp: number }

export type ResetPolicy = 'earliest' | 'latest' | 'none'

/** ListOffsets' special timestamps (ListOffsetsRequest.json). */
const EARLIEST = -2n
const LATEST = -1n

export class OffsetReset {
  constructor(
    private readonly cluster: Cluster,
    private readonly readCommitted: boolean,
    private readonly policy: ResetPolicy,
    /** Where lookup failures and partitions the policy 'none' leaves without a position go. */
    private readonly fail: (error: unknown) => void,
    /** Called once a lookup is done (the partition may be fetched now, or again after a backoff). */
    private readonly done: () => void,
  ) {}

  /** The partition has no valid position: the policy decides where it starts. */
  needReset(cursor: PartitionCursor): void {
    if (this.policy === 'none') {
      this.fail(
        kafkaError(
          ErrorCode.OFFSET_OUT_OF_RANGE,
          `${cursor.topic}-${cursor.partition} has no valid position and resetPolicy is none`,
        ),
      )
      return
    }
    cursor.resetTo = this.policy
  }

  /** Runs the lookup the cursor waits for (`resetTo`); a failed one is reported and tried again after a backoff. */
  reset(cursor: PartitionCursor): void {
    const to = cursor.resetTo!
    const generation = cursor.generation
    cursor.resetting = true
    this.lookup(cursor, to)
      .then(
        (offset) => {
          if (cursor.isCurrent(generation)) cursor.startAt(offset)
        },
        (error) => {
          cursor.backoff(this.cluster.retry)
          this.fail(error)
        },
      )
      // the callbacks above never throw: this only ends the lookup
      .finally(() => {
        cursor.resetting = false
        this.done()
      })
  }

  /** The offset `to` names, asked of the partition's leader (retried, with metadata refreshes). */
  lookup(cursor: PartitionCursor, to: Exclude<SeekTarget, bigint>): Promise<bigint> {
    const timestamp = to === 'earliest' ? EARLIEST : to === 'latest' ? LATEST : BigInt(to.timestamp)
    const { topic, partition } = cursor
    return this.cluster.retry.run(
      async () => {
        const leader = await this.cluster.leaderFor(topic, partition)
        const connection = await this.cluster.connectionToNode(leader)
        const response = await connection.request(ListOffsets, {
          replicaId: -1,
          isolationLevel: this.readCommitted ? 1 : 0,
          topics: [{ name: topic, partitions: [{ partitionIndex: partition, timestamp }] }],
        })
        const p = response.topics[0]?.partitions[0]
        if (!p) throw kafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `ListOffsets ${topic}-${partition}`)
        if (p.errorCode !== 0) throw kafkaError(p.errorCode, `ListOffsets ${topic}-${partition}`)
        // no record at or after the timestamp: start at the end, as if none were there yet
        if (p.offset < 0n) return this.lookup(cursor, 'latest')
        return p.offset
      },
      {
        onRetry: async (error) => {
          if (error instanceof KafkaError && STALE_METADATA_ERRORS.has(error.code))
            await this.cluster.refreshMetadata([topic]).catch(() => {})
        },
      },
    )
  }
}
