// The classic group member's state machine without a broker: a plain fake of the cluster layer
// whose connections lead to one fake group coordinator. The coordinator keeps the group as the
// broker does for our member (member ids, generations, a rebalance under way, members expelled or
// fenced, committed offsets); the rest of the group is scripted by each test. Every request and
// answer goes through the generated codecs at the version the member chose, so a body the broker
// could not read fails here. Checked: KIP-394 member ids, the leader's and a follower's SyncGroup,
// eager and cooperative (KIP-429) revocation, what each heartbeat error leads to, a coordinator
// that moves or a connection that drops, stop (revoke, commit window, LeaveGroup; static members
// stay), and a listener slower than the rebalance timeout.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ClusterMetadata } from '../../../src/client/metadata.ts'
import { type TopicPartition, tpKey } from '../../../src/client/topic-partition.ts'
import {
  type CustomAssignor,
  cooperativeStickyAssignor,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from '../../../src/group/assignors.ts'
import { ClassicGroupMember, type ClassicGroupMemberOptions } from '../../../src/group/classic-member.ts'
import type { GroupJoin } from '../../../src/group/membership.ts'
import { ErrorCode } from '../../../src/protocol/error-codes.ts'
import { KafkaError, KafkaxError, TimeoutError } from '../../../src/protocol/errors.ts'
import type { JoinGroupResponseMember } from '../../../src/protocol/messages/generated/join-group-response.ts'
import {
  type Api,
  Heartbeat,
  JoinGroup,
  LeaveGroup,
  OffsetCommit,
  OffsetFetch,
  SyncGroup,
} from '../../../src/protocol/messages/index.ts'
import { Writer } from '../../../src/protocol/primitives/index.ts'
import { setTopic } from '../../helpers/metadata.ts'
import { holdsFor, waitFor } from '../../helpers/wait.ts'
import { FakeCoordinator, GROUP, keys, memberMaker } from './fake-coordinator.ts'

const tps = (topic: string, ...partitions: number[]) => partitions.map((partition) => ({ topic, partition }))

/** The coordinator of group GROUP as the classic protocol has it. */
class FakeGroup extends FakeCoordinator {
  // The group as the coordinator keeps it.
  generation = 0
  /** Member id -> group instance id of the members the coordinator knows. */
  readonly members = new Map<string, string | null>()
  private issued = 0
  /** A rebalance is under way: heartbeats answer REBALANCE_IN_PROGRESS until our member rejoins. */
  rebalancing = false
  /** The leader of the next generation: our member, or another one (then ours follows). */
  leader = 'us'
  /** The protocol the coordinator chooses; by default the member's first. */
  protocol: string | undefined
  /** The other members of the group, as the leader sees them in the JoinGroup answer. */
  others: JoinGroupResponseMember[] = []
  /** What another leader assigned our member. */
  followerAssignment: TopicPartition[] = []
  /** Holds JoinGroups (the broker waiting for the other members) until the connection closes. */
  holdJoins = false
  /** Holds heartbeats (a stalled broker) until the connection closes. */
  holdHeartbeats = false
  /** Requests held so far. */
  held = 0
  joinError = 0
  heartbeatError = 0
  /** The assignments of each SyncGroup our member sent as leader, by member id. */
  readonly plans: Map<string, TopicPartition[]>[] = []

  constructor() {
    super()
    this.topic('orders', 4)
  }

  topic(name: string, partitions: number): void {
    setTopic(this.metadata, name, partitions)
  }

  /** Topics the broker has that the member's metadata lacks until it refreshes. */
  readonly brokerOnly: [string, number][] = []

  protected override refreshed(): ClusterMetadata {
    for (const [name, n] of this.brokerOnly.splice(0)) this.topic(name, n)
    return this.metadata
  }

  /** Another member joins: the group rebalances. */
  rebalance(): void {
    this.rebalancing = true
  }

  /** Another member took the static member's instance id: the old member id is fenced (KIP-345). */
  fence(instanceId: string): void {
    for (const [memberId, id] of this.members) if (id === instanceId) this.members.delete(memberId)
    this.members.set(`m-${++this.issued}`, instanceId)
  }

  answer(api: Api, body: any, node: number): unknown {
    const moved = node !== this.coordinatorNode ? ErrorCode.NOT_COORDINATOR : 0
    switch (api) {
      case JoinGroup:
        return this.join(body, moved)
      case SyncGroup:
        return this.sync(body, moved)
      case Heartbeat: {
        if (this.holdHeartbeats) return this.hold()
        const errorCode =
          moved ||
          this.heartbeatError ||
          this.check(body.memberId, body.groupInstanceId, body.generationId) ||
          (this.rebalancing ? ErrorCode.REBALANCE_IN_PROGRESS : 0)
        return { throttleTimeMs: 0, errorCode }
      }
      case LeaveGroup: {
        if (!moved) for (const m of body.members) this.members.delete(m.memberId)
        const members = moved ? [] : body.members.map((m: any) => ({ ...m, errorCode: 0 }))
        return { throttleTimeMs: 0, errorCode: moved, members }
      }
      case OffsetCommit:
        return this.offsetCommit(
          body,
          moved || this.check(body.memberId, body.groupInstanceId, body.generationIdOrMemberEpoch),
        )
      case OffsetFetch:
        // a classic member fetches for the group alone
        return this.offsetFetch(body, () => moved)
    }
    throw new Error(`the fake coordinator does not answer ${api.name}`)
  }

  private hold(): Promise<never> {
    this.held++
    return new Promise(() => {})
  }

  /** The error the coordinator answers a member with, or 0. */
  private check(memberId: string, instanceId: string | null, generationId: number): number {
    if (instanceId !== null) {
      const owner = [...this.members].find(([, id]) => id === instanceId)?.[0]
      if (owner !== undefined && owner !== memberId) return ErrorCode.FENCED_INSTANCE_ID
    }
    if (!this.members.has(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID
    if (generationId !== this.generation) return ErrorCode.ILLEGAL_GENERATION
    return 0
  }

  private join(body: any, moved: number): unknown {
    const answer = (errorCode: number, memberId = '') => ({
      throttleTimeMs: 0,
      errorCode,
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: '',
      skipAssignment: false,
      memberId,
      members: [],
    })
    if (moved || this.joinError) return answer(moved || this.joinError)
    let memberId: string = body.memberId
    if (memberId === '') {
      memberId = `m-${++this.issued}`
      if (body.groupInstanceId === null) {
        // KIP-394: a dynamic member is named first and must join again with that id
        this.members.set(memberId, null)
        return answer(ErrorCode.MEMBER_ID_REQUIRED, memberId)
      }
      // a static member without an id takes over its instance id's slot (KIP-345)
      this.fence(body.groupInstanceId)
      memberId = [...this.members].find(([, id]) => id === body.groupInstanceId)![0]
    } else {
      const error = this.check(memberId, body.groupInstanceId, this.generation)
      if (error) return answer(error)
    }
    if (this.holdJoins) return this.hold()
    this.generation++
    this.rebalancing = false
    const protocolName = this.protocol ?? body.protocols[0].name
    const metadata = body.protocols.find((p: any) => p.name === protocolName).metadata
    const leader = this.leader === 'us' ? memberId : this.leader
    const members =
      leader === memberId ? [{ memberId, groupInstanceId: body.groupInstanceId, metadata }, ...this.others] : []
    return {
      ...answer(0, memberId),
      generationId: this.generation,
      protocolType: 'consumer',
      protocolName,
      leader,
      members,
    }
  }

  private sync(body: any, moved: number): unknown {
    const errorCode = moved || this.check(body.memberId, body.groupInstanceId, body.generationId)
    let assignment: Buffer = Buffer.alloc(0)
    if (!errorCode) {
      if (this.leader === 'us') {
        const plan = new Map<string, TopicPartition[]>(
          body.assignments.map((a: any) => [a.memberId, decodeAssignment(a.assignment).partitions]),
        )
        this.plans.push(plan)
        assignment = encodeAssignment(plan.get(body.memberId) ?? [])
      } else {
        assert.deepEqual(body.assignments, [], 'a follower sends no assignments')
        assignment = encodeAssignment(this.followerAssignment)
      }
    }
    return { throttleTimeMs: 0, errorCode, protocolType: 'consumer', protocolName: body.protocolName, assignment }
  }
}

/** A member of GROUP on the fake, subscribed to 'orders', recording its listener calls and errors. */
const newMember = memberMaker(
  (cluster, options: ClassicGroupMemberOptions, listener) => new ClassicGroupMember(cluster, options, listener),
  {
    groupId: GROUP,
    topics: ['orders'],
    heartbeatIntervalMs: 10,
    rebalanceTimeoutMs: 1000,
  } as ClassicGroupMemberOptions,
)

/** The fake answers within milliseconds: a condition not met in 2 s will not be. */
const until = (what: string, condition: () => boolean) => waitFor(what, condition, { timeoutMs: 2000, intervalMs: 5 })

const ALL = ['orders-0', 'orders-1', 'orders-2', 'orders-3']

describe('ClassicGroupMember: joining', { timeout: 20_000 }, () => {
  it('joins with the member id the broker names (KIP-394), then as the only member assigns itself every partition', async () => {
    const group = new FakeGroup()
    const { member, calls } = newMember(group)
    await member.start()
    const joins = group.requests(JoinGroup)
    assert.deepEqual(
      joins.map((j) => j.memberId),
      ['', 'm-1'],
    )
    assert.deepEqual(
      joins[0].protocols.map((p: any) => p.name),
      ['range', 'cooperative-sticky'],
    )
    assert.deepEqual([joins[0].sessionTimeoutMs, joins[0].rebalanceTimeoutMs], [45_000, 1000])
    // the broker may hold a JoinGroup for the rebalance timeout: the request waits that long and more
    assert.deepEqual(
      group.sent.filter((s) => s.api === 'JoinGroup').map((s) => s.timeoutMs),
      [6000, 6000],
    )
    assert.deepEqual([member.memberId, member.generationId], ['m-1', 1])
    assert.deepEqual(calls, [['assigned', ALL]])
    assert.deepEqual(keys(member.assignment()), ALL)
    // as the Java leader, it assigns with the metadata at hand when that knows every topic (a
    // Metadata request would wait behind the long-polling Fetch on the broker's connection)
    assert.deepEqual(group.refreshes, [])
    assert.deepEqual(member.commitIdentity(), {
      groupId: GROUP,
      generationId: 1,
      memberId: 'm-1',
      groupInstanceId: null,
    })
  })

  it('as leader: runs the chosen assignor over every subscription and the partition counts of all their topics', async () => {
    const group = new FakeGroup()
    group.brokerOnly.push(['audit', 2])
    group.protocol = 'range'
    const other = { memberId: 'a-other', topics: ['orders', 'audit'] }
    group.others = [
      {
        memberId: other.memberId,
        groupInstanceId: null,
        metadata: encodeSubscription({ topics: other.topics, ownedPartitions: [], generationId: -1, rackId: null }),
      },
    ]
    const { member, calls } = newMember(group)
    await member.start()
    // the leader looks up the topics of the group its metadata lacks (another member's), not only its own
    assert.deepEqual(
      group.refreshes.map((t) => [...t].sort()),
      [['audit', 'orders']],
    )
    const [plan] = group.plans
    assert.deepEqual([...plan.keys()].sort(), ['a-other', 'm-1'])
    const ours = keys(plan.get('m-1')!)
    const theirs = keys(plan.get('a-other')!)
    // range: orders split between both subscribers (the first member id takes the extra), audit only to its subscriber
    assert.deepEqual(theirs, ['audit-0', 'audit-1', 'orders-0', 'orders-1'])
    assert.deepEqual(ours, ['orders-2', 'orders-3'])
    assert.deepEqual(calls, [['assigned', ours]])
  })

  it("a custom assignor: its own JoinGroup metadata, as the leader's assignor every member's bytes as sent; onJoined after the assignment", async () => {
    const group = new FakeGroup()
    group.topic('audit', 2)
    // the v0 layout under version 1, as kafkajs's custom assigners write it: topics, user data, nothing more
    const layout = (topics: string[], userData: string) => {
      const w = new Writer()
      w.int16(1)
      w.int32(topics.length)
      for (const t of topics) w.string(t)
      w.bytes(Buffer.from(userData))
      return Buffer.from(w.finish())
    }
    const theirs = layout(['audit'], 'theirs')
    group.others = [{ memberId: 'a-other', groupInstanceId: null, metadata: theirs }]
    const seen: [string, string[], Buffer | undefined][] = []
    const custom: CustomAssignor = {
      name: 'MyAssigner',
      rebalanceProtocol: 'eager',
      subscription: async (topics) => layout(topics, 'mine'),
      async assign(members, counts) {
        for (const m of members) seen.push([m.memberId, m.topics, m.metadata])
        await new Promise((resolve) => setImmediate(resolve))
        return new Map([
          ['m-1', tps('orders', 0, 1, 2, 3)],
          ['a-other', tps('audit', ...Array.from({ length: counts.get('audit')! }, (_, i) => i))],
        ])
      },
    }
    const joins: GroupJoin[] = []
    const { member, calls } = newMember(group, { assignors: [custom] }, { onJoined: (j) => void joins.push(j) })
    await member.start()
    const [join] = group.requests(JoinGroup)
    assert.deepEqual(
      join.protocols.map((p: any) => [p.name, Buffer.from(p.metadata)]),
      [['MyAssigner', layout(['orders'], 'mine')]],
    )
    // the topics read from each member's bytes, the bytes handed over as they came
    assert.deepEqual(seen, [
      ['m-1', ['orders'], layout(['orders'], 'mine')],
      ['a-other', ['audit'], theirs],
    ])
    assert.deepEqual(keys(group.plans[0].get('a-other')!), ['audit-0', 'audit-1'])
    assert.deepEqual(calls, [['assigned', ALL]])
    assert.deepEqual(joins, [
      {
        memberId: 'm-1',
        generationId: 1,
        leaderId: 'm-1',
        protocol: 'MyAssigner',
        assignment: tps('orders', 0, 1, 2, 3),
      },
    ])
  })

  it('as follower: sends no assignments and takes the one the leader made, watching no metadata', async () => {
    const group = new FakeGroup()
    group.leader = 'a-leader'
    group.followerAssignment = tps('orders', 1, 3)
    const { member, calls } = newMember(group)
    await member.start()
    assert.deepEqual(
      group.requests(SyncGroup).map((s) => s.assignments),
      [[]],
    )
    assert.deepEqual(calls, [['assigned', ['orders-1', 'orders-3']]])
    assert.deepEqual(group.refreshes, [])
  })

  it('a JoinGroup error it cannot recover from rejects start(); after joining such errors go to onError', async () => {
    const group = new FakeGroup()
    group.joinError = ErrorCode.GROUP_AUTHORIZATION_FAILED
    const { member } = newMember(group)
    await assert.rejects(
      member.start(),
      (e: unknown) => e instanceof KafkaError && e.type === 'GROUP_AUTHORIZATION_FAILED',
    )

    const joined = new FakeGroup()
    const { member: second, errors } = newMember(joined)
    await second.start()
    joined.heartbeatError = ErrorCode.GROUP_AUTHORIZATION_FAILED
    await until('the heartbeat error to be reported', () => errors.length > 0)
    assert.ok(errors[0] instanceof KafkaError && errors[0].type === 'GROUP_AUTHORIZATION_FAILED', String(errors[0]))
    assert.equal(second.generationId, 1, 'an error of that kind is no reason to rejoin')
  })
})

describe('ClassicGroupMember: rebalancing', { timeout: 20_000 }, () => {
  it('eager: a rebalance revokes every partition before the JoinGroup, then assigns anew', async () => {
    const group = new FakeGroup()
    const { member, calls } = newMember(group)
    await member.start()
    group.rebalance()
    await until('the second generation', () => member.generationId === 2 && calls.length === 3)
    assert.deepEqual(calls, [
      ['assigned', ALL],
      ['revoked', ALL],
      ['assigned', ALL],
    ])
    const joins = group.requests(JoinGroup)
    assert.equal(joins.at(-1).memberId, 'm-1')
    assert.equal(joins.at(-1).reason, 'the group is rebalancing')
    // eager members give their partitions up before rejoining: the subscription owns none
    assert.deepEqual(decodeSubscription(joins.at(-1).protocols[0].metadata).ownedPartitions, [])
  })

  it('cooperative (KIP-429): keeps the partitions that stay, revokes only those leaving, then rejoins so they move', async () => {
    const group = new FakeGroup()
    const { member, calls } = newMember(group, { assignors: [cooperativeStickyAssignor] })
    await member.start()
    assert.deepEqual(calls, [['assigned', ALL]])

    // a second member arrives
    const subscription = encodeSubscription({ topics: ['orders'], ownedPartitions: [], generationId: -1, rackId: null })
    group.others = [{ memberId: 'z-other', groupInstanceId: null, metadata: subscription }]
    group.rebalance()
    await until(
      'the two rounds of the cooperative rebalance',
      () => group.plans.length === 3 && keys(member.assignment()).join() === keys(group.plans[2].get('m-1')!).join(),
    )

    const joins = group.requests(JoinGroup).slice(2)
    const owned = joins.map((j) => {
      const s = decodeSubscription(j.protocols[0].metadata)
      return [keys(s.ownedPartitions), s.generationId]
    })
    const kept = keys(member.assignment())
    const revoked = ALL.filter((p) => !kept.includes(p))
    assert.equal(kept.length, 2)
    // round one: the member rejoins owning all, nothing revoked first; the partitions moving are
    // revoked after the SyncGroup; round two: it rejoins owning only those it kept
    assert.deepEqual(owned, [
      [ALL, 1],
      [kept, 2],
    ])
    assert.deepEqual(calls, [
      ['assigned', ALL],
      ['revoked', revoked],
    ])
    assert.equal(joins[1].reason, 'revoked partitions can now be given to their new owners')
    // no partition has two owners in any generation: the other member gets them in round two only
    assert.deepEqual(keys(group.plans[1].get('z-other')!), [])
    assert.deepEqual(keys(group.plans[2].get('z-other')!), revoked)
  })

  it('the leader rejoins when a subscribed topic gains partitions, and hands the new ones out', async () => {
    const group = new FakeGroup()
    const { member, calls } = newMember(group)
    await member.start()
    group.topic('orders', 6)
    await until('a generation with the new partitions', () => member.assignment().length === 6)
    assert.equal(group.requests(JoinGroup).at(-1).reason, 'the partition count of a subscribed topic changed')
    assert.deepEqual(calls.at(-1), ['assigned', [...ALL, 'orders-4', 'orders-5']])
  })
  it('a pattern subscription joins with the topics it matches, and rejoins as matching topics appear and vanish', async () => {
    const group = new FakeGroup()
    group.topic('orders.eu', 2)
    group.topic('audit', 1)
    const { member, calls } = newMember(group, { topics: [], patterns: [/^orders/] })
    await member.start()
    const subscribed = () => decodeSubscription(group.requests(JoinGroup).at(-1).protocols[0].metadata).topics
    assert.deepEqual(subscribed(), ['orders', 'orders.eu'])
    assert.ok(group.allTopicRefreshes >= 1, "every topic's metadata before joining")
    assert.deepEqual(calls, [['assigned', [...ALL, 'orders.eu-0', 'orders.eu-1']]])

    group.topic('orders.us', 1)
    await until('a generation with the new topic', () => member.assignment().length === 7)
    assert.equal(group.requests(JoinGroup).at(-1).reason, 'the topics matching the subscription changed')
    assert.deepEqual(subscribed(), ['orders', 'orders.eu', 'orders.us'])

    group.metadata.topics.delete('orders.eu')
    await until('a generation without the deleted topic', () => member.assignment().length === 5)
    assert.deepEqual(subscribed(), ['orders', 'orders.us'])
    assert.ok(!member.assignment().some((p) => p.topic === 'orders.eu'))
  })

  it('a leader that became a follower leaves the watch to the new leader', async () => {
    const group = new FakeGroup()
    const { member } = newMember(group)
    await member.start()
    group.leader = 'a-leader'
    group.followerAssignment = tps('orders', 0)
    group.rebalance()
    await until('the generation as follower', () => member.generationId === 2 && member.assignment().length === 1)
    group.topic('orders', 6)
    // each heartbeat checks the watch: a few of them and no rejoin
    const beats = group.requests(Heartbeat).length
    await until('three more heartbeats', () => group.requests(Heartbeat).length >= beats + 3)
    assert.equal(group.requests(JoinGroup).length, 3)
    assert.equal(member.generationId, 2)
  })
})

describe('ClassicGroupMember: heartbeat errors', { timeout: 20_000 }, () => {
  it('REBALANCE_IN_PROGRESS: a rejoin with the same member id, the partitions handed back, not lost', async () => {
    const group = new FakeGroup()
    const { member, calls } = newMember(group)
    await member.start()
    group.rebalance()
    await until('the rejoin', () => member.generationId === 2)
    assert.deepEqual(
      group.requests(JoinGroup).map((j) => j.memberId),
      ['', 'm-1', 'm-1'],
    )
    assert.ok(!calls.some(([kind]) => kind === 'lost'), JSON.stringify(calls))
  })

  it('ILLEGAL_GENERATION: the partitions are lost (not revoked) and the member rejoins with its id', async () => {
    const group = new FakeGroup()
    const { member, calls } = newMember(group)
    await member.start()
    group.generation = 5 // the group moved on without us
    await until('the new assignment', () => member.generationId === 6 && calls.length === 3)
    assert.deepEqual(calls, [
      ['assigned', ALL],
      ['lost', ALL],
      ['assigned', ALL],
    ])
    assert.equal(group.requests(JoinGroup).at(-1).memberId, 'm-1')
    assert.equal(group.requests(JoinGroup).at(-1).reason, 'heartbeat: ILLEGAL_GENERATION')
  })

  it('UNKNOWN_MEMBER_ID: the partitions are lost and the member joins afresh under a new id', async () => {
    const group = new FakeGroup()
    const { member, calls } = newMember(group)
    await member.start()
    group.members.delete('m-1') // the session expired
    await until('the new member assigned', () => member.memberId === 'm-2' && calls.length === 3)
    assert.deepEqual(
      group.requests(JoinGroup).map((j) => j.memberId),
      ['', 'm-1', '', 'm-2'],
    )
    assert.deepEqual(calls, [
      ['assigned', ALL],
      ['lost', ALL],
      ['assigned', ALL],
    ])
  })

  it('FENCED_INSTANCE_ID: a static member whose instance id another consumer took loses its partitions and ends, as in Java (a rejoin would fence the other in turn)', async () => {
    const group = new FakeGroup()
    const { member, calls, errors } = newMember(group, { groupInstanceId: 'i-1' })
    await member.start()
    // static members are named in their first JoinGroup (no MEMBER_ID_REQUIRED round)
    assert.deepEqual(
      group.requests(JoinGroup).map((j) => [j.memberId, j.groupInstanceId]),
      [['', 'i-1']],
    )
    group.fence('i-1')
    await until('the fencing to be reported', () => errors.length > 0)
    assert.ok(errors[0] instanceof KafkaError && errors[0].type === 'FENCED_INSTANCE_ID', String(errors[0]))
    assert.match(errors[0].message, /another consumer joined with group instance id i-1/)
    assert.deepEqual(calls, [
      ['assigned', ALL],
      ['lost', ALL],
    ])
    // no rejoin: heartbeats every 10 ms would have brought one within ten of them
    await holdsFor(
      'one JoinGroup, no generation',
      () => group.requests(JoinGroup).length === 1 && member.generationId === -1,
      100,
    )
    await member.stop()
    assert.equal(errors.length, 1)
  })
})

describe('ClassicGroupMember: the coordinator connection', { timeout: 20_000 }, () => {
  it('NOT_COORDINATOR: the coordinator is looked up again and the member stays in its generation', async () => {
    const group = new FakeGroup()
    const { member, calls } = newMember(group)
    await member.start()
    assert.deepEqual([group.lookups, group.opened], [1, [1]])
    group.coordinatorNode = 2
    await until('a heartbeat at the new coordinator', () =>
      group.sent.some((s) => s.api === 'Heartbeat' && s.node === 2),
    )
    assert.deepEqual([group.lookups, group.opened], [2, [1, 2]])
    assert.equal(group.connections.size, 1, 'the connection to the old coordinator is closed')
    assert.deepEqual([member.generationId, calls], [1, [['assigned', ALL]]])
  })

  it('a connection lost under a request: the coordinator is looked up again, the next beat goes on a new connection', async () => {
    const group = new FakeGroup()
    const { member, calls } = newMember(group)
    await member.start()
    group.holdHeartbeats = true
    await until('a heartbeat held by the broker', () => group.held === 1)
    group.holdHeartbeats = false
    group.dropConnections()
    await until('a heartbeat on a second connection', () =>
      group.sent.some((s) => s.api === 'Heartbeat' && s.connection === 1),
    )
    assert.deepEqual([group.lookups, group.opened], [2, [1, 1]])
    assert.deepEqual([member.generationId, calls], [1, [['assigned', ALL]]])
  })

  it('a connection closed while idle is opened again to the same coordinator, without a look-up', async () => {
    const group = new FakeGroup()
    const { member } = newMember(group)
    await member.start()
    await until('no request in flight', () => group.inFlight() === 0)
    group.dropConnections()
    await until('a heartbeat on a second connection', () =>
      group.sent.some((s) => s.api === 'Heartbeat' && s.connection === 1),
    )
    assert.deepEqual([group.lookups, group.opened], [1, [1, 1]])
    assert.equal(member.generationId, 1)
  })

  it('commits with its generation and member id, retried at the new coordinator after NOT_COORDINATOR', async () => {
    const group = new FakeGroup()
    const { member } = newMember(group, { heartbeatIntervalMs: 60_000 })
    await member.start()
    group.coordinatorNode = 2
    await member.commit([{ topic: 'orders', partition: 1, offset: 42n }])
    const commits = group.sent.filter((s) => s.api === 'OffsetCommit')
    assert.deepEqual(
      commits.map((c) => [c.node, c.body.generationIdOrMemberEpoch, c.body.memberId]),
      [
        [1, 1, 'm-1'],
        [2, 1, 'm-1'],
      ],
    )
    assert.deepEqual([...group.committed], [['orders-1', 42n]])
    const committed = await member.committed(tps('orders', 0, 1))
    assert.deepEqual(
      committed,
      new Map([
        [tpKey('orders', 0), null],
        [tpKey('orders', 1), { offset: 42n, leaderEpoch: -1 }],
      ]),
    )
  })

  it('a commit with a generation the group has left is thrown to the caller, not retried', async () => {
    const group = new FakeGroup()
    const { member } = newMember(group, { heartbeatIntervalMs: 60_000 })
    await member.start()
    group.generation = 5
    await assert.rejects(
      member.commit([{ topic: 'orders', partition: 0, offset: 1n }]),
      (e: unknown) => e instanceof KafkaError && e.type === 'ILLEGAL_GENERATION' && !e.retriable,
    )
    assert.equal(group.requests(OffsetCommit).length, 1)
    assert.equal(group.committed.size, 0)
  })
})

describe('ClassicGroupMember: stopping', { timeout: 20_000 }, () => {
  it('revokes first (heartbeats go on and commits still count), then leaves the group', async () => {
    const group = new FakeGroup()
    let beatsDuringRevoke = 0
    const { member, calls } = newMember(
      group,
      {},
      {
        onRevoked: async () => {
          const beats = group.requests(Heartbeat).length
          await until('a heartbeat while onRevoked runs', () => group.requests(Heartbeat).length > beats)
          beatsDuringRevoke = group.requests(Heartbeat).length - beats
          await member.commit([{ topic: 'orders', partition: 2, offset: 7n }])
        },
      },
    )
    await member.start()
    await member.stop()
    assert.ok(beatsDuringRevoke > 0)
    assert.deepEqual(calls, [
      ['assigned', ALL],
      ['revoked', ALL],
    ])
    assert.deepEqual([...group.committed], [['orders-2', 7n]])
    // the commit made in onRevoked counts (same generation) and the LeaveGroup comes after it, last
    const order = group.sent.map((s) => s.api)
    assert.equal(order.at(-1), 'LeaveGroup')
    assert.ok(order.indexOf('OffsetCommit') < order.indexOf('LeaveGroup'), order.join())
    assert.deepEqual(
      group.requests(LeaveGroup).map((l) => l.members.map((m: any) => m.memberId)),
      [['m-1']],
    )
    assert.equal(group.members.size, 0)
    assert.deepEqual([member.memberId, member.generationId, member.assignment()], ['', -1, []])
    assert.equal(group.connections.size, 0)
  })

  it('a static member revokes but does not leave: it keeps its slot until the session times out', async () => {
    const group = new FakeGroup()
    const { member, calls } = newMember(group, { groupInstanceId: 'i-1' })
    await member.start()
    await member.stop()
    assert.deepEqual(calls, [
      ['assigned', ALL],
      ['revoked', ALL],
    ])
    assert.deepEqual(group.requests(LeaveGroup), [])
    assert.equal(group.members.size, 1)
  })

  it('stopping while the broker holds the JoinGroup drops it, rejects start() and still leaves', async () => {
    const group = new FakeGroup()
    group.holdJoins = true
    const { member, calls } = newMember(group)
    const started = assert.rejects(member.start(), (e: unknown) => e instanceof KafkaxError && e.code === 'ESTATE')
    await until('the JoinGroup with the named member id', () => group.requests(JoinGroup).length === 2)
    await member.stop()
    await started
    assert.deepEqual(
      group.requests(LeaveGroup).map((l) => l.members.map((m: any) => m.memberId)),
      [['m-1']],
    )
    assert.deepEqual(calls, [])
  })

  it('a listener slower than the rebalance timeout is reported to onError, and still awaited', async () => {
    const group = new FakeGroup()
    let finished = false
    const { member, errors } = newMember(
      group,
      { rebalanceTimeoutMs: 40 },
      {
        onAssigned: async () => {
          await until('the slow listener to be reported', () => errors.length > 0)
          finished = true
        },
      },
    )
    await member.start()
    assert.ok(finished, 'start() waits for onAssigned')
    assert.equal(errors.length, 1)
    assert.ok(errors[0] instanceof TimeoutError)
    assert.match(errors[0].message, /onAssigned of group g ran past the rebalance timeout \(40 ms\)/)
  })
})
