// Topics and their partitions: create, delete, list, describe, grow. The controller handles
// them; any broker takes the request (KRaft brokers forward it).

import { ErrorCode, kafkaError } from '../protocol/error-codes.ts'
import { ConfigError } from '../protocol/errors.ts'
import {
  CreatePartitionsModule,
  CreateTopicsModule,
  DeleteTopicsModule,
  loadApi,
  Metadata,
} from '../protocol/messages/index.ts'
import { ZERO_UUID } from '../protocol/messages/runtime.ts'
import { answer, itemError, type RequestEngine } from './engine.ts'
import { int, list, name, names, requestTimeout } from './validate.ts'

/** A topic to create: its size, or explicit replicas, and its configs. */
export interface NewTopic {
  topic: string
  /** Default -1: the broker's num.partitions (ignored with `replicaAssignment`). */
  partitions?: number
  /** Default -1: the broker's default.replication.factor. */
  replicationFactor?: number
  /** Explicit replicas per partition, instead of `partitions` and `replicationFactor`. */
  replicaAssignment?: { partition: number; replicas: number[] }[]
  configs?: Record<string, string>
}

/** A created topic, with the broker's defaults filled in. */
export interface CreatedTopic {
  topic: string
  topicId: string
  partitions: number
  replicationFactor: number
}

/** One partition of a described topic: leader, replicas and in-sync replicas. */
export interface PartitionDescription {
  partition: number
  /** -1 while the partition has no leader. */
  leader: number
  leaderEpoch: number
  replicas: number[]
  isr: number[]
  offline: number[]
}

/** A topic as Metadata describes it. */
export interface TopicDescription {
  topic: string
  topicId: string
  internal: boolean
  partitions: PartitionDescription[]
}

/** Partitions to add to a topic. */
export interface NewPartitions {
  topic: string
  /** The total number of partitions wanted (more than today). */
  count: number
  /** Replicas of each new partition, in order. */
  assignments?: number[][]
}

// lazily loaded: importing kafkax must stay cheap
const CreateTopics = () => loadApi(CreateTopicsModule)
const DeleteTopics = () => loadApi(DeleteTopicsModule)
const CreatePartitions = () => loadApi(CreatePartitionsModule)

