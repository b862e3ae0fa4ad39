// The partition assignors against cases from the Java client's RangeAssignorTest, RoundRobinAssignorTest,
// AbstractStickyAssignorTest and CooperativeStickyAssignorTest (rewritten, same inputs and expectations),
// property tests of their guarantees, and the ConsumerProtocol metadata byte for byte against the Java
// client's ConsumerProtocol (scripts/java/ConsumerProtocolVectors.java run on the harness jars).

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { fetchLibs, ROOT, release } from '../../../scripts/kafka/harness.ts'
import type { TopicPartition } from '../../../src/consumer/message.ts'
import {
  type Assignor,
  assignorByName,
  cooperativeStickyAssignor,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type MemberSubscription,
  rangeAssignor,
  roundRobinAssignor,
} from '../../../src/group/assignors.ts'
import { ConfigError, ProtocolError } from '../../../src/protocol/errors.ts'

const member = (memberId: string, topics: string[], extra: Partial<MemberSubscription> = {}): MemberSubscription => ({
  memberId,
  groupInstanceId: null,
  topics,
  ownedPartitions: [],
  generationId: -1,
  rackId: null,
  ...extra,
})

/** `tps('t', 0, 2)` -> t-0, t-2 */
const tps = (topic: string, ...partitions: number[]): TopicPartition[] =>
  partitions.map((partition) => ({ topic, partition }))

/** The assignment as plain `{ member: ['t-0', ...] }` for readable deepEqual failures. */
function plain(assignment: Map<string, TopicPartition[]>): Record<string, string[]> {
  return Object.fromEntries([...assignment].map(([m, list]) => [m, list.map((tp) => `${tp.topic}-${tp.partition}`)]))
}

const counts = (entries: [string, number][]): Map<string, number> => new Map(entries)

/** Runs scripts/java/ConsumerProtocolVectors.java (the Java client from the harness jars) over `lines`. */
function javaAnswers(lines: string[]): string[] {
  const rel = release('4.3')
  fetchLibs(rel)
  const java = spawnSync(
    'java',
    ['-Dlog4j2.level=OFF', '-cp', `${rel.libs}/*`, join(ROOT, 'scripts/java/ConsumerProtocolVectors.java')],
    { input: lines.join('\n'), encoding: 'utf8', maxBuffer: 1 << 26 },
  )
  assert.equal(java.status, 0, java.stderr)
  const answers = java.stdout.split('\n').slice(0, -1)
  assert.equal(answers.length, lines.length)
  return answers
}

/** `t:0,u:1` (the Java program's list form), `-` when empty. */
const tpList = (list: TopicPartition[]): string => list.map((tp) => `${tp.topic}:${tp.partition}`).join(',') || '-'

