// Partitioners: which partition a record without an explicit one goes to. Keyed records follow the
// hash of the client they must agree with (Java, librdkafka, Sarama/kafka-go); keyless records stick
// to one partition per topic until about a batch's worth of bytes went there (KIP-794), so that
// batches fill up instead of every partition getting one-record batches.

import { crc32 } from 'node:zlib'
import { ConfigError, KafkaxError, type KafkaxErrorOptions } from '../protocol/errors.ts'
import { murmur2Partition } from './murmur2.ts'

/** What a partitioner function sees of a record. */
export interface PartitionerRecord {
  topic: string
  key: Buffer | null
  value: Buffer | null
}

/** Picks a partition in [0, partitionCount). */
export type PartitionerFunction = (record: PartitionerRecord, partitionCount: number, topic: string) => number

/** The built-in partitioners (see the README for each one's placement). */
export type PartitionerName = 'murmur2' | 'crc32' | 'round-robin' | 'least-bytes' | 'hash'

export interface Partitioner {
  partition(record: PartitionerRecord, partitionCount: number): number
  /** The accumulator reports bytes appended per partition (least-bytes uses it; sticky uses it to switch). */
  onAppend(topic: string, partition: number, bytes: number): void
  /** The accumulator reports a batch of `topic`/`partition` closed (sticky switches partition then, KIP-794). */
  onBatchClosed(topic: string, partition: number): void
}

/** A user partitioner function returned something that is not a partition of the topic, or threw. */
export class PartitionerError extends KafkaxError {
  constructor(message: string, options: KafkaxErrorOptions = {}) {
    super(message, 'EPARTITIONER', { retriable: false, ...options })
  }
}

export const PARTITIONER_NAMES: readonly PartitionerName[] = ['murmur2', 'crc32', 'round-robin', 'least-bytes', 'hash']

/** FNV-1a 32-bit of `key`, unsigned. */
export function fnv1a32(key: Uint8Array): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key[i], 0x01000193)
  return hash >>> 0
}

function randomInt(n: number): number {
  return Math.floor(Math.random() * n)
}

interface StickyState {
  partition: number
  /** Bytes appended to `partition` since it became the sticky one. */
  bytes: number
  partitionCount: number
}

/**
 * Uniform sticky partitioning for keyless records, as the Java client's BuiltInPartitioner without
 * adaptive partitioning (partitioner.adaptive.partitioning.enable weighs the draw by queue sizes;
 * we draw uniformly). Stays on one partition per topic until `batchMaxBytes` were appended to it or
 * one of its batches closed. Bytes of keyed records that land on the sticky partition count too:
 * they fill the same batch. Unlike Java, the next draw excludes the current partition, so a switch
 * always moves the load.
 */
class StickyPartitioner implements Partitioner {
  private readonly sticky = new Map<string, StickyState>()

  constructor(private readonly batchMaxBytes: number) {}

  partition(record: PartitionerRecord, partitionCount: number): number {
    let state = this.sticky.get(record.topic)
    if (state === undefined) {
      state = { partition: randomInt(partitionCount), bytes: 0, partitionCount }
      this.sticky.set(record.topic, state)
    } else if (state.partitionCount !== partitionCount) {
      state.partitionCount = partitionCount
      if (state.partition >= partitionCount) this.switch(state)
    }
    return state.partition
  }

  onAppend(topic: string, partition: number, bytes: number): void {
    const state = this.sticky.get(topic)
    if (state === undefined || state.partition !== partition) return
    state.bytes += bytes
    if (state.bytes >= this.batchMaxBytes) this.switch(state)
  }

  onBatchClosed(topic: string, partition: number): void {
    const state = this.sticky.get(topic)
    if (state !== undefined && state.partition === partition) this.switch(state)
  }

  private switch(state: StickyState): void {
    const n = state.partitionCount
    if (n === 1 || state.partition >= n) {
      state.partition = randomInt(n)
    } else {
      // uniform among the n - 1 other partitions
      const draw = randomInt(n - 1)
      state.partition = draw >= state.partition ? draw + 1 : draw
    }
    state.bytes = 0
  }
}

/** Keyed records by `hash(key) -> partition`; keyless ones sticky. */
class KeyHashPartitioner extends StickyPartitioner {
  constructor(
    batchMaxBytes: number,
    private readonly hash: (key: Buffer, partitionCount: number) => number,
    private readonly emptyKeyIsKeyless: boolean,
  ) {
    super(batchMaxBytes)
  }

  override partition(record: PartitionerRecord, partitionCount: number): number {
    const key = record.key
    if (key === null || (key.length === 0 && this.emptyKeyIsKeyless)) return super.partition(record, partitionCount)
    return this.hash(key, partitionCount)
  }
}

