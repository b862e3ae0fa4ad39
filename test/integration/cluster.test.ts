// The 3-node KRaft cluster of the harness: replication factor 3, min ISR 2. Killing the leader of a
// partition with SIGKILL must leave the topic writable with acks=all and every record readable.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Admin } from '../../src/admin/admin.ts'
import { Cluster } from '../../src/client/cluster.ts'
import { Producer } from '../../src/producer/producer.ts'
import { Metadata } from '../../src/protocol/messages/index.ts'
import {
  CLUSTER_BOOTSTRAP,
  cli,
  clusterDir,
  kcat,
  killNode,
  logTail,
  restartNode,
  startCluster,
  stopCluster,
  uniqueTopic,
} from '../helpers/kafka.ts'

function leaderOf(description: string): number {
  const match = /Partition: 0\s+Leader: (-?\d+)/.exec(description)
  assert.ok(match, `no leader in:\n${description}`)
  return Number(match[1])
}

describe('3-node cluster', () => {
  const topic = uniqueTopic('failover')
  before(async () => {
    await startCluster()
  })
  after(async () => {
    await stopCluster()
  })

  it('keeps a replicated topic writable after kill -9 of its leader, and takes the node back', async () => {
    const all = CLUSTER_BOOTSTRAP.join(',')
    cli.createTopic(topic, { bootstrap: all, partitions: 1, replicationFactor: 3 })
    assert.match(cli.describeTopic(topic, all), /Replicas: \d,\d,\d\s+Isr: \d,\d,\d/)
    cli.produce(topic, ['k1:before-1', 'k2:before-2'], { bootstrap: all })

    const leader = leaderOf(cli.describeTopic(topic, all))
    await killNode(leader)
    const survivors = CLUSTER_BOOTSTRAP.filter((_, i) => i + 1 !== leader).join(',')

    cli.produce(topic, ['k3:after-1', 'k4:after-2'], { bootstrap: survivors })
    const newLeader = leaderOf(cli.describeTopic(topic, survivors))
    assert.notEqual(newLeader, leader, 'leadership moved off the killed node')
    assert.deepEqual(cli.consume(topic, 4, { bootstrap: survivors }), [
      'k1:before-1',
      'k2:before-2',
      'k3:after-1',
      'k4:after-2',
    ])

    await restartNode(leader)
    const deadline = Date.now() + 60_000
    let description = cli.describeTopic(topic, all)
    while (!/Isr: \d,\d,\d/.test(description) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000))
      description = cli.describeTopic(topic, all)
    }
    assert.match(
      description,
      /Isr: \d,\d,\d/,
      `restarted node ${leader} rejoined the ISR\n${logTail(clusterDir(leader))}`,
    )
  })

  it('the cluster client follows a new leader after kill -9 and reconnects to the restarted node', async () => {
    const replicated = uniqueTopic('client-failover')
    cli.createTopic(replicated, { bootstrap: CLUSTER_BOOTSTRAP.join(','), partitions: 3, replicationFactor: 3 })
    const cluster = new Cluster({ brokers: CLUSTER_BOOTSTRAP, retry: { deadlineMs: 60_000 } })
    try {
      await cluster.connect()
      // a topic just created may not be in every node's metadata yet: the lookup retried, as the library's callers do
      const leader = await cluster.retry.run(() => cluster.leaderFor(replicated, 0))
      await (await cluster.connectionToNode(leader)).request(Metadata, { topics: [] })
      await killNode(leader)

      // the cached leader is now wrong; a refresh (from a survivor) names the new one
      let moved = leader
      const deadline = Date.now() + 60_000
      while (moved === leader && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500))
        moved = (await cluster.refreshMetadata([replicated])).partition(replicated, 0)!.leader
      }
      assert.notEqual(moved, leader, 'metadata never named a new leader')
      const answer = await cluster.request(moved, Metadata, { topics: [{ name: replicated }] })
      assert.equal(answer.topics[0].partitions.length, 3)
      // admin calls keep working with a node down (its bootstrap list still names the dead one)
      const admin = new Admin({ brokers: CLUSTER_BOOTSTRAP, retry: { deadlineMs: 60_000 } })
      try {
        const [described] = await admin.describeTopics([replicated])
        assert.ok(described.partitions.every((p) => p.leader !== leader && p.leader >= 0))
        await admin.createTopics([{ topic: `${replicated}-after`, partitions: 1, replicationFactor: 2 }])
      } finally {
        await admin.close()
      }

      // the node comes back: the pool reopens its connection on the next request, no user action
      await restartNode(leader)
      const back = await cluster.request(leader, Metadata, { topics: [] })
      assert.equal(back.brokers.length, 3)
    } finally {
      await cluster.close()
    }
  })

  it('producer: kill -9 the leader while producing 100k records (acks=all): every acknowledged record once, in order', async () => {
    const all = CLUSTER_BOOTSTRAP.join(',')
    const topic = uniqueTopic('produce-failover')
    cli.createTopic(topic, { bootstrap: all, partitions: 3, replicationFactor: 3 })
    const producer = new Producer({
      brokers: CLUSTER_BOOTSTRAP,
      acks: 'all',
      batch: { lingerMs: 5, maxMessages: 2000 },
      retry: { initialDelayMs: 50, maxDelayMs: 500 },
    })
    const acked = new Map<number, { partition: number; offset: bigint }>()
    let failed = 0
    try {
      await producer.connect()
      const leader = await producer.cluster.retry.run(() => producer.cluster.leaderFor(topic, 0))
      const sends: Promise<void>[] = []
      for (let i = 0; i < 100_000; i++) {
        sends.push(
          producer.send({ topic, key: `k${i % 97}`, value: String(i) }).then(
            (m) => void acked.set(i, m),
            () => void failed++,
          ),
        )
        if (i === 30_000) await killNode(leader)
        if (i % 10_000 === 0) await new Promise((r) => setImmediate(r))
      }
      await Promise.all(sends)
      assert.ok(acked.size > 90_000, `only ${acked.size} acknowledged, ${failed} failed`)
      const survivors = CLUSTER_BOOTSTRAP.filter((_, i) => i + 1 !== leader).join(',')
      const read = kcat(['-b', survivors, '-C', '-t', topic, '-e', '-q', '-f', '%p %o %s\n'])
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(' '))
      const seen = new Map<number, number>()
      for (const [, , value] of read) seen.set(Number(value), (seen.get(Number(value)) ?? 0) + 1)
      for (const [i, m] of acked)
        assert.equal(seen.get(i), 1, `record ${i} (acked at ${m.partition}/${m.offset}) seen ${seen.get(i) ?? 0} times`)
      for (let p = 0; p < 3; p++) {
        const values = read.filter(([partition]) => Number(partition) === p).map(([, , v]) => Number(v))
        for (let k = 1; k < values.length; k++) {
          // records of one key keep their order; across keys of one partition sends interleave in order too
          assert.ok(values[k] > values[k - 1], `partition ${p}: ${values[k]} after ${values[k - 1]}`)
        }
      }
      await restartNode(leader)
    } finally {
      await producer.close()
    }
  })
})