describe('range assignor (RangeAssignorTest)', () => {
  const assign = (members: MemberSubscription[], topics: [string, number][]) =>
    plain(rangeAssignor.assign(members, counts(topics)))

  it('one consumer without topics, or with a topic that does not exist, gets nothing', () => {
    assert.deepEqual(assign([member('c', [])], []), { c: [] })
    assert.deepEqual(assign([member('c', ['t'])], [['other', 3]]), { c: [] })
  })

  it('one consumer gets every partition of the topics it subscribes to, and only those', () => {
    assert.deepEqual(assign([member('c', ['t'])], [['t', 3]]), { c: ['t-0', 't-1', 't-2'] })
    assert.deepEqual(
      assign(
        [member('c', ['t'])],
        [
          ['t', 3],
          ['other', 3],
        ],
      ),
      { c: ['t-0', 't-1', 't-2'] },
    )
    assert.deepEqual(
      assign(
        [member('c', ['t1', 't2'])],
        [
          ['t1', 1],
          ['t2', 2],
        ],
      ),
      { c: ['t1-0', 't2-0', 't2-1'] },
    )
  })

  it('two consumers, one topic: one partition goes to the first, two are split', () => {
    assert.deepEqual(assign([member('c1', ['t']), member('c2', ['t'])], [['t', 1]]), { c1: ['t-0'], c2: [] })
    assert.deepEqual(assign([member('c1', ['t']), member('c2', ['t'])], [['t', 2]]), { c1: ['t-0'], c2: ['t-1'] })
  })

  it('contiguous ranges per topic, the first consumers getting the extra partition', () => {
    const members = [member('c2', ['t1', 't2']), member('c1', ['t1', 't2'])]
    assert.deepEqual(
      assign(members, [
        ['t1', 3],
        ['t2', 3],
      ]),
      { c2: ['t1-2', 't2-2'], c1: ['t1-0', 't1-1', 't2-0', 't2-1'] },
    )
    assert.deepEqual(assign([member('a', ['t']), member('b', ['t']), member('c', ['t'])], [['t', 8]]), {
      a: ['t-0', 't-1', 't-2'],
      b: ['t-3', 't-4', 't-5'],
      c: ['t-6', 't-7'],
    })
  })

  it('mixed subscriptions: each topic is split over its own subscribers', () => {
    const members = [member('c1', ['t1']), member('c2', ['t1', 't2']), member('c3', ['t1'])]
    assert.deepEqual(
      assign(members, [
        ['t1', 3],
        ['t2', 2],
      ]),
      { c1: ['t1-0'], c2: ['t1-1', 't2-0', 't2-1'], c3: ['t1-2'] },
    )
  })

  it('orders static members by group.instance.id, before dynamic members (AbstractPartitionAssignor.MemberInfo)', () => {
    const members = [
      member('m-a', ['t']),
      member('m-b', ['t'], { groupInstanceId: 'z' }),
      member('m-c', ['t'], { groupInstanceId: 'y' }),
    ]
    assert.deepEqual(assign(members, [['t', 5]]), { 'm-a': ['t-4'], 'm-b': ['t-2', 't-3'], 'm-c': ['t-0', 't-1'] })
    // A static member that rejoins under a new member id keeps its partitions.
    const rejoined = [members[0], { ...members[1], memberId: 'm-0' }, members[2]]
    assert.deepEqual(assign(rejoined, [['t', 5]]), { 'm-a': ['t-4'], 'm-0': ['t-2', 't-3'], 'm-c': ['t-0', 't-1'] })
  })
})

describe('round-robin assignor (RoundRobinAssignorTest)', () => {
  const assign = (members: MemberSubscription[], topics: [string, number][]) =>
    plain(roundRobinAssignor.assign(members, counts(topics)))

  it('one consumer: nothing without topics, everything subscribed otherwise', () => {
    assert.deepEqual(assign([member('c', [])], []), { c: [] })
    assert.deepEqual(assign([member('c', ['t'])], [['t', 3]]), { c: ['t-0', 't-1', 't-2'] })
    assert.deepEqual(
      assign(
        [member('c', ['t'])],
        [
          ['t', 3],
          ['other', 3],
        ],
      ),
      { c: ['t-0', 't-1', 't-2'] },
    )
  })

  it('deals all topic-partitions, sorted, over the sorted consumers', () => {
    const members = [member('c2', ['t1', 't2']), member('c1', ['t1', 't2'])]
    assert.deepEqual(
      assign(members, [
        ['t1', 3],
        ['t2', 3],
      ]),
      { c2: ['t1-1', 't2-0', 't2-2'], c1: ['t1-0', 't1-2', 't2-1'] },
    )
  })

  it('skips consumers not subscribed to the topic', () => {
    const members = [member('c1', ['t1']), member('c2', ['t1', 't2']), member('c3', ['t1'])]
    assert.deepEqual(
      assign(members, [
        ['t1', 3],
        ['t2', 2],
      ]),
      { c1: ['t1-0'], c2: ['t1-1', 't2-0', 't2-1'], c3: ['t1-2'] },
    )
  })

  it('static members keep their partitions across new member ids', () => {
    const before = [member('x', ['t'], { groupInstanceId: 'i2' }), member('y', ['t'], { groupInstanceId: 'i1' })]
    assert.deepEqual(assign(before, [['t', 3]]), { x: ['t-1'], y: ['t-0', 't-2'] })
    const after = [{ ...before[0], memberId: 'a' }, before[1]]
    assert.deepEqual(assign(after, [['t', 3]]), { a: ['t-1'], y: ['t-0', 't-2'] })
  })
})

/** Runs cooperative rebalances, each starting from what the previous one assigned, until nothing is withheld. */
function converge(members: MemberSubscription[], partitionsPerTopic: Map<string, number>, maxRounds = 5) {
  let current = members
  for (let round = 1; round <= maxRounds; round++) {
    const assignment = cooperativeStickyAssignor.assign(current, partitionsPerTopic)
    const next = current.map((m) => ({ ...m, ownedPartitions: assignment.get(m.memberId)! }))
    const total = [...assignment.values()].reduce((n, list) => n + list.length, 0)
    const expected = [...partitionsPerTopic]
      .filter(([t]) => members.some((m) => m.topics.includes(t)))
      .reduce((n, [, c]) => n + c, 0)
    if (total === expected) return { assignment, members: next, rounds: round }
    current = next
  }
  assert.fail(`no full assignment after ${maxRounds} rounds`)
}

