// What every fake broker shares, as the KRaft metadata and the coordinators do for a real cluster:
// the brokers and which are alive, the topics and their leaders (elected among alive replicas, the
// leader epoch going up each time), topic creation with the controller's checks, the group and
// transaction coordinators, the users, the producer id allocator and the broker settings. The
// request handlers work on this state; FakeCluster (cluster.ts) adds the sockets and the control API.

import { randomBytes } from 'node:crypto'
import { ErrorCode } from '../protocol/error-codes.ts'
import type { Clock } from './clock.ts'
import { GroupCoordinator, type GroupSettings } from './group-coordinator.ts'
import {
  GROUP_KEY,
  INTERNAL_PARTITIONS,
  internalPartitionOf,
  OFFSETS_TOPIC,
  TRANSACTION_KEY,
  TRANSACTION_STATE_TOPIC,
} from './internal-topics.ts'
import type { Credentials } from './sasl-server.ts'
import { invalidTopicConfig } from './topic-configs.ts'
import { type Partition, type StorageLimits, type Topic, TopicRegistry } from './topics.ts'
import { TransactionCoordinator } from './transaction-coordinator.ts'

/** A broker as the cluster's metadata knows it: id, rack, whether it runs, its advertised listeners. */
export interface BrokerNode {
  readonly nodeId: number
  readonly rack: string | null
  readonly alive: boolean
  readonly listeners: readonly { name: string; advertisedHost: string; advertisedPort: number }[]
}

export interface ClusterSettings {
  clusterId?: string
  clock: Clock
  credentials: Credentials
  limits: StorageLimits
  autoCreateTopics: boolean
  defaultPartitions: number
  defaultReplicationFactor: number
  transactionMaxTimeoutMs: number
  staticBrokerConfigs: Readonly<Record<string, string>>
  groups?: Partial<GroupSettings>
  log?: (line: string) => void
}

export class ClusterState {
  readonly clusterId: string
  readonly clock: Clock
  readonly credentials: Credentials
  readonly topics: TopicRegistry
  readonly groups: GroupCoordinator
  readonly transactions: TransactionCoordinator
  readonly nodes = new Map<number, BrokerNode>()
  readonly autoCreateTopics: boolean
  readonly defaultPartitions: number
  readonly defaultReplicationFactor: number
  readonly transactionMaxTimeoutMs: number
  readonly staticBrokerConfigs: Readonly<Record<string, string>>
  private readonly logger: ((line: string) => void) | undefined
  private nextProducerIdValue = 1000n

  constructor(settings: ClusterSettings) {
    this.clusterId = settings.clusterId ?? randomBytes(16).toString('base64url').slice(0, 22)
    this.clock = settings.clock
    this.credentials = settings.credentials
    this.topics = new TopicRegistry(settings.limits)
    this.autoCreateTopics = settings.autoCreateTopics
    this.defaultPartitions = settings.defaultPartitions
    this.defaultReplicationFactor = settings.defaultReplicationFactor
    this.transactionMaxTimeoutMs = settings.transactionMaxTimeoutMs
    this.staticBrokerConfigs = settings.staticBrokerConfigs
    this.logger = settings.log
    this.groups = new GroupCoordinator(this.clock, this.topics, settings.groups)
    this.transactions = new TransactionCoordinator({
      clock: this.clock,
      topics: this.topics,
      groups: this.groups,
      maxTimeoutMs: this.transactionMaxTimeoutMs,
      coordinatorOf: (transactionalId) => this.coordinatorFor(TRANSACTION_KEY, transactionalId),
      nextProducerId: () => this.nextProducerId(),
    })
  }

  log(line: string): void {
    this.logger?.(line)
  }

  aliveNodes(): BrokerNode[] {
    return [...this.nodes.values()].filter((b) => b.alive)
  }

  isAlive(nodeId: number): boolean {
    return this.nodes.get(nodeId)?.alive ?? false
  }

  partition(topic: string, partition: number): Partition | undefined {
    return this.topics.get(topic)?.partitions[partition]
  }

  nextProducerId(): bigint {
    return this.nextProducerIdValue++
  }

  /** A new leader (or none, -1) and a new leader epoch; fetches parked on the partition wake. */
  electLeader(p: Partition, leader: number): void {
    p.leader = leader
    p.leaderEpoch++
    p.log.notify()
  }

