// Topics and partitions of the fake cluster, by name and by topic id (KIP-516). Every partition has
// one log shared by its replicas (replication is instant), a leader among its alive replicas and a
// leader epoch bumped whenever leadership changes, as the KRaft controller does.

import { randomUUID } from 'node:crypto'
import { type LogOptions, PartitionLog } from './partition-log.ts'
import { ProducerStateManager } from './producer-state.ts'
import { TOPIC_CONFIGS } from './topic-configs.ts'

/** The fake's own bounds on memory, applied where topic configs leave them open. */
export interface StorageLimits {
  /** Bytes kept per partition unless the topic sets retention.bytes (default 64 MiB). */
  retentionBytes: number
  /** Largest segment, whatever segment.bytes says (default 1 MiB). */
  maxSegmentBytes: number
}

export class Partition {
  leader: number
  leaderEpoch = 0
  readonly log: PartitionLog
  readonly producers = new ProducerStateManager()

  constructor(
    readonly topic: Topic,
    readonly index: number,
    public replicas: number[],
    logOptions: LogOptions,
  ) {
    this.leader = replicas[0]
    this.log = new PartitionLog(logOptions)
  }

  get highWatermark(): number {
    return this.log.logEndOffset
  }

  /** The first offset of an open transaction, else the high watermark (read_committed reads below it). */
  get lastStableOffset(): number {
    return this.producers.firstUnstableOffset() ?? this.log.logEndOffset
  }
}

export class Topic {
  readonly partitions: Partition[] = []
  /** The configs set on the topic (DescribeConfigs tells these from defaults). */
  readonly configs = new Map<string, string>()

  constructor(
    readonly name: string,
    readonly id: string,
    readonly internal: boolean,
    private readonly limits: StorageLimits,
  ) {}

  config(name: string): string {
    return this.configs.get(name) ?? this.defaultConfig(name)
  }

  /** A config's value when the topic does not set it (the broker default). */
  defaultConfig(name: string): string {
    if (name === 'retention.bytes') return String(this.limits.retentionBytes)
    return TOPIC_CONFIGS.get(name)?.default ?? ''
  }

  get maxMessageBytes(): number {
    return Number(this.config('max.message.bytes'))
  }

  get logAppendTime(): boolean {
    return this.config('message.timestamp.type') === 'LogAppendTime'
  }

  logOptions(): LogOptions {
    return {
      retentionBytes: Number(this.config('retention.bytes')),
      retentionMs: Number(this.config('retention.ms')),
      segmentBytes: Math.min(Number(this.config('segment.bytes')), this.limits.maxSegmentBytes),
    }
  }
}

export class TopicRegistry {
  private readonly byName = new Map<string, Topic>()
  private readonly byId = new Map<string, Topic>()

  constructor(readonly limits: StorageLimits) {}

  get(name: string): Topic | undefined {
    return this.byName.get(name)
  }

  getById(id: string): Topic | undefined {
    return this.byId.get(id)
  }

  all(): IterableIterator<Topic> {
    return this.byName.values()
  }

  /** Creates a topic whose partition p has `replicas(p)` (leader first). */
  create(
    name: string,
    partitions: number,
    replicas: (partition: number) => number[],
    configs: Iterable<[string, string]> = [],
    internal = false,
  ): Topic {
    const topic = new Topic(name, randomUUID(), internal, this.limits)
    for (const [k, v] of configs) topic.configs.set(k, v)
    this.byName.set(name, topic)
    this.byId.set(topic.id, topic)
    this.addPartitions(topic, partitions, replicas)
    return topic
  }

  addPartitions(topic: Topic, count: number, replicas: (partition: number) => number[]): void {
    const options = topic.logOptions()
    for (let p = topic.partitions.length; p < count; p++)
      topic.partitions.push(new Partition(topic, p, replicas(p), options))
  }

  delete(topic: Topic): void {
    this.byName.delete(topic.name)
    this.byId.delete(topic.id)
    // wake fetches parked on its partitions, so they answer at once
    for (const p of topic.partitions) p.log.notify()
  }
}
