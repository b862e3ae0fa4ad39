// The consumer-protocol (KIP-848) member's state machine without a broker: a plain fake of the
// cluster layer whose connections lead to one fake group coordinator. The coordinator keeps our
// member as the broker does (member epochs, the previous epoch it still accepts, partitions taken
// away before new ones are given, members expelled or fenced, commits checked against the epoch);
// the target assignment is scripted by each test. Every request and answer goes through the
// generated codecs at the version the member chose. Checked: joining with epoch 0 and the client's
// member id (KIP-1082), fields sent in full then only when changed, the broker's heartbeat interval,
// reconciliation (revoke, then assign, then acknowledge; unknown topic ids wait for metadata), fencing
// and expiry (lost, rejoin), fatal errors and a broker without the protocol, a coordinator that
// moves, commits and fetches with the member epoch, and leaving (-1, or -2 for a static member).

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ClusterMetadata } from '../../../src/client/metadata.ts'
import { tpKey } from '../../../src/client/topic-partition.ts'
import { ConsumerGroupMember, type ConsumerGroupMemberOptions } from '../../../src/group/consumer-member.ts'
import { ErrorCode, kafkaError } from '../../../src/protocol/error-codes.ts'
import { KafkaError, KafkaxError } from '../../../src/protocol/errors.ts'
import { type Api, OffsetCommit, OffsetFetch } from '../../../src/protocol/messages/index.ts'
import { setTopic } from '../../helpers/metadata.ts'
import { waitFor } from '../../helpers/wait.ts'
import { FakeCoordinator, GROUP, keys, memberMaker } from './fake-coordinator.ts'

const ORDERS = '0000000a-0000-0000-0000-000000000001'
const AUDIT = '0000000a-0000-0000-0000-000000000002'
const HEARTBEAT = 'ConsumerGroupHeartbeat'

/** Our member as the coordinator keeps it. */
interface BrokerMember {
  epoch: number
  previousEpoch: number
  instanceId: string | null
  /** What the member may use now (what the heartbeat answers name). */
  assigned: Map<string, number[]>
  /** What the member last said it owns. */
  owned: Map<string, number[]>
}

const asMap = (tps: { topicId: string; partitions: number[] }[]) =>
  new Map(tps.map((t) => [t.topicId, [...t.partitions].sort((a, b) => a - b)]))
const render = (m: Map<string, number[]>) =>
  [...m]
    .filter(([, ps]) => ps.length > 0)
    .map(([id, ps]) => `${id}:${ps.join(',')}`)
    .sort()
    .join(' ')
const minus = (a: Map<string, number[]>, b: Map<string, number[]>) =>
  new Map([...a].map(([id, ps]) => [id, ps.filter((p) => !b.get(id)?.includes(p))]))
const intersect = (a: Map<string, number[]>, b: Map<string, number[]>) =>
  new Map([...a].map(([id, ps]) => [id, ps.filter((p) => b.get(id)?.includes(p))]))
const isEmpty = (m: Map<string, number[]>) => [...m.values()].every((ps) => ps.length === 0)

/** The coordinator of group GROUP as the consumer protocol (KIP-848) has it. */
class FakeGroup extends FakeCoordinator {
  /** The highest ConsumerGroupHeartbeat version offered; undefined: the broker has no such API. */
  heartbeatVersion: number | undefined = 1
  heartbeatIntervalMs = 10
  heartbeatError = 0
  /** Topics the broker knows and the client's metadata does not yet (name, id, partitions). */
  readonly brokerOnly: [string, string, number][] = []
  /** Metadata refreshes that do not bring them yet (the topic has not reached every broker). */
  refreshMisses = 0
  /** Holds heartbeats (a stalled broker) until the connection closes. */
  holdHeartbeats = false
  held = 0

  // The group as the coordinator keeps it.
  groupEpoch = 0
  readonly members = new Map<string, BrokerMember>()
  /** What the assignor gives our member: every partition of orders to begin with. */
  target = new Map<string, number[]>([[ORDERS, [0, 1, 2, 3]]])

  constructor() {
    super()
    setTopic(this.metadata, 'orders', 4, 0, ORDERS)
  }

