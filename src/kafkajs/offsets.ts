// kafkajs's offsets (decimal strings, or numbers) as kafkax's bigints: one check for every call
// that takes them (commits, seeks, the admin's offsets, a transaction's offsets).

import { KafkaJSNonRetriableError } from './errors.ts'
import type { TopicOffsets } from './types.ts'

const OFFSET = /^-?\d+$/

/** An offset as kafkajs takes it ('42', 42, '-1') as a bigint; anything else is a KafkaJSNonRetriableError. */
export function offsetOf(offset: unknown, at?: string): bigint {
  if (
    (typeof offset !== 'string' && typeof offset !== 'number' && typeof offset !== 'bigint') ||
    !OFFSET.test(String(offset))
  )
    throw new KafkaJSNonRetriableError(`Invalid offset${at ? ` for ${at}` : ''}, expected a long received ${offset}`)
  return BigInt(offset)
}

/** The offsets of `[{ topic, partitions: [{ partition, offset }] }]`, one entry per partition. */
export function topicOffsets(topics: TopicOffsets[]): { topic: string; partition: number; offset: bigint }[] {
  if (!Array.isArray(topics)) throw new KafkaJSNonRetriableError(`Invalid topics ${topics}`)
  return topics.flatMap(({ topic, partitions }) => {
    if (!topic || typeof topic !== 'string') throw new KafkaJSNonRetriableError(`Invalid topic ${topic}`)
    if (!Array.isArray(partitions)) throw new KafkaJSNonRetriableError(`Invalid partitions for topic ${topic}`)
    return partitions.map(({ partition, offset }) => ({
      topic,
      partition,
      offset: offsetOf(offset, `${topic}-${partition}`),
    }))
  })
}