describe('cooperative-sticky assignor (AbstractStickyAssignorTest, CooperativeStickyAssignorTest)', () => {
  const assign = (members: MemberSubscription[], topics: [string, number][]) =>
    plain(cooperativeStickyAssignor.assign(members, counts(topics)))

  it('one consumer: nothing without topics, everything it subscribes to otherwise', () => {
    assert.deepEqual(assign([member('c', [])], []), { c: [] })
    assert.deepEqual(assign([member('c', ['t'])], [['other', 3]]), { c: [] })
    assert.deepEqual(assign([member('c', ['t'])], [['t', 3]]), { c: ['t-0', 't-1', 't-2'] })
  })

  it('two consumers, two topics of three partitions: balanced three and three', () => {
    const result = assign(
      [member('c1', ['t1', 't2']), member('c2', ['t1', 't2'])],
      [
        ['t1', 3],
        ['t2', 3],
      ],
    )
    assert.deepEqual(result, { c1: ['t1-0', 't1-2', 't2-1'], c2: ['t1-1', 't2-0', 't2-2'] })
  })

  it('a consumer that joins gets nothing until the owner has revoked, then the moved partition', () => {
    const first = assign([member('c1', ['t'])], [['t', 3]])
    assert.deepEqual(first, { c1: ['t-0', 't-1', 't-2'] })
    const owned = { ownedPartitions: tps('t', 0, 1, 2), generationId: 1 }
    const joined = [member('c1', ['t'], owned), member('c2', ['t'])]
    // c1 keeps two; t-2 moves to c2, so it is withheld in this round (KIP-429).
    assert.deepEqual(assign(joined, [['t', 3]]), { c1: ['t-0', 't-1'], c2: [] })
    const revoked = [member('c1', ['t'], { ownedPartitions: tps('t', 0, 1), generationId: 2 }), member('c2', ['t'])]
    assert.deepEqual(assign(revoked, [['t', 3]]), { c1: ['t-0', 't-1'], c2: ['t-2'] })
  })

  it('when a consumer leaves, the others keep theirs and share its partitions at once', () => {
    const previous = [
      member('c1', ['t'], { ownedPartitions: tps('t', 0, 3), generationId: 4 }),
      member('c2', ['t'], { ownedPartitions: tps('t', 1, 4), generationId: 4 }),
    ]
    // c3 owned t-2 and t-5 and left: nobody else owns them, so they are handed out without waiting.
    assert.deepEqual(assign(previous, [['t', 6]]), { c1: ['t-0', 't-2', 't-3'], c2: ['t-1', 't-4', 't-5'] })
  })

  it('stays balanced and sticky when partitions are added', () => {
    const previous = [
      member('c1', ['t'], { ownedPartitions: tps('t', 0, 1), generationId: 1 }),
      member('c2', ['t'], { ownedPartitions: tps('t', 2), generationId: 1 }),
    ]
    assert.deepEqual(assign(previous, [['t', 6]]), { c1: ['t-0', 't-1', 't-3'], c2: ['t-2', 't-4', 't-5'] })
  })

  it('mixed subscriptions (general case): topics with fewer subscribers are placed first', () => {
    const members = [member('c1', ['t1']), member('c2', ['t1', 't2']), member('c3', ['t1'])]
    const result = assign(members, [
      ['t1', 3],
      ['t2', 2],
    ])
    assert.deepEqual(result, { c1: ['t1-0', 't1-2'], c2: ['t2-0', 't2-1'], c3: ['t1-1'] })
  })

  it('general case: an unsubscribed topic is revoked first, then reassigned', () => {
    const members = [
      member('c1', ['t1'], { ownedPartitions: [...tps('t1', 0), ...tps('t2', 0)], generationId: 3 }),
      member('c2', ['t1', 't2'], { ownedPartitions: tps('t1', 1), generationId: 3 }),
    ]
    const result = assign(members, [
      ['t1', 2],
      ['t2', 1],
    ])
    assert.deepEqual(result, { c1: ['t1-0'], c2: ['t1-1'] })
  })

  it('of two claims on a partition, the higher generation wins; in the same generation neither keeps it', () => {
    const group = (olderGeneration: number) => [
      member('c1', ['t'], { ownedPartitions: tps('t', 0), generationId: 5 }),
      member('c2', ['t'], { ownedPartitions: tps('t', 0, 1), generationId: olderGeneration }),
    ]
    // c2's stale claim on t-0 does not count: c1 keeps it.
    assert.deepEqual(assign(group(4), [['t', 2]]), { c1: ['t-0'], c2: ['t-1'] })
    // Both claim t-0 in generation 5: it is taken from both and handed to nobody this round.
    assert.deepEqual(assign(group(5), [['t', 2]]), { c1: [], c2: ['t-1'] })
    const three = [
      member('c1', ['t'], { ownedPartitions: tps('t', 0, 1), generationId: 2 }),
      member('c2', ['t'], { ownedPartitions: tps('t', 0, 2), generationId: 2 }),
      member('c3', ['t'], { generationId: 2 }),
    ]
    assert.deepEqual(assign(three, [['t', 3]]), { c1: ['t-1'], c2: ['t-2'], c3: [] })
  })

  it('ignores owned partitions of topics or partitions that no longer exist', () => {
    const members = [
      member('c1', ['t'], { ownedPartitions: [...tps('t', 0, 7), ...tps('gone', 0)], generationId: 1 }),
      member('c2', ['t'], { generationId: 1 }),
    ]
    assert.deepEqual(assign(members, [['t', 2]]), { c1: ['t-0'], c2: ['t-1'] })
  })
})