  override versionFor(api: Api): number {
    if (api.name !== HEARTBEAT) return api.request.latestStableVersion
    if (this.heartbeatVersion === undefined)
      throw kafkaError(ErrorCode.UNSUPPORTED_VERSION, `${api.name}: broker fake supports none, kafkax 0-1`)
    return Math.min(this.heartbeatVersion, api.request.latestStableVersion)
  }

  /** A metadata refresh brings what the broker knows (unless it misses it yet). */
  protected override refreshed(): ClusterMetadata {
    if (this.refreshMisses-- <= 0)
      for (const [name, id, n] of this.brokerOnly.splice(0)) setTopic(this.metadata, name, n, 0, id)
    return this.metadata
  }

  heartbeats(): any[] {
    return this.requests(HEARTBEAT)
  }

  /** The assignor's new target for our member: a new group epoch. */
  assign(target: Record<string, number[]>): void {
    this.target = new Map(Object.entries(target))
    this.groupEpoch++
  }

  /** The coordinator moved our member on to an epoch it did not hear of yet (it fences any older one). */
  fence(memberId: string): void {
    const m = this.members.get(memberId)!
    m.epoch += 10
    m.previousEpoch = m.epoch
  }

  answer(api: Api, body: any, node: number): unknown {
    const moved = node !== this.coordinatorNode ? ErrorCode.NOT_COORDINATOR : 0
    switch (api.name) {
      case HEARTBEAT:
        if (this.holdHeartbeats) {
          this.held++
          return new Promise(() => {})
        }
        return this.heartbeat(body, moved)
      case OffsetCommit.name:
        return this.offsetCommit(body, moved || this.check(body.memberId, body.generationIdOrMemberEpoch))
      case OffsetFetch.name:
        return this.offsetFetch(body, (g) => moved || this.check(g.memberId, g.memberEpoch))
    }
    throw new Error(`the fake coordinator does not answer ${api.name}`)
  }

  /** The error an OffsetCommit or OffsetFetch of the consumer protocol gets (ConsumerGroup.validateOffset*). */
  private check(memberId: string, epoch: number): number {
    const m = this.members.get(memberId)
    if (!m) return ErrorCode.UNKNOWN_MEMBER_ID
    return epoch === m.epoch ? 0 : ErrorCode.STALE_MEMBER_EPOCH
  }

  private heartbeat(body: any, moved: number): unknown {
    const answer = (errorCode: number, epoch = -1, assignment: Map<string, number[]> | null = null) => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage: errorCode ? 'fake' : null,
      memberId: body.memberId,
      memberEpoch: epoch,
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      assignment: assignment && {
        topicPartitions: [...assignment].map(([topicId, partitions]) => ({ topicId, partitions })),
      },
    })
    if (moved || this.heartbeatError) return answer(moved || this.heartbeatError)
    const { memberId, memberEpoch } = body
    if (memberEpoch === -1) {
      this.members.delete(memberId)
      return answer(0, -1)
    }
    if (memberEpoch === -2) {
      this.members.get(memberId)!.epoch = -2
      return answer(0, -2)
    }
    let m = this.members.get(memberId)
    if (memberEpoch === 0) {
      // GroupMetadataManager's checks of a (re)joining member
      assert.notEqual(body.rebalanceTimeoutMs, -1, 'RebalanceTimeoutMs must be provided in first request')
      assert.deepEqual(body.topicPartitions, [], 'TopicPartitions must be empty when (re-)joining')
      assert.ok(body.subscribedTopicNames !== null || body.subscribedTopicRegex !== null)
      m = { epoch: 0, previousEpoch: -1, instanceId: body.instanceId, assigned: new Map(), owned: new Map() }
      this.members.set(memberId, m)
      this.groupEpoch++
    } else {
      if (!m) return answer(ErrorCode.UNKNOWN_MEMBER_ID)
      const accepted = memberEpoch === m.epoch || (memberEpoch === m.previousEpoch && memberEpoch >= 0)
      if (!accepted) return answer(ErrorCode.FENCED_MEMBER_EPOCH)
    }
    if (body.topicPartitions !== null) m.owned = asMap(body.topicPartitions)
    const before = render(m.assigned)
    const beforeEpoch = m.epoch
    // the member keeps what stays, and gets nothing new before it says it gave the rest up
    m.assigned = intersect(m.assigned, this.target)
    if (!isEmpty(minus(m.owned, this.target))) {
      return answer(0, m.epoch, render(m.assigned) !== before || body.topicPartitions !== null ? m.assigned : null)
    }
    if (m.epoch < this.groupEpoch || render(m.assigned) !== render(this.target)) {
      m.previousEpoch = m.epoch
      m.epoch = this.groupEpoch
      m.assigned = new Map(this.target)
    }
    const changed = render(m.assigned) !== before || m.epoch !== beforeEpoch || body.topicPartitions !== null
    return answer(0, m.epoch, changed ? m.assigned : null)
  }
}

