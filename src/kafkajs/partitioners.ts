// kafkajs's partitioners, placing records exactly as kafkajs 2.2 does: an explicit partition wins,
// a key goes to toPositive(murmur2(key)) % partitions, and keyless records go round-robin over the
// partitions that have a leader, from a random start per topic. DefaultPartitioner hashes with the
// Java client's murmur2 (kafkajs's own implementation agrees with it on every key); LegacyPartitioner
// (kafkajs 1.x's default) with kafkajs 1.x's murmur2 variant, which JavaScript number arithmetic
// makes differ from Java's, so that records keep landing where a 1.x producer put them.

import { randomBytes } from 'node:crypto'
import { murmur2 } from '../index.ts'
import type { ICustomPartitioner, PartitionerArgs } from './types.ts'

type PartitionArgsMetadata = PartitionerArgs['partitionMetadata']

const toPositive = (x: number) => x & 0x7fffffff

/** The bytes kafkajs hashes: a Buffer as it is, anything else as the UTF-8 of its string form. */
const keyBytes = (key: unknown): Buffer => (Buffer.isBuffer(key) ? key : Buffer.from(String(key)))

const SEED = 0x9747b28c
const M = 0x5bd1e995

/**
 * kafkajs 1.x's murmur2. It is the Java algorithm written with JavaScript numbers: `k * M` and
 * `h * M` are doubles (rounded once above 2^53) that only the next bitwise operator truncates to 32
 * bits, and the word loop runs `i < length / 4`, so for a length that is not a multiple of 4 it takes
 * one more word, the tail bytes padded with zeros, before the tail is mixed in again. Reproduced
 * operation by operation: the placement of a key depends on every rounding.
 */
export function legacyMurmur2(data: Uint8Array): number {
  const n = data.length
  const at = (i: number) => (i < n ? data[i] : 0)
  let h = SEED ^ n
  for (let i = 0; i < n / 4; i++) {
    const j = i * 4
    let k = at(j) + (at(j + 1) << 8) + (at(j + 2) << 16) + (at(j + 3) << 24)
    k *= M
    k ^= k >>> 24
    k *= M
    h *= M
    h ^= k
  }
  // the tail bytes, from the last down (Java's switch falls through the cases)
  const tail = n & ~3
  const rest = n % 4
  if (rest === 3) h ^= data[tail + 2] << 16
  if (rest >= 2) h ^= data[tail + 1] << 8
  if (rest >= 1) {
    h ^= data[tail]
    h *= M
  }
  h ^= h >>> 13
  h *= M
  h ^= h >>> 15
  return h
}

/** The partitioner of kafkajs's shape around a key hash: explicit partition, key, else round-robin. */
function keyHashPartitioner(hash: (key: Buffer) => number): ICustomPartitioner {
  return () => {
    const counters = new Map<string, number>()
    // the partitions with a leader, computed once per metadata array (a send passes the same one for each message)
    let metadata: PartitionArgsMetadata | undefined
    let available: PartitionArgsMetadata = []
    return ({ topic, partitionMetadata, message }) => {
      let counter = counters.get(topic)
      if (counter === undefined) counter = randomBytes(4).readUInt32BE(0)
      if (message.partition !== null && message.partition !== undefined) {
        counters.set(topic, counter)
        return message.partition
      }
      const count = partitionMetadata.length
      if (message.key !== null && message.key !== undefined) {
        counters.set(topic, counter)
        return toPositive(hash(keyBytes(message.key))) % count
      }
      counters.set(topic, ++counter)
      if (metadata !== partitionMetadata) {
        metadata = partitionMetadata
        available = partitionMetadata.filter((p) => p.leader >= 0)
      }
      if (available.length > 0) return available[toPositive(counter) % available.length].partitionId
      return toPositive(counter) % count
    }
  }
}

/** kafkajs's partitioners: DefaultPartitioner (Java-compatible, kafkajs 2.x's default) and LegacyPartitioner (1.x's). */
export const Partitioners: {
  DefaultPartitioner: ICustomPartitioner
  LegacyPartitioner: ICustomPartitioner
  /** The old name of DefaultPartitioner. */
  JavaCompatiblePartitioner: ICustomPartitioner
} = {
  DefaultPartitioner: keyHashPartitioner(murmur2),
  LegacyPartitioner: keyHashPartitioner(legacyMurmur2),
  JavaCompatiblePartitioner: keyHashPartitioner(murmur2),
}
