// The consumer's tracing channels (see observability/tracing.ts): fetches, handler runs,
// rebalances and commits.

import type { TopicPartition } from '../client/topic-partition.ts'
import { tracing } from '../observability/tracing.ts'
import type { Message } from './message.ts'

/** One Fetch request to a broker, answer decoded and buffered (errors are handled inside: see kafkax:request). */
export interface FetchTrace {
  nodeId: number
  /** Each with topicId, currentLeaderEpoch and partitionMaxBytes too, as sent. */
  partitions: readonly { topic: string; partition: number; fetchOffset: bigint }[]
}

/** One handler run: a message (or, in batch mode, the messages of one partition). */
export interface HandlerTrace {
  groupId: string | undefined
  messages: readonly Message[]
  result?: unknown
  error?: unknown
}

/** Partitions given to or taken from the consumer; `lost` when they went without a clean revocation. */
export interface RebalanceTrace {
  groupId: string | undefined
  type: 'assigned' | 'revoked' | 'lost'
  partitions: readonly TopicPartition[]
  error?: unknown
}

/** One offset commit of the consumer group. */
export interface CommitTrace {
  groupId: string
  offsets: readonly { topic: string; partition: number; offset: bigint }[]
  error?: unknown
}

export const consumerChannels = {
  fetch: tracing<FetchTrace>('kafkax:fetch'),
  handler: tracing<HandlerTrace>('kafkax:handler'),
  rebalance: tracing<RebalanceTrace>('kafkax:rebalance'),
  commit: tracing<CommitTrace>('kafkax:commit'),
}
