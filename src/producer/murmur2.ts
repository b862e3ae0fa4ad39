// The Java client's key hash: Utils.murmur2 (MurmurHash2, seed 0x9747b28c) and the partition
// BuiltInPartitioner.partitionForKey derives from it: toPositive(hash) % partitions. The `murmurhash`
// package's MurmurHash2 is the same function over bytes (checked against Java-computed vectors).

import murmurhash from 'murmurhash'

const SEED = 0x9747b28c

/** Utils.murmur2 of `key`, as the signed 32-bit value Java returns. */
export function murmur2(key: Uint8Array): number {
  return murmurhash.v2(key, SEED) | 0
}

/** The partition the Java client picks for a keyed record. */
export function murmur2Partition(key: Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions
}
