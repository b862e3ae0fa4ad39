// Consumer-group membership (classic protocol) against the real broker: members share a topic's
// partitions with every assignor, rebalance when members come and go (cooperative members never
// revoke partitions that stay), heartbeats keep an idle member in, static members come back to
// their partitions without a rebalance, offsets round-trip, a stale generation cannot commit, and
// Kafka's own group tool reads our members and assignments.

import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { runTool } from '../../scripts/kafka/harness.ts'
import { Cluster } from '../../src/client/cluster.ts'
import { type TopicPartition, tpKey } from '../../src/consumer/message.ts'
import {
  type Assignor,
  cooperativeStickyAssignor,
  rangeAssignor,
  roundRobinAssignor,
} from '../../src/group/assignors.ts'
import { ClassicGroupMember, type ClassicGroupMemberOptions } from '../../src/group/classic-member.ts'
import type { GroupListener } from '../../src/group/membership.ts'
import { KafkaError } from '../../src/protocol/errors.ts'
import { brokers, cli, uniqueTopic } from '../helpers/kafka.ts'
import { holdsFor, waitFor } from '../helpers/wait.ts'

const PARTITIONS = 6
const key = (p: TopicPartition) => `${p.topic}-${p.partition}`
const keys = (ps: readonly TopicPartition[]) => ps.map(key).sort()

interface Call {
  kind: 'assigned' | 'revoked' | 'lost'
  partitions: string[]
}

