// The consumer group protocol's server-side assignors (KIP-848: group.consumer.assignors = uniform,
// range). Both compute a target assignment from the members' subscriptions:
//   uniform  balanced (members' counts differ by at most one among members subscribed alike) and
//            sticky: a member keeps the partitions it was given before as far as balance allows
//   range    per topic, members sorted by id take contiguous ranges, the first ones one more
// Partitions are keyed by topic id.

export type TopicAssignment = Map<string, Set<number>>

export interface AssignorMember {
  memberId: string
  /** Topic ids the member subscribes to (existing topics only). */
  topics: ReadonlySet<string>
  /** The member's previous target assignment (for stickiness). */
  previous: TopicAssignment
}

export type ServerAssignor = (
  members: AssignorMember[],
  partitionCounts: ReadonlyMap<string, number>,
) => Map<string, TopicAssignment>

export const SERVER_ASSIGNORS: Record<string, ServerAssignor> = { uniform: uniformAssign, range: rangeAssign }

function emptyResult(members: AssignorMember[]): Map<string, TopicAssignment> {
  return new Map(members.map((m) => [m.memberId, new Map()]))
}

function add(assignment: TopicAssignment, topicId: string, partition: number): void {
  let set = assignment.get(topicId)
  if (!set) {
    set = new Set()
    assignment.set(topicId, set)
  }
  set.add(partition)
}

function rangeAssign(
  members: AssignorMember[],
  partitionCounts: ReadonlyMap<string, number>,
): Map<string, TopicAssignment> {
  const result = emptyResult(members)
  for (const [topicId, count] of partitionCounts) {
    const subscribed = members.filter((m) => m.topics.has(topicId)).sort((a, b) => (a.memberId < b.memberId ? -1 : 1))
    if (subscribed.length === 0) continue
    const each = Math.floor(count / subscribed.length)
    const extra = count % subscribed.length
    let next = 0
    subscribed.forEach((m, i) => {
      const n = each + (i < extra ? 1 : 0)
      for (let p = next; p < next + n; p++) add(result.get(m.memberId)!, topicId, p)
      next += n
    })
  }
  return result
}

function uniformAssign(
  members: AssignorMember[],
  partitionCounts: ReadonlyMap<string, number>,
): Map<string, TopicAssignment> {
  const result = emptyResult(members)
  const counts = new Map(members.map((m) => [m.memberId, 0]))
  const owner = new Map<string, string>()
  const eligible = (topicId: string) => members.filter((m) => m.topics.has(topicId))
  const quota = (topicId: string) => {
    // the fair share a member subscribed to this topic may keep before balancing
    const subscribed = eligible(topicId)
    let total = 0
    const topics = new Set(subscribed.flatMap((m) => [...m.topics]))
    for (const t of topics) total += partitionCounts.get(t) ?? 0
    return Math.ceil(total / Math.max(1, subscribed.length))
  }
  // 1. stickiness: keep previous partitions that still exist and are still subscribed, up to a fair share
  for (const m of members) {
    for (const [topicId, partitions] of m.previous) {
      const count = partitionCounts.get(topicId)
      if (count === undefined || !m.topics.has(topicId)) continue
      const cap = quota(topicId)
      for (const p of [...partitions].sort((a, b) => a - b)) {
        const key = `${topicId}:${p}`
        if (p >= count || owner.has(key) || counts.get(m.memberId)! >= cap) continue
        owner.set(key, m.memberId)
        add(result.get(m.memberId)!, topicId, p)
        counts.set(m.memberId, counts.get(m.memberId)! + 1)
      }
    }
  }
  // 2. the rest to the subscribed member with the fewest partitions (ties: lowest member id)
  const byLoad = (a: AssignorMember, b: AssignorMember) =>
    counts.get(a.memberId)! - counts.get(b.memberId)! ||
    (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0)
  for (const topicId of [...partitionCounts.keys()].sort()) {
    const subscribed = eligible(topicId)
    if (subscribed.length === 0) continue
    for (let p = 0; p < partitionCounts.get(topicId)!; p++) {
      const key = `${topicId}:${p}`
      if (owner.has(key)) continue
      const m = [...subscribed].sort(byLoad)[0]
      owner.set(key, m.memberId)
      add(result.get(m.memberId)!, topicId, p)
      counts.set(m.memberId, counts.get(m.memberId)! + 1)
    }
  }
  // 3. balance: move partitions from a member with two or more than another eligible member
  for (let moved = true; moved; ) {
    moved = false
    for (const [key, from] of owner) {
      const topicId = key.slice(0, key.lastIndexOf(':'))
      const to = eligible(topicId).sort(byLoad)[0]
      if (!to || counts.get(from)! - counts.get(to.memberId)! < 2) continue
      const p = Number(key.slice(key.lastIndexOf(':') + 1))
      result.get(from)!.get(topicId)!.delete(p)
      if (result.get(from)!.get(topicId)!.size === 0) result.get(from)!.delete(topicId)
      add(result.get(to.memberId)!, topicId, p)
      owner.set(key, to.memberId)
      counts.set(from, counts.get(from)! - 1)
      counts.set(to.memberId, counts.get(to.memberId)! + 1)
      moved = true
    }
  }
  return result
}
