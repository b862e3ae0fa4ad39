// The assignment of a consumer-protocol member (KIP-848) as the broker sends it, partitions by topic
// id, and as the member reconciled it, as the Java client's LocalAssignment: each carries a local
// epoch bumped whenever the partitions change, so that an assignment received again after a
// different one counts as new, and the heartbeat after each reconciliation names what the member
// owns even when the partitions are the same. Topic ids become names through the metadata (or the
// names of topics assigned already): an id not known yet waits for a metadata refresh.

import type { TopicPartition } from '../client/topic-partition.ts'

/** Partitions by topic id, each list sorted. */
export type TopicIdPartitions = ReadonlyMap<string, readonly number[]>

export interface LocalAssignment {
  /** -1: none (not in a group, or nothing received or reconciled since joining). */
  readonly epoch: number
  readonly partitions: TopicIdPartitions
}

export const NO_ASSIGNMENT: LocalAssignment = { epoch: -1, partitions: new Map() }

export function samePartitions(a: TopicIdPartitions, b: TopicIdPartitions): boolean {
  if (a.size !== b.size) return false
  for (const [topicId, list] of a) {
    const other = b.get(topicId)
    if (!other || other.length !== list.length || list.some((p, i) => other[i] !== p)) return false
  }
  return true
}

export function sameAssignment(a: LocalAssignment, b: LocalAssignment): boolean {
  return a.epoch === b.epoch && samePartitions(a.partitions, b.partitions)
}

/** The target after a heartbeat answer carried `received`: the same when nothing changed, else the next local epoch. */
export function nextTarget(
  target: LocalAssignment,
  received: readonly { topicId: string; partitions: readonly number[] }[],
): LocalAssignment {
  const partitions = new Map<string, number[]>()
  for (const t of received) {
    const list = partitions.get(t.topicId) ?? []
    list.push(...t.partitions)
    partitions.set(t.topicId, list)
  }
  for (const [id, list] of partitions)
    partitions.set(
      id,
      [...new Set(list)].sort((x, y) => x - y),
    )
  if (target.epoch >= 0 && samePartitions(partitions, target.partitions)) return target
  return { epoch: target.epoch + 1, partitions }
}

/** The part of a target whose topic names are known, as TopicPartitions, and the topic ids still unknown. */
export interface ResolvedAssignment {
  partitions: TopicIdPartitions
  topicPartitions: TopicPartition[]
  unresolved: string[]
}

export function resolveAssignment(
  target: LocalAssignment,
  nameOf: (topicId: string) => string | undefined,
): ResolvedAssignment {
  const partitions = new Map<string, readonly number[]>()
  const topicPartitions: TopicPartition[] = []
  const unresolved: string[] = []
  for (const [topicId, list] of target.partitions) {
    const topic = nameOf(topicId)
    if (topic === undefined) {
      unresolved.push(topicId)
      continue
    }
    partitions.set(topicId, list)
    for (const partition of list) topicPartitions.push({ topic, partition })
  }
  return { partitions, topicPartitions, unresolved }
}

/** The heartbeat's TopicPartitions of an assignment. */
export function heartbeatPartitions(assignment: LocalAssignment): { topicId: string; partitions: number[] }[] {
  return [...assignment.partitions].map(([topicId, list]) => ({ topicId, partitions: [...list] }))
}