describe('assignorByName', () => {
  it('knows the Java protocol names and their rebalance protocols', () => {
    assert.equal(assignorByName('range'), rangeAssignor)
    assert.equal(assignorByName('roundrobin'), roundRobinAssignor)
    assert.equal(assignorByName('cooperative-sticky'), cooperativeStickyAssignor)
    assert.deepEqual(
      [rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor].map((a) => a.rebalanceProtocol),
      ['eager', 'eager', 'cooperative'],
    )
    assert.throws(() => assignorByName('sticky'), ConfigError)
  })
})

// ---- property tests ----

const TOPICS = ['a', 'b', 'c', 'd']

/** Topic partition counts (a topic may be missing from metadata) and members with random subscriptions. */
const groupArb = (sameTopics: boolean) =>
  fc
    .record({
      partitions: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: TOPICS.length, maxLength: TOPICS.length }),
      members: fc.uniqueArray(
        fc.record({
          id: fc.string({ minLength: 1, maxLength: 4 }),
          instance: fc.option(fc.string({ minLength: 1, maxLength: 3 })),
          topics: fc.subarray(TOPICS, { minLength: 1 }),
        }),
        { minLength: 1, maxLength: 7, selector: (m) => m.id },
      ),
    })
    .map(({ partitions, members }) => ({
      partitionsPerTopic: new Map(
        TOPICS.map((t, i) => [t, partitions[i]] as [string, number]).filter(([, n]) => n > 0),
      ),
      members: members.map((m) =>
        member(m.id, sameTopics ? TOPICS.slice(0, 3) : m.topics, {
          // Unique instance ids: the broker enforces one member per group.instance.id.
          groupInstanceId: m.instance === null ? null : `${m.instance}/${m.id}`,
        }),
      ),
    }))

/** Every partition at most once, only to subscribers; with `complete`, every subscribed partition exactly once. */
function checkValid(
  assignor: Assignor,
  members: MemberSubscription[],
  partitionsPerTopic: Map<string, number>,
  assignment: Map<string, TopicPartition[]>,
  complete: boolean,
): void {
  assert.deepEqual([...assignment.keys()].sort(), members.map((m) => m.memberId).sort(), assignor.name)
  const seen = new Set<string>()
  for (const m of members) {
    for (const tp of assignment.get(m.memberId)!) {
      assert.ok(m.topics.includes(tp.topic), `${assignor.name}: ${m.memberId} is not subscribed to ${tp.topic}`)
      assert.ok(tp.partition >= 0 && tp.partition < (partitionsPerTopic.get(tp.topic) ?? 0))
      const k = `${tp.topic}-${tp.partition}`
      assert.ok(!seen.has(k), `${assignor.name}: ${k} assigned twice`)
      seen.add(k)
    }
  }
  if (!complete) return
  for (const [topic, n] of partitionsPerTopic) {
    if (!members.some((m) => m.topics.includes(topic))) continue
    for (let p = 0; p < n; p++) assert.ok(seen.has(`${topic}-${p}`), `${assignor.name}: ${topic}-${p} unassigned`)
  }
}

