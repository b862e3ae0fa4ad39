// FakeCluster: an in-process Kafka cluster that speaks the real wire protocol, for tests. It owns the
// brokers (their listeners and connections), the topics and their logs, the group and transaction
// coordinators and the producer id allocator, and offers the control a test needs: fault injection
// per request, leader moves, killing and restarting brokers, a clock it can advance, and inspection
// of logs, committed offsets and group members.

import { randomBytes } from 'node:crypto'
import type { Connector } from '../client/connector.ts'
import { ConfigError, ConnectionError } from '../protocol/errors.ts'
import { type Api, loadApi } from '../protocol/messages/index.ts'
import type { KafkaRecord } from '../protocol/records/index.ts'
import type { ApiHandler } from './api-handler.ts'
import { HANDLERS } from './apis.ts'
import { BrokerServer, type ListenerOptions } from './broker-server.ts'
import { type Clock, systemClock } from './clock.ts'
import { ERR } from './error-codes.ts'
import { GroupCoordinator, type GroupSettings } from './group-coordinator.ts'
import { duplexPair } from './in-process.ts'
import { type InterceptHandle, type InterceptOptions, type Interceptor, Interceptors } from './interceptors.ts'
import { Credentials, type SaslUsers } from './sasl-server.ts'
import { invalidTopicConfig } from './topic-configs.ts'
import { type Partition, type Topic, TopicRegistry } from './topics.ts'
import { TransactionCoordinator } from './transaction-coordinator.ts'

export interface TopicSpec {
  name: string
  /** Default: the cluster's `defaultPartitions`. */
  partitions?: number
  /** Default: the cluster's `defaultReplicationFactor`. */
  replicationFactor?: number
  configs?: Record<string, string>
}

export interface FakeClusterOptions {
  /** Number of brokers, node ids 1..n (default 1). */
  brokers?: number
  /** Topics to create at start. */
  topics?: readonly (string | TopicSpec)[]
  /**
   * Listeners of each broker (default one PLAINTEXT listener on an ephemeral 127.0.0.1 port). Fixed
   * ports need a function of the node id when there is more than one broker.
   */
  listeners?: ListenerOptions[] | ((nodeId: number) => ListenerOptions[])
  /** false: no sockets at all; clients reach the brokers through `cluster.connect` only. */
  listen?: boolean
  /** Users (name -> password) for SASL listeners, for PLAIN and SCRAM-SHA-256/512. */
  users?: SaslUsers
  /** The clock of sessions, timeouts and timestamps (default: the system clock); see ManualClock. */
  clock?: Clock
  clusterId?: string
  /** Rack of each broker (default none). */
  rack?: (nodeId: number) => string | null
  /** Metadata requests create unknown topics (auto.create.topics.enable, default true). */
  autoCreateTopics?: boolean
  /** Partitions of auto-created topics and of CreateTopics without a count (num.partitions, default 1). */
  defaultPartitions?: number
  /** Replicas when none are asked for (default.replication.factor; default: min(3, brokers)). */
  defaultReplicationFactor?: number
  /** Bytes kept per partition unless its topic sets retention.bytes (default 64 MiB). */
  retentionBytes?: number
  /** Largest in-memory segment (default 1 MiB); retention deletes whole segments. */
  maxSegmentBytes?: number
  /** Classic and consumer group settings (the broker's group.* configs). */
  groups?: Partial<GroupSettings>
  /** transaction.max.timeout.ms (default 900000). */
  transactionMaxTimeoutMs?: number
  /** More broker configs for DescribeConfigs to report as set in server.properties. */
  brokerConfigs?: Record<string, string>
  /** Where the fake writes what it refuses (closed connections, failed handlers); default: nowhere. */
  log?: (line: string) => void
}

const INTERNAL_PARTITIONS = 50
export const OFFSETS_TOPIC = '__consumer_offsets'
export const TRANSACTION_STATE_TOPIC = '__transaction_state'

/** Coordinator key types of FindCoordinator. */
export const GROUP_KEY = 0
export const TRANSACTION_KEY = 1

