// Groups on the fake coordinator, on the wire and on a ManualClock: the classic protocol's join
// (MEMBER_ID_REQUIRED first, KIP-394), sync, heartbeats and session expiry, static members
// rejoining without a rebalance (KIP-345); the consumer protocol's heartbeats (KIP-848): the
// coordinator's assignment, revocation before reassignment, fencing on epochs and session timeouts.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Connection } from '../../../src/client/connection.ts'
import { ErrorCode } from '../../../src/protocol/error-codes.ts'
import { ConsumerGroupHeartbeatRequest } from '../../../src/protocol/messages/generated/consumer-group-heartbeat-request.ts'
import { ConsumerGroupHeartbeatResponse } from '../../../src/protocol/messages/generated/consumer-group-heartbeat-response.ts'
import { api, FindCoordinator, Heartbeat, JoinGroup, SyncGroup } from '../../../src/protocol/messages/index.ts'
import { FakeCluster, ManualClock } from '../../../src/testing/index.ts'
import { waitFor } from '../../helpers/wait.ts'
import { connectTo } from './helpers.ts'

const ConsumerGroupHeartbeat = api(ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse)
const protocols = [{ name: 'range', metadata: Buffer.from('m') }]

describe('classic groups on the fake coordinator', () => {
  const clock = new ManualClock()
  let cluster: FakeCluster
  let conn: Connection
  before(async () => {
    cluster = await FakeCluster.start({ listen: false, clock, topics: ['t'] })
    conn = await connectTo(cluster)
  })
  after(async () => {
    conn.close()
    await cluster.stop()
  })

  // a broker handles one request per connection at a time: a member waiting in JoinGroup has its own
  const join = async (
    groupId: string,
    memberId: string,
    groupInstanceId: string | null = null,
    metadata = protocols,
  ) => {
    const own = await connectTo(cluster)
    try {
      return await own.request(JoinGroup, {
        groupId,
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 20_000,
        memberId,
        groupInstanceId,
        protocolType: 'consumer',
        protocols: metadata,
      })
    } finally {
      own.close()
    }
  }

  it('finds the coordinator, joins in two steps, syncs, and heartbeats keep the member; silence expires it', async () => {
    const found = await conn.request(FindCoordinator, { keyType: 0, coordinatorKeys: ['g1'] })
    assert.equal(found.coordinators[0].errorCode, ErrorCode.NONE)
    assert.equal(found.coordinators[0].nodeId, 1)
    const first = await join('g1', '')
    assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED)
    assert.match(first.memberId, /^kafkax-/, 'the member id starts with the client id')
    const joined = await join('g1', first.memberId)
    assert.equal(joined.errorCode, ErrorCode.NONE)
    assert.equal(joined.generationId, 1)
    assert.equal(joined.leader, first.memberId)
    assert.equal(joined.protocolName, 'range')
    assert.equal(joined.members.length, 1, 'the leader gets the members')
    const synced = await conn.request(SyncGroup, {
      groupId: 'g1',
      generationId: 1,
      memberId: first.memberId,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: first.memberId, assignment: Buffer.from('assigned') }],
    })
    assert.equal(String(synced.assignment), 'assigned')
    const beat = () => conn.request(Heartbeat, { groupId: 'g1', generationId: 1, memberId: first.memberId })
    for (let i = 0; i < 5; i++) {
      clock.advance(8000)
      assert.equal((await beat()).errorCode, ErrorCode.NONE, `heartbeat ${i} within the session`)
    }
    assert.equal(cluster.groupMembers('g1').length, 1, 'alive after 40 s of heartbeats')
    clock.advance(10_001)
    assert.equal(cluster.groupMembers('g1').length, 0, 'expired after a silent session timeout')
    assert.equal((await beat()).errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
  })

  it('a second member triggers a rebalance; the first learns it from its heartbeat and rejoins', async () => {
    const a = (await join('g2', '')).memberId
    await join('g2', a)
    await conn.request(SyncGroup, { groupId: 'g2', generationId: 1, memberId: a, assignments: [] })
    const b = (await join('g2', '')).memberId
    const bJoined = join('g2', b)
    await waitFor('the rebalance b started', () => cluster.groups.get('g2')?.state === 'PreparingRebalance')
    const beat = await conn.request(Heartbeat, { groupId: 'g2', generationId: 1, memberId: a })
    assert.equal(beat.errorCode, ErrorCode.REBALANCE_IN_PROGRESS)
    const aJoined = await join('g2', a)
    const bResult = await bJoined
    assert.equal(aJoined.generationId, 2)
    assert.equal(bResult.generationId, 2)
    assert.equal(aJoined.members.length + bResult.members.length, 2, 'only the leader gets the two members')
  })

  it('a member that does not rejoin within the rebalance timeout is removed from the new generation', async () => {
    const a = (await join('g3', '')).memberId
    await join('g3', a)
    await conn.request(SyncGroup, { groupId: 'g3', generationId: 1, memberId: a, assignments: [] })
    const b = (await join('g3', '')).memberId
    const bJoined = join('g3', b)
    await waitFor('the rebalance b started', () => cluster.groups.get('g3')?.state === 'PreparingRebalance')
    clock.advance(20_001)
    const result = await bJoined
    assert.equal(result.errorCode, ErrorCode.NONE)
    assert.equal(result.generationId, 2)
    assert.deepEqual(
      result.members.map((m) => m.memberId),
      [b],
      'b alone, and its leader',
    )
  })

  it('a static member restarting within its session gets its assignment back without a rebalance', async () => {
    const joined = await join('g4', '', 'instance-1')
    assert.equal(joined.errorCode, ErrorCode.NONE, 'static members skip MEMBER_ID_REQUIRED')
    await conn.request(SyncGroup, {
      groupId: 'g4',
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: 'instance-1',
      assignments: [{ memberId: joined.memberId, assignment: Buffer.from('mine') }],
    })
    // the new incarnation's metadata differs (a restarted consumer owns no partitions yet): the
    // protocol the group selects stays range, and that is all the broker compares
    const again = await join('g4', '', 'instance-1', [{ name: 'range', metadata: Buffer.from('restarted') }])
    assert.notEqual(again.memberId, joined.memberId, 'a new member id for the new incarnation')
    assert.equal(again.generationId, joined.generationId, 'no new generation')
    assert.equal(cluster.groups.get('g4')?.state, 'Stable')
    assert.equal(again.skipAssignment, true, 'the static leader need not assign again')
    const old = await conn.request(Heartbeat, {
      groupId: 'g4',
      generationId: 1,
      memberId: joined.memberId,
      groupInstanceId: 'instance-1',
    })
    assert.equal(old.errorCode, ErrorCode.FENCED_INSTANCE_ID)
    const synced = await conn.request(SyncGroup, {
      groupId: 'g4',
      generationId: again.generationId,
      memberId: again.memberId,
      groupInstanceId: 'instance-1',
      assignments: [],
    })
    assert.equal(String(synced.assignment), 'mine')
  })
})

