// FakeCluster: an in-process Kafka cluster that speaks the real wire protocol, for tests. It runs the
// brokers (their listeners and connections, broker-server.ts) on the shared cluster state (topics,
// coordinators: cluster-state.ts) and offers the control a test needs: fault injection per request,
// leader moves, killing and restarting brokers, a clock it can advance, and inspection of logs,
// committed offsets and group members.

import type { Connector } from '../client/connector.ts'
import { ConfigError, ConnectionError } from '../protocol/errors.ts'
import { type Api, loadApi } from '../protocol/messages/index.ts'
import type { KafkaRecord } from '../protocol/records/index.ts'
import type { ApiHandler } from './api-handler.ts'
import { HANDLERS } from './apis.ts'
import { BrokerServer, type ListenerOptions, type SharedByBrokers } from './broker-server.ts'
import { type Clock, systemClock } from './clock.ts'
import { ClusterState } from './cluster-state.ts'
import type { GroupSettings } from './group-coordinator.ts'
import { duplexPair } from './in-process.ts'
import { type InterceptHandle, type InterceptOptions, type Interceptor, Interceptors } from './interceptors.ts'
import { Credentials, type SaslUsers } from './sasl-server.ts'
import type { Partition, Topic, TopicRegistry } from './topics.ts'

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

export class FakeCluster {
  /** The cluster's shared state (topics, coordinators, brokers' liveness) the brokers serve. */
  readonly state: ClusterState
  readonly brokers = new Map<number, BrokerServer>()
  readonly apis = new Map<number, ApiHandler>()
  private readonly interceptors = new Interceptors()

  private constructor(options: FakeClusterOptions) {
    const count = options.brokers ?? 1
    if (!Number.isInteger(count) || count < 1) throw new ConfigError(`brokers must be a positive integer, not ${count}`)
    this.state = new ClusterState({
      clusterId: options.clusterId,
      clock: options.clock ?? systemClock,
      credentials: new Credentials(options.users),
      limits: {
        retentionBytes: options.retentionBytes ?? 64 * 1024 * 1024,
        maxSegmentBytes: options.maxSegmentBytes ?? 1024 * 1024,
      },
      autoCreateTopics: options.autoCreateTopics ?? true,
      defaultPartitions: options.defaultPartitions ?? 1,
      defaultReplicationFactor: options.defaultReplicationFactor ?? Math.min(3, count),
      transactionMaxTimeoutMs: options.transactionMaxTimeoutMs ?? 900_000,
      staticBrokerConfigs: { ...options.brokerConfigs },
      groups: options.groups,
      log: options.log,
    })
    const shared: SharedByBrokers = { cluster: this.state, apis: this.apis, interceptors: this.interceptors }
    const inProcess = options.listen === false
    const listeners = options.listeners
    if (Array.isArray(listeners) && count > 1 && listeners.some((l) => l.port))
      throw new ConfigError('fixed listener ports with several brokers: pass listeners as a function of the node id')
    for (let id = 1; id <= count; id++) {
      const own = typeof listeners === 'function' ? listeners(id) : (listeners ?? [{}])
      const ls = inProcess
        ? own.map((l, i) => ({
            ...l,
            advertisedHost: l.advertisedHost ?? `broker-${id}.fake.kafkax`,
            port: l.port || 9092 + i,
          }))
        : own
      const broker = new BrokerServer(shared, id, ls, options.rack?.(id) ?? null, inProcess)
      this.brokers.set(id, broker)
      this.state.nodes.set(id, broker)
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
    this.state.groups.shutdown()
    this.state.transactions.shutdown()
    await Promise.all([...this.brokers.values()].map((b) => b.kill()))
  }

  get clusterId(): string {
    return this.state.clusterId
  }

  get clock(): Clock {
    return this.state.clock
  }

  get topics(): TopicRegistry {
    return this.state.topics
  }

  get groups() {
    return this.state.groups
  }

  /** host:port of the first listener of every alive broker: the bootstrap list for clients. */
  get bootstrap(): string[] {
    return [...this.brokers.values()].filter((b) => b.alive).map((b) => b.listeners[0].address)
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
    if (!this.brokerOrThrow(broker).alive) throw new ConfigError(`broker ${broker} is not running`)
    if (!p.replicas.includes(broker)) p.replicas = [...p.replicas, broker]
    this.state.electLeader(p, broker)
  }

  /** Kills a broker: listeners close, connections drop, its partitions move to other alive replicas. */
  async killBroker(nodeId: number): Promise<void> {
    const broker = this.brokerOrThrow(nodeId)
    if (!broker.alive) return
    await broker.kill()
    this.state.brokerDown(nodeId)
  }

  /** Restarts a killed broker on the same ports; leaderless partitions it hosts elect it. */
  async restartBroker(nodeId: number): Promise<void> {
    const broker = this.brokerOrThrow(nodeId)
    if (broker.alive) return
    await broker.start()
    this.state.brokerUp(nodeId)
  }

  /** Creates a topic (as CreateTopics would); throws ConfigError for what the broker refuses. */
  createTopic(spec: string | TopicSpec): Topic {
    const s = typeof spec === 'string' ? { name: spec } : spec
    const result = this.state.createTopicChecked(
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
    return this.state.groups.committedOffsets(groupId)
  }

  /** Members of a group with what each is assigned (classic or consumer protocol). */
  groupMembers(groupId: string) {
    return this.state.groups.describeMembers(groupId)
  }

  private partitionOrThrow(topic: string, partition: number): Partition {
    const p = this.state.partition(topic, partition)
    if (!p) throw new ConfigError(`no partition ${topic}-${partition} in the fake cluster`)
    return p
  }

  private brokerOrThrow(nodeId: number): BrokerServer {
    const b = this.brokers.get(nodeId)
    if (!b) throw new ConfigError(`no broker ${nodeId} in the fake cluster`)
    return b
  }
}
