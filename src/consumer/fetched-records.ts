// The records of one partition's fetch answer as the application sees them: records below the
// fetch position are skipped (a batch may start earlier), control batches are hidden, and under
// read_committed the batches of aborted transactions are dropped (Kafka's consumer algorithm: an
// aborted transaction of a producer spans from its first offset to that producer's ABORT marker).

import type { AbortedTransaction } from '../protocol/messages/generated/fetch-response.ts'
import { controlType, type RecordBatch } from '../protocol/records/index.ts'
import { ConsumedMessage } from './message.ts'

export interface PartitionRecords {
  messages: ConsumedMessage[]
  /** The offset to fetch next: past every batch read, control and aborted ones included. */
  nextOffset: bigint
  /** The leader epoch of the last batch read (-1: none): the fetch position's epoch (KIP-320). */
  lastEpoch: number
}

/**
 * Turns decoded batches into messages from `fetchOffset` on. `aborted` is the answer's aborted
 * transactions under read_committed, null under read_uncommitted.
 */
export function partitionRecords(
  topic: string,
  partition: number,
  batches: RecordBatch[],
  fetchOffset: bigint,
  aborted: AbortedTransaction[] | null,
): PartitionRecords {
  const messages: ConsumedMessage[] = []
  let next = fetchOffset
  let lastEpoch = -1
  const pending = aborted ? [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1)) : []
  let nextAborted = 0
  const abortedProducers = new Set<bigint>()
  for (const batch of batches) {
    const { records } = batch
    let last = batch.baseOffset + BigInt(batch.lastOffsetDelta)
    // a legacy compressed message set may have gaps (compaction): its last record is what counts
    const tail = records.length > 0 ? records[records.length - 1].offset : -1n
    if (tail > last) last = tail
    if (last < next) continue
    lastEpoch = batch.partitionLeaderEpoch
    if (aborted) {
      while (nextAborted < pending.length && pending[nextAborted].firstOffset <= last)
        abortedProducers.add(pending[nextAborted++].producerId)
      if (batch.control) {
        if (records.length > 0 && controlType(records[0]) === 'ABORT') abortedProducers.delete(batch.producerId)
      } else if (batch.transactional && abortedProducers.has(batch.producerId)) {
        next = last + 1n
        continue
      }
    }
    if (!batch.control) {
      const { partitionLeaderEpoch } = batch
      for (const r of records) {
        const offset = r.offset // a getter on v2 records: read once
        if (offset < next) continue
        messages.push(
          new ConsumedMessage(topic, partition, offset, r.timestamp, r.key, r.value, r.headers, partitionLeaderEpoch),
        )
      }
    }
    next = last + 1n
  }
  return { messages, nextOffset: next, lastEpoch }
}