export class FakeCluster {
  readonly clusterId: string
  readonly clock: Clock
  readonly topics: TopicRegistry
  readonly brokers = new Map<number, BrokerServer>()
  readonly interceptors = new Interceptors()
  readonly credentials: Credentials
  readonly apis = new Map<number, ApiHandler>()
  readonly groups: GroupCoordinator
  readonly transactions: TransactionCoordinator
  readonly autoCreateTopics: boolean
  readonly defaultPartitions: number
  readonly defaultReplicationFactor: number
  readonly transactionMaxTimeoutMs: number
  readonly staticBrokerConfigs: Readonly<Record<string, string>>
  private readonly logger: ((line: string) => void) | undefined
  private readonly inProcess: boolean
  private nextProducerIdValue = 1000n
  private stopped = false

  private constructor(options: FakeClusterOptions) {
    const count = options.brokers ?? 1
    if (!Number.isInteger(count) || count < 1) throw new ConfigError(`brokers must be a positive integer, not ${count}`)
    this.clusterId = options.clusterId ?? randomBytes(16).toString('base64url').slice(0, 22)
    this.clock = options.clock ?? systemClock
    this.credentials = new Credentials(options.users)
    this.autoCreateTopics = options.autoCreateTopics ?? true
    this.defaultPartitions = options.defaultPartitions ?? 1
    this.defaultReplicationFactor = options.defaultReplicationFactor ?? Math.min(3, count)
    this.transactionMaxTimeoutMs = options.transactionMaxTimeoutMs ?? 900_000
    this.staticBrokerConfigs = { ...options.brokerConfigs }
    this.logger = options.log
    this.inProcess = options.listen === false
    this.topics = new TopicRegistry({
      retentionBytes: options.retentionBytes ?? 64 * 1024 * 1024,
      maxSegmentBytes: options.maxSegmentBytes ?? 1024 * 1024,
    })
    this.groups = new GroupCoordinator(this, options.groups)
    this.transactions = new TransactionCoordinator(this)
    const listeners = options.listeners
    if (Array.isArray(listeners) && count > 1 && listeners.some((l) => l.port))
      throw new ConfigError('fixed listener ports with several brokers: pass listeners as a function of the node id')
    for (let id = 1; id <= count; id++) {
      const own = typeof listeners === 'function' ? listeners(id) : (listeners ?? [{}])
      const ls = this.inProcess
        ? own.map((l, i) => ({
            ...l,
            advertisedHost: l.advertisedHost ?? `broker-${id}.fake.kafkax`,
            port: l.port || 9092 + i,
          }))
        : own
      this.brokers.set(id, new BrokerServer(this, id, ls, options.rack?.(id) ?? null, this.inProcess))
    }
  }

  /** Starts the brokers (listening unless `listen: false`) and creates the topics asked for. */
  static async start(options: FakeClusterOptions = {}): Promise<FakeCluster> {
    const cluster = new FakeCluster(options)
    for (const handler of HANDLERS) {
      await loadApi(handler.api.apiKey)
      cluster.apis.set(handler.api.apiKey, handler)
    }
    try {
      for (const broker of cluster.brokers.values()) await broker.start()
    } catch (error) {
      await cluster.stop()
      throw error
    }
    for (const t of options.topics ?? []) cluster.createTopic(t)
    return cluster
  }

  /** Stops every broker; the cluster cannot be used afterwards. */
  async stop(): Promise<void> {
    this.stopped = true
    this.groups.shutdown()
    this.transactions.shutdown()
    await Promise.all([...this.brokers.values()].map((b) => b.kill()))
  }

  /** host:port of the first listener of every alive broker: the bootstrap list for clients. */
  get bootstrap(): string[] {
    return this.aliveBrokers().map((b) => b.listeners[0].address)
  }

  /**
   * A connector (ClientOptions.connect) that reaches the brokers in process, without a socket: the
   * target host:port is matched against the advertised listener addresses.
   */
  readonly connect: Connector = async (target) => {
    if (target.signal.aborted) throw target.signal.reason
    for (const broker of this.brokers.values()) {
      for (const listener of broker.listeners) {
        if (listener.advertisedPort !== target.port || listener.advertisedHost !== target.host) continue
        if (!broker.alive) break
        const [client, server] = duplexPair()
        broker.accept(server, listener)
        return client
      }
    }
    throw Object.assign(
      new ConnectionError(`connect ECONNREFUSED ${target.host}:${target.port} (no such fake broker)`),
      {
        code: 'ECONNREFUSED',
      },
    )
  }

  log(line: string): void {
    this.logger?.(line)
  }

  // -- control ---------------------------------------------------------------------------------

