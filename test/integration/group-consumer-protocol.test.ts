// The consumer group protocol (KIP-848, groupProtocol: 'consumer') on a real broker: kafkax members
// rebalancing incrementally (no partition ever has two owners, only what moves is revoked, the
// commits end at the end offsets), members joining, leaving and killed with SIGKILL while 200k
// records flow on both protocols (nothing lost; duplicates only of the killed member's uncommitted
// work), a mixed group of kafkax members and Java consumers (Kafka's VerifiableConsumer with
// group.protocol=consumer), the server-side assignors by name, and on Kafka 3.9 a typed
// UNSUPPORTED_VERSION error. Groups get short sessions through their group configs (the harness
// lowers the broker's minimums).

import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { release } from '../../scripts/kafka/harness.ts'
import { Admin } from '../../src/admin/admin.ts'
import { Consumer, type ConsumerOptions } from '../../src/consumer/consumer.ts'
import type { Message, TopicPartition } from '../../src/consumer/message.ts'
import { Producer } from '../../src/producer/producer.ts'
import { KafkaError } from '../../src/protocol/errors.ts'
import { childConsumer } from '../helpers/consumers.ts'
import { brokers, uniqueTopic } from '../helpers/kafka.ts'
import { VerifiableConsumer } from '../helpers/verifiable-consumer.ts'
import { sleep, waitFor } from '../helpers/wait.ts'

const admin = new Admin({ brokers: brokers() })
const key = (tp: TopicPartition) => `${tp.topic}-${tp.partition}`

async function newTopic(partitions: number, prefix: string): Promise<string> {
  const topic = uniqueTopic(prefix)
  await admin.createTopics([{ topic, partitions, replicationFactor: 1 }])
  return topic
}

/** A KIP-848 group whose members are dropped 6 s after their last heartbeat, sent every 500 ms. */
async function shortSessions(groupId: string): Promise<void> {
  await admin.incrementalAlterConfigs([
    {
      type: 'group',
      name: groupId,
      ops: [
        { key: 'consumer.session.timeout.ms', op: 'set', value: '6000' },
        { key: 'consumer.heartbeat.interval.ms', op: 'set', value: '500' },
      ],
    },
  ])
}

/** Produces `count` records; every 5000 records `pause` (if given) may hold the rest back. */
async function produce(
  topic: string,
  count: number,
  from = 0,
  pause?: (produced: number) => Promise<void>,
): Promise<void> {
  const producer = new Producer({ brokers: brokers(), batch: { lingerMs: 5 } })
  for (let i = from; i < from + count; i++) {
    producer.publish({ topic, key: String(i % 1000), value: String(i) })
    if (i % 5000 === 4999) await (pause ? pause(i + 1 - from) : sleep(10))
  }
  await producer.close()
}

/** A kafkax member with the values it handled and the partitions it was revoked. */
function member(topic: string, groupId: string, seen: Map<string, number>, extra: Partial<ConsumerOptions> = {}) {
  const consumer = new Consumer({
    brokers: brokers(),
    groupId,
    topics: [topic],
    fromBeginning: true,
    groupProtocol: 'consumer',
    commit: { intervalMs: 1000 },
    ...extra,
  })
  const revoked: string[] = []
  const errors: Error[] = []
  consumer.on('revoked', (tps: TopicPartition[]) => revoked.push(...tps.map(key)))
  consumer.on('error', (e: Error) => errors.push(e))
  const run = consumer.run((m: Message) => {
    const v = m.value!.toString()
    seen.set(v, (seen.get(v) ?? 0) + 1)
  })
  return { consumer, run, revoked, errors, owned: () => consumer.assignment().map(key) }
}

/** Watches who owns what every 20 ms; any partition owned by two at once is recorded. */
function overlapWatch(owners: () => string[][]): { overlaps: string[]; stop: () => void } {
  const overlaps: string[] = []
  const timer = setInterval(() => {
    const seen = new Set<string>()
    for (const list of owners()) for (const p of list) seen.has(p) ? overlaps.push(p) : seen.add(p)
  }, 20)
  return { overlaps, stop: () => clearInterval(timer) }
}

