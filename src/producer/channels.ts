// The producer's tracing channel (see observability/tracing.ts): Produce requests.

import { type TracingChannel, tracingChannel } from 'node:diagnostics_channel'

/** One Produce request: the batches of every partition it carries. */
export interface ProduceTrace {
  nodeId: number
  acks: -1 | 0 | 1
  batches: { topic: string; partition: number; records: number }[]
  error?: unknown
}

export const producerChannels = {
  produce: tracingChannel('kafkax:produce') as TracingChannel<unknown, ProduceTrace>,
}