/** A member of GROUP on the fake, subscribed to 'orders', recording its listener calls and errors. */
const newMember = memberMaker(
  (cluster, options: ConsumerGroupMemberOptions, listener) => new ConsumerGroupMember(cluster, options, listener),
  { groupId: GROUP, topics: ['orders'], rebalanceTimeoutMs: 1000 } as ConsumerGroupMemberOptions,
)

/** The fake answers within milliseconds: a condition not met in 2 s will not be. */
const until = (what: string, condition: () => boolean, state?: () => unknown) =>
  waitFor(what, condition, { timeoutMs: 2000, intervalMs: 5, state })

const ALL = ['orders-0', 'orders-1', 'orders-2', 'orders-3']

describe('ConsumerGroupMember: joining', { timeout: 20_000 }, () => {
  it('joins with epoch 0, its own member id (KIP-1082) and every field; acknowledges; then sends only what changed', async () => {
    const group = new FakeGroup()
    const { member, calls } = newMember(group, { serverAssignor: 'range', rackId: 'rack-a' })
    await member.start()
    assert.deepEqual(calls, [['assigned', ALL]])
    assert.deepEqual(keys(member.assignment()), ALL)
    await until('the acknowledgement', () => group.heartbeats().length >= 2)
    const [join, ack] = group.heartbeats()
    assert.equal(group.sent.find((s) => s.api === HEARTBEAT)?.version, 1)
    assert.match(member.memberId, /^[A-Za-z0-9_-]{22}$/)
    assert.deepEqual(join, {
      groupId: GROUP,
      memberId: member.memberId,
      memberEpoch: 0,
      instanceId: null,
      rackId: 'rack-a',
      rebalanceTimeoutMs: 1000,
      subscribedTopicNames: ['orders'],
      subscribedTopicRegex: null,
      serverAssignor: 'range',
      topicPartitions: [],
    })
    // the acknowledgement names what is owned now, under the epoch the join answer gave
    assert.deepEqual(
      [ack.memberId, ack.memberEpoch, ack.topicPartitions],
      [member.memberId, 1, [{ topicId: ORDERS, partitions: [0, 1, 2, 3] }]],
    )
    await until('two more heartbeats', () => group.heartbeats().length >= 4)
    const later = group.heartbeats()[3]
    assert.deepEqual(
      [later.rebalanceTimeoutMs, later.subscribedTopicNames, later.serverAssignor, later.topicPartitions, later.rackId],
      [-1, null, null, null, null],
      'nothing changed: nothing but the identity',
    )
    assert.ok(group.heartbeats().every((h) => h.memberId === member.memberId))
    assert.deepEqual(member.commitIdentity(), {
      groupId: GROUP,
      memberId: member.memberId,
      memberEpoch: 1,
      groupInstanceId: null,
    })
  })

  it('heartbeats at the interval the broker dictates', async () => {
    const group = new FakeGroup()
    group.heartbeatIntervalMs = 40
    const { member } = newMember(group)
    await member.start()
    await until('eight heartbeats', () => group.heartbeats().length >= 8)
    // after the join and its acknowledgement (sent at once), one beat per interval
    const at = group.sent.filter((s) => s.api === HEARTBEAT).map((s) => s.at)
    const gaps = at.slice(3, 8).map((t, i) => t - at[i + 2])
    assert.ok(
      gaps.every((g) => g >= 35 && g < 400),
      `gaps between beats: ${gaps.join(', ')} ms`,
    )
  })

  it('an empty assignment resolves start() too, and partitions given later are assigned', async () => {
    const group = new FakeGroup()
    group.assign({})
    const { member, calls } = newMember(group)
    await member.start()
    assert.deepEqual(calls, [])
    group.assign({ [ORDERS]: [2] })
    await until('the partition given later', () => calls.length === 1)
    assert.deepEqual(calls, [['assigned', ['orders-2']]])
  })

  it('a broker without ConsumerGroupHeartbeat v1 (before Kafka 4.0) rejects start() with UNSUPPORTED_VERSION', async () => {
    for (const offered of [undefined, 0]) {
      const group = new FakeGroup()
      group.heartbeatVersion = offered
      const { member } = newMember(group)
      await assert.rejects(
        member.start(),
        (e: unknown) =>
          e instanceof KafkaError &&
          e.type === 'UNSUPPORTED_VERSION' &&
          /groupProtocol 'consumer' \(KIP-848\) needs .*Kafka 4\.0.*groupProtocol 'classic'/.test(e.message),
      )
      assert.deepEqual(group.heartbeats(), [], 'nothing was sent')
    }
  })

  it('an error it cannot recover from rejects start(); after joining it goes to onError and the partitions are lost', async () => {
    const group = new FakeGroup()
    group.heartbeatError = ErrorCode.GROUP_AUTHORIZATION_FAILED
    const { member } = newMember(group)
    await assert.rejects(
      member.start(),
      (e: unknown) => e instanceof KafkaError && e.type === 'GROUP_AUTHORIZATION_FAILED',
    )

    const joined = new FakeGroup()
    const { member: second, calls, errors } = newMember(joined)
    await second.start()
    joined.heartbeatError = ErrorCode.UNSUPPORTED_ASSIGNOR
    await until('the error and the loss', () => errors.length === 1 && calls.length === 2)
    assert.ok(errors[0] instanceof KafkaError && errors[0].type === 'UNSUPPORTED_ASSIGNOR', String(errors[0]))
    assert.deepEqual(calls, [
      ['assigned', ALL],
      ['lost', ALL],
    ])
    const beats = joined.heartbeats().length
    // a failed member stops heartbeating: give it ten intervals to (not) send one
    await new Promise((r) => setTimeout(r, 100))
    assert.equal(joined.heartbeats().length, beats)
  })
})