  /**
   * Intercepts requests of one API, by name ('Produce'), key (0) or codec handle: see Interception
   * for what the function may decide.
   */
  intercept<Req = any, Res = any>(
    api: string | number | Api<Req, Res>,
    fn: Interceptor<Req, Res>,
    options?: InterceptOptions,
  ): InterceptHandle {
    const handler =
      typeof api === 'string'
        ? [...this.apis.values()].find((h) => h.api.name === api)
        : this.apis.get(typeof api === 'number' ? api : api.apiKey)
    if (!handler)
      throw new ConfigError(
        `the fake cluster serves no API ${JSON.stringify(typeof api === 'object' ? api.name : api)}`,
      )
    return this.interceptors.add(handler.api.apiKey, fn, options)
  }

  /** Removes every interceptor. */
  clearInterceptors(): void {
    this.interceptors.clear()
  }

  /** Moves a partition's leadership to `broker` (added to its replicas if needed); the leader epoch goes up. */
  moveLeader(topic: string, partition: number, broker: number): void {
    const p = this.partitionOrThrow(topic, partition)
    const target = this.brokerOrThrow(broker)
    if (!target.alive) throw new ConfigError(`broker ${broker} is not running`)
    if (!p.replicas.includes(broker)) p.replicas = [...p.replicas, broker]
    this.electLeader(p, broker)
  }

  /** Kills a broker: listeners close, connections drop, its partitions move to other alive replicas. */
  async killBroker(nodeId: number): Promise<void> {
    const broker = this.brokerOrThrow(nodeId)
    if (!broker.alive) return
    await broker.kill()
    for (const topic of this.topics.all()) {
      for (const p of topic.partitions) {
        if (p.leader === nodeId) this.electLeader(p, p.replicas.find((r) => this.brokers.get(r)?.alive) ?? -1)
      }
    }
  }

  /** Restarts a killed broker on the same ports; leaderless partitions it hosts elect it. */
  async restartBroker(nodeId: number): Promise<void> {
    const broker = this.brokerOrThrow(nodeId)
    if (broker.alive) return
    await broker.start()
    for (const topic of this.topics.all()) {
      for (const p of topic.partitions) if (p.leader === -1 && p.replicas.includes(nodeId)) this.electLeader(p, nodeId)
    }
  }

  private electLeader(p: Partition, leader: number): void {
    p.leader = leader
    p.leaderEpoch++
    p.log.notify()
  }

  /** Creates a topic (as CreateTopics would); throws ConfigError for what the broker refuses. */
  createTopic(spec: string | TopicSpec): Topic {
    const s = typeof spec === 'string' ? { name: spec } : spec
    const result = this.createTopicChecked(
      s.name,
      s.partitions ?? -1,
      s.replicationFactor ?? -1,
      Object.entries(s.configs ?? {}),
    )
    if ('errorCode' in result) throw new ConfigError(`cannot create topic ${s.name}: ${result.errorMessage}`)
    return result.topic
  }

  /** Records of a partition from its log start, decoded (control records included, with `control` set). */
  async records(topic: string, partition = 0): Promise<KafkaRecord[]> {
    return this.partitionOrThrow(topic, partition).log.records()
  }

  /** Log start offset, high watermark and last stable offset of a partition. */
  offsets(topic: string, partition = 0): { logStartOffset: bigint; highWatermark: bigint; lastStableOffset: bigint } {
    const p = this.partitionOrThrow(topic, partition)
    return {
      logStartOffset: BigInt(p.log.logStartOffset),
      highWatermark: BigInt(p.highWatermark),
      lastStableOffset: BigInt(p.lastStableOffset),
    }
  }

  /** Leader and epoch of a partition. */
  leaderOf(topic: string, partition = 0): { leader: number; leaderEpoch: number; replicas: number[] } {
    const p = this.partitionOrThrow(topic, partition)
    return { leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: [...p.replicas] }
  }

  /** Committed offsets of a group (transactional offsets once committed), by topic and partition. */
  committedOffsets(groupId: string): { topic: string; partition: number; offset: bigint; metadata: string | null }[] {
    return this.groups.committedOffsets(groupId)
  }

  /** Members of a group with what each is assigned (classic or consumer protocol). */
  groupMembers(groupId: string) {
    return this.groups.describeMembers(groupId)
  }

  // -- for the handlers ------------------------------------------------------------------------

  aliveBrokers(): BrokerServer[] {
    return [...this.brokers.values()].filter((b) => b.alive)
  }