/** librdkafka consistent_random: CRC-32 (IEEE) of the key, unsigned, modulo the partition count. */
function crc32Partition(key: Buffer, partitionCount: number): number {
  return crc32(key) % partitionCount
}

/** Sarama NewHashPartitioner and kafka-go Hash: int32(fnv1a(key)) % n, negated when negative. */
function fnv1aPartition(key: Buffer, partitionCount: number): number {
  return Math.abs((fnv1a32(key) | 0) % partitionCount)
}

/** Every record, keyed or not, to the next partition in turn, per topic (from partition 0). */
class RoundRobinPartitioner implements Partitioner {
  private readonly next = new Map<string, number>()

  partition(record: PartitionerRecord, partitionCount: number): number {
    const next = this.next.get(record.topic) ?? 0
    const partition = next % partitionCount
    this.next.set(record.topic, partition + 1)
    return partition
  }

  onAppend(): void {}
  onBatchClosed(): void {}
}

/**
 * kafka-go's LeastBytes: the partition with the fewest bytes appended so far (lowest index on a tie),
 * keys ignored. Counts restart when the partition count changes, as kafka-go's do.
 */
class LeastBytesPartitioner implements Partitioner {
  private readonly bytes = new Map<string, number[]>()

  partition(record: PartitionerRecord, partitionCount: number): number {
    let counts = this.bytes.get(record.topic)
    if (counts === undefined || counts.length !== partitionCount) {
      counts = new Array<number>(partitionCount).fill(0)
      this.bytes.set(record.topic, counts)
    }
    let least = 0
    for (let p = 1; p < partitionCount; p++) if (counts[p] < counts[least]) least = p
    return least
  }

  onAppend(topic: string, partition: number, bytes: number): void {
    const counts = this.bytes.get(topic)
    if (counts !== undefined && partition < counts.length) counts[partition] += bytes
  }

  onBatchClosed(): void {}
}

/** The user's function for every record; its answer is checked, as it decides where data goes. */
class FunctionPartitioner implements Partitioner {
  constructor(private readonly fn: PartitionerFunction) {}

  partition(record: PartitionerRecord, partitionCount: number): number {
    let partition: number
    try {
      partition = this.fn(record, partitionCount, record.topic)
    } catch (cause) {
      throw new PartitionerError(`the partitioner function threw for topic ${record.topic}`, { cause })
    }
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
      throw new PartitionerError(
        `the partitioner function returned ${String(partition)} for topic ${record.topic}: expected an integer in [0, ${partitionCount})`,
      )
    }
    return partition
  }

  onAppend(): void {}
  onBatchClosed(): void {}
}

/**
 * The partitioner for a producer. `murmur2` (default) agrees with the Java client, `crc32` with
 * librdkafka's default (consistent_random), `hash` with Sarama's default and kafka-go's Hash;
 * keyless records go sticky with all three. `round-robin` and `least-bytes` ignore keys.
 */
export function createPartitioner(
  choice: PartitionerName | PartitionerFunction | undefined,
  options: { batchMaxBytes: number },
): Partitioner {
  const { batchMaxBytes } = options
  if (!Number.isInteger(batchMaxBytes) || batchMaxBytes < 1) {
    throw new ConfigError(
      `batch max bytes must be a positive integer for the partitioner, got ${String(batchMaxBytes)}`,
    )
  }
  if (typeof choice === 'function') return new FunctionPartitioner(choice)
  switch (choice ?? 'murmur2') {
    case 'murmur2':
      // Java hashes an empty key like any other (only a null key is keyless)
      return new KeyHashPartitioner(batchMaxBytes, murmur2Partition, false)
    case 'crc32':
      // librdkafka treats an empty key as no key (keylen == 0) and sends keyless records to its
      // sticky partition (rd_kafka_msg_partitioner; switched by time, sticky.partitioning.linger.ms)
      return new KeyHashPartitioner(batchMaxBytes, crc32Partition, true)
    case 'hash':
      // Sarama and kafka-go both hash an empty key. For a null key they disagree (random per record,
      // round-robin) and no placement needs to match, so it goes sticky for fuller batches
      return new KeyHashPartitioner(batchMaxBytes, fnv1aPartition, false)
    case 'round-robin':
      return new RoundRobinPartitioner()
    case 'least-bytes':
      return new LeastBytesPartitioner()
    default:
      throw new ConfigError(
        `unknown partitioner ${JSON.stringify(choice)}: expected one of ${PARTITIONER_NAMES.join(', ')} or a function`,
      )
  }
}
