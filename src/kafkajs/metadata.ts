// kafkajs's PartitionMetadata (what partitioners and assigners are given) of the partitions the
// metadata cache of a kafkax client holds.

import type { Producer } from '../index.ts'
import type { PartitionMetadata } from './types.ts'

/** A partition as a kafkax client's metadata cache holds it. */
export type PartitionInfo = NonNullable<ReturnType<Producer['cluster']['metadata']['partition']>>

/** The partitions of a topic as kafkajs describes them. */
export function partitionMetadata(partitions: readonly PartitionInfo[]): PartitionMetadata[] {
  return partitions.map((p) => ({
    partitionErrorCode: p.errorCode,
    partitionId: p.partition,
    leader: p.leader,
    replicas: p.replicas,
    isr: p.isr,
    offlineReplicas: p.offlineReplicas,
  }))
}
