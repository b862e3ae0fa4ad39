// Client-side partition assignors of the classic consumer group protocol, and the ConsumerProtocol
// metadata they travel in (JoinGroup protocol metadata, SyncGroup assignments).
// Semantics follow the Java client (org.apache.kafka.clients.consumer.RangeAssignor, RoundRobinAssignor,
// CooperativeStickyAssignor and internals.AbstractStickyAssignor / AbstractPartitionAssignor /
// ConsumerProtocol), so a kafkax leader assigns like a Java leader would and the two can share a group.
// Not done: rack-aware assignment (KIP-881), which needs the partitions' replica racks.

import type { TopicPartition } from '../client/topic-partition.ts'
import { ConfigError, ProtocolError } from '../protocol/errors.ts'
import { ConsumerProtocolAssignment } from '../protocol/messages/generated/consumer-protocol-assignment.ts'
import { ConsumerProtocolSubscription } from '../protocol/messages/generated/consumer-protocol-subscription.ts'
import { Reader, Writer } from '../protocol/primitives/index.ts'

/** A member of the group as the leader's assignor sees it: its JoinGroup subscription, decoded. */
export interface MemberSubscription {
  memberId: string
  groupInstanceId: string | null
  topics: string[]
  /** Partitions the member owns now (cooperative protocol), from its subscription's ownedPartitions. */
  ownedPartitions: TopicPartition[]
  /** From the subscription (v2+), -1 when unknown. */
  generationId: number
  rackId: string | null
  /** The member's JoinGroup metadata as it sent it (set by the leader; what a CustomAssignor reads its own fields from). */
  metadata?: Buffer
}

/** A partition assignor of the classic protocol, run by the group's leader over every member's subscription. */
export interface Assignor {
  /** The protocol name sent in JoinGroup: 'range' | 'roundrobin' | 'cooperative-sticky'. */
  name: string
  /** 'eager' revokes everything before a rebalance, 'cooperative' only what moves (KIP-429). */
  rebalanceProtocol: 'eager' | 'cooperative'
  /**
   * Every member gets an entry (possibly empty), partitions sorted by topic then partition.
   * Topics missing from `partitionsPerTopic` (or with 0 partitions) are not assigned.
   */
  assign(members: MemberSubscription[], partitionsPerTopic: ReadonlyMap<string, number>): Map<string, TopicPartition[]>
}

/**
 * An assignor with a subscription format of its own (kafkajs's assigners write a version and user
 * data of their own): it writes this member's JoinGroup metadata, and as the leader's assignor it may
 * take its time. The leader reads only the topics of each member's metadata (`subscriptionTopics`)
 * and hands the bytes to `assign` as they came, in `metadata`. Eager only: it does not see owned partitions.
 */
export interface CustomAssignor {
  name: string
  rebalanceProtocol: 'eager'
  /** This member's JoinGroup metadata for `topics`: an int16 version, the topics, then the assignor's own fields. */
  subscription(topics: string[]): Buffer | Promise<Buffer>
  /** Every member's partitions (members left out get none). */
  assign(
    members: MemberSubscription[],
    partitionsPerTopic: ReadonlyMap<string, number>,
  ): Promise<Map<string, TopicPartition[]>>
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
const compareTopicPartitions = (a: TopicPartition, b: TopicPartition): number =>
  compareStrings(a.topic, b.topic) || a.partition - b.partition
const key = (tp: TopicPartition): string => `${tp.topic}\0${tp.partition}`

/** Java's AbstractPartitionAssignor.MemberInfo order: static members first (by group.instance.id), then by member id. */
function compareMembers(a: MemberSubscription, b: MemberSubscription): number {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null)
    return compareStrings(a.groupInstanceId, b.groupInstanceId)
  if (a.groupInstanceId !== null) return -1
  if (b.groupInstanceId !== null) return 1
  return compareStrings(a.memberId, b.memberId)
}

/** The subscribed topics that exist, sorted, with their partition counts. */
function subscribedTopics(members: MemberSubscription[], partitionsPerTopic: ReadonlyMap<string, number>): string[] {
  const topics = new Set<string>()
  for (const m of members) for (const t of m.topics) if ((partitionsPerTopic.get(t) ?? 0) > 0) topics.add(t)
  return [...topics].sort(compareStrings)
}

function finish(
  members: MemberSubscription[],
  assignment: Map<string, TopicPartition[]>,
): Map<string, TopicPartition[]> {
  for (const m of members) if (!assignment.has(m.memberId)) assignment.set(m.memberId, [])
  for (const list of assignment.values()) list.sort(compareTopicPartitions)
  return assignment
}