/** No member could take a partition (of a topic it subscribes to) from one holding two or more more than it. */
function checkBalanced(members: MemberSubscription[], assignment: Map<string, TopicPartition[]>): void {
  for (const a of members) {
    const held = assignment.get(a.memberId)!
    for (const b of members) {
      if (held.length - assignment.get(b.memberId)!.length < 2) continue
      const movable = held.find((tp) => b.topics.includes(tp.topic))
      assert.equal(movable, undefined, `${a.memberId} (${held.length}) could give ${movable?.topic} to ${b.memberId}`)
    }
  }
}

const spread = (assignment: Map<string, TopicPartition[]>): number => {
  const sizes = [...assignment.values()].map((l) => l.length)
  return Math.max(...sizes) - Math.min(...sizes)
}

describe('assignor properties', () => {
  it('range and round-robin assign every subscribed partition exactly once, only to subscribers', () => {
    fc.assert(
      fc.property(groupArb(false), ({ members, partitionsPerTopic }) => {
        for (const assignor of [rangeAssignor, roundRobinAssignor]) {
          checkValid(assignor, members, partitionsPerTopic, assignor.assign(members, partitionsPerTopic), true)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('round-robin over equal subscriptions is balanced within one partition', () => {
    fc.assert(
      fc.property(groupArb(true), ({ members, partitionsPerTopic }) => {
        assert.ok(spread(roundRobinAssignor.assign(members, partitionsPerTopic)) <= 1)
      }),
      { numRuns: 200 },
    )
  })

  it('cooperative-sticky from scratch: complete; equal subscriptions within one partition, any within the balance rule', () => {
    fc.assert(
      fc.property(groupArb(false), fc.boolean(), ({ members, partitionsPerTopic }, same) => {
        const group = same ? members.map((m) => ({ ...m, topics: ['a', 'b', 'c'] })) : members
        const assignment = cooperativeStickyAssignor.assign(group, partitionsPerTopic)
        checkValid(cooperativeStickyAssignor, group, partitionsPerTopic, assignment, true)
        checkBalanced(group, assignment)
        if (same) assert.ok(spread(assignment) <= 1)
      }),
      { numRuns: 300 },
    )
  })

  it('cooperative-sticky from any previous ownership: never hands out a partition someone else still owns', () => {
    // Previous owners: random claims (overlapping, stale generations, vanished partitions included).
    const ownedArb = fc.array(
      fc.record({
        partitions: fc.array(
          fc.record({ topic: fc.constantFrom(...TOPICS), partition: fc.integer({ min: 0, max: 13 }) }),
          {
            maxLength: 8,
          },
        ),
        generation: fc.integer({ min: -1, max: 3 }),
      }),
      { minLength: 7, maxLength: 7 },
    )
    fc.assert(
      fc.property(groupArb(false), fc.boolean(), ownedArb, ({ members, partitionsPerTopic }, same, owned) => {
        const group = members.map((m, i) => ({
          ...m,
          topics: same ? ['a', 'b', 'c'] : m.topics,
          ownedPartitions: owned[i].partitions,
          generationId: owned[i].generation,
        }))
        const assignment = cooperativeStickyAssignor.assign(group, partitionsPerTopic)
        checkValid(cooperativeStickyAssignor, group, partitionsPerTopic, assignment, false)
        for (const m of group) {
          for (const tp of assignment.get(m.memberId)!) {
            const claimants = group.filter((o) =>
              o.ownedPartitions.some((x) => x.topic === tp.topic && x.partition === tp.partition),
            )
            const newest = Math.max(...claimants.map((o) => o.generationId))
            const owners = claimants.filter((o) => o.generationId === newest)
            // Free, or owned (by the newest generation) by the member it is given to.
            assert.ok(claimants.length === 0 || (owners.length === 1 && owners[0] === m), `${tp.topic}-${tp.partition}`)
          }
        }
        // The follow-up rebalances complete the assignment, balanced.
        const done = converge(group, partitionsPerTopic)
        checkValid(cooperativeStickyAssignor, group, partitionsPerTopic, done.assignment, true)
        checkBalanced(group, done.assignment)
        if (same) assert.ok(spread(done.assignment) <= 1)
      }),
      { numRuns: 300 },
    )
  })

  it('cooperative-sticky is sticky: a settled group stays put, and members keep their quota when one joins or leaves', () => {
    fc.assert(
      fc.property(groupArb(false), fc.boolean(), fc.nat(), ({ members, partitionsPerTopic }, same, pick) => {
        const group = same ? members.map((m) => ({ ...m, topics: ['a', 'b', 'c'] })) : members
        const settled = converge(group, partitionsPerTopic)
        // Nothing changed: the same assignment again, nothing withheld.
        assert.deepEqual(
          plain(cooperativeStickyAssignor.assign(settled.members, partitionsPerTopic)),
          plain(settled.assignment),
        )
        if (!same || settled.members.length < 2) return
        // A member leaves, then a new one joins: in the equal-subscription case everyone keeps at least
        // min(owned, minQuota) of what it owned (Java's constrained assignment).
        const total = [...settled.assignment.values()].reduce((n, l) => n + l.length, 0)
        const left = settled.members.filter((_, i) => i !== pick % settled.members.length)
        const joined = [...settled.members, member('\uffffnew', ['a', 'b', 'c'])]
        for (const next of [left, joined]) {
          const minQuota = Math.floor(total / next.length)
          const assignment = cooperativeStickyAssignor.assign(next, partitionsPerTopic)
          for (const m of next) {
            const kept = assignment
              .get(m.memberId)!
              .filter((tp) => m.ownedPartitions.some((o) => o.topic === tp.topic && o.partition === tp.partition))
            assert.ok(kept.length >= Math.min(m.ownedPartitions.length, minQuota), m.memberId)
          }
        }
      }),
      { numRuns: 200 },
    )
  })
})

describe('assignors against the Java client', () => {
  it('range, round-robin and (equal subscriptions) cooperative-sticky assign exactly as Java does', () => {
    const seed = Number(process.env.KAFKAX_SEED ?? Date.now() % 1_000_000)
    const safeId = fc.stringMatching(/^[a-z0-9-]{1,6}$/)
    const caseArb = fc
      .record({
        counts: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 3, maxLength: 3 }),
        members: fc.uniqueArray(
          fc.record({ id: safeId, instance: fc.option(safeId), topics: fc.subarray(['a', 'b', 'c']) }),
          { minLength: 1, maxLength: 6, selector: (m) => m.id },
        ),
        // Previous owners for the sticky case: up to two claims per partition, generations -1..3.
        claims: fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 30, maxLength: 30 }),
        generations: fc.array(fc.integer({ min: -1, max: 3 }), { minLength: 6, maxLength: 6 }),
      })
      .map(({ counts, members, claims, generations }) => {
        const partitionsPerTopic = new Map(
          ['a', 'b', 'c'].map((t, i) => [t, counts[i]] as [string, number]).filter(([, n]) => n > 0),
        )
        const all = [...partitionsPerTopic].flatMap(([topic, n]) =>
          tps(topic, ...Array.from({ length: n }, (_, p) => p)),
        )
        const group = members.map((m, i) =>
          member(m.id, m.topics, {
            groupInstanceId: m.instance === null ? null : `${m.instance}-${m.id}`,
            generationId: generations[i],
          }),
        )
        all.forEach((tp, i) => {
          for (const pick of claims[i]) {
            const owner = group[pick % (group.length + 1)]
            if (owner !== undefined && !owner.ownedPartitions.includes(tp)) owner.ownedPartitions.push(tp)
          }
        })
        return { partitionsPerTopic, group }
      })
    const cases: { line: string; ours: string }[] = []
    for (const { partitionsPerTopic, group } of fc.sample(caseArb, { numRuns: 300, seed })) {
      const topicsLine = [...partitionsPerTopic].map(([t, n]) => `${t}=${n}`).join(',') || '-'
      const line = (assignor: Assignor, members: MemberSubscription[]) => {
        const encoded = members.map(
          (m) =>
            `${m.memberId}/${m.groupInstanceId ?? ''}/${m.topics.join(',') || '-'}/${tpList(m.ownedPartitions)}/${m.generationId}`,
        )
        const result = assignor.assign(members, partitionsPerTopic)
        const ours = members.map((m) =>
          result
            .get(m.memberId)!
            .map((tp) => `${tp.topic}:${tp.partition}`)
            .join(','),
        )
        cases.push({ line: `assign ${assignor.name} ${topicsLine} ${encoded.join(';')}`, ours: ours.join(';') })
      }
      const plainGroup = group.map((m) => ({ ...m, ownedPartitions: [], generationId: -1 }))
      line(rangeAssignor, plainGroup)
      line(roundRobinAssignor, plainGroup)
      // Java's sticky result depends on the iteration order of a HashMap keyed by member id. Ids p0..p5
      // have String.hashCode 3520..3525, buckets 0..5 of the default 16: that order is the member-id order
      // kafkax uses, so the two must agree exactly. (Java's leader passes only topics someone subscribes to.)
      const topics = [...partitionsPerTopic.keys()]
      const sticky = group.map((m, i) => ({ ...m, memberId: `p${i}`, topics }))
      if (topics.length > 0) line(cooperativeStickyAssignor, sticky)
    }
    const answers = javaAnswers(cases.map((c) => c.line))
    for (const [i, c] of cases.entries()) assert.equal(c.ours, answers[i], `${c.line} (KAFKAX_SEED=${seed})`)
    assert.ok(cases.length > 800, `${cases.length} cases`)
  })
})

// ---- ConsumerProtocol metadata ----

interface SubscriptionCase {
  topics: string[]
  ownedPartitions: TopicPartition[]
  generationId: number
  rackId: string | null
  userData: Buffer | null
}

const topicName = fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,11}$/)
const tpArb = fc.record({ topic: topicName, partition: fc.integer({ min: 0, max: 2 ** 31 - 1 }) })
const userDataArb = fc.option(fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b)))
const subscriptionArb: fc.Arbitrary<SubscriptionCase> = fc.record({
  topics: fc.uniqueArray(topicName, { maxLength: 5 }),
  ownedPartitions: fc.uniqueArray(tpArb, { maxLength: 6, selector: (tp) => `${tp.topic}-${tp.partition}` }),
  generationId: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
  rackId: fc.option(topicName),
  userData: userDataArb,
})
// fast-check builds records without a prototype: copy them into plain objects before deepEqual.
const plainTps = (list: TopicPartition[]) => list.map(({ topic, partition }) => ({ topic, partition }))
const sortTps = (list: TopicPartition[]) =>
  plainTps(list).sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))