describe('ConsumerGroupMember: reconciliation', { timeout: 20_000 }, () => {
  it('revokes what leaves (handlers done, committed) before acknowledging; keeps what stays; then takes what comes', async () => {
    const group = new FakeGroup()
    let ackDuringRevoke = false
    const { member, calls } = newMember(
      group,
      {},
      {
        onRevoked: async () => {
          const beats = group.heartbeats().length
          // heartbeats go on while the consumer finishes its handlers and commits...
          await until('a heartbeat while onRevoked runs', () => group.heartbeats().length > beats)
          await member.commit([{ topic: 'orders', partition: 3, offset: 30n }])
          // ...but none of them says the partitions are given up
          ackDuringRevoke = group.heartbeats().some((h) => h.topicPartitions?.[0]?.partitions.length === 2)
        },
      },
    )
    await member.start()
    const epoch = member.memberEpoch
    group.assign({ [ORDERS]: [0, 1] })
    await until('the smaller assignment acknowledged', () => member.assignment().length === 2 && calls.length === 2)
    assert.deepEqual(calls, [
      ['assigned', ALL],
      ['revoked', ['orders-2', 'orders-3']],
    ])
    assert.equal(ackDuringRevoke, false)
    // the commit in onRevoked went with the epoch the partitions were owned in, and counted
    assert.deepEqual(
      group.requests(OffsetCommit).map((c) => [c.memberId, c.generationIdOrMemberEpoch]),
      [[member.memberId, epoch]],
    )
    assert.deepEqual([...group.committed], [['orders-3', 30n]])
    const acked = () =>
      group.sent.findIndex((s) => s.api === HEARTBEAT && s.body.topicPartitions?.[0]?.partitions.join() === '0,1')
    await until('the acknowledgement of what is left', () => acked() >= 0)
    const commitAt = group.sent.findIndex((s) => s.api === 'OffsetCommit')
    assert.ok(commitAt >= 0 && commitAt < acked(), 'committed before acknowledging')
    await until('the new epoch', () => member.memberEpoch > epoch)

    group.assign({ [ORDERS]: [0, 1, 3] })
    await until('the partition coming back', () => calls.length === 3)
    assert.deepEqual(calls.at(-1), ['assigned', ['orders-3']])
    assert.deepEqual(keys(member.assignment()), ['orders-0', 'orders-1', 'orders-3'])
  })

  it('a topic id the metadata does not know yet waits for a refresh; the known part is reconciled meanwhile', async () => {
    const group = new FakeGroup()
    group.brokerOnly.push(['audit', AUDIT, 2])
    // the first refresh does not find it yet: the member tries again after a backoff
    group.refreshMisses = 1
    group.assign({ [ORDERS]: [0], [AUDIT]: [0, 1] })
    const { member, calls } = newMember(group, { topics: ['orders', 'audit'] })
    await member.start()
    assert.deepEqual(calls, [['assigned', ['orders-0']]])
    await until(
      'the audit partitions',
      () => calls.length === 2,
      () => calls,
    )
    assert.deepEqual(calls[1], ['assigned', ['audit-0', 'audit-1']])
    assert.deepEqual(group.refreshes, [
      ['orders', 'audit'],
      ['orders', 'audit'],
    ])
    assert.deepEqual(keys(member.assignment()), ['audit-0', 'audit-1', 'orders-0'])
    // the partial assignment was acknowledged first, the whole one after
    await until('the whole assignment acknowledged', () =>
      group.heartbeats().some((h) => h.topicPartitions?.length === 2),
    )
    const acks = group.heartbeats().filter((h) => h.memberEpoch > 0 && h.topicPartitions !== null)
    assert.deepEqual(acks[0].topicPartitions, [{ topicId: ORDERS, partitions: [0] }])
  })

  it("a regex subscription goes as SubscribedTopicRegex; the topics it matched resolve through every topic's metadata", async () => {
    const group = new FakeGroup()
    group.brokerOnly.push(['audit', AUDIT, 2])
    group.assign({ [AUDIT]: [0, 1] })
    const { member, calls } = newMember(group, { topics: [], topicRegex: 'aud.*' })
    await member.start()
    await until('the matched topic assigned', () => calls.length === 1)
    assert.deepEqual(calls, [['assigned', ['audit-0', 'audit-1']]])
    const [join, ...later] = group.heartbeats()
    assert.deepEqual([join.subscribedTopicNames, join.subscribedTopicRegex], [[], 'aud.*'])
    assert.ok(
      later.every((h) => h.subscribedTopicRegex === null),
      'sent once',
    )
    assert.deepEqual([group.allTopicRefreshes, group.refreshes], [1, []])
  })

  it('listener calls run one after the other: a loss during a slow onAssigned comes after it', async () => {
    const group = new FakeGroup()
    let release!: () => void
    const slow = new Promise<void>((resolve) => {
      release = resolve
    })
    const order: string[] = []
    const { member } = newMember(
      group,
      {},
      {
        onAssigned: async (ps) => {
          order.push(`assigned ${ps.length}`)
          if (ps.length === 1) await slow
          order.push('assigned done')
        },
        onLost: (ps) => void order.push(`lost ${ps.length}`),
      },
    )
    await member.start()
    setTopic(group.metadata, 'orders', 5, 0, ORDERS)
    group.assign({ [ORDERS]: [0, 1, 2, 3, 4] })
    await until('the slow onAssigned', () => order.includes('assigned 1'))
    group.fence(member.memberId)
    await until('the member fenced', () => member.memberEpoch === 0)
    assert.deepEqual(order, ['assigned 4', 'assigned done', 'assigned 1'])
    release()
    await until(
      'the loss, then the rejoin',
      () => order.length === 7,
      () => order,
    )
    // the partition being assigned when the member was fenced is lost with the others
    assert.deepEqual(order, [
      'assigned 4',
      'assigned done',
      'assigned 1',
      'assigned done',
      'lost 5',
      'assigned 5',
      'assigned done',
    ])
  })
})