/** Per topic: partitions in contiguous ranges over the sorted subscribers, the first ones getting one extra. */
export const rangeAssignor: Assignor = {
  name: 'range',
  rebalanceProtocol: 'eager',
  assign(members, partitionsPerTopic) {
    const assignment = new Map<string, TopicPartition[]>(members.map((m) => [m.memberId, []]))
    const sorted = [...members].sort(compareMembers)
    for (const topic of subscribedTopics(members, partitionsPerTopic)) {
      const count = partitionsPerTopic.get(topic)!
      const consumers = sorted.filter((m) => m.topics.includes(topic))
      const each = Math.floor(count / consumers.length)
      const withExtra = count % consumers.length
      consumers.forEach((m, i) => {
        const start = each * i + Math.min(i, withExtra)
        const end = start + each + (i < withExtra ? 1 : 0)
        for (let p = start; p < end; p++) assignment.get(m.memberId)!.push({ topic, partition: p })
      })
    }
    return finish(members, assignment)
  },
}

/** All topic-partitions sorted, dealt one by one over the sorted members, skipping members not subscribed. */
export const roundRobinAssignor: Assignor = {
  name: 'roundrobin',
  rebalanceProtocol: 'eager',
  assign(members, partitionsPerTopic) {
    const assignment = new Map<string, TopicPartition[]>(members.map((m) => [m.memberId, []]))
    const sorted = [...members].sort(compareMembers)
    let next = 0
    for (const topic of subscribedTopics(members, partitionsPerTopic)) {
      for (let partition = 0; partition < partitionsPerTopic.get(topic)!; partition++) {
        // Someone subscribes to every topic listed, so this stops within one turn of the circle.
        while (!sorted[next % sorted.length].topics.includes(topic)) next++
        assignment.get(sorted[next++ % sorted.length].memberId)!.push({ topic, partition })
      }
    }
    return finish(members, assignment)
  },
}

/** The members' ownership claims after validation (AbstractStickyAssignor.allSubscriptionsEqual). */
interface Ownership {
  /** partition key -> the member that owns it now */
  owner: Map<string, string>
  /** Claimed by two members of the same generation: nobody keeps it, and it is not handed out this round. */
  contested: Set<string>
}

/**
 * A claim counts when the topic still exists and the partition is in range. When members claim the same
 * partition, the highest generation wins; when several share the highest generation, nobody keeps it
 * (Java logs that as invalid input and treats the partition as changing hands).
 */
function validateOwnership(members: MemberSubscription[], partitionsPerTopic: ReadonlyMap<string, number>): Ownership {
  const claims = new Map<string, MemberSubscription[]>()
  for (const m of members) {
    for (const tp of m.ownedPartitions) {
      if (!(tp.partition >= 0 && tp.partition < (partitionsPerTopic.get(tp.topic) ?? 0))) continue
      const k = key(tp)
      const claimants = claims.get(k)
      if (claimants === undefined) claims.set(k, [m])
      else if (!claimants.includes(m)) claimants.push(m)
    }
  }
  const owner = new Map<string, string>()
  const contested = new Set<string>()
  for (const [k, claimants] of claims) {
    const newest = Math.max(...claimants.map((m) => m.generationId))
    const winners = claimants.filter((m) => m.generationId === newest)
    if (winners.length === 1) owner.set(k, winners[0].memberId)
    else contested.add(k)
  }
  return { owner, contested }
}

function allPartitions(topics: string[], partitionsPerTopic: ReadonlyMap<string, number>): TopicPartition[] {
  const out: TopicPartition[] = []
  for (const topic of topics) {
    for (let partition = 0; partition < partitionsPerTopic.get(topic)!; partition++) out.push({ topic, partition })
  }
  return out
}

/**
 * Every member subscribes to the same topics: AbstractStickyAssignor's ConstrainedAssignmentBuilder.
 * Members keep what they own up to their quota (maxQuota for as many members as the remainder allows,
 * minQuota for the others); the rest is dealt round-robin to the members under quota.
 */