export async function createTopics(
  engine: RequestEngine,
  topics: NewTopic[],
  options: { validateOnly?: boolean; timeoutMs?: number; waitForLeaders?: boolean },
): Promise<CreatedTopic[]> {
  list('createTopics', topics)
  topics.forEach((t, i) => {
    const at = `createTopics: topics[${i}]`
    name(`${at}.topic`, t?.topic)
    if (t.partitions !== undefined && t.partitions !== -1) int(`${at}.partitions`, t.partitions, 1)
    if (t.replicationFactor !== undefined && t.replicationFactor !== -1)
      int(`${at}.replicationFactor`, t.replicationFactor, 1)
    t.replicaAssignment?.forEach((a, j) => {
      int(`${at}.replicaAssignment[${j}].partition`, a.partition, 0)
      for (const r of a.replicas) int(`${at}.replicaAssignment[${j}].replicas`, r, 0)
    })
    for (const [k, v] of Object.entries(t.configs ?? {})) {
      if (typeof v !== 'string') throw new ConfigError(`${at}.configs.${k} must be a string, got ${typeof v}`)
    }
  })
  const timeoutMs = requestTimeout('createTopics', options.timeoutMs)
  await engine.connect()
  const api = await CreateTopics()
  const created = await engine.settle(topics, async (pending) => {
    const response = await engine.send('any', api, () => ({
      topics: pending.map((t) => ({
        name: t.topic,
        numPartitions: t.replicaAssignment ? -1 : (t.partitions ?? -1),
        replicationFactor: t.replicaAssignment ? -1 : (t.replicationFactor ?? -1),
        assignments: (t.replicaAssignment ?? []).map((a) => ({ partitionIndex: a.partition, brokerIds: a.replicas })),
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
      timeoutMs,
      validateOnly: options.validateOnly ?? false,
    }))
    const byName = new Map(response.topics.map((r) => [r.name, r]))
    return pending.map((t) => {
      const r = answer(byName, t.topic, 'CreateTopics')
      if (r.errorCode) return itemError(r.errorCode, `topic ${t.topic}`, r.errorMessage)
      return {
        topic: t.topic,
        topicId: r.topicId,
        partitions: r.numPartitions,
        replicationFactor: r.replicationFactor,
      }
    })
  })
  if (!options.validateOnly && options.waitForLeaders !== false)
    await waitForLeaders(
      engine,
      topics.map((t) => t.topic),
    )
  return created
}

/** A new topic reaches the brokers' metadata a moment after the controller created it. */
async function waitForLeaders(engine: RequestEngine, topics: string[]): Promise<void> {
  await engine.cluster.retry.run(async () => {
    const response = await engine.send('any', Metadata, () => ({
      topics: topics.map((name) => ({ name })),
      allowAutoTopicCreation: false,
    }))
    const waiting = response.topics.find((t) => t.errorCode || t.partitions.some((p) => p.leaderId < 0))
    if (waiting)
      throw kafkaError(waiting.errorCode || ErrorCode.LEADER_NOT_AVAILABLE, `topic ${waiting.name} has no leaders yet`)
  })
}

export async function deleteTopics(
  engine: RequestEngine,
  topics: string[],
  options: { timeoutMs?: number },
): Promise<void> {
  names('deleteTopics', topics)
  const timeoutMs = requestTimeout('deleteTopics', options.timeoutMs)
  await engine.connect()
  const api = await DeleteTopics()
  await engine.settle(topics, async (pending) => {
    const response = await engine.send('any', api, (v) =>
      v >= 6
        ? { topics: pending.map((name) => ({ name, topicId: ZERO_UUID })), timeoutMs }
        : { topicNames: pending, timeoutMs },
    )
    const byName = new Map(response.responses.map((r) => [r.name ?? '', r]))
    return pending.map((topic) => {
      const r = answer(byName, topic, 'DeleteTopics')
      return r.errorCode ? itemError(r.errorCode, `topic ${topic}`, r.errorMessage) : undefined
    })
  })
}

export async function listTopics(engine: RequestEngine, options: { includeInternal?: boolean }): Promise<string[]> {
  await engine.connect()
  const response = await engine.run(() =>
    engine.send('any', Metadata, () => ({ topics: null, allowAutoTopicCreation: false })),
  )
  return response.topics
    .filter((t) => t.name !== null && t.errorCode === 0 && (options.includeInternal || !t.isInternal))
    .map((t) => t.name as string)
    .sort()
}

export async function describeTopics(engine: RequestEngine, topics: string[]): Promise<TopicDescription[]> {
  names('describeTopics', topics)
  await engine.connect()
  return engine.settle(topics, async (pending) => {
    const response = await engine.send('any', Metadata, () => ({
      topics: pending.map((name) => ({ name })),
      allowAutoTopicCreation: false,
    }))
    const byName = new Map(response.topics.map((t) => [t.name ?? '', t]))
    return pending.map((topic) => {
      const t = answer(byName, topic, 'Metadata')
      if (t.errorCode) return itemError(t.errorCode, `topic ${topic}`)
      const partitions = t.partitions
        .map((p) => ({
          partition: p.partitionIndex,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          offline: p.offlineReplicas,
        }))
        .sort((a, b) => a.partition - b.partition)
      return { topic, topicId: t.topicId, internal: t.isInternal, partitions }
    })
  })
}

export async function createPartitions(
  engine: RequestEngine,
  topics: NewPartitions[],
  options: { validateOnly?: boolean; timeoutMs?: number },
): Promise<void> {
  list('createPartitions', topics)
  topics.forEach((t, i) => {
    name(`createPartitions: topics[${i}].topic`, t?.topic)
    int(`createPartitions: topics[${i}].count`, t.count, 1)
  })
  const timeoutMs = requestTimeout('createPartitions', options.timeoutMs)
  await engine.connect()
  const api = await CreatePartitions()
  await engine.settle(topics, async (pending) => {
    const response = await engine.send('any', api, () => ({
      topics: pending.map((t) => ({
        name: t.topic,
        count: t.count,
        assignments: t.assignments ? t.assignments.map((brokerIds) => ({ brokerIds })) : null,
      })),
      timeoutMs,
      validateOnly: options.validateOnly ?? false,
    }))
    const byName = new Map(response.results.map((r) => [r.name, r]))
    return pending.map((t) => {
      const r = answer(byName, t.topic, 'CreatePartitions')
      return r.errorCode ? itemError(r.errorCode, `topic ${t.topic}`, r.errorMessage) : undefined
    })
  })
}