describe('ConsumerGroupMember: fenced and unknown members', { timeout: 20_000 }, () => {
  it('FENCED_MEMBER_EPOCH: everything is lost (not revoked) and the member rejoins with epoch 0 and the same id', async () => {
    const group = new FakeGroup()
    const { member, calls } = newMember(group)
    await member.start()
    const id = member.memberId
    group.fence(id)
    await until('the new assignment', () => calls.length === 3)
    assert.deepEqual(calls, [
      ['assigned', ALL],
      ['lost', ALL],
      ['assigned', ALL],
    ])
    const joins = group.heartbeats().filter((h) => h.memberEpoch === 0)
    assert.equal(joins.length, 2)
    assert.equal(joins[1].memberId, id)
    // the rejoin sends every field again, and owns nothing
    assert.deepEqual(
      [joins[1].subscribedTopicNames, joins[1].rebalanceTimeoutMs, joins[1].topicPartitions],
      [['orders'], 1000, []],
    )
  })

  it('UNKNOWN_MEMBER_ID (the session expired): lost, then joined again', async () => {
    const group = new FakeGroup()
    const { member, calls } = newMember(group)
    await member.start()
    group.members.delete(member.memberId)
    await until('the new assignment', () => calls.length === 3)
    assert.deepEqual(calls, [
      ['assigned', ALL],
      ['lost', ALL],
      ['assigned', ALL],
    ])
    assert.ok(group.members.has(member.memberId))
  })
})