function constrainedAssign(
  members: MemberSubscription[],
  topics: string[],
  partitionsPerTopic: ReadonlyMap<string, number>,
  ownership: Ownership,
): Map<string, TopicPartition[]> {
  const partitions = allPartitions(topics, partitionsPerTopic)
  const minQuota = Math.floor(partitions.length / members.length)
  const maxQuota = Math.ceil(partitions.length / members.length)
  const expectedOverMin = partitions.length % members.length
  let overMin = 0

  const owned = new Map<string, TopicPartition[]>(members.map((m) => [m.memberId, []]))
  for (const tp of partitions) {
    const o = ownership.owner.get(key(tp))
    if (o !== undefined) owned.get(o)!.push(tp)
  }

  const assignment = new Map<string, TopicPartition[]>()
  const kept = new Set<string>()
  const underMin: string[] = []
  const exactlyMin: string[] = []
  for (const m of [...members].sort((a, b) => compareStrings(a.memberId, b.memberId))) {
    // Java keeps the lowest partition numbers first across topics.
    const mine = owned.get(m.memberId)!.sort((a, b) => a.partition - b.partition || compareStrings(a.topic, b.topic))
    let keep: number
    if (mine.length < minQuota) {
      keep = mine.length
      underMin.push(m.memberId)
    } else if (mine.length >= maxQuota && overMin < expectedOverMin) {
      keep = maxQuota
      if (++overMin === expectedOverMin) exactlyMin.length = 0
    } else {
      keep = minQuota
      if (overMin < expectedOverMin) exactlyMin.push(m.memberId)
    }
    assignment.set(m.memberId, mine.slice(0, keep))
    for (const tp of mine.slice(0, keep)) kept.add(key(tp))
  }

  let cursor = 0
  for (const tp of partitions) {
    if (kept.has(key(tp))) continue
    if (underMin.length > 0) {
      cursor %= underMin.length
      const memberId = underMin[cursor]
      const list = assignment.get(memberId)!
      list.push(tp)
      if (list.length === minQuota) {
        underMin.splice(cursor, 1)
        exactlyMin.push(memberId)
      } else cursor++
    } else {
      const memberId = exactlyMin.shift()
      // Unreachable when the quotas add up; an error beats a partition silently left without a consumer.
      if (memberId === undefined) throw new Error('cooperative-sticky: quotas do not cover every partition')
      assignment.get(memberId)!.push(tp)
    }
  }
  return assignment
}

/**
 * Subscriptions differ. Not Java's GeneralAssignmentBuilder line by line, but its goals in its order:
 * keep every valid claim, give each free partition (most constrained topics first) to the least loaded
 * subscriber, then move partitions from the most loaded members along chains of subscribers until no
 * member could take a partition from one holding two or more partitions more than it.
 */