async function endOffsets(topic: string, partitions: number): Promise<Map<number, bigint>> {
  const ends = await admin.listOffsets({
    topic,
    partitions: Array.from({ length: partitions }, (_, i) => i),
    at: 'latest',
  })
  return new Map(ends.map((e) => [e.partition, e.offset]))
}

async function committed(groupId: string): Promise<Map<number, bigint>> {
  return new Map((await admin.fetchCommittedOffsets(groupId)).map((c) => [c.partition, c.offset]))
}

after(() => admin.close())

if (release().line === '3.9') {
  describe('the consumer group protocol on Kafka 3.9', () => {
    it("groupProtocol 'consumer' fails with a typed UNSUPPORTED_VERSION error naming the way out", async () => {
      const topic = await newTopic(1, 'kip848-39')
      const consumer = new Consumer({ brokers: brokers(), groupId: topic, topics: [topic], groupProtocol: 'consumer' })
      await assert.rejects(
        consumer.run(() => {}),
        (e: unknown) =>
          e instanceof KafkaError &&
          e.type === 'UNSUPPORTED_VERSION' &&
          !e.retriable &&
          /groupProtocol 'consumer' \(KIP-848\) needs .*Kafka 4\.0.*use groupProtocol 'classic'/.test(e.message),
      )
      await admin.deleteTopics([topic])
    })
  })
} else {
  describe('the consumer group protocol (KIP-848)', { timeout: 300_000 }, () => {
    it('three members rebalance incrementally: no partition has two owners, only what moves is revoked, commits end at the end', async () => {
      const topic = await newTopic(6, 'kip848-rebalance')
      const groupId = `group-${topic}`
      await shortSessions(groupId)
      await produce(topic, 3000)
      const seen = new Map<string, number>()
      const a = member(topic, groupId, seen)
      const watch = overlapWatch(() => members.map((m) => m.owned()))
      const members = [a]
      await waitFor('the first member to own every partition', () => a.owned().length === 6)
      const b = member(topic, groupId, seen)
      members.push(b)
      await waitFor('a 3+3 split', () => a.owned().length === 3 && b.owned().length === 3, {
        state: () => members.map((m) => m.owned()),
      })
      // incremental: the first member gave up only what the second got
      assert.deepEqual([...a.revoked].sort(), [...b.owned()].sort())
      const c = member(topic, groupId, seen)
      members.push(c)
      await waitFor('a 2+2+2 split', () => members.every((m) => m.owned().length === 2), {
        state: () => members.map((m) => m.owned()),
      })
      await produce(topic, 3000, 3000)
      await waitFor('all 6000 records', () => seen.size === 6000, { timeoutMs: 60_000, state: () => seen.size })
      await c.consumer.stop()
      await c.run
      await waitFor('the two left to take over', () => a.owned().length + b.owned().length === 6)
      await Promise.all([a.consumer.stop(), b.consumer.stop()])
      await Promise.all([a.run, b.run])
      watch.stop()
      assert.deepEqual(watch.overlaps, [], 'a partition with two owners at once')
      assert.deepEqual(
        members.flatMap((m) => m.errors),
        [],
      )
      assert.equal([...seen.values()].filter((n) => n > 1).length, 0, 'clean handovers: nothing handled twice')
      assert.deepEqual(await committed(groupId), await endOffsets(topic, 6))
      const [group] = await admin.describeGroups([groupId])
      assert.deepEqual([group.type, group.state, group.members.length], ['consumer', 'Empty', 0])
    })

    for (const protocol of ['consumer', 'classic'] as const) {
      it(`${protocol} protocol: members join, leave and are killed with SIGKILL while 200k records flow: nothing lost, duplicates only of the killed member's uncommitted work`, async (t) => {
        const topic = await newTopic(6, `kip848-churn-${protocol}`)
        const groupId = `group-${topic}`
        if (protocol === 'consumer') await shortSessions(groupId)
        const TOTAL = 200_000
        // the member to kill runs in its own process and commits only when it gives partitions up
        let child: ReturnType<typeof childConsumer> | undefined
        const seen = new Map<string, number>()
        const options: Partial<ConsumerOptions> = {
          groupProtocol: protocol,
          sessionTimeoutMs: 6000,
          heartbeatIntervalMs: 500,
          assignors: ['cooperative-sticky'],
        }
        // every member started, so that a failure stops them all and the file can end
        const members: ReturnType<typeof member>[] = []
        const start = () => members[members.push(member(topic, groupId, seen, options)) - 1]
        const a = start()
        // the first member can drain a fast backlog before the child has joined: the last four
        // fifths are produced once the child owns partitions, so that it has records to handle
        const producing = produce(topic, TOTAL, 0, async (produced) => {
          await sleep(10)
          if (produced < TOTAL / 5) return
          await waitFor(
            'the child to own partitions before the rest is produced',
            () => child !== undefined && a.owned().length < 6,
            {
              timeoutMs: 60_000,
            },
          ).catch(() => {}) // the wait for the child's records below fails, with its state
        })
        try {
          await waitFor('the first member to own every partition', () => a.owned().length === 6)
          child = childConsumer(topic, groupId, protocol)
          const childSeen = child.seen
          await waitFor('the child to handle records', () => childSeen.size >= 300, {
            timeoutMs: 60_000,
            state: () => ({
              childHandled: childSeen.size,
              childExit: child?.child.exitCode,
              firstMember: a.owned(),
              handled: seen.size,
            }),
          })
          const b = start()
          await waitFor('the third member to get partitions', () => b.owned().length > 0, { timeoutMs: 60_000 })
          child.child.kill('SIGKILL')
          await child.exited
          await waitFor(
            'the survivors to take the killed member over',
            () => a.owned().length + b.owned().length === 6,
            { timeoutMs: 60_000, state: () => [a.owned(), b.owned()] },
          )
          await a.consumer.stop()
          await a.run
          const c = start()
          await producing
          await waitFor(
            'every record handled',
            () => [...seen.keys()].length + missingFrom(seen, childSeen) === TOTAL,
            {
              timeoutMs: 180_000,
              state: () => seen.size,
            },
          )
          await Promise.all([b.consumer.stop(), c.consumer.stop()])
          await Promise.all([b.run, c.run])
          assert.deepEqual(await committed(groupId), await endOffsets(topic, 6))
        } finally {
          child?.child.kill('SIGKILL')
          await Promise.allSettled(members.map((m) => m.consumer.stop()))
          await producing
        }
        const childSeen = child.seen
        const lost: string[] = []
        for (let i = 0; i < TOTAL; i++) if (!seen.has(String(i)) && !childSeen.has(String(i))) lost.push(String(i))
        assert.deepEqual(lost.slice(0, 10), [], `${lost.length} records lost`)
        // what the killed member handled and had not committed is handled again; nothing else twice
        const twice = [...seen].filter(([, n]) => n > 1).map(([v]) => v)
        const again = [...childSeen].filter((v) => seen.has(v))
        t.diagnostic(
          `${protocol}: ${childSeen.size} handled by the killed member, ${again.length} of them again; ${twice.length} handled twice by the survivors`,
        )
        assert.deepEqual(twice, [], 'clean handovers between the survivors: nothing twice')
      })
    }

    it('a mixed group of kafkax members and Java consumers (group.protocol=consumer): no overlap, nothing lost, commits at the end', async () => {
      const topic = await newTopic(8, 'kip848-mixed')
      const groupId = `group-${topic}`
      await shortSessions(groupId)
      await produce(topic, 5000)
      const seen = new Map<string, number>()
      const javas = [0, 1].map(
        () => new VerifiableConsumer({ bootstrap: brokers()[0], topic, groupId, protocol: 'consumer' }),
      )
      const ours: ReturnType<typeof member>[] = []
      const owners = () => [...javas.map((j) => [...j.owned]), ...ours.map((m) => m.owned())]
      const watch = overlapWatch(owners)
      const javaSeen = (v: string) => javas.some((j) => j.seen.has(v))
      try {
        await waitFor('the Java consumers to own 4 partitions each', () => javas.every((j) => j.owned.size === 4), {
          timeoutMs: 60_000,
          state: owners,
        })
        ours.push(member(topic, groupId, seen))
        ours.push(member(topic, groupId, seen))
        await waitFor(
          'a 2+2+2+2 split across both Java consumers and both kafkax members',
          () => owners().every((o) => o.length === 2),
          {
            timeoutMs: 60_000,
            state: owners,
          },
        )
        const [group] = await admin.describeGroups([groupId])
        assert.deepEqual([group.type, group.members.length], ['consumer', 4])
        assert.equal(group.members.filter((m) => m.clientId === 'kafkax').length, 2, 'the Java ones are not ours')
        await produce(topic, 5000, 5000)
        const all = () => new Set([...seen.keys(), ...javas.flatMap((j) => [...j.seen.keys()])])
        await waitFor('all 10000 records', () => all().size === 10_000, { timeoutMs: 60_000 })
        // the Java consumers leave one by one: their partitions go to the members left, in the end the kafkax ones
        await javas[0].stop()
        await waitFor(
          'the three members left to own every partition',
          () => owners().flat().length === 8 && javas[1].owned.size > 0,
          {
            timeoutMs: 60_000,
            state: owners,
          },
        )
        await javas[1].stop()
        await waitFor('the kafkax members to own every partition', () => ours.every((m) => m.owned().length === 4), {
          timeoutMs: 60_000,
          state: () => ours.map((m) => m.owned()),
        })
        await Promise.all(ours.map((m) => m.consumer.stop()))
        await Promise.all(ours.map((m) => m.run))
        assert.equal(all().size, 10_000, 'nothing lost')
      } finally {
        watch.stop()
        await Promise.all(javas.map((j) => j.kill()))
        await Promise.all(ours.map((m) => m.consumer.stop()))
      }
      assert.deepEqual(watch.overlaps, [], 'a partition with two owners at once')
      assert.ok(
        javas.every((j) => j.seen.size > 0) && seen.size > 0,
        `every member consumed (Java ${javas.map((j) => j.seen.size)}, kafkax ${seen.size})`,
      )
      const twice = [...seen.keys()].filter(javaSeen)
      const javaTwice = [...javas[0].seen.keys()].filter((v) => javas[1].seen.has(v))
      assert.deepEqual([...twice, ...javaTwice], [], 'handovers commit: no record handled by two members')
      assert.deepEqual(await committed(groupId), await endOffsets(topic, 8))
    })

    it('a classic group upgraded online: members restarted one by one with the consumer protocol, nothing lost', async (t) => {
      const topic = await newTopic(6, 'kip848-upgrade')
      const groupId = `group-${topic}`
      const TOTAL = 60_000
      const producing = produce(topic, TOTAL)
      const seen = new Map<string, number>()
      const classic: Partial<ConsumerOptions> = {
        groupProtocol: 'classic',
        assignors: ['cooperative-sticky'],
        sessionTimeoutMs: 10_000,
        heartbeatIntervalMs: 500,
      }
      const members = [0, 1, 2].map(() => member(topic, groupId, seen, classic))
      const watch = overlapWatch(() => members.map((m) => m.owned()))
      const types: string[][] = []
      try {
        await waitFor(
          'three classic members sharing the partitions',
          () => members.every((m) => m.owned().length === 2),
          {
            timeoutMs: 60_000,
            state: () => members.map((m) => m.owned()),
          },
        )
        assert.equal((await admin.describeGroups([groupId]))[0].type, 'classic')
        for (let i = 0; i < members.length; i++) {
          await members[i].consumer.stop()
          await members[i].run
          members[i] = member(topic, groupId, seen)
          await waitFor(
            `member ${i} back on the consumer protocol, the partitions shared again`,
            () => members.every((m) => m.owned().length === 2),
            { timeoutMs: 60_000, state: () => members.map((m) => m.owned()) },
          )
          const [group] = await admin.describeGroups([groupId])
          types.push(group.members.map((m) => m.memberType ?? group.type).sort())
        }
        await producing
        await waitFor(`all ${TOTAL} records`, () => seen.size === TOTAL, { timeoutMs: 120_000, state: () => seen.size })
        await Promise.all(members.map((m) => m.consumer.stop()))
        await Promise.all(members.map((m) => m.run))
      } finally {
        watch.stop()
        await Promise.all(members.map((m) => m.consumer.stop()))
      }
      // the group turned into a consumer group with the first member on the new protocol, the
      // classic members staying in it until they were restarted
      assert.deepEqual(types, [
        ['classic', 'classic', 'consumer'],
        ['classic', 'consumer', 'consumer'],
        ['consumer', 'consumer', 'consumer'],
      ])
      assert.deepEqual(watch.overlaps, [], 'a partition with two owners at once')
      const twice = [...seen.values()].filter((n) => n > 1).length
      t.diagnostic(`upgrade: ${TOTAL} records, ${twice} handled twice`)
      assert.equal(twice, 0, 'clean handovers: nothing handled twice')
      assert.deepEqual(await committed(groupId), await endOffsets(topic, 6))
      assert.deepEqual(
        members.flatMap((m) => m.errors),
        [],
      )
    })

    it("describeGroups (ConsumerGroupDescribe) shows each member's target and current assignment while it reconciles; listGroups the type", async () => {
      const topic = await newTopic(6, 'kip848-describe')
      const groupId = `group-${topic}`
      await shortSessions(groupId)
      await produce(topic, 600)
      // the first member's handlers hang: the partitions it must give up are not released
      let release!: () => void
      const hung = new Promise<void>((resolve) => {
        release = resolve
      })
      const a = new Consumer({
        brokers: brokers(),
        groupId,
        topics: [topic],
        fromBeginning: true,
        groupProtocol: 'consumer',
        concurrency: 6,
      })
      const running = a.run(() => hung)
      const seen = new Map<string, number>()
      let b: ReturnType<typeof member> | undefined
      try {
        await waitFor('the first member to own every partition', () => a.assignment().length === 6)
        b = member(topic, groupId, seen)
        const count = (assignment?: { partitions: number[] }[]) =>
          (assignment ?? []).reduce((n, t) => n + t.partitions.length, 0)
        const describe = async () => (await admin.describeGroups([groupId]))[0]
        let reconciling = await describe()
        await waitFor(
          'the second member to have a target it cannot own yet',
          async () => {
            reconciling = await describe()
            const second = reconciling.members.find((m) => m.memberId !== reconciling.members[0]?.memberId)
            return reconciling.members.length === 2 && second !== undefined && count(second.targetAssignment) === 3
          },
          { state: () => reconciling },
        )
        assert.deepEqual([reconciling.type, reconciling.state], ['consumer', 'Reconciling'])
        const targets = reconciling.members.map((m) => count(m.targetAssignment))
        const owned = reconciling.members.map((m) => count(m.assignment)).sort()
        assert.deepEqual(targets, [3, 3])
        // the first member still owns all six (three of them pending revocation); the second waits for them
        assert.deepEqual(owned, [0, 6])
        assert.ok(reconciling.members.every((m) => m.memberType === 'consumer' && (m.memberEpoch ?? 0) > 0))
        assert.ok((reconciling.groupEpoch ?? 0) >= (reconciling.assignmentEpoch ?? 0))
        assert.deepEqual(
          reconciling.members.map((m) => m.subscription?.topics),
          [[topic], [topic]],
        )
        release()
        let stable = reconciling
        await waitFor(
          'every member to own its target',
          async () => {
            stable = await describe()
            return (
              stable.state === 'Stable' &&
              stable.members.every((m) => count(m.assignment) === 3 && count(m.targetAssignment) === 3)
            )
          },
          { state: () => stable },
        )
        for (const m of stable.members) assert.deepEqual(m.assignment, m.targetAssignment)
        const listed = (await admin.listGroups()).find((g) => g.groupId === groupId)
        assert.deepEqual([listed?.type, listed?.protocolType], ['consumer', 'consumer'])
      } finally {
        release()
        await a.stop()
        await running
        await b?.consumer.stop()
      }
    })

    it("the server-side assignors by name: 'uniform' and 'range' are what the group uses; an unknown one fails with UNSUPPORTED_ASSIGNOR", async () => {
      const topic = await newTopic(4, 'kip848-assignor')
      const groupId = `group-${topic}`
      for (const assignor of ['uniform', 'range']) {
        const seen = new Map<string, number>()
        const a = member(topic, `${groupId}-${assignor}`, seen, { serverAssignor: assignor })
        await waitFor(`the member of the ${assignor} group assigned`, () => a.owned().length === 4)
        const [group] = await admin.describeGroups([`${groupId}-${assignor}`])
        assert.equal(group.protocol, assignor)
        await a.consumer.stop()
        await a.run
      }

      const bad = new Consumer({
        brokers: brokers(),
        groupId: `${groupId}-bad`,
        topics: [topic],
        groupProtocol: 'consumer',
        serverAssignor: 'no-such-assignor',
      })
      await assert.rejects(
        bad.run(() => {}),
        (e: unknown) => e instanceof KafkaError && e.type === 'UNSUPPORTED_ASSIGNOR',
      )
    })
  })
}

