// The consumer on the 3-node cluster (a rack per node, RackAwareReplicaSelector): fetching from the
// replica in its own rack (KIP-392), and detecting that an unclean leader election truncated the
// log under its position (KIP-320). Which broker each Fetch went to, and what it answered, is read
// from the client's kafkax:request channel.

import assert from 'node:assert/strict'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { after, before, describe, it } from 'node:test'
import { runTool } from '../../scripts/kafka/harness.ts'
import { Admin } from '../../src/admin/admin.ts'
import type { RequestTrace } from '../../src/client/channels.ts'
import { Consumer, type ConsumerOptions } from '../../src/consumer/consumer.ts'
import type { Message } from '../../src/consumer/message.ts'
import { Producer } from '../../src/producer/producer.ts'
import { LogTruncationError } from '../../src/protocol/errors.ts'
import type { FetchResponse } from '../../src/protocol/messages/generated/fetch-response.ts'
import {
  CLUSTER_BOOTSTRAP,
  killNode,
  restartNode,
  startCluster,
  stopCluster,
  stopNode,
  uniqueTopic,
} from '../helpers/kafka.ts'
import { waitFor } from '../helpers/wait.ts'

const nodeOfPort = (port: number) => CLUSTER_BOOTSTRAP.findIndex((b) => b.endsWith(`:${port}`)) + 1

/** Fetch answers per broker for one topic: how many, how many carried records, which replica they named. */
function watchFetches(topicId: () => string) {
  const byNode = new Map<number, { answers: number; withRecords: number; preferred: Set<number> }>()
  const onEvent = (message: unknown) => {
    const trace = message as RequestTrace
    if (trace.apiName !== 'Fetch' || trace.result === undefined) return
    const response = trace.result as FetchResponse
    for (const t of response.responses) {
      if (t.topicId !== topicId()) continue
      const node = nodeOfPort(trace.port)
      const seen = byNode.get(node) ?? { answers: 0, withRecords: 0, preferred: new Set<number>() }
      for (const p of t.partitions) {
        seen.answers++
        if (p.records && p.records.length > 0) seen.withRecords++
        if (p.preferredReadReplica >= 0) seen.preferred.add(p.preferredReadReplica)
      }
      byNode.set(node, seen)
    }
  }
  subscribe('tracing:kafkax:request:asyncEnd', onEvent)
  return { byNode, stop: () => unsubscribe('tracing:kafkax:request:asyncEnd', onEvent) }
}

async function produce(topic: string, from: number, count: number): Promise<void> {
  const producer = new Producer({ brokers: CLUSTER_BOOTSTRAP, retry: { deadlineMs: 60_000 } })
  await producer.sendBatch(Array.from({ length: count }, (_, i) => ({ topic, partition: 0, value: String(from + i) })))
  await producer.close()
}

function consumer(topic: string, extra: Partial<ConsumerOptions>): { c: Consumer; values: string[]; errors: Error[] } {
  const values: string[] = []
  const errors: Error[] = []
  const c = new Consumer({
    brokers: CLUSTER_BOOTSTRAP,
    assign: [{ topic, partition: 0, offset: 0n }],
    clientRetry: { deadlineMs: 60_000 },
    onError: (e) => errors.push(e),
    ...extra,
  })
  void c.run((m: Message) => void values.push(m.value!.toString()))
  return { c, values, errors }
}