function generalAssign(
  members: MemberSubscription[],
  topics: string[],
  partitionsPerTopic: ReadonlyMap<string, number>,
  ownership: Ownership,
): Map<string, TopicPartition[]> {
  const byId = [...members].sort((a, b) => compareStrings(a.memberId, b.memberId))
  const subscribers = new Map(topics.map((t) => [t, byId.filter((m) => m.topics.includes(t)).map((m) => m.memberId)]))
  // memberId -> topic -> partitions held
  const held = new Map<string, Map<string, number[]>>(byId.map((m) => [m.memberId, new Map()]))
  const count = new Map<string, number>(byId.map((m) => [m.memberId, 0]))
  const give = (memberId: string, topic: string, partition: number): void => {
    const topicsHeld = held.get(memberId)!
    if (!topicsHeld.has(topic)) topicsHeld.set(topic, [])
    topicsHeld.get(topic)!.push(partition)
    count.set(memberId, count.get(memberId)! + 1)
  }
  // Index of a partition of `topic` the member did not own before this round (moving it revokes nothing).
  const fresh = (memberId: string, topic: string): number =>
    held
      .get(memberId)!
      .get(topic)!
      .findIndex((p) => ownership.owner.get(key({ topic, partition: p })) !== memberId)
  const take = (memberId: string, topic: string): number => {
    const list = held.get(memberId)!.get(topic)!
    let i = fresh(memberId, topic)
    if (i < 0) i = list.length - 1
    const [partition] = list.splice(i, 1)
    if (list.length === 0) held.get(memberId)!.delete(topic)
    count.set(memberId, count.get(memberId)! - 1)
    return partition
  }

  const free: TopicPartition[] = []
  const constrainedFirst = [...topics].sort(
    (a, b) => subscribers.get(a)!.length - subscribers.get(b)!.length || compareStrings(a, b),
  )
  for (const tp of allPartitions(constrainedFirst, partitionsPerTopic)) {
    const o = ownership.owner.get(key(tp))
    if (o !== undefined && subscribers.get(tp.topic)!.includes(o)) give(o, tp.topic, tp.partition)
    else free.push(tp)
  }
  for (const tp of free) {
    let best: string | undefined
    for (const id of subscribers.get(tp.topic)!) if (best === undefined || count.get(id)! < count.get(best)!) best = id
    if (best !== undefined) give(best, tp.topic, tp.partition)
  }

  // One step of balancing: breadth-first from `source` over "holds a partition of a topic the next one
  // subscribes to"; when a member with at least two fewer partitions is reached, shift one partition
  // along the path, so only the two ends change their counts. Returns the members reached when it fails.
  // With `freshOnly`, only partitions their holders did not own before may move: no revocation needed.
  const rebalanceFrom = (source: string, freshOnly: boolean): string[] | null => {
    const via = new Map<string, { from: string; topic: string }>()
    const queue = [source]
    for (let i = 0; i < queue.length; i++) {
      const from = queue[i]
      for (const topic of held.get(from)!.keys()) {
        if (freshOnly && fresh(from, topic) < 0) continue
        for (const to of subscribers.get(topic)!) {
          if (to === source || via.has(to)) continue
          via.set(to, { from, topic })
          if (count.get(to)! <= count.get(source)! - 2) {
            for (let at = to; at !== source; ) {
              const step = via.get(at)!
              give(at, step.topic, take(step.from, step.topic))
              at = step.from
            }
            return null
          }
          queue.push(to)
        }
      }
    }
    return queue
  }
  for (let moved = true; moved; ) {
    moved = false
    // A failed search from S proves everyone it reached holds at least count(S) - 1, and what they reach
    // is a subset: a search from one of them holding no more than S would fail too, so it is skipped.
    const settled = new Map<string, number>()
    for (const m of [...byId].sort((a, b) => count.get(b.memberId)! - count.get(a.memberId)!)) {
      // Nobody holds two fewer: no search can succeed (the common case, and the cheap way out).
      if (count.get(m.memberId)! - 2 < Math.min(...count.values())) break
      if ((settled.get(m.memberId) ?? -1) >= count.get(m.memberId)!) continue
      for (;;) {
        // Moves that revoke nothing first; a partition its holder owned only when there is no other way.
        const reached = rebalanceFrom(m.memberId, true) === null ? null : rebalanceFrom(m.memberId, false)
        if (reached === null) {
          moved = true
          settled.clear()
          continue
        }
        for (const id of reached) settled.set(id, Math.max(settled.get(id) ?? -1, count.get(m.memberId)!))
        break
      }
    }
  }

  const assignment = new Map<string, TopicPartition[]>()
  for (const [memberId, topicsHeld] of held) {
    assignment.set(
      memberId,
      [...topicsHeld].flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition }))),
    )
  }
  return assignment
}

/**
 * Balanced and sticky (AbstractStickyAssignor), cooperative (KIP-429): a partition that changes hands is
 * left out of this round's assignment; its owner revokes it, rejoins, and the follow-up rebalance hands
 * it to the new owner.
 */
export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky',
  rebalanceProtocol: 'cooperative',
  assign(members, partitionsPerTopic) {
    const topics = subscribedTopics(members, partitionsPerTopic)
    const ownership = validateOwnership(members, partitionsPerTopic)
    const first = new Set(members[0]?.topics)
    const equal = members.every((m) => {
      const mine = new Set(m.topics)
      return mine.size === first.size && [...mine].every((t) => first.has(t))
    })
    const assignment =
      members.length === 0
        ? new Map<string, TopicPartition[]>()
        : equal
          ? constrainedAssign(members, topics, partitionsPerTopic, ownership)
          : generalAssign(members, topics, partitionsPerTopic, ownership)
    for (const [memberId, list] of assignment) {
      assignment.set(
        memberId,
        list.filter((tp) => {
          const k = key(tp)
          const owner = ownership.owner.get(k)
          return !ownership.contested.has(k) && (owner === undefined || owner === memberId)
        }),
      )
    }
    return finish(members, assignment)
  },
}

const ASSIGNORS: readonly Assignor[] = [rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor]

/** The names the `assignors` option takes. */
export const ASSIGNOR_NAMES: readonly string[] = ASSIGNORS.map((a) => a.name)

export function assignorByName(name: string): Assignor {
  const found = ASSIGNORS.find((a) => a.name === name)
  if (found === undefined) {
    throw new ConfigError(`unknown partition assignor "${name}" (known: ${ASSIGNORS.map((a) => a.name).join(', ')})`)
  }
  return found
}

// ConsumerProtocol: an int16 version, then the ConsumerProtocolSubscription / ConsumerProtocolAssignment body.
// Versions above the newest we know are read as the newest (later versions only append fields), as Java does.