describe('consumer groups (KIP-848) on the fake coordinator', () => {
  const clock = new ManualClock()
  let cluster: FakeCluster
  let conn: Connection
  let topicId: string
  before(async () => {
    cluster = await FakeCluster.start({ listen: false, clock, topics: [{ name: 'orders', partitions: 4 }] })
    topicId = cluster.topics.get('orders')!.id
    conn = await connectTo(cluster)
  })
  after(async () => {
    conn.close()
    await cluster.stop()
  })

  const heartbeat = (memberId: string, memberEpoch: number, owned: number[] | null, extra: object = {}) =>
    conn.request(ConsumerGroupHeartbeat, {
      groupId: 'cg',
      memberId,
      memberEpoch,
      rebalanceTimeoutMs: memberEpoch === 0 ? 30_000 : -1,
      subscribedTopicNames: memberEpoch === 0 ? ['orders'] : null,
      topicPartitions: owned === null ? null : owned.length ? [{ topicId, partitions: owned }] : [],
      ...extra,
    })
  const partitions = (r: { assignment: { topicPartitions: { partitions: number[] }[] } | null }) =>
    r.assignment?.topicPartitions.flatMap((t) => t.partitions).sort() ?? null

  it('assigns everything to the first member; a second gets half once the first revoked it', async () => {
    const a = await heartbeat('member-a', 0, [])
    assert.equal(a.errorCode, ErrorCode.NONE)
    assert.equal(a.memberEpoch, 1)
    assert.deepEqual(partitions(a), [0, 1, 2, 3])
    const b = await heartbeat('member-b', 0, [])
    assert.equal(b.memberEpoch, 2)
    assert.deepEqual(partitions(b), [], "b waits: its partitions are still a's")
    const aRevoke = await heartbeat('member-a', 1, [0, 1, 2, 3])
    assert.equal(aRevoke.memberEpoch, 1, 'a keeps its epoch until it revoked')
    assert.equal(partitions(aRevoke)?.length, 2, 'a is told to keep two')
    const kept = partitions(aRevoke)!
    const bStill = await heartbeat('member-b', 2, [])
    assert.deepEqual(partitions(bStill), null, 'nothing changed for b yet')
    const aDone = await heartbeat('member-a', 1, kept)
    assert.equal(aDone.memberEpoch, 2, 'revoked: a reaches the group epoch')
    const bGets = await heartbeat('member-b', 2, [])
    assert.deepEqual(
      partitions(bGets),
      [0, 1, 2, 3].filter((p) => !kept.includes(p)),
    )
    assert.equal(cluster.groupMembers('cg').length, 2)
  })

  it('fences a wrong epoch, and a member silent for the session timeout', async () => {
    const wrong = await heartbeat('member-a', 7, null)
    assert.equal(wrong.errorCode, ErrorCode.FENCED_MEMBER_EPOCH)
    clock.advance(30_000)
    await heartbeat('member-b', 2, null)
    clock.advance(20_000)
    const members = cluster.groupMembers('cg').map((m) => m.memberId)
    assert.deepEqual(members, ['member-b'], 'a was fenced after 45 s of silence')
    const unknown = await heartbeat('member-a', 2, null)
    assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_MEMBER_ID)
    const b = await heartbeat('member-b', 2, null)
    assert.equal(b.memberEpoch, 3)
    assert.deepEqual(partitions(b), [0, 1, 2, 3], "b takes over a's partitions")
  })

  it('validates requests as the broker does', async () => {
    const noSubscription = await conn.request(ConsumerGroupHeartbeat, {
      groupId: 'cg',
      memberId: 'm',
      memberEpoch: 0,
      rebalanceTimeoutMs: 1000,
      topicPartitions: [],
    })
    assert.equal(noSubscription.errorCode, ErrorCode.INVALID_REQUEST)
    const badAssignor = await heartbeat('member-c', 0, [], { serverAssignor: 'sticky-ish' })
    assert.equal(badAssignor.errorCode, ErrorCode.UNSUPPORTED_ASSIGNOR)
    const leave = await heartbeat('member-b', -1, null)
    assert.equal(leave.memberEpoch, -1)
    assert.deepEqual(cluster.groupMembers('cg'), [])
  })
})