describe('3-node cluster with racks', { timeout: 300_000 }, () => {
  const admin = new Admin({ brokers: CLUSTER_BOOTSTRAP, retry: { deadlineMs: 60_000 } })
  before(async () => {
    await startCluster()
  })
  after(async () => {
    await admin.close()
    await stopCluster()
  })

  it('a consumer in rack 3 fetches from the rack-3 follower the leader names (KIP-392)', async () => {
    const topic = uniqueTopic('rack')
    // leader in rack 1, followers in racks 2 and 3
    await admin.createTopics([{ topic, replicaAssignment: [{ partition: 0, replicas: [1, 2, 3] }] }])
    const [described] = await admin.describeTopics([topic])
    await produce(topic, 0, 500)
    const fetches = watchFetches(() => described.topicId)
    const { c, values, errors } = consumer(topic, { rackId: 'rack-3' })
    try {
      await waitFor('all 500 records', () => values.length === 500, { state: () => values.length })
      await produce(topic, 500, 100)
      await waitFor('100 more', () => values.length === 600)
    } finally {
      await c.stop()
      fetches.stop()
    }
    assert.deepEqual(errors, [])
    const leader = fetches.byNode.get(1)
    const rack3 = fetches.byNode.get(3)
    assert.ok(leader && rack3, `fetch answers by node: ${JSON.stringify([...fetches.byNode.keys()])}`)
    // the leader named node 3 and sent no records; node 3 sent them all
    assert.deepEqual([...leader.preferred], [3])
    assert.equal(leader.withRecords, 0)
    assert.ok(rack3.withRecords >= 2, `records came from node 3 (${rack3.withRecords} answers)`)
    assert.equal(fetches.byNode.get(2)?.withRecords ?? 0, 0)
    assert.deepEqual(values.slice(0, 3).concat(values.slice(-1)), ['0', '1', '2', '599'])
  })

  for (const reset of ['none', 'earliest'] as const) {
    it(`an unclean leader election truncates the log under the position: ${reset === 'none' ? 'a LogTruncationError' : 'consumed on from where the logs diverge, nothing skipped'} (KIP-320)`, async () => {
      const topic = uniqueTopic('unclean')
      await admin.createTopics([
        {
          topic,
          replicaAssignment: [{ partition: 0, replicas: [1, 2] }],
          configs: { 'min.insync.replicas': '1', 'unclean.leader.election.enable': 'true' },
        },
      ])
      await produce(topic, 0, 100)
      const { c, values, errors } = consumer(topic, { autoOffsetReset: reset })
      try {
        await waitFor('the first 100 records', () => values.length === 100)
        // the follower leaves (a controlled shutdown drops it from the ISR); the leader goes on alone
        await stopNode(2)
        await produce(topic, 100, 50)
        await waitFor('150 records', () => values.length === 150)
        // the leader dies; the follower, behind by 50, is elected uncleanly
        await killNode(1)
        await restartNode(2)
        await waitFor(
          'an unclean election of node 2',
          () => {
            try {
              runTool('org.apache.kafka.tools.LeaderElectionCommand', [
                '--bootstrap-server',
                CLUSTER_BOOTSTRAP[1],
                '--election-type',
                'UNCLEAN',
                '--topic',
                topic,
                '--partition',
                '0',
              ])
              return true
            } catch {
              return false
            }
          },
          { timeoutMs: 60_000, intervalMs: 1000 },
        )
        if (reset === 'none') {
          await waitFor('the LogTruncationError', () => errors.some((e) => e instanceof LogTruncationError), {
            timeoutMs: 60_000,
            state: () => errors.map(String),
          })
          const e = errors.find((x) => x instanceof LogTruncationError) as LogTruncationError
          assert.deepEqual([e.topic, e.partition, e.offset, e.divergentOffset], [topic, 0, 150n, 100n])
          assert.equal(values.length, 150, 'nothing more consumed')
        } else {
          // the new leader's records at offsets 100... are read: none skipped, none taken for the lost ones
          await produce(topic, 1000, 10)
          await waitFor('the new leader’s records', () => values.length === 160, {
            timeoutMs: 60_000,
            state: () => [values.length, errors.map(String)],
          })
          assert.deepEqual(
            values.slice(150),
            Array.from({ length: 10 }, (_, i) => String(1000 + i)),
          )
          assert.ok(!errors.some((e) => e instanceof LogTruncationError))
        }
      } finally {
        await c.stop()
        await restartNode(1)
      }
    })
  }
})