const SUBSCRIPTION_VERSION = ConsumerProtocolSubscription.maxVersion
const ASSIGNMENT_VERSION = ConsumerProtocolAssignment.maxVersion

function encodeVersion(version: number, newest: number): number {
  if (!Number.isInteger(version) || version < 0) throw new ConfigError(`bad consumer protocol version ${version}`)
  // Java's ConsumerProtocol writes a newer version than it knows as its newest.
  return Math.min(version, newest)
}

function readVersion(r: Reader, what: string): number {
  const version = r.int16()
  if (version < 0) throw new ProtocolError(`${what}: negative version ${version}`)
  return version
}

function checkConsumed(r: Reader, what: string, version: number, newest: number): void {
  // Bytes after a version we know are garbage; after a newer one they are fields we cannot read.
  if (version <= newest && r.remaining() > 0)
    throw new ProtocolError(`${what} v${version}: ${r.remaining()} bytes left over`)
}

/** Groups partitions per topic, topics in first-seen order (the order ConsumerProtocol writes them). */
function groupByTopic(partitions: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>()
  for (const { topic, partition } of partitions) {
    if (!byTopic.has(topic)) byTopic.set(topic, [])
    byTopic.get(topic)!.push(partition)
  }
  return [...byTopic].map(([topic, ps]) => ({ topic, partitions: ps }))
}

const flatten = (groups: { topic: string; partitions: number[] }[]): TopicPartition[] =>
  groups.flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })))

/** JoinGroup metadata as the Java consumer writes it: topics sorted, owned partitions sorted by topic, partition. */
export function encodeSubscription(
  s: {
    topics: string[]
    ownedPartitions: TopicPartition[]
    generationId: number
    rackId: string | null
    userData?: Buffer | null
  },
  version: number = SUBSCRIPTION_VERSION,
): Buffer {
  const v = encodeVersion(version, SUBSCRIPTION_VERSION)
  const w = new Writer(128)
  w.int16(v)
  ConsumerProtocolSubscription.write(w, v, {
    topics: [...s.topics].sort(compareStrings),
    userData: s.userData ?? null,
    ownedPartitions: groupByTopic([...s.ownedPartitions].sort(compareTopicPartitions)),
    generationId: s.generationId,
    rackId: s.rackId,
  })
  return Buffer.from(w.finish())
}

export function decodeSubscription(bytes: Buffer): {
  version: number
  topics: string[]
  ownedPartitions: TopicPartition[]
  generationId: number
  rackId: string | null
  userData: Buffer | null
} {
  const r = new Reader(bytes)
  const version = readVersion(r, 'ConsumerProtocolSubscription')
  const body = ConsumerProtocolSubscription.read(r, Math.min(version, SUBSCRIPTION_VERSION))
  checkConsumed(r, 'ConsumerProtocolSubscription', version, SUBSCRIPTION_VERSION)
  return {
    version,
    topics: body.topics,
    ownedPartitions: flatten(body.ownedPartitions ?? []),
    generationId: body.generationId ?? -1,
    rackId: body.rackId ?? null,
    userData: body.userData ?? null,
  }
}

/**
 * The topics of a subscription whatever follows them: every version of ConsumerProtocolSubscription
 * starts with the version and the topics, and a CustomAssignor's own format keeps that start.
 */
export function subscriptionTopics(bytes: Buffer): string[] {
  const r = new Reader(bytes)
  readVersion(r, 'ConsumerProtocolSubscription')
  return ConsumerProtocolSubscription.read(r, 0).topics
}

/** SyncGroup assignment as the Java consumer writes it: partitions grouped by topic, in the order given. */
export function encodeAssignment(
  partitions: TopicPartition[],
  userData: Buffer | null = null,
  version: number = ASSIGNMENT_VERSION,
): Buffer {
  const v = encodeVersion(version, ASSIGNMENT_VERSION)
  const w = new Writer(64)
  w.int16(v)
  ConsumerProtocolAssignment.write(w, v, { assignedPartitions: groupByTopic(partitions), userData })
  return Buffer.from(w.finish())
}

export function decodeAssignment(bytes: Buffer): {
  version: number
  partitions: TopicPartition[]
  userData: Buffer | null
} {
  const r = new Reader(bytes)
  const version = readVersion(r, 'ConsumerProtocolAssignment')
  const body = ConsumerProtocolAssignment.read(r, Math.min(version, ASSIGNMENT_VERSION))
  checkConsumed(r, 'ConsumerProtocolAssignment', version, ASSIGNMENT_VERSION)
  return { version, partitions: flatten(body.assignedPartitions), userData: body.userData ?? null }
}
