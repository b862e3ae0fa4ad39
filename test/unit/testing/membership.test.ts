// kafkax's classic group member against the fake coordinator in process, on a ManualClock: the
// session timeout of a member whose heartbeats are lost passes when the test advances the clock,
// not after ten seconds of waiting. The whole path is real: two kafkax consumers, the fake's
// coordinator expelling one and rebalancing the other, the expelled one learning it from its next
// heartbeat (UNKNOWN_MEMBER_ID), losing its partitions (not revoking them) and rejoining.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Consumer } from '../../../src/consumer/consumer.ts'
import { FakeCluster, ManualClock } from '../../../src/testing/index.ts'
import { waitFor } from '../../helpers/wait.ts'

const SESSION_TIMEOUT_MS = 10_000

describe("kafkax's group member on the fake coordinator, on a ManualClock", () => {
  const clock = new ManualClock()
  let cluster: FakeCluster
  before(async () => {
    cluster = await FakeCluster.start({ listen: false, clock, topics: [{ name: 't', partitions: 4 }] })
  })
  after(() => cluster.stop())

  const member = (clientId: string, warnings: string[] = []) => {
    const consumer = new Consumer({
      brokers: cluster.bootstrap,
      connect: cluster.connect,
      clientId,
      groupId: 'g',
      topics: ['t'],
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      heartbeatIntervalMs: 50,
      requestTimeoutMs: 1000,
      // a commit restarts the session too: only heartbeats keep it here
      commit: { mode: 'manual' },
      logger: { warn: (_: unknown, message: string) => warnings.push(message) },
    })
    const running = consumer.run(() => {})
    return { consumer, running }
  }
  /** The partitions of t the coordinator assigned to each client id. */
  const assignments = () =>
    Object.fromEntries(
      cluster.groupMembers('g').map((m) => [m.clientId, m.assignment.flatMap((a) => a.partitions).sort()]),
    )
  const split = () => {
    const a = assignments()
    return a.a?.length === 2 && a.b?.length === 2
  }

  it('a member whose heartbeats are lost is expelled at its session timeout, loses its partitions and rejoins', async () => {
    const bWarnings: string[] = []
    const a = member('a')
    const b = member('b', bWarnings)
    try {
      await waitFor('both members with two partitions each', split, { state: assignments })

      let heartbeatsOfA = 0
      const lost = cluster.intercept('Heartbeat', (r) => {
        if (r.clientId === 'b') return { drop: true }
        heartbeatsOfA++
        return undefined
      })
      // A heartbeats within the session (after the first half of it); B's last one is older
      clock.advance(SESSION_TIMEOUT_MS / 2)
      const before = heartbeatsOfA
      await waitFor('a heartbeat of A after the clock moved', () => heartbeatsOfA > before)
      clock.advance(SESSION_TIMEOUT_MS / 2 + 1)
      await waitFor('A alone in the group, with every partition', () => {
        const now = assignments()
        return now.b === undefined && now.a?.length === 4 && a.consumer.assignment().length === 4
      })

      lost.remove()
      await waitFor(
        'B back in the group, the partitions split again',
        () => split() && b.consumer.assignment().length === 2,
        {
          state: assignments,
        },
      )
      assert.ok(bWarnings.includes('partitions lost'), `B lost its partitions, it did not revoke them: ${bWarnings}`)
    } finally {
      await Promise.all([a.consumer.stop(), b.consumer.stop()])
      await Promise.all([a.running, b.running])
    }
    assert.deepEqual(cluster.groupMembers('g'), [], 'both left the group')
  })
})
