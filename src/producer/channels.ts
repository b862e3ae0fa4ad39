// The producer's tracing channel (see observability/tracing.ts): Produce requests.

import { tracing } from '../observability/tracing.ts'

/** One Produce request: the batches of every partition it carries. */
export interface ProduceTrace {
  nodeId: number
  acks: -1 | 0 | 1
  batches: { topic: string; partition: number; records: number }[]
  error?: unknown
}

export const producerChannels = {
  produce: tracing<ProduceTrace>('kafkax:produce'),
}