describe('ConsumerGroupMember: the coordinator connection', { timeout: 20_000 }, () => {
  it('NOT_COORDINATOR: looked up again; the member keeps its epoch and partitions', async () => {
    const group = new FakeGroup()
    const { member, calls } = newMember(group)
    await member.start()
    const epoch = member.memberEpoch
    group.coordinatorNode = 2
    await until('a heartbeat at the new coordinator', () =>
      group.sent.some((s) => s.api === HEARTBEAT && s.node === 2 && s.body.memberEpoch === epoch),
    )
    assert.deepEqual(group.opened, [1, 2])
    assert.deepEqual(calls, [['assigned', ALL]])
    // a failed heartbeat may not have reached the broker: the next one sends everything again
    const atNew = group.sent.find((s) => s.api === HEARTBEAT && s.node === 2)!.body
    assert.deepEqual([atNew.subscribedTopicNames, atNew.rebalanceTimeoutMs], [['orders'], 1000])
    assert.deepEqual(atNew.topicPartitions, [{ topicId: ORDERS, partitions: [0, 1, 2, 3] }])
  })

  it('a connection lost under a heartbeat: the next goes on a new connection, with every field', async () => {
    const group = new FakeGroup()
    const { member } = newMember(group)
    await member.start()
    await until('the acknowledgement', () => group.heartbeats().length >= 2)
    group.holdHeartbeats = true
    await until('a heartbeat held by the broker', () => group.held === 1)
    group.holdHeartbeats = false
    group.dropConnections()
    await until('a heartbeat on a second connection', () =>
      group.sent.some((s) => s.api === HEARTBEAT && s.connection === 1),
    )
    const again = group.sent.find((s) => s.api === HEARTBEAT && s.connection === 1)!.body
    assert.equal(again.memberEpoch, member.memberEpoch)
    assert.deepEqual(again.subscribedTopicNames, ['orders'])
  })
})