describe('subscriptions by pattern', { timeout: 120_000 }, () => {
  const protocols = release().line === '3.9' ? (['classic'] as const) : (['classic', 'consumer'] as const)
  for (const protocol of protocols) {
    it(`${protocol} protocol: a RegExp in topics consumes the matching topics, and one created later without a restart`, async () => {
      const prefix = uniqueTopic('kip848-pattern')
      const escaped = prefix.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')
      const first = `${prefix}.a`
      const unrelated = `${prefix}-other`
      await admin.createTopics([
        { topic: first, partitions: 2, replicationFactor: 1 },
        { topic: unrelated, partitions: 1, replicationFactor: 1 },
      ])
      await produce(first, 100)
      await produce(unrelated, 100, 1000)
      const groupId = `group-${prefix}`
      if (protocol === 'consumer') await shortSessions(groupId)
      const byTopic = new Map<string, Set<string>>()
      const consumer = new Consumer({
        brokers: brokers(),
        groupId,
        topics: [new RegExp(`^${escaped}\\.`)],
        fromBeginning: true,
        groupProtocol: protocol,
        // the classic member matches against the metadata it refreshes this often
        metadataMaxAgeMs: 1000,
        heartbeatIntervalMs: 500,
      })
      const running = consumer.run((m) => {
        const set = byTopic.get(m.topic) ?? new Set<string>()
        set.add(m.value!.toString())
        byTopic.set(m.topic, set)
      })
      try {
        await waitFor('the matching topic consumed', () => byTopic.get(first)?.size === 100, { timeoutMs: 60_000 })
        const later = `${prefix}.b`
        await admin.createTopics([{ topic: later, partitions: 3, replicationFactor: 1 }])
        await produce(later, 100, 2000)
        await waitFor('the topic created later consumed', () => byTopic.get(later)?.size === 100, {
          timeoutMs: 60_000,
          state: () => [...byTopic].map(([t, v]) => [t, v.size]),
        })
        assert.deepEqual([...byTopic.keys()].sort(), [first, later])
        assert.deepEqual(
          consumer
            .assignment()
            .map((tp) => `${tp.topic}-${tp.partition}`)
            .sort(),
          [`${first}-0`, `${first}-1`, `${later}-0`, `${later}-1`, `${later}-2`],
        )
        if (protocol === 'consumer') {
          const [group] = await admin.describeGroups([groupId])
          assert.equal(group.members[0].subscribedTopicRegex, `${escaped}\\..*`)
        }
      } finally {
        await consumer.stop()
        await running
      }
    })
  }
})

/** Records only the killed member handled (and so are not in `seen`). */
function missingFrom(seen: Map<string, number>, childSeen: Set<string>): number {
  let n = 0
  for (const v of childSeen) if (!seen.has(v)) n++
  return n
}