  /** A broker went down: its partitions elect another alive replica, or go without leader. */
  brokerDown(nodeId: number): void {
    for (const topic of this.topics.all())
      for (const p of topic.partitions)
        if (p.leader === nodeId) this.electLeader(p, p.replicas.find((r) => this.isAlive(r)) ?? -1)
  }

  /** A broker came back: leaderless partitions it hosts elect it. */
  brokerUp(nodeId: number): void {
    for (const topic of this.topics.all())
      for (const p of topic.partitions) if (p.leader === -1 && p.replicas.includes(nodeId)) this.electLeader(p, nodeId)
  }

  /** Replicas of each partition: round robin over all brokers from a random start, leader first. */
  placement(replicationFactor: number, offset = Math.floor(Math.random() * 1000)): (partition: number) => number[] {
    const ids = [...this.nodes.keys()].sort((a, b) => a - b)
    return (partition) =>
      Array.from({ length: replicationFactor }, (_, i) => ids[(partition + offset + i) % ids.length])
  }

  /** Creates a topic as CreateTopics or auto-creation does, or says why not (the controller's checks). */
  createTopicChecked(
    name: string,
    partitions: number,
    replicationFactor: number,
    configs: [string, string | null][],
    validateOnly = false,
    internal = false,
  ): { topic: Topic } | { errorCode: number; errorMessage: string } {
    const invalidName = invalidTopicName(name)
    if (invalidName) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: invalidName }
    if (this.topics.get(name))
      return { errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `Topic '${name}' already exists.` }
    const count = partitions === -1 ? this.defaultPartitions : partitions
    if (!(count >= 1))
      return {
        errorCode: ErrorCode.INVALID_PARTITIONS,
        errorMessage: 'Number of partitions was set to an invalid non-positive value.',
      }
    const rf = replicationFactor === -1 ? this.defaultReplicationFactor : replicationFactor
    if (!(rf >= 1))
      return {
        errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
        errorMessage: 'Replication factor must be larger than 0, or -1 to use the default value.',
      }
    if (rf > this.nodes.size)
      return {
        errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
        errorMessage: `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only ${this.nodes.size} broker(s) are registered.`,
      }
    for (const [k, v] of configs) {
      const problem = invalidTopicConfig(k, v)
      if (problem) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: problem }
    }
    if (validateOnly) return { topic: undefined as never }
    const set = configs.filter((c): c is [string, string] => c[1] !== null)
    const topic = this.topics.create(name, count, this.placement(rf), set, internal)
    // a replica on a dead broker cannot lead: pick an alive one, as the controller would
    for (const p of topic.partitions)
      if (!this.isAlive(p.leader)) p.leader = p.replicas.find((r) => this.isAlive(r)) ?? -1
    return { topic }
  }

  /** Deletes a topic; its committed offsets go with it. */
  deleteTopic(topic: Topic): void {
    this.topics.delete(topic)
    this.groups.onTopicDeleted(topic.name)
  }

  /** The broker coordinating a group or transactional id: the leader of its internal partition (created on first use). */
  coordinatorFor(keyType: number, key: string): number {
    const name = keyType === GROUP_KEY ? OFFSETS_TOPIC : TRANSACTION_STATE_TOPIC
    let topic = this.topics.get(name)
    if (!topic) {
      const rf = Math.min(3, this.nodes.size)
      const created = this.createTopicChecked(
        name,
        INTERNAL_PARTITIONS,
        rf,
        [['cleanup.policy', 'compact']],
        false,
        true,
      )
      if ('errorCode' in created) return -1
      topic = created.topic
    }
    return topic.partitions[internalPartitionOf(key)].leader
  }

  /** The listener of `nodeId` named `listenerName`, if that broker is alive. */
  endpoint(
    nodeId: number,
    listenerName: string,
  ): { nodeId: number; host: string; port: number; rack: string | null } | undefined {
    const broker = this.nodes.get(nodeId)
    const l = broker?.alive ? broker.listeners.find((x) => x.name === listenerName) : undefined
    return l && broker ? { nodeId, host: l.advertisedHost, port: l.advertisedPort, rack: broker.rack } : undefined
  }
}

/** Kafka's Topic.validate: 1-249 characters of [a-zA-Z0-9._-], not "." or "..". */
export function invalidTopicName(name: string): string | undefined {
  if (name.length === 0) return "Topic name is illegal, it can't be empty"
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."'
  if (name.length > 249) return `Topic name is illegal, it can't be longer than 249 characters, topic name: ${name}`
  if (!/^[a-zA-Z0-9._-]+$/.test(name))
    return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`
  return undefined
}