describe('ConsumerGroupMember: offsets', { timeout: 20_000 }, () => {
  it('commits and fetches as the member and its epoch; STALE_MEMBER_EPOCH is retried with the epoch a heartbeat brings', async () => {
    const group = new FakeGroup()
    const { member } = newMember(group)
    await member.start()
    await member.commit([{ topic: 'orders', partition: 1, offset: 42n }])
    const committed = await member.committed([
      { topic: 'orders', partition: 0 },
      { topic: 'orders', partition: 1 },
    ])
    assert.deepEqual(
      committed,
      new Map([
        [tpKey('orders', 0), null],
        [tpKey('orders', 1), { offset: 42n, leaderEpoch: -1 }],
      ]),
    )
    assert.deepEqual(
      group.requests(OffsetFetch).map((f) => [f.groups[0].memberId, f.groups[0].memberEpoch]),
      [[member.memberId, member.memberEpoch]],
    )
    // the coordinator bumps the epoch; the member hears of it with its next heartbeat
    const m = group.members.get(member.memberId)!
    m.previousEpoch = m.epoch
    m.epoch++
    group.groupEpoch = m.epoch
    await member.commit([{ topic: 'orders', partition: 2, offset: 7n }])
    const commits = group.requests(OffsetCommit).map((c) => c.generationIdOrMemberEpoch)
    assert.ok(commits.length >= 3, `commits: ${commits}`)
    assert.equal(commits.at(-1), m.epoch)
    assert.equal(group.committed.get('orders-2'), 7n)
  })

  it('UNKNOWN_MEMBER_ID on a commit is thrown to the caller, not retried', async () => {
    const group = new FakeGroup()
    group.heartbeatIntervalMs = 60_000
    const { member } = newMember(group)
    await member.start()
    group.members.delete(member.memberId)
    await assert.rejects(
      member.commit([{ topic: 'orders', partition: 0, offset: 1n }]),
      (e: unknown) => e instanceof KafkaError && e.type === 'UNKNOWN_MEMBER_ID' && !e.retriable,
    )
    assert.equal(group.requests(OffsetCommit).length, 1)
  })
})

describe('ConsumerGroupMember: leaving', { timeout: 20_000 }, () => {
  it('revokes (heartbeats go on, commits count), then leaves with epoch -1, last', async () => {
    const group = new FakeGroup()
    let beatsDuringRevoke = 0
    const { member, calls } = newMember(
      group,
      {},
      {
        onRevoked: async () => {
          const beats = group.heartbeats().length
          await until('a heartbeat while onRevoked runs', () => group.heartbeats().length > beats)
          beatsDuringRevoke = group.heartbeats().length - beats
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
    const last = group.sent.at(-1)!
    assert.deepEqual([last.api, last.body.memberEpoch, last.body.memberId], [HEARTBEAT, -1, member.memberId])
    assert.equal(group.members.size, 0)
    assert.deepEqual(member.assignment(), [])
    assert.equal(group.connections.size, 0)
    const sent = group.sent.length
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(group.sent.length, sent, 'nothing after leaving')
  })

  it('a static member leaves with epoch -2 and its instance id: the broker keeps its slot', async () => {
    const group = new FakeGroup()
    const { member } = newMember(group, { groupInstanceId: 'i-1' })
    await member.start()
    assert.equal(group.heartbeats()[0].instanceId, 'i-1')
    await member.stop()
    const last = group.heartbeats().at(-1)
    assert.deepEqual([last.memberEpoch, last.instanceId], [-2, 'i-1'])
    assert.equal(group.members.get(member.memberId)?.epoch, -2)
  })

  it('stopping before the first assignment rejects start() and still leaves', async () => {
    const group = new FakeGroup()
    group.heartbeatError = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
    const { member, calls } = newMember(group)
    const started = assert.rejects(member.start(), (e: unknown) => e instanceof KafkaxError && e.code === 'ESTATE')
    await until('a heartbeat answered COORDINATOR_LOAD_IN_PROGRESS', () => group.heartbeats().length >= 2)
    group.heartbeatError = 0
    await member.stop()
    await started
    assert.equal(group.heartbeats().at(-1).memberEpoch, -1)
    assert.deepEqual(calls, [])
  })

  it('a member fenced while it revokes to leave neither sends the leave heartbeat nor rejoins', async () => {
    const group = new FakeGroup()
    const { member, calls } = newMember(
      group,
      {},
      {
        onRevoked: async () => {
          group.fence(member.memberId)
          await until('the member fenced', () => member.memberEpoch < 0)
        },
      },
    )
    await member.start()
    await member.stop()
    assert.deepEqual(calls, [
      ['assigned', ALL],
      ['revoked', ALL],
    ])
    const epochs = group.heartbeats().map((h) => h.memberEpoch)
    assert.equal(epochs.filter((e) => e === 0).length, 1, `no rejoin (epochs sent: ${epochs})`)
    assert.ok(!epochs.includes(-1), 'no leave heartbeat: the broker let it go')
  })
})
