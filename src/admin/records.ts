// Records and offsets of partitions: delete records before an offset, look offsets up. Sent to the
// partitions' leaders, grouped per leader.

import { ConfigError } from '../protocol/errors.ts'
import { DeleteRecordsModule, ListOffsets, loadApi } from '../protocol/messages/index.ts'
import { answer, itemError, type RequestEngine } from './engine.ts'
import { describeTopics } from './topics.ts'
import { int, list, name, offset, requestTimeout } from './validate.ts'

/** ListOffsets' special timestamps. */
const OFFSET_SPECS = { latest: -1n, earliest: -2n, 'max-timestamp': -3n } as const

/** Which offset `listOffsets` looks up: the earliest, the latest, the record with the highest timestamp, or the first at or after a time. */
export type OffsetSpec = 'earliest' | 'latest' | 'max-timestamp' | { timestamp: number }

/** An offset `listOffsets` found. */
export interface PartitionOffset {
  partition: number
  offset: bigint
  /** -1 unless the offset was looked up by timestamp or max-timestamp. */
  timestamp: number
}

// lazily loaded: importing kafkax must stay cheap
const DeleteRecords = () => loadApi(DeleteRecordsModule)

export async function deleteRecords(
  engine: RequestEngine,
  request: {
    topic: string
    partitions: { partition: number; offset: bigint | number }[]
    timeoutMs?: number
  },
): Promise<{ partition: number; lowWatermark: bigint }[]> {
  name('deleteRecords: topic', request?.topic)
  list('deleteRecords: partitions', request.partitions)
  request.partitions.forEach((p, i) => {
    int(`deleteRecords: partitions[${i}].partition`, p?.partition, 0)
    offset(`deleteRecords: partitions[${i}].offset`, p.offset)
  })
  const { topic } = request
  const timeoutMs = requestTimeout('deleteRecords', request.timeoutMs)
  await engine.connect()
  const api = await DeleteRecords()
  return engine.settle(
    request.partitions,
    (pending) =>
      engine.byTarget(
        pending,
        (p) => engine.cluster.leaderFor(topic, p.partition),
        async (leader, items) => {
          const response = await engine.send(leader, api, () => ({
            topics: [
              {
                name: topic,
                partitions: items.map((p) => ({ partitionIndex: p.partition, offset: BigInt(p.offset) })),
              },
            ],
            timeoutMs,
          }))
          const byPartition = new Map(response.topics.flatMap((t) => t.partitions).map((p) => [p.partitionIndex, p]))
          return items.map((item) => {
            const p = answer(byPartition, item.partition, 'DeleteRecords')
            if (p.errorCode) return itemError(p.errorCode, `${topic}-${item.partition}`)
            return { partition: item.partition, lowWatermark: p.lowWatermark }
          })
        },
      ),
    [topic],
  )
}

export async function listOffsets(
  engine: RequestEngine,
  request: { topic: string; partitions?: number[]; at: OffsetSpec },
): Promise<PartitionOffset[]> {
  name('listOffsets: topic', request?.topic)
  const { topic, at } = request
  if (typeof at === 'string' ? !Object.hasOwn(OFFSET_SPECS, at) : at === null || typeof at !== 'object') {
    throw new ConfigError(
      `listOffsets: at must be 'earliest', 'latest', 'max-timestamp' or { timestamp }, got ${JSON.stringify(at)}`,
    )
  }
  if (typeof at === 'object') int('listOffsets: at.timestamp', at.timestamp, 0)
  const timestamp = typeof at === 'string' ? OFFSET_SPECS[at] : BigInt(at.timestamp)
  for (const [i, p] of (request.partitions ?? []).entries()) int(`listOffsets: partitions[${i}]`, p, 0)
  await engine.connect()
  const partitions = request.partitions ?? (await describeTopics(engine, [topic]))[0].partitions.map((p) => p.partition)
  return engine.settle(
    partitions,
    (pending) =>
      engine.byTarget(
        pending,
        (p) => engine.cluster.leaderFor(topic, p),
        async (leader, items) => {
          const response = await engine.send(leader, ListOffsets, () => ({
            replicaId: -1,
            topics: [{ name: topic, partitions: items.map((partitionIndex) => ({ partitionIndex, timestamp })) }],
          }))
          const byPartition = new Map(response.topics.flatMap((t) => t.partitions).map((p) => [p.partitionIndex, p]))
          return items.map((partition) => {
            const p = answer(byPartition, partition, 'ListOffsets')
            if (p.errorCode) return itemError(p.errorCode, `${topic}-${partition}`)
            return { partition, offset: p.offset, timestamp: Number(p.timestamp) }
          })
        },
      ),
    [topic],
  )
}