  isAlive(nodeId: number): boolean {
    return this.brokers.get(nodeId)?.alive ?? false
  }

  partition(topic: string, partition: number): Partition | undefined {
    return this.topics.get(topic)?.partitions[partition]
  }

  nextProducerId(): bigint {
    return this.nextProducerIdValue++
  }

  /** Replicas of the partitions `from..count-1` (round robin over all brokers, leader first). */
  placement(replicationFactor: number, offset = Math.floor(Math.random() * 1000)): (partition: number) => number[] {
    const ids = [...this.brokers.keys()].sort((a, b) => a - b)
    return (partition) =>
      Array.from({ length: replicationFactor }, (_, i) => ids[(partition + offset + i) % ids.length])
  }

  /** Creates a topic as CreateTopics or auto-creation does, or says why not. */
  createTopicChecked(
    name: string,
    partitions: number,
    replicationFactor: number,
    configs: [string, string | null][],
    validateOnly = false,
    internal = false,
  ): { topic: Topic } | { errorCode: number; errorMessage: string } {
    const invalidName = invalidTopicName(name)
    if (invalidName) return { errorCode: ERR.INVALID_TOPIC_EXCEPTION, errorMessage: invalidName }
    if (this.topics.get(name))
      return { errorCode: ERR.TOPIC_ALREADY_EXISTS, errorMessage: `Topic '${name}' already exists.` }
    const count = partitions === -1 ? this.defaultPartitions : partitions
    if (!(count >= 1))
      return {
        errorCode: ERR.INVALID_PARTITIONS,
        errorMessage: 'Number of partitions was set to an invalid non-positive value.',
      }
    const rf = replicationFactor === -1 ? this.defaultReplicationFactor : replicationFactor
    if (!(rf >= 1))
      return {
        errorCode: ERR.INVALID_REPLICATION_FACTOR,
        errorMessage: 'Replication factor must be larger than 0, or -1 to use the default value.',
      }
    if (rf > this.brokers.size)
      return {
        errorCode: ERR.INVALID_REPLICATION_FACTOR,
        errorMessage: `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only ${this.brokers.size} broker(s) are registered.`,
      }
    for (const [k, v] of configs) {
      const problem = invalidTopicConfig(k, v)
      if (problem) return { errorCode: ERR.INVALID_CONFIG, errorMessage: problem }
    }
    if (validateOnly) return { topic: undefined as never }
    const set = configs.filter((c): c is [string, string] => c[1] !== null)
    const topic = this.topics.create(name, count, this.placement(rf), set, internal)
    // a replica on a dead broker cannot lead: pick an alive one, as the controller would
    for (const p of topic.partitions)
      if (!this.isAlive(p.leader)) p.leader = p.replicas.find((r) => this.isAlive(r)) ?? -1
    return { topic }
  }

  /** The broker coordinating a group or transactional id: the leader of its internal partition. */
  coordinatorFor(keyType: number, key: string): number {
    const name = keyType === TRANSACTION_KEY ? TRANSACTION_STATE_TOPIC : OFFSETS_TOPIC
    let topic = this.topics.get(name)
    if (!topic) {
      const rf = Math.min(3, this.brokers.size)
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
    return topic.partitions[javaStringHash(key) % INTERNAL_PARTITIONS].leader
  }

  /** The listener of `nodeId` with the same name as `listenerName`, if that broker is alive. */
  endpoint(
    nodeId: number,
    listenerName: string,
  ): { nodeId: number; host: string; port: number; rack: string | null } | undefined {
    const broker = this.brokers.get(nodeId)
    const l = broker?.alive ? broker.listener(listenerName) : undefined
    return l && broker ? { nodeId, host: l.advertisedHost, port: l.advertisedPort, rack: broker.rack } : undefined
  }

  get isStopped(): boolean {
    return this.stopped
  }

  private partitionOrThrow(topic: string, partition: number): Partition {
    const p = this.partition(topic, partition)
    if (!p) throw new ConfigError(`no partition ${topic}-${partition} in the fake cluster`)
    return p
  }

  private brokerOrThrow(nodeId: number): BrokerServer {
    const b = this.brokers.get(nodeId)
    if (!b) throw new ConfigError(`no broker ${nodeId} in the fake cluster`)
    return b
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

/** Java's String.hashCode made non-negative as Kafka's Utils.abs does (the partition of a group or transactional id). */
export function javaStringHash(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0
  return h & 0x7fffffff
}