/** What the fields of a version carry, as decodeSubscription reports them. */
function expectedSubscription(s: SubscriptionCase, version: number) {
  return {
    version,
    topics: [...s.topics].sort(),
    ownedPartitions: version >= 1 ? sortTps(s.ownedPartitions) : [],
    generationId: version >= 2 ? s.generationId : -1,
    rackId: version >= 3 ? s.rackId : null,
    userData: s.userData,
  }
}

describe('ConsumerProtocol subscription and assignment metadata', () => {
  it('matches the Java client byte for byte (ConsumerProtocol.serializeSubscription / serializeAssignment)', () => {
    const data = (b: Buffer | null) => (b === null ? '~' : `x${b.toString('hex')}`)
    const versions = ['default', 0, 1, 2, 3] as const
    const cases: { line: string; ours: Buffer; check: (java: Buffer) => void }[] = []
    const subscriptions = [
      { topics: [], ownedPartitions: [], generationId: -1, rackId: null, userData: null },
      {
        topics: ['b', 'a'],
        ownedPartitions: [...tps('t', 1), ...tps('a', 0), ...tps('t', 0)],
        generationId: 7,
        rackId: 'r1',
        userData: Buffer.from([0xab]),
      },
      ...fc.sample(subscriptionArb, { numRuns: 40, seed: 42 }),
    ]
    for (const s of subscriptions) {
      for (const v of versions) {
        const version = v === 'default' ? 3 : v
        const line = `sub ${v} ${s.topics.join(',') || '-'} ${tpList(s.ownedPartitions)} ${s.generationId} ${s.rackId ?? '~'} ${data(s.userData)}`
        const ours = v === 'default' ? encodeSubscription(s) : encodeSubscription(s, v)
        cases.push({
          line,
          ours,
          check: (java) => assert.deepEqual(decodeSubscription(java), expectedSubscription(s, version)),
        })
      }
    }
    const assignments = [
      { partitions: [], userData: null },
      { partitions: [...tps('t', 1), ...tps('a', 0), ...tps('t', 0)], userData: Buffer.alloc(0) },
      ...fc.sample(fc.record({ partitions: fc.array(tpArb, { maxLength: 8 }), userData: userDataArb }), {
        numRuns: 40,
        seed: 7,
      }),
    ]
    for (const a of assignments) {
      for (const v of versions) {
        const line = `asg ${v} ${tpList(a.partitions)} ${data(a.userData)}`
        const ours =
          v === 'default' ? encodeAssignment(a.partitions, a.userData) : encodeAssignment(a.partitions, a.userData, v)
        cases.push({
          line,
          ours,
          check: (java) => {
            const decoded = decodeAssignment(java)
            assert.equal(decoded.version, v === 'default' ? 3 : v)
            assert.deepEqual(decoded.userData, a.userData)
            // Grouped by topic in first-seen order: the same partitions, in the same order within each topic.
            const byTopic = (l: TopicPartition[]) =>
              [...new Set(l.map((tp) => tp.topic))].map((t) => l.filter((tp) => tp.topic === t))
            assert.deepEqual(decoded.partitions, plainTps(byTopic(a.partitions).flat()))
          },
        })
      }
    }
    const answers = javaAnswers(cases.map((c) => c.line))
    for (const [i, c] of cases.entries()) {
      assert.equal(c.ours.toString('hex'), answers[i], c.line)
      c.check(Buffer.from(answers[i], 'hex'))
    }
    assert.ok(cases.length >= 400, `${cases.length} cases`)
  })

  it('round-trips every version, and reads a newer version as the newest it knows', () => {
    fc.assert(
      fc.property(subscriptionArb, fc.integer({ min: 0, max: 3 }), (s, v) => {
        assert.deepEqual(decodeSubscription(encodeSubscription(s, v)), expectedSubscription(s, v))
        const a = decodeAssignment(encodeAssignment(sortTps(s.ownedPartitions), s.userData, v))
        assert.deepEqual(a, { version: v, partitions: sortTps(s.ownedPartitions), userData: s.userData })
      }),
      { numRuns: 300 },
    )
    // Version 4 (a future client): the v3 body, then fields we do not know yet.
    const v3 = encodeSubscription({
      topics: ['t'],
      ownedPartitions: tps('t', 0),
      generationId: 9,
      rackId: 'r',
      userData: null,
    })
    const v4 = Buffer.concat([Buffer.from([0, 4]), v3.subarray(2), Buffer.from([1, 2, 3])])
    assert.deepEqual(decodeSubscription(v4), {
      version: 4,
      topics: ['t'],
      ownedPartitions: tps('t', 0),
      generationId: 9,
      rackId: 'r',
      userData: null,
    })
    const asg = encodeAssignment(tps('t', 5))
    assert.deepEqual(
      decodeAssignment(Buffer.concat([Buffer.from([0, 9]), asg.subarray(2), Buffer.from([0])])).partitions,
      tps('t', 5),
    )
    // Asking to write a newer version writes the newest we know, as Java does; a negative one is refused.
    assert.equal(
      encodeSubscription({ topics: [], ownedPartitions: [], generationId: -1, rackId: null }, 7).readInt16BE(0),
      3,
    )
    assert.throws(() => encodeAssignment([], null, -1), ConfigError)
  })

  it('bad bytes raise ProtocolError, nothing else', () => {
    const good = encodeSubscription({
      topics: ['abc'],
      ownedPartitions: tps('abc', 1),
      generationId: 3,
      rackId: 'r',
      userData: null,
    })
    assert.throws(() => decodeSubscription(Buffer.alloc(0)), ProtocolError)
    assert.throws(() => decodeSubscription(Buffer.from([0xff, 0xff])), ProtocolError) // version -1
    assert.throws(() => decodeSubscription(good.subarray(0, good.length - 1)), ProtocolError)
    assert.throws(() => decodeSubscription(Buffer.concat([good, Buffer.from([0])])), ProtocolError) // left over in v3
    assert.throws(() => decodeAssignment(Buffer.from([0, 0, 0x7f, 0xff, 0xff, 0xff])), ProtocolError) // huge array
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), (bytes, at) => {
        const mutated = Buffer.from(good)
        mutated[at % mutated.length] ^= 0xff
        for (const input of [Buffer.from(bytes), mutated]) {
          for (const decode of [decodeSubscription, decodeAssignment]) {
            try {
              decode(input)
            } catch (e) {
              assert.ok(e instanceof ProtocolError, String(e))
            }
          }
        }
      }),
      { numRuns: 2000 },
    )
  })
})
