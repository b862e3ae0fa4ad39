// Shared by the fake cluster's unit tests: raw connections to one fake broker (in process, through
// the cluster's connector) and record batches to produce with them.

import { Connection } from '../../../src/client/connection.ts'
import { type BatchOptions, RecordBatchBuilder } from '../../../src/protocol/records/index.ts'
import type { FakeCluster } from '../../../src/testing/index.ts'

/** A connection to broker `nodeId`'s listener `listener` (by index), versions negotiated. */
export async function connectTo(
  cluster: FakeCluster,
  nodeId = 1,
  listener = 0,
  extra: Partial<ConstructorParameters<typeof Connection>[0]> = {},
): Promise<Connection> {
  const l = cluster.brokers.get(nodeId)!.listeners[listener]
  const c = new Connection({ host: l.advertisedHost, port: l.advertisedPort, connect: cluster.connect, ...extra })
  await c.connect()
  return c
}

/** One batch of `values`, with producer fields when asked. */
export function recordBatch(values: string[], options: BatchOptions = {}): Promise<Buffer> {
  const b = new RecordBatchBuilder(options, 256)
  for (const v of values) b.append({ key: null, value: Buffer.from(v), timestamp: Date.now() })
  return b.build()
}
