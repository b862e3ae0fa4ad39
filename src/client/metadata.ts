// The metadata cache: brokers, and per topic its id and partitions (leader, leader epoch, replicas,
// ISR). Updates never move a partition back to an older leader epoch (a lagging broker may answer
// with stale metadata), and leader hints in Produce/Fetch errors (KIP-951) apply at once.

import { ErrorCode } from '../protocol/error-codes.ts'
import type { MetadataResponse } from '../protocol/messages/generated/metadata-response.ts'
import type { BrokerAddress } from './options.ts'

export interface BrokerInfo extends BrokerAddress {
  nodeId: number
  rack: string | null
}

export interface PartitionInfo {
  partition: number
  leader: number
  leaderEpoch: number
  replicas: number[]
  isr: number[]
  offlineReplicas: number[]
  errorCode: number
}

export interface TopicInfo {
  name: string
  topicId: string
  isInternal: boolean
  errorCode: number
  partitions: PartitionInfo[]
}

/** Errors meaning "the metadata you routed by is stale": refresh it, then retry. */
export const STALE_METADATA_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.INCONSISTENT_TOPIC_ID,
  ErrorCode.NOT_CONTROLLER,
])

export class ClusterMetadata {
  clusterId: string | null = null
  controllerId = -1
  readonly brokers = new Map<number, BrokerInfo>()
  readonly topics = new Map<string, TopicInfo>()
  /** When the cache was last refreshed from a Metadata response (ms since epoch, 0 = never). */
  updatedAt = 0

  /**
   * Applies a Metadata response: brokers are replaced, the topics it names are updated; an answer
   * about every topic (`allTopics`) also drops the topics it does not name (deleted ones).
   */
  update(response: MetadataResponse, allTopics = false): void {
    this.clusterId = response.clusterId
    this.controllerId = response.controllerId
    this.brokers.clear()
    for (const b of response.brokers) {
      this.brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })
    }
    for (const t of response.topics) {
      if (t.name === null) continue
      const previous = this.topics.get(t.name)
      const partitions: PartitionInfo[] = t.partitions
        .map((p) => {
          const old = previous?.partitions[p.partitionIndex]
          // A broker behind the controller may report an older leader: keep what we know.
          if (old && old.leaderEpoch > p.leaderEpoch && previous?.topicId === t.topicId) return old
          return {
            partition: p.partitionIndex,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicaNodes,
            isr: p.isrNodes,
            offlineReplicas: p.offlineReplicas,
            errorCode: p.errorCode,
          }
        })
        .sort((a, b) => a.partition - b.partition)
      this.topics.set(t.name, {
        name: t.name,
        topicId: t.topicId,
        isInternal: t.isInternal,
        errorCode: t.errorCode,
        partitions,
      })
    }
    if (allTopics) {
      const named = new Set(response.topics.map((t) => t.name))
      for (const name of this.topics.keys()) if (!named.has(name)) this.topics.delete(name)
    }
    this.updatedAt = Date.now()
  }

  /**
   * KIP-951: a Produce or Fetch error names the new leader (and, in `endpoints`, how to reach it).
   * Applied only when it is newer than what the cache holds.
   */
  applyLeaderHint(
    topic: string,
    partition: number,
    leader: { leaderId: number; leaderEpoch: number },
    endpoints: readonly BrokerInfo[] = [],
  ): boolean {
    for (const b of endpoints) this.brokers.set(b.nodeId, b)
    const p = this.topics.get(topic)?.partitions[partition]
    if (!p || leader.leaderId < 0 || leader.leaderEpoch <= p.leaderEpoch) return false
    p.leader = leader.leaderId
    p.leaderEpoch = leader.leaderEpoch
    return true
  }

  partition(topic: string, partition: number): PartitionInfo | undefined {
    return this.topics.get(topic)?.partitions[partition]
  }
}
