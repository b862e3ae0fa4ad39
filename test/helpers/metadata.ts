// Cluster metadata filled in by hand for broker-free tests: a topic with its partitions, all led by
// node 1 (as a Metadata answer would have put it there).

import type { ClusterMetadata } from '../../src/client/metadata.ts'

/** Sets (or replaces) `name` with `partitions` partitions; a topic-level `errorCode` as the broker reports one. */
export function setTopic(
  metadata: ClusterMetadata,
  name: string,
  partitions: number,
  errorCode = 0,
  topicId = '00000000-0000-0000-0000-000000000000',
): void {
  metadata.topics.set(name, {
    name,
    topicId,
    isInternal: false,
    errorCode,
    partitions: Array.from({ length: partitions }, (_, partition) => ({
      partition,
      leader: 1,
      leaderEpoch: 0,
      replicas: [1],
      isr: [1],
      offlineReplicas: [],
      errorCode: 0,
    })),
  })
}