interface TestMember {
  member: ClassicGroupMember
  cluster: Cluster
  calls: Call[]
  errors: Error[]
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A member with its own client, recording every listener call; `hooks` may slow a call down. */
function newMember(
  groupId: string,
  topic: string,
  options: Partial<ClassicGroupMemberOptions> = {},
  hooks: Partial<GroupListener> = {},
): TestMember {
  const cluster = new Cluster({ brokers: brokers(), clientId: 'kafkax-group-test' })
  const calls: Call[] = []
  const errors: Error[] = []
  const record = (kind: Call['kind'], hook?: (ps: TopicPartition[]) => unknown) => async (ps: TopicPartition[]) => {
    calls.push({ kind, partitions: keys(ps) })
    await hook?.(ps)
  }
  const member = new ClassicGroupMember(
    cluster,
    {
      groupId,
      topics: [topic],
      sessionTimeoutMs: 6000,
      rebalanceTimeoutMs: 10_000,
      heartbeatIntervalMs: 500,
      ...options,
    },
    {
      onAssigned: record('assigned', hooks.onAssigned),
      onRevoked: record('revoked', hooks.onRevoked),
      onLost: record('lost', hooks.onLost),
      onError: (e) => errors.push(e),
    },
  )
  cleanups.push(async () => {
    await member.stop()
    await cluster.close()
  })
  return { member, cluster, calls, errors }
}

/** Waits until the members share one generation and split every partition in `sizes` (no overlap). */
async function settled(members: TestMember[], topic: string, sizes: number[]): Promise<void> {
  const all = Array.from({ length: PARTITIONS }, (_, p) => `${topic}-${p}`).sort()
  const state = () =>
    members.map((m) => ({ generation: m.member.generationId, partitions: keys(m.member.assignment()) }))
  await waitFor(
    `the members to share one generation and split ${topic} as ${sizes}`,
    () => {
      const s = state()
      const union = s.flatMap((m) => m.partitions).sort()
      return (
        new Set(s.map((m) => m.generation)).size === 1 &&
        s[0].generation >= 0 &&
        JSON.stringify(s.map((m) => m.partitions.length).sort()) === JSON.stringify([...sizes].sort()) &&
        JSON.stringify(union) === JSON.stringify(all)
      )
    },
    { state },
  )
}

function groupTopic(): { groupId: string; topic: string } {
  const topic = uniqueTopic('group')
  cli.createTopic(topic, { partitions: PARTITIONS })
  return { groupId: `${topic}-g`, topic }
}

const revokedOf = (m: TestMember) => new Set(m.calls.filter((c) => c.kind === 'revoked').flatMap((c) => c.partitions))

describe('ClassicGroupMember', () => {
  const assignors: Assignor[] = [rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor]

  for (const assignor of assignors) {
    it(`two members share ${PARTITIONS} partitions 3+3 (${assignor.name})`, async () => {
      const { groupId, topic } = groupTopic()
      const a = newMember(groupId, topic, { assignors: [assignor] })
      const b = newMember(groupId, topic, { assignors: [assignor] })
      await Promise.all([a.member.start(), b.member.start()])
      await settled([a, b], topic, [3, 3])
      assert.notEqual(a.member.memberId, b.member.memberId)
      assert.deepEqual([...a.errors, ...b.errors], [])
    })
  }

  for (const assignor of [rangeAssignor, cooperativeStickyAssignor]) {
    it(`a third member joins: 2+2+2, and ${assignor.rebalanceProtocol} revocation (${assignor.name})`, async () => {
      const { groupId, topic } = groupTopic()
      const a = newMember(groupId, topic, { assignors: [assignor] })
      const b = newMember(groupId, topic, { assignors: [assignor] })
      await Promise.all([a.member.start(), b.member.start()])
      await settled([a, b], topic, [3, 3])
      const before = [a, b].map((m) => keys(m.member.assignment()))
      for (const m of [a, b]) m.calls.length = 0

      const c = newMember(groupId, topic, { assignors: [assignor] })
      await c.member.start()
      await settled([a, b, c], topic, [2, 2, 2])

      for (const [i, m] of [a, b].entries()) {
        const after = keys(m.member.assignment())
        const stayed = before[i].filter((p) => after.includes(p))
        const revoked = revokedOf(m)
        if (assignor.rebalanceProtocol === 'cooperative') {
          // KIP-429: only the partition that moved is revoked; those that stay never are
          assert.deepEqual(
            stayed.filter((p) => revoked.has(p)),
            [],
            JSON.stringify(m.calls),
          )
          assert.deepEqual([...revoked].sort(), before[i].filter((p) => !after.includes(p)).sort())
        } else {
          // eager: everything owned is handed back before the rejoin
          assert.deepEqual([...revoked].sort(), before[i])
        }
        assert.ok(!m.calls.some((call) => call.kind === 'lost'), JSON.stringify(m.calls))
      }
    })
  }

  it('a member stops: the others take over its partitions, it revokes them and leaves', async () => {
    const { groupId, topic } = groupTopic()
    const [a, b, c] = [0, 1, 2].map(() => newMember(groupId, topic, { assignors: [roundRobinAssignor] }))
    await Promise.all([a, b, c].map((m) => m.member.start()))
    await settled([a, b, c], topic, [2, 2, 2])
    const leaving = keys(c.member.assignment())
    const generation = a.member.generationId
    await c.member.stop()
    assert.deepEqual(c.calls.at(-1), { kind: 'revoked', partitions: leaving })
    assert.deepEqual(c.member.assignment(), [])
    // LeaveGroup: the others rebalance at once, long before c's session (6 s) would expire
    const stoppedAt = Date.now()
    await settled([a, b], topic, [3, 3])
    assert.ok(Date.now() - stoppedAt < 5000, `rebalance took ${Date.now() - stoppedAt} ms`)
    assert.ok(a.member.generationId > generation)
    const taken = [a, b].flatMap((m) => keys(m.member.assignment()))
    for (const p of leaving) assert.ok(taken.includes(p), `${p} taken over`)
  })

  it('heartbeats keep an idle member in the group for 3x the session timeout', async () => {
    const { groupId, topic } = groupTopic()
    const a = newMember(groupId, topic, { heartbeatIntervalMs: 1000 })
    await a.member.start()
    const { memberId, generationId } = a.member
    // three session timeouts (6 s each) without a handler call: only heartbeats keep it in
    await holdsFor(
      'the idle member keeps its member id and generation',
      () => a.member.memberId === memberId && a.member.generationId === generationId,
      3 * 6000,
      { state: () => ({ memberId: a.member.memberId, generation: a.member.generationId }), intervalMs: 100 },
    )
    assert.deepEqual(a.calls, [{ kind: 'assigned', partitions: keys(a.member.assignment()) }])
    // the broker still knows the member at its generation: a commit with it is accepted
    await a.member.commit([{ topic, partition: 0, offset: 1n }])
    assert.deepEqual(a.errors, [])
  })

  it('a static member restarting within the session timeout gets its partitions back without a rebalance', async () => {
    const { groupId, topic } = groupTopic()
    const a = newMember(groupId, topic, { groupInstanceId: 'a' })
    const b = newMember(groupId, topic, { groupInstanceId: 'b' })
    await Promise.all([a.member.start(), b.member.start()])
    await settled([a, b], topic, [3, 3])
    const partitions = keys(a.member.assignment())
    const generation = b.member.generationId
    b.calls.length = 0

    await a.member.stop() // no LeaveGroup for a static member
    const a2 = newMember(groupId, topic, { groupInstanceId: 'a' })
    await a2.member.start()
    assert.deepEqual(keys(a2.member.assignment()), partitions)
    assert.equal(a2.member.generationId, generation)
    // b keeps heartbeating at the same generation and is never asked to rebalance: a rebalance
    // would reach it in the answer to its next heartbeat (every 500 ms), so six of them tell
    await holdsFor(
      'b at its generation, without a listener call',
      () => b.member.generationId === generation && b.calls.length === 0,
      6 * 500,
      { state: () => ({ generation: b.member.generationId, calls: b.calls }) },
    )
    assert.deepEqual([...a2.errors, ...b.errors], [])
  })

  it('commits offsets and reads them back; partitions without a commit have none', async () => {
    const { groupId, topic } = groupTopic()
    const a = newMember(groupId, topic)
    await a.member.start()
    await a.member.commit([
      { topic, partition: 0, offset: 42n, leaderEpoch: 0, metadata: 'kafkax' },
      { topic, partition: 1, offset: 7n },
    ])
    const all = Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition }))
    for (const requireStable of [false, true]) {
      const committed = await a.member.committed(all, requireStable)
      assert.deepEqual(committed.get(tpKey(topic, 0)), { offset: 42n, leaderEpoch: 0 })
      assert.deepEqual(committed.get(tpKey(topic, 1)), { offset: 7n, leaderEpoch: -1 })
      for (let p = 2; p < PARTITIONS; p++) assert.equal(committed.get(tpKey(topic, p)), null)
    }
  })

  it('a member whose revocation outlives the rebalance timeout is reported, cannot commit, then rejoins', async () => {
    const { groupId, topic } = groupTopic()
    let release: () => void = () => {}
    let block = false
    const a = newMember(
      groupId,
      topic,
      { rebalanceTimeoutMs: 3000 },
      {
        onRevoked: async () => {
          if (block) await new Promise<void>((resolve) => (release = resolve))
        },
      },
    )
    await a.member.start()
    const stale = a.member.generationId
    block = true
    // b's join starts a rebalance; a is stuck in onRevoked, so the group goes on without it
    const b = newMember(groupId, topic, { rebalanceTimeoutMs: 3000 })
    await b.member.start()
    await settled([b], topic, [6])
    assert.ok(b.member.generationId > stale)
    await waitFor(
      'the stuck member to report its rebalance timeout',
      () => a.errors.some((e) => /rebalance timeout/.test(e.message)),
      { state: () => a.errors.map(String) },
    )
    const error = await a.member.commit([{ topic, partition: 0, offset: 5n }]).then(
      () => assert.fail('a stale generation committed'),
      (e: unknown) => e,
    )
    assert.ok(error instanceof KafkaError, String(error))
    assert.ok(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID'].includes(error.type), error.message)
    block = false
    release()
    await settled([a, b], topic, [3, 3])
  })

  it('the leader notices new partitions of a subscribed topic and rebalances', async () => {
    const topic = uniqueTopic('group')
    cli.createTopic(topic, { partitions: 2 })
    // runTool blocks the event loop (spawnSync), heartbeats included: a session that outlasts the JVM
    const a = newMember(`${topic}-g`, topic, { sessionTimeoutMs: 45_000 })
    await a.member.start()
    assert.equal(a.member.assignment().length, 2)
    runTool('org.apache.kafka.tools.TopicCommand', [
      ...['--bootstrap-server', brokers()[0], '--alter', '--topic', topic, '--partitions', '4'],
    ])
    // any metadata refresh of the client (the consumer's, the periodic one) is enough
    await a.cluster.refreshMetadata([topic])
    await waitFor('the member to be assigned all 4 partitions', () => a.member.assignment().length === 4, {
      state: () => a.member.assignment(),
    })
  })

  it("Kafka's group tool reads our members and their assignments", async () => {
    const { groupId, topic } = groupTopic()
    // runTool blocks the event loop (spawnSync), heartbeats included: sessions that outlast the JVMs
    const a = newMember(groupId, topic, { assignors: [rangeAssignor], sessionTimeoutMs: 45_000 })
    const b = newMember(groupId, topic, { assignors: [rangeAssignor], sessionTimeoutMs: 45_000 })
    await Promise.all([a.member.start(), b.member.start()])
    await settled([a, b], topic, [3, 3])
    const { stdout } = runTool('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', [
      ...['--bootstrap-server', brokers()[0], '--describe', '--group', groupId, '--members', '--verbose'],
    ])
    // GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS ... ASSIGNMENT
    for (const m of [a, b]) {
      const line = stdout.split('\n').find((l) => l.includes(m.member.memberId))
      assert.ok(line, `${m.member.memberId} in:\n${stdout}`)
      const partitions = m.member
        .assignment()
        .map((p) => p.partition)
        .sort()
      // Kafka 4.x prints topic:0,1,2; 3.9 prints the partitions alone, as (0,1,2)
      assert.match(line, new RegExp(`\\s3\\s.*(\\s${topic}:|\\()${partitions.join(',')}\\b`), line)
    }
    const state = runTool('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', [
      ...['--bootstrap-server', brokers()[0], '--describe', '--group', groupId, '--state'],
    ]).stdout
    assert.match(state, /range\s+Stable\s+2/, state)
  })
})
