// The Admin API, with the semantics of the Java AdminClient: topics, partitions, configs, records,
// offsets, consumer groups, the cluster, ACLs and SCRAM credentials. Requests the controller handles
// go to any broker (KRaft brokers forward them), partition requests to the partitions' leaders,
// group requests to the group's coordinator.

import { pbkdf2, randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { promisify } from 'node:util'
import { ErrorCode, kafkaError } from '../protocol/error-codes.ts'
import { ConfigError, ConnectionError, KafkaError, KafkaxError, ProtocolError } from '../protocol/errors.ts'
import type { AlterUserScramCredentialsRequest } from '../protocol/messages/generated/alter-user-scram-credentials-request.ts'
import type { ApiVersionsResponse } from '../protocol/messages/generated/api-versions-response.ts'
import { ConsumerProtocolAssignment } from '../protocol/messages/generated/consumer-protocol-assignment.ts'
import { ConsumerProtocolSubscription } from '../protocol/messages/generated/consumer-protocol-subscription.ts'
import {
  AlterUserScramCredentialsModule,
  API_KEYS,
  type Api,
  ApiVersions,
  ConsumerGroupDescribeModule,
  CreateAclsModule,
  CreatePartitionsModule,
  CreateTopicsModule,
  DeleteAclsModule,
  DeleteGroupsModule,
  DeleteRecordsModule,
  DeleteTopicsModule,
  DescribeAclsModule,
  DescribeClusterModule,
  DescribeConfigsModule,
  DescribeGroupsModule,
  DescribeUserScramCredentialsModule,
  IncrementalAlterConfigsModule,
  ListGroupsModule,
  ListOffsets,
  loadApi,
  type MessageCodec,
  Metadata,
  OffsetCommit,
  OffsetDeleteModule,
  OffsetFetch,
} from '../protocol/messages/index.ts'
import { EMPTY_BYTES, ZERO_UUID } from '../protocol/messages/runtime.ts'
import { Reader } from '../protocol/primitives/index.ts'
import { Cluster } from './cluster.ts'
import { KAFKAX_VERSION } from './connection.ts'
import { STALE_METADATA_ERRORS } from './metadata.ts'
import type { ClientOptions } from './options.ts'

// ---------------------------------------------------------------------------------------------
// Kafka's enumerations as readable names: the index in each list is Kafka's code.

const CONFIG_SOURCES = [
  'unknown',
  'dynamic-topic',
  'dynamic-broker',
  'dynamic-default-broker',
  'static-broker',
  'default',
  'dynamic-broker-logger',
  'client-metrics',
  'group',
] as const
const ACL_RESOURCE_TYPES = [
  'unknown',
  'any',
  'topic',
  'group',
  'cluster',
  'transactional-id',
  'delegation-token',
  'user',
] as const
const ACL_PATTERN_TYPES = ['unknown', 'any', 'match', 'literal', 'prefixed'] as const
const ACL_OPERATIONS = [
  'unknown',
  'any',
  'all',
  'read',
  'write',
  'create',
  'delete',
  'alter',
  'describe',
  'cluster-action',
  'describe-configs',
  'alter-configs',
  'idempotent-write',
  'create-tokens',
  'describe-tokens',
  'two-phase-commit',
] as const
const ACL_PERMISSIONS = ['unknown', 'any', 'deny', 'allow'] as const
const ALTER_CONFIG_OPS = ['set', 'delete', 'append', 'subtract'] as const
const CONFIG_RESOURCE_TYPES = { topic: 2, broker: 4, 'broker-logger': 8, 'client-metrics': 16, group: 32 } as const
const SCRAM_MECHANISMS = {
  'SCRAM-SHA-256': { code: 1, digest: 'sha256', bytes: 32 },
  'SCRAM-SHA-512': { code: 2, digest: 'sha512', bytes: 64 },
} as const
/** ListOffsets' special timestamps. */
const OFFSET_SPECS = { latest: -1n, earliest: -2n, 'max-timestamp': -3n } as const

/** Where a config value comes from (DescribeConfigs' ConfigSource). */
export type ConfigSource = (typeof CONFIG_SOURCES)[number]
/** What a config belongs to: a topic, a broker, a broker's loggers, client metrics or a group. */
export type ConfigResourceType = keyof typeof CONFIG_RESOURCE_TYPES
/** What an ACL protects. */
export type AclResourceType = Exclude<(typeof ACL_RESOURCE_TYPES)[number], 'unknown'>
/** How an ACL's resource name matches: exactly (`literal`), as a prefix, or (filters) any or `match`. */
export type AclPatternType = Exclude<(typeof ACL_PATTERN_TYPES)[number], 'unknown'>
/** The operation an ACL allows or denies. */
export type AclOperation = Exclude<(typeof ACL_OPERATIONS)[number], 'unknown'>
/** Whether an ACL allows or denies. */
export type AclPermission = Exclude<(typeof ACL_PERMISSIONS)[number], 'unknown'>
/** IncrementalAlterConfigs operations: `append` and `subtract` work on list values. */
export type AlterConfigOp = (typeof ALTER_CONFIG_OPS)[number]
/** The SCRAM mechanisms Kafka stores credentials for. */
export type ScramMechanism = keyof typeof SCRAM_MECHANISMS

// ---------------------------------------------------------------------------------------------
// Arguments and results

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

/** Something that has configs. */
export interface ConfigResource {
  type: ConfigResourceType
  /** Topic name, broker id (`'1'`; `''` for the cluster-wide default), group id... */
  name: string
}

/** One config value as DescribeConfigs answers it. */
export interface ConfigEntry {
  name: string
  /** null when unset or sensitive. */
  value: string | null
  source: ConfigSource
  sensitive: boolean
  readOnly: boolean
  /** The value is Kafka's default (nobody set it). */
  default: boolean
}

/** The changes to one resource's configs. */
export interface AlterConfigsResource extends ConfigResource {
  ops: { key: string; op: AlterConfigOp; value?: string }[]
}

/** Which offset `listOffsets` looks up: the earliest, the latest, the record with the highest timestamp, or the first at or after a time. */
export type OffsetSpec = 'earliest' | 'latest' | 'max-timestamp' | { timestamp: number }

/** An offset `listOffsets` found. */
export interface PartitionOffset {
  partition: number
  offset: bigint
  /** -1 unless the offset was looked up by timestamp or max-timestamp. */
  timestamp: number
}

/** A group as ListGroups lists it. */
export interface ListedGroup {
  groupId: string
  protocolType: string
  /** Empty when the broker is too old to say (ListGroups v4+). */
  state: string
  /** 'classic', 'consumer', 'share'...; empty when the broker is too old to say (ListGroups v5+). */
  type: string
}

/** A member of a described group. */
export interface GroupMember {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  /** Decoded for consumer groups (protocol type `consumer`). */
  subscription?: { topics: string[]; userData: Buffer | null }
  assignment?: { topic: string; partitions: number[] }[]
  /** The raw bytes of classic groups (empty in KIP-848 consumer groups). */
  memberMetadata: Buffer
  memberAssignment: Buffer
}

/** A consumer group: its state, protocol and members. */
export interface GroupDescription {
  groupId: string
  /** 'classic', or 'consumer' for groups of the KIP-848 protocol. */
  type: 'classic' | 'consumer'
  state: string
  protocolType: string
  /** The assignor (consumer groups) or protocol the members agreed on. */
  protocol: string
  members: GroupMember[]
}

/** A group's committed offset of one partition. */
export interface CommittedOffset {
  topic: string
  partition: number
  offset: bigint
  metadata: string | null
}

/** How far a group is behind on one partition (`groupLag`). */
export interface PartitionLag {
  topic: string
  partition: number
  committed: bigint
  end: bigint
  lag: bigint
}

/** The cluster id, the controller and the brokers. */
export interface ClusterDescription {
  clusterId: string
  controller: number
  brokers: { nodeId: number; host: string; port: number; rack: string | null }[]
}

/** One API as a broker announces it in ApiVersions, with the version kafkax speaks to it. */
export interface BrokerApi {
  apiKey: number
  /** Kafka's name of the API (`Produce`, `Fetch`...); `Unknown(<key>)` for a key newer than kafkax. */
  name: string
  minVersion: number
  maxVersion: number
  /** The highest version both kafkax and the broker support; -1 when they have none in common. */
  usable: number
}

/** The APIs one broker supports (as `kafka-broker-api-versions.sh` shows them). */
export interface BrokerApiVersions {
  nodeId: number
  host: string
  port: number
  apis: BrokerApi[]
}

/** Feature flags (KIP-584): the levels the broker asked supports and the cluster-wide finalized ones. */
export interface FeatureDescription {
  /** Increases with every change of the finalized levels; -1 when unknown. */
  finalizedEpoch: bigint
  finalized: { name: string; minVersionLevel: number; maxVersionLevel: number }[]
  supported: { name: string; minVersion: number; maxVersion: number }[]
}

/** An access control entry: who may (or may not) do what on which resource, from which host. */
export interface Acl {
  resourceType: AclResourceType
  resourceName: string
  /** Default 'literal'. */
  patternType?: AclPatternType
  /** e.g. 'User:alice'. */
  principal: string
  /** Default '*'. */
  host?: string
  operation: AclOperation
  permission: AclPermission
}

/** Every field left out matches anything. */
export interface AclFilter {
  resourceType?: AclResourceType
  resourceName?: string | null
  patternType?: AclPatternType
  principal?: string | null
  host?: string | null
  operation?: AclOperation
  permission?: AclPermission
}

/** A SCRAM credential to create or replace. */
export interface ScramUpsertion {
  user: string
  mechanism: ScramMechanism
  password: string
  /** Default 4096, Kafka's minimum; at most 16384. */
  iterations?: number
}

/** One item of a batch call that the broker refused. */
export interface AdminItemError<I> {
  item: I
  error: KafkaError
}

/** The KafkaError a batch call throws: the first failed item's, with every failed item in `errors`. */
export type AdminError<I> = KafkaError & { errors: AdminItemError<I>[] }

// ---------------------------------------------------------------------------------------------

/** Lazily loaded codecs of the rarely used APIs (importing kafkax must stay cheap). */
const CreateTopics = () => loadApi(CreateTopicsModule)
const DeleteTopics = () => loadApi(DeleteTopicsModule)
const DeleteRecords = () => loadApi(DeleteRecordsModule)
const CreatePartitions = () => loadApi(CreatePartitionsModule)
const DescribeConfigs = () => loadApi(DescribeConfigsModule)
const IncrementalAlterConfigs = () => loadApi(IncrementalAlterConfigsModule)
const DescribeGroups = () => loadApi(DescribeGroupsModule)
const ConsumerGroupDescribe = () => loadApi(ConsumerGroupDescribeModule)
const ListGroups = () => loadApi(ListGroupsModule)
const DeleteGroups = () => loadApi(DeleteGroupsModule)
const OffsetDelete = () => loadApi(OffsetDeleteModule)
const DescribeCluster = () => loadApi(DescribeClusterModule)
const DescribeAcls = () => loadApi(DescribeAclsModule)
const CreateAcls = () => loadApi(CreateAclsModule)
const DeleteAcls = () => loadApi(DeleteAclsModule)
const DescribeScram = () => loadApi(DescribeUserScramCredentialsModule)
const AlterScram = () => loadApi(AlterUserScramCredentialsModule)

/** Caps an API's version: v10 of OffsetCommit and OffsetFetch name topics by id only; we work with names. */
function upTo<Req, Res>(api: Api<Req, Res>, max: number): Api<Req, Res> {
  return { ...api, request: { ...api.request, latestStableVersion: Math.min(max, api.request.latestStableVersion) } }
}
const OffsetCommitByName = upTo(OffsetCommit, 9)
const OffsetFetchByName = upTo(OffsetFetch, 9)

const pbkdf2Async = promisify(pbkdf2)
/**
 * Retriable in Kafka's table but final for an admin call: the topic does not exist (Java's
 * AdminClient fails at once too), or the broker already waited the whole timeout.
 */
const FINAL = new Set<number>([
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.REQUEST_TIMED_OUT,
])

function worthRetry(error: unknown): boolean {
  return error instanceof KafkaxError && error.retriable && !(error instanceof KafkaError && FINAL.has(error.code))
}

/** A KafkaError for a failed item: Kafka's name and message, then what failed and the broker's words. */
function itemError(code: number, what: string, message?: string | null): KafkaError {
  return kafkaError(code, message ? `${what}: ${message}` : what)
}

// ---------------------------------------------------------------------------------------------

/**
 * Administration of a Kafka cluster. Connects on first use (or `connect()`); `close()` when done.
 *
 * Batch calls (several topics, groups, ACLs...) either return a result per item, in the order of
 * the items, or throw one `KafkaError`: the first failed item's error, with an `errors` property
 * listing every failed item as `{ item, error }` (see `AdminError`). Items the broker refuses with
 * a retriable error (NOT_CONTROLLER, ErrorCode.LEADER_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS...) are sent
 * again by the client's retry policy, after a metadata refresh where routing depends on it;
 * UNKNOWN_TOPIC_OR_PARTITION is final.
 */
export class Admin {
  private readonly cluster: Cluster
  private connecting: Promise<void> | undefined
  private closed = false

  constructor(options: ClientOptions) {
    this.cluster = new Cluster(options)
  }

  /** Fetches cluster metadata once (proves the cluster is reachable); every call does this first. */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new ConnectionError('the admin client is closed', { retriable: false }))
    this.connecting ??= this.cluster.connect().catch((error) => {
      this.connecting = undefined
      throw error
    })
    return this.connecting
  }

  /** Closes every connection; calls after this fail at once with a ConnectionError. */
  async close(): Promise<void> {
    this.closed = true
    await this.cluster.close()
  }

  /** A cheap round trip (Metadata with no topics) to any broker; resolves to its latency in ms. */
  async ping(): Promise<number> {
    await this.connect()
    const start = performance.now()
    await this.run(() => this.send('any', Metadata, () => ({ topics: [], allowAutoTopicCreation: false })))
    return performance.now() - start
  }

  // ------------------------------------------------------------------------------------------
  // Topics

  /**
   * Creates topics; resolves to their ids and sizes (the broker's defaults filled in) once every
   * partition has a leader, unless `waitForLeaders` is false (a new topic reaches the brokers'
   * metadata a moment after the controller created it).
   */
  async createTopics(
    topics: NewTopic[],
    options: { validateOnly?: boolean; timeoutMs?: number; waitForLeaders?: boolean } = {},
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
    const timeoutMs = timeout('createTopics', options.timeoutMs)
    await this.connect()
    const api = await CreateTopics()
    const created = await this.settle(topics, async (pending) => {
      const response = await this.send('any', api, () => ({
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
    if (!options.validateOnly && options.waitForLeaders !== false) await this.waitForLeaders(topics.map((t) => t.topic))
    return created
  }

  private async waitForLeaders(topics: string[]): Promise<void> {
    await this.cluster.retry.run(async () => {
      const response = await this.send('any', Metadata, () => ({
        topics: topics.map((name) => ({ name })),
        allowAutoTopicCreation: false,
      }))
      const waiting = response.topics.find((t) => t.errorCode || t.partitions.some((p) => p.leaderId < 0))
      if (waiting)
        throw kafkaError(
          waiting.errorCode || ErrorCode.LEADER_NOT_AVAILABLE,
          `topic ${waiting.name} has no leaders yet`,
        )
    })
  }

  /** Deletes topics; resolves once the controller has deleted them (within `timeoutMs`). */
  async deleteTopics(topics: string[], options: { timeoutMs?: number } = {}): Promise<void> {
    names('deleteTopics', topics)
    const timeoutMs = timeout('deleteTopics', options.timeoutMs)
    await this.connect()
    const api = await DeleteTopics()
    await this.settle(topics, async (pending) => {
      const response = await this.send('any', api, (v) =>
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

  /** Names of the topics; internal ones (__consumer_offsets...) only with `includeInternal`. */
  async listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    await this.connect()
    const response = await this.run(() =>
      this.send('any', Metadata, () => ({ topics: null, allowAutoTopicCreation: false })),
    )
    return response.topics
      .filter((t) => t.name !== null && t.errorCode === 0 && (options.includeInternal || !t.isInternal))
      .map((t) => t.name as string)
      .sort()
  }

  /** Partitions, leaders and replicas of each topic, in the order asked. */
  async describeTopics(topics: string[]): Promise<TopicDescription[]> {
    names('describeTopics', topics)
    await this.connect()
    return this.settle(topics, async (pending) => {
      const response = await this.send('any', Metadata, () => ({
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

  /** Grows topics to `count` partitions each. */
  async createPartitions(
    topics: NewPartitions[],
    options: { validateOnly?: boolean; timeoutMs?: number } = {},
  ): Promise<void> {
    list('createPartitions', topics)
    topics.forEach((t, i) => {
      name(`createPartitions: topics[${i}].topic`, t?.topic)
      int(`createPartitions: topics[${i}].count`, t.count, 1)
    })
    const timeoutMs = timeout('createPartitions', options.timeoutMs)
    await this.connect()
    const api = await CreatePartitions()
    await this.settle(topics, async (pending) => {
      const response = await this.send('any', api, () => ({
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

  // ------------------------------------------------------------------------------------------
  // Configs

  /** The configs of topics, brokers...; `keys` narrows the answer to those names. */
  async describeConfigs(
    resources: (ConfigResource & { keys?: string[] })[],
  ): Promise<(ConfigResource & { configs: ConfigEntry[] })[]> {
    list('describeConfigs', resources)
    for (const [i, r] of resources.entries()) resource(`describeConfigs: resources[${i}]`, r)
    await this.connect()
    const api = await DescribeConfigs()
    return this.settle(resources, (pending) =>
      this.byTarget(pending, configTarget, async (target, items) => {
        const response = await this.send(target, api, () => ({
          resources: items.map((r) => ({
            resourceType: CONFIG_RESOURCE_TYPES[r.type],
            resourceName: r.name,
            configurationKeys: r.keys ?? null,
          })),
        }))
        const byKey = new Map(response.results.map((r) => [`${r.resourceType}:${r.resourceName}`, r]))
        return items.map((item) => {
          const r = answer(byKey, `${CONFIG_RESOURCE_TYPES[item.type]}:${item.name}`, 'DescribeConfigs')
          if (r.errorCode) return itemError(r.errorCode, `${item.type} ${item.name}`, r.errorMessage)
          const configs = r.configs.map((c) => {
            const source = CONFIG_SOURCES[c.configSource] ?? 'unknown'
            return {
              name: c.name,
              value: c.value,
              source,
              sensitive: c.isSensitive,
              readOnly: c.readOnly,
              default: source === 'default',
            }
          })
          return { type: item.type, name: item.name, configs }
        })
      }),
    )
  }

  /** Sets, deletes, appends to or subtracts from config values (list values for append/subtract). */
  async incrementalAlterConfigs(
    resources: AlterConfigsResource[],
    options: { validateOnly?: boolean } = {},
  ): Promise<void> {
    list('incrementalAlterConfigs', resources)
    resources.forEach((r, i) => {
      const at = `incrementalAlterConfigs: resources[${i}]`
      resource(at, r)
      list(`${at}.ops`, r.ops)
      r.ops.forEach((o, j) => {
        name(`${at}.ops[${j}].key`, o?.key)
        oneOf(`${at}.ops[${j}].op`, o.op, ALTER_CONFIG_OPS)
        if (o.op !== 'delete' && typeof o.value !== 'string') {
          throw new ConfigError(`${at}.ops[${j}].value must be a string for op '${o.op}'`)
        }
      })
    })
    await this.connect()
    const api = await IncrementalAlterConfigs()
    await this.settle(resources, (pending) =>
      this.byTarget(pending, configTarget, async (target, items) => {
        const response = await this.send(target, api, () => ({
          resources: items.map((r) => ({
            resourceType: CONFIG_RESOURCE_TYPES[r.type],
            resourceName: r.name,
            configs: r.ops.map((o) => ({
              name: o.key,
              configOperation: ALTER_CONFIG_OPS.indexOf(o.op),
              value: o.op === 'delete' ? null : (o.value ?? null),
            })),
          })),
          validateOnly: options.validateOnly ?? false,
        }))
        const byKey = new Map(response.responses.map((r) => [`${r.resourceType}:${r.resourceName}`, r]))
        return items.map((item) => {
          const r = answer(byKey, `${CONFIG_RESOURCE_TYPES[item.type]}:${item.name}`, 'IncrementalAlterConfigs')
          return r.errorCode ? itemError(r.errorCode, `${item.type} ${item.name}`, r.errorMessage) : undefined
        })
      }),
    )
  }

  // ------------------------------------------------------------------------------------------
  // Records and offsets (sent to the partitions' leaders)

  /**
   * Deletes the records before `offset` in each partition (-1: up to the high watermark); resolves
   * to each partition's new low watermark (earliest offset).
   */
  async deleteRecords(request: {
    topic: string
    partitions: { partition: number; offset: bigint | number }[]
    timeoutMs?: number
  }): Promise<{ partition: number; lowWatermark: bigint }[]> {
    name('deleteRecords: topic', request?.topic)
    list('deleteRecords: partitions', request.partitions)
    request.partitions.forEach((p, i) => {
      int(`deleteRecords: partitions[${i}].partition`, p?.partition, 0)
      offset(`deleteRecords: partitions[${i}].offset`, p.offset)
    })
    const { topic } = request
    const timeoutMs = timeout('deleteRecords', request.timeoutMs)
    await this.connect()
    const api = await DeleteRecords()
    return this.settle(
      request.partitions,
      (pending) =>
        this.byTarget(
          pending,
          (p) => this.cluster.leaderFor(topic, p.partition),
          async (leader, items) => {
            const response = await this.send(leader, api, () => ({
              topics: [
                {
                  name: topic,
                  partitions: items.map((p) => ({ partitionIndex: p.partition, offset: BigInt(p.offset) })),
                },
              ],
              timeoutMs,
            }))
            const byPartition = new Map(response.topics.flatMap((t) => t.partitions).map((p) => [p.partitionIndex, p]))
            return items.map((item) => {
              const p = answer(byPartition, item.partition, 'DeleteRecords')
              if (p.errorCode) return itemError(p.errorCode, `${topic}-${item.partition}`)
              return { partition: item.partition, lowWatermark: p.lowWatermark }
            })
          },
        ),
      [topic],
    )
  }

  /**
   * The offset of each partition at a point: `earliest`, `latest` (the high watermark), the record
   * with the highest timestamp, or the first record at or after `{ timestamp }` (offset -1 if none).
   * `partitions` defaults to all of the topic's.
   */
  async listOffsets(request: { topic: string; partitions?: number[]; at: OffsetSpec }): Promise<PartitionOffset[]> {
    name('listOffsets: topic', request?.topic)
    const { topic, at } = request
    if (typeof at === 'string' ? !Object.hasOwn(OFFSET_SPECS, at) : at === null || typeof at !== 'object') {
      throw new ConfigError(
        `listOffsets: at must be 'earliest', 'latest', 'max-timestamp' or { timestamp }, got ${JSON.stringify(at)}`,
      )
    }
    if (typeof at === 'object') int('listOffsets: at.timestamp', at.timestamp, 0)
    const timestamp = typeof at === 'string' ? OFFSET_SPECS[at] : BigInt(at.timestamp)
    for (const [i, p] of (request.partitions ?? []).entries()) int(`listOffsets: partitions[${i}]`, p, 0)
    await this.connect()
    const partitions = request.partitions ?? (await this.describeTopics([topic]))[0].partitions.map((p) => p.partition)
    return this.settle(
      partitions,
      (pending) =>
        this.byTarget(
          pending,
          (p) => this.cluster.leaderFor(topic, p),
          async (leader, items) => {
            const response = await this.send(leader, ListOffsets, () => ({
              replicaId: -1,
              topics: [{ name: topic, partitions: items.map((partitionIndex) => ({ partitionIndex, timestamp })) }],
            }))
            const byPartition = new Map(response.topics.flatMap((t) => t.partitions).map((p) => [p.partitionIndex, p]))
            return items.map((partition) => {
              const p = answer(byPartition, partition, 'ListOffsets')
              if (p.errorCode) return itemError(p.errorCode, `${topic}-${partition}`)
              return { partition, offset: p.offset, timestamp: Number(p.timestamp) }
            })
          },
        ),
      [topic],
    )
  }

  // ------------------------------------------------------------------------------------------
  // Consumer groups (sent to each group's coordinator)

  /** Groups of every broker (each lists those it coordinates). */
  async listGroups(): Promise<ListedGroup[]> {
    await this.connect()
    const api = await ListGroups()
    const brokers = [...(await this.cluster.refreshMetadata()).brokers.keys()]
    const answers = await Promise.all(
      brokers.map((nodeId) =>
        this.run(async () => {
          const response = await this.send(nodeId, api, () => ({}))
          if (response.errorCode) throw kafkaError(response.errorCode, `ListGroups on broker ${nodeId}`)
          return response.groups
        }),
      ),
    )
    return answers
      .flat()
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, state: g.groupState, type: g.groupType }))
      .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
  }

  /**
   * State, protocol and members of classic and KIP-848 consumer groups, with the members'
   * subscriptions and assignments decoded. A group that does not exist fails with ErrorCode.GROUP_ID_NOT_FOUND
   * (brokers before Kafka 4.0 describe it with state `Dead`).
   */
  async describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    names('describeGroups', groupIds)
    await this.connect()
    const api = await DescribeGroups()
    return this.settle(groupIds, (pending) =>
      Promise.all(
        pending.map(async (groupId) => {
          const response = await this.groupRequest(
            groupId,
            api,
            () => ({ groups: [groupId] }),
            (r) => r.groups[0]?.errorCode ?? 0,
          )
          const g = response.groups[0]
          if (!g) throw new ProtocolError(`DescribeGroups answer lacks group ${groupId}`)
          // Kafka 4 answers so for KIP-848 groups too: they have their own describe API
          if (g.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) return this.describeConsumerGroup(groupId)
          if (g.errorCode) return itemError(g.errorCode, `group ${groupId}`, g.errorMessage)
          const consumer = g.protocolType === 'consumer'
          return {
            groupId,
            type: 'classic' as const,
            state: g.groupState,
            protocolType: g.protocolType,
            protocol: g.protocolData,
            members: g.members.map((m) => ({
              memberId: m.memberId,
              groupInstanceId: m.groupInstanceId,
              clientId: m.clientId,
              clientHost: m.clientHost,
              subscription: consumer ? subscriptionOf(m.memberMetadata) : undefined,
              assignment: consumer ? assignmentOf(m.memberAssignment) : undefined,
              memberMetadata: m.memberMetadata,
              memberAssignment: m.memberAssignment,
            })),
          }
        }),
      ),
    )
  }

  private async describeConsumerGroup(groupId: string): Promise<GroupDescription | KafkaError> {
    const response = await this.groupRequest(
      groupId,
      await ConsumerGroupDescribe(),
      () => ({ groupIds: [groupId], includeAuthorizedOperations: false }),
      (r) => r.groups[0]?.errorCode ?? 0,
    )
    const g = response.groups[0]
    if (!g) throw new ProtocolError(`ConsumerGroupDescribe answer lacks group ${groupId}`)
    if (g.errorCode) return itemError(g.errorCode, `group ${groupId}`, g.errorMessage)
    return {
      groupId,
      type: 'consumer',
      state: g.groupState,
      protocolType: 'consumer',
      protocol: g.assignorName,
      members: g.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.instanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscription: { topics: m.subscribedTopicNames, userData: null },
        assignment: m.assignment.topicPartitions.map((tp) => ({ topic: tp.topicName, partitions: tp.partitions })),
        memberMetadata: EMPTY_BYTES,
        memberAssignment: EMPTY_BYTES,
      })),
    }
  }

  /** Deletes empty groups and their committed offsets (NON_EMPTY_GROUP while members remain). */
  async deleteGroups(groupIds: string[]): Promise<void> {
    names('deleteGroups', groupIds)
    await this.connect()
    const api = await DeleteGroups()
    await this.settle(groupIds, (pending) =>
      Promise.all(
        pending.map(async (groupId) => {
          const response = await this.groupRequest(
            groupId,
            api,
            () => ({ groupsNames: [groupId] }),
            (r) => r.results[0]?.errorCode ?? 0,
          )
          const code = response.results[0]?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR
          return code ? itemError(code, `group ${groupId}`) : undefined
        }),
      ),
    )
  }

  /** The group's committed offsets, of every topic or only of `topics`. */
  async fetchCommittedOffsets(groupId: string, topics?: string[]): Promise<CommittedOffset[]> {
    name('fetchCommittedOffsets: groupId', groupId)
    if (topics !== undefined) names('fetchCommittedOffsets', topics)
    await this.connect()
    const response = await this.groupRequest(
      groupId,
      OffsetFetchByName,
      // every topic: one request, filtered here (naming partitions would need their metadata)
      (v) => (v >= 8 ? { groups: [{ groupId, topics: null }] } : { groupId, topics: null }),
      (r) => (r.groups.length > 0 ? r.groups[0].errorCode : r.errorCode),
    )
    const group = response.groups[0]
    const code = group ? group.errorCode : response.errorCode
    if (code) throw kafkaError(code, `group ${groupId}`)
    const offsets: CommittedOffset[] = []
    for (const t of group ? group.topics : response.topics) {
      if (topics && !topics.includes(t.name)) continue
      for (const p of t.partitions) {
        if (p.errorCode) throw itemError(p.errorCode, `group ${groupId} ${t.name}-${p.partitionIndex}`)
        if (p.committedOffset < 0n) continue
        offsets.push({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, metadata: p.metadata })
      }
    }
    return offsets.sort(byTopicPartition)
  }

  /** Commits offsets for a group with no active members (as `kafka-consumer-groups --reset-offsets`). */
  async alterCommittedOffsets(
    groupId: string,
    offsets: { topic: string; partition: number; offset: bigint | number; metadata?: string | null }[],
  ): Promise<void> {
    name('alterCommittedOffsets: groupId', groupId)
    list('alterCommittedOffsets: offsets', offsets)
    offsets.forEach((o, i) => {
      name(`alterCommittedOffsets: offsets[${i}].topic`, o?.topic)
      int(`alterCommittedOffsets: offsets[${i}].partition`, o.partition, 0)
      offset(`alterCommittedOffsets: offsets[${i}].offset`, o.offset)
    })
    await this.connect()
    await this.settle(offsets, async (pending) => {
      const response = await this.groupRequest(
        groupId,
        OffsetCommitByName,
        () => ({
          groupId,
          generationIdOrMemberEpoch: -1,
          memberId: '',
          topics: byTopic(pending).map(([name, items]) => ({
            name,
            partitions: items.map((o) => ({
              partitionIndex: o.partition,
              committedOffset: BigInt(o.offset),
              committedMetadata: o.metadata ?? null,
            })),
          })),
        }),
        (r) => r.topics[0]?.partitions[0]?.errorCode ?? 0,
      )
      const byKey = new Map(
        response.topics.flatMap((t) => t.partitions.map((p) => [`${t.name}-${p.partitionIndex}`, p])),
      )
      return pending.map((o) => {
        const p = answer(byKey, `${o.topic}-${o.partition}`, 'OffsetCommit')
        return p.errorCode ? itemError(p.errorCode, `group ${groupId} ${o.topic}-${o.partition}`) : undefined
      })
    })
  }

  /** Deletes committed offsets of partitions the group no longer consumes (OffsetDelete). */
  async deleteCommittedOffsets(groupId: string, partitions: { topic: string; partition: number }[]): Promise<void> {
    name('deleteCommittedOffsets: groupId', groupId)
    list('deleteCommittedOffsets: partitions', partitions)
    partitions.forEach((p, i) => {
      name(`deleteCommittedOffsets: partitions[${i}].topic`, p?.topic)
      int(`deleteCommittedOffsets: partitions[${i}].partition`, p.partition, 0)
    })
    await this.connect()
    const api = await OffsetDelete()
    await this.settle(partitions, async (pending) => {
      const response = await this.groupRequest(
        groupId,
        api,
        () => ({
          groupId,
          topics: byTopic(pending).map(([name, items]) => ({
            name,
            partitions: items.map((p) => ({ partitionIndex: p.partition })),
          })),
        }),
        (r) => r.errorCode,
      )
      if (response.errorCode) throw kafkaError(response.errorCode, `group ${groupId}`)
      const byKey = new Map(
        response.topics.flatMap((t) => t.partitions.map((p) => [`${t.name}-${p.partitionIndex}`, p])),
      )
      return pending.map((o) => {
        const p = answer(byKey, `${o.topic}-${o.partition}`, 'OffsetDelete')
        return p.errorCode ? itemError(p.errorCode, `group ${groupId} ${o.topic}-${o.partition}`) : undefined
      })
    })
  }

  /** Per partition with a committed offset: that offset, the high watermark and the difference. */
  async groupLag(groupId: string): Promise<PartitionLag[]> {
    const committed = await this.fetchCommittedOffsets(groupId)
    const lags = await Promise.all(
      byTopic(committed).map(async ([topic, items]) => {
        const ends = await this.listOffsets({ topic, partitions: items.map((c) => c.partition), at: 'latest' })
        return items.map((c, i) => {
          const end = ends[i].offset
          return { topic, partition: c.partition, committed: c.offset, end, lag: end > c.offset ? end - c.offset : 0n }
        })
      }),
    )
    return lags.flat().sort(byTopicPartition)
  }

  // ------------------------------------------------------------------------------------------
  // Cluster, ACLs, SCRAM credentials

  /** The cluster id, the controller and every broker (DescribeCluster). */
  async describeCluster(): Promise<ClusterDescription> {
    await this.connect()
    const api = await DescribeCluster()
    const r = await this.run(async () => {
      const response = await this.send('any', api, () => ({ includeClusterAuthorizedOperations: false }))
      if (response.errorCode) throw kafkaError(response.errorCode, response.errorMessage)
      return response
    })
    const brokers = r.brokers
      .map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack }))
      .sort((a, b) => a.nodeId - b.nodeId)
    return { clusterId: r.clusterId, controller: r.controllerId, brokers }
  }

  /** The finalized and supported feature levels (ApiVersions to any broker, as Java's describeFeatures). */
  async describeFeatures(): Promise<FeatureDescription> {
    await this.connect()
    const r = await this.run(() => this.apiVersions('any'))
    return {
      finalizedEpoch: r.finalizedFeaturesEpoch,
      finalized: r.finalizedFeatures.map(({ name, minVersionLevel, maxVersionLevel }) => ({
        name,
        minVersionLevel,
        maxVersionLevel,
      })),
      supported: r.supportedFeatures.map(({ name, minVersion, maxVersion }) => ({ name, minVersion, maxVersion })),
    }
  }

  /** Every broker's supported API versions, and the version kafkax uses for each with that broker. */
  async brokerApiVersions(): Promise<BrokerApiVersions[]> {
    const { brokers } = await this.describeCluster()
    const apis = new Map((await Promise.all(API_KEYS.map(loadApi))).map((a) => [a.apiKey, a]))
    return Promise.all(
      brokers.map(async ({ nodeId, host, port }) => {
        const r = await this.run(() => this.apiVersions(nodeId))
        const list = r.apiKeys.map(({ apiKey, minVersion, maxVersion }) => {
          const api = apis.get(apiKey)
          const ours = api ? Math.min(api.request.latestStableVersion, maxVersion) : -1
          const usable = api && ours >= Math.max(minVersion, api.request.minVersion) ? ours : -1
          return { apiKey, name: api?.name ?? `Unknown(${apiKey})`, minVersion, maxVersion, usable }
        })
        return { nodeId, host, port, apis: list.sort((a, b) => a.apiKey - b.apiKey) }
      }),
    )
  }

  private async apiVersions(target: number | 'any'): Promise<ApiVersionsResponse> {
    const r = await this.send(target, ApiVersions, () => ({
      clientSoftwareName: 'kafkax',
      clientSoftwareVersion: KAFKAX_VERSION,
    }))
    if (r.errorCode) throw kafkaError(r.errorCode, 'ApiVersions')
    return r
  }

  /** Creates ACLs (an authorizer must be configured on the brokers). */
  async createAcls(acls: Acl[]): Promise<void> {
    list('createAcls', acls)
    const creations = acls.map((a, i) => aclCodes(`createAcls: acls[${i}]`, a, false))
    await this.connect()
    const api = await CreateAcls()
    const indexes = acls.map((_, i) => i)
    await this.settle(indexes, async (pending) => {
      const response = await this.send('any', api, () => ({
        creations: pending.map((i) => {
          const c = creations[i]
          return { ...c, resourceName: c.resourceName ?? '', principal: c.principal ?? '', host: c.host ?? '*' }
        }),
      }))
      return pending.map((i, k) => {
        const r = response.results[k]
        if (!r) throw new ProtocolError('CreateAcls answer lacks results')
        return r.errorCode ? itemError(r.errorCode, `ACL ${describeAcl(acls[i])}`, r.errorMessage) : undefined
      })
    })
  }

  /** The ACLs that match `filter` (every ACL by default). */
  async describeAcls(filter: AclFilter = {}): Promise<Acl[]> {
    const f = aclCodes('describeAcls: filter', filter, true)
    await this.connect()
    const api = await DescribeAcls()
    const response = await this.run(async () => {
      const r = await this.send('any', api, () => ({
        resourceTypeFilter: f.resourceType,
        resourceNameFilter: f.resourceName,
        patternTypeFilter: f.resourcePatternType,
        principalFilter: f.principal,
        hostFilter: f.host,
        operation: f.operation,
        permissionType: f.permissionType,
      }))
      if (r.errorCode) throw kafkaError(r.errorCode, r.errorMessage)
      return r
    })
    return response.resources.flatMap((res) =>
      res.acls.map((a) =>
        aclOf({ ...a, resourceType: res.resourceType, resourceName: res.resourceName, patternType: res.patternType }),
      ),
    )
  }

  /** Deletes the ACLs matching any of the filters; resolves to the ACLs deleted. */
  async deleteAcls(filters: AclFilter[]): Promise<Acl[]> {
    list('deleteAcls', filters)
    const codes = filters.map((f, i) => aclCodes(`deleteAcls: filters[${i}]`, f, true))
    await this.connect()
    const api = await DeleteAcls()
    const deleted = await this.settle(
      filters.map((_, i) => i),
      async (pending) => {
        const response = await this.send('any', api, () => ({
          filters: pending.map((i) => {
            const f = codes[i]
            return {
              resourceTypeFilter: f.resourceType,
              resourceNameFilter: f.resourceName,
              patternTypeFilter: f.resourcePatternType,
              principalFilter: f.principal,
              hostFilter: f.host,
              operation: f.operation,
              permissionType: f.permissionType,
            }
          }),
        }))
        return pending.map((i, k) => {
          const r = response.filterResults[k]
          if (!r) throw new ProtocolError('DeleteAcls answer lacks results')
          if (r.errorCode) return itemError(r.errorCode, `ACL filter ${JSON.stringify(filters[i])}`, r.errorMessage)
          const failed = r.matchingAcls.find((m) => m.errorCode)
          if (failed) return itemError(failed.errorCode, `ACL ${describeAcl(aclOf(failed))}`, failed.errorMessage)
          return r.matchingAcls.map(aclOf)
        })
      },
    )
    return deleted.flat()
  }

  /**
   * Creates or replaces SCRAM credentials. The salt is random and the salted password is computed
   * here (PBKDF2, as RFC 5802's Hi()), so the password never leaves the client.
   */
  async upsertScramCredentials(credentials: ScramUpsertion[]): Promise<void> {
    list('upsertScramCredentials', credentials)
    credentials.forEach((c, i) => {
      const at = `upsertScramCredentials: credentials[${i}]`
      name(`${at}.user`, c?.user)
      scramMechanism(`${at}.mechanism`, c.mechanism)
      if (typeof c.password !== 'string' || c.password === '')
        throw new ConfigError(`${at}.password must be a non-empty string`)
      if (c.iterations !== undefined) int(`${at}.iterations`, c.iterations, 4096, 16384)
    })
    await this.connect()
    const upsertions = await Promise.all(
      credentials.map(async (c) => {
        const m = SCRAM_MECHANISMS[c.mechanism]
        const iterations = c.iterations ?? 4096
        const salt = randomBytes(32)
        const saltedPassword = await pbkdf2Async(c.password, salt, iterations, m.bytes, m.digest)
        return { name: c.user, mechanism: m.code, iterations, salt, saltedPassword }
      }),
    )
    await this.alterScram(credentials, (pending) => ({
      deletions: [],
      upsertions: pending.map((c) => upsertions[credentials.indexOf(c)]),
    }))
  }

  /** Deletes users' SCRAM credentials of the given mechanisms. */
  async deleteScramCredentials(credentials: { user: string; mechanism: ScramMechanism }[]): Promise<void> {
    list('deleteScramCredentials', credentials)
    credentials.forEach((c, i) => {
      name(`deleteScramCredentials: credentials[${i}].user`, c?.user)
      scramMechanism(`deleteScramCredentials: credentials[${i}].mechanism`, c.mechanism)
    })
    await this.connect()
    await this.alterScram(credentials, (pending) => ({
      deletions: pending.map((c) => ({ name: c.user, mechanism: SCRAM_MECHANISMS[c.mechanism].code })),
      upsertions: [],
    }))
  }

  /** The SCRAM mechanisms and iterations of `users` (default: every user that has some). */
  async describeScramCredentials(
    users?: string[],
  ): Promise<{ user: string; credentials: { mechanism: ScramMechanism; iterations: number }[] }[]> {
    if (users !== undefined) names('describeScramCredentials', users)
    await this.connect()
    const api = await DescribeScram()
    const response = await this.run(async () => {
      const r = await this.send('any', api, () => ({ users: users ? users.map((name) => ({ name })) : null }))
      if (r.errorCode) throw kafkaError(r.errorCode, r.errorMessage)
      return r
    })
    const failed = response.results.filter((r) => r.errorCode)
    if (failed.length > 0) {
      throw withItems(
        failed.map((r) => ({ item: r.user, error: itemError(r.errorCode, `user ${r.user}`, r.errorMessage) })),
      )
    }
    return response.results.map((r) => ({
      user: r.user,
      credentials: r.credentialInfos.map((c) => ({
        mechanism: c.mechanism === 1 ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512',
        iterations: c.iterations,
      })),
    }))
  }

  // ------------------------------------------------------------------------------------------
  // Plumbing

  private async alterScram<I extends { user: string }>(
    items: I[],
    body: (pending: I[]) => AlterUserScramCredentialsRequest,
  ): Promise<void> {
    const api = await AlterScram()
    await this.settle(items, async (pending) => {
      // the broker refuses a user twice in one request: the k-th alteration of each user goes in request k
      const rounds: I[][] = []
      const seen = new Map<string, number>()
      for (const c of pending) {
        const k = seen.get(c.user) ?? 0
        seen.set(c.user, k + 1)
        if (k === rounds.length) rounds.push([])
        rounds[k].push(c)
      }
      const outcomes = new Map<I, KafkaError | undefined>()
      for (const round of rounds) {
        const response = await this.send('any', api, () => body(round))
        const byUser = new Map(response.results.map((r) => [r.user, r]))
        for (const c of round) {
          const r = answer(byUser, c.user, 'AlterUserScramCredentials')
          outcomes.set(c, r.errorCode ? itemError(r.errorCode, `user ${c.user}`, r.errorMessage) : undefined)
        }
      }
      return pending.map((c) => outcomes.get(c))
    })
  }

  /** One request, with the body built for the version the broker speaks. Not retried here. */
  private async send<Req, Res>(
    target: number | 'any',
    api: Api<Req, Res>,
    body: (version: number) => Req,
  ): Promise<Res> {
    const connection =
      target === 'any' ? await this.cluster.anyConnection() : await this.cluster.connectionToNode(target)
    const version = connection.versionFor(api)
    return connection.request(api, body(version), { version })
  }

  /**
   * A request to a group's coordinator, with the body built for the version the coordinator speaks
   * (the cluster retries while the coordinator moves or loads).
   */
  private async groupRequest<Req, Res>(
    groupId: string,
    api: Api<Req, Res>,
    body: (version: number) => Req,
    errorOf: (response: Res) => number,
  ): Promise<Res> {
    const coordinator = await this.cluster.connectionToNode(await this.cluster.coordinator('group', groupId))
    return this.cluster.coordinatorRequest('group', groupId, api, body(coordinator.versionFor(api)), errorOf)
  }

  /** `fn` under the retry policy; metadata of `topics` is refreshed before each retry. */
  private run<T>(fn: () => Promise<T>, topics?: string[]): Promise<T> {
    return this.cluster.retry.run(fn, {
      retriable: worthRetry,
      onRetry: (error) => {
        if (topics && error instanceof KafkaError && STALE_METADATA_ERRORS.has(error.code)) {
          return this.cluster.refreshMetadata(topics).then(
            () => undefined,
            () => undefined,
          )
        }
      },
    })
  }

  /**
   * Runs a batch call: `attempt` answers, for the items given, a result or a KafkaError each.
   * Items that failed with a retriable error are sent again under the retry policy; then every
   * failure left is thrown as one AdminError.
   */
  private async settle<I, R>(
    items: readonly I[],
    attempt: (pending: I[]) => Promise<(R | KafkaError)[]>,
    topics?: string[],
  ): Promise<R[]> {
    const results = new Array<R>(items.length)
    const failed = new Map<number, KafkaError>()
    let pending = items.map((_, i) => i)
    let retrying: KafkaError | undefined
    try {
      await this.run(async () => {
        const outcomes = await attempt(pending.map((i) => items[i]))
        const again: number[] = []
        pending.forEach((i, k) => {
          const outcome = outcomes[k]
          if (outcome instanceof KafkaError) {
            failed.set(i, outcome)
            if (worthRetry(outcome)) again.push(i)
          } else {
            failed.delete(i)
            results[i] = outcome
          }
        })
        pending = again
        retrying = again.length > 0 ? failed.get(again[0]) : undefined
        if (retrying) throw retrying
      }, topics)
    } catch (error) {
      if (error !== retrying) throw error
    }
    if (failed.size > 0) {
      throw withItems([...failed].sort(([a], [b]) => a - b).map(([i, error]) => ({ item: items[i], error })))
    }
    return results
  }

  /** Splits items by the broker that must handle them and sends each group; outcomes in item order. */
  private async byTarget<I, R>(
    items: I[],
    targetOf: (item: I) => number | 'any' | Promise<number>,
    send: (target: number | 'any', items: I[]) => Promise<(R | KafkaError)[]>,
  ): Promise<(R | KafkaError)[]> {
    const groups = new Map<number | 'any', number[]>()
    const outcomes = new Array<R | KafkaError>(items.length)
    for (let i = 0; i < items.length; i++) {
      let target: number | 'any'
      try {
        target = await targetOf(items[i])
      } catch (error) {
        // a partition without a leader or topic: that item fails, the others go on
        if (!(error instanceof KafkaError)) throw error
        outcomes[i] = error
        continue
      }
      const group = groups.get(target) ?? []
      group.push(i)
      groups.set(target, group)
    }
    await Promise.all(
      [...groups].map(async ([target, indexes]) => {
        const answers = await send(
          target,
          indexes.map((i) => items[i]),
        )
        indexes.forEach((i, k) => {
          outcomes[i] = answers[k]
        })
      }),
    )
    return outcomes
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function withItems<I>(errors: AdminItemError<I>[]): AdminError<I> {
  return Object.assign(errors[0].error, { errors })
}

/** The item of an answer, or a ProtocolError when the broker left it out. */
function answer<K, T>(map: Map<K, T>, key: K, api: string): T {
  const found = map.get(key)
  if (found === undefined) throw new ProtocolError(`${api} answer lacks ${String(key)}`)
  return found
}

/** Broker configs live on each broker: they are asked of that broker; the rest of any broker. */
function configTarget(r: ConfigResource): number | 'any' {
  return (r.type === 'broker' || r.type === 'broker-logger') && /^\d+$/.test(r.name) ? Number(r.name) : 'any'
}

function byTopic<T extends { topic: string }>(items: T[]): [string, T[]][] {
  const map = new Map<string, T[]>()
  for (const item of items) {
    const list = map.get(item.topic) ?? []
    list.push(item)
    map.set(item.topic, list)
  }
  return [...map]
}

function byTopicPartition(a: { topic: string; partition: number }, b: { topic: string; partition: number }): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition
}

/** Consumer protocol bytes start with the int16 version they were written in. */
function decodeVersioned<T>(codec: MessageCodec<T>, bytes: Buffer): T | undefined {
  if (bytes.length < 2) return undefined
  const r = new Reader(bytes)
  // newer versions only add fields at the end: read what we know
  const version = Math.min(r.int16(), codec.maxVersion)
  return codec.read(r, version)
}

function subscriptionOf(bytes: Buffer): GroupMember['subscription'] {
  const s = decodeVersioned(ConsumerProtocolSubscription, bytes)
  return s && { topics: s.topics, userData: s.userData ?? null }
}

function assignmentOf(bytes: Buffer): GroupMember['assignment'] {
  return decodeVersioned(ConsumerProtocolAssignment, bytes)?.assignedPartitions.map((tp) => ({
    topic: tp.topic,
    partitions: tp.partitions,
  }))
}

function aclOf(a: {
  resourceType: number
  resourceName: string
  patternType: number
  principal: string
  host: string
  operation: number
  permissionType: number
}): Acl {
  return {
    resourceType: ACL_RESOURCE_TYPES[a.resourceType] as AclResourceType,
    resourceName: a.resourceName,
    patternType: ACL_PATTERN_TYPES[a.patternType] as AclPatternType,
    principal: a.principal,
    host: a.host,
    operation: ACL_OPERATIONS[a.operation] as AclOperation,
    permission: ACL_PERMISSIONS[a.permissionType] as AclPermission,
  }
}

function describeAcl(a: Acl): string {
  return `${a.permission} ${a.principal} ${a.operation} on ${a.resourceType} ${a.resourceName}`
}

/** An ACL or filter as Kafka's codes; in filters, fields left out match anything. */
function aclCodes(at: string, a: AclFilter, filter: boolean) {
  if (a === null || typeof a !== 'object') throw new ConfigError(`${at} must be an object`)
  const code = (field: string, value: string | undefined, table: readonly string[], fallback?: string) => {
    const v = value ?? fallback ?? (filter ? 'any' : undefined)
    if (!filter && v === 'any') throw new ConfigError(`${at}.${field}: 'any' is only for filters`)
    return oneOf(`${at}.${field}`, v, table.slice(1))
  }
  const text = (field: string, value: string | null | undefined) => {
    if (filter && (value === undefined || value === null)) return null
    return name(`${at}.${field}`, value)
  }
  return {
    resourceType: code('resourceType', a.resourceType, ACL_RESOURCE_TYPES) + 1,
    resourceName: text('resourceName', a.resourceName),
    resourcePatternType: code('patternType', a.patternType, ACL_PATTERN_TYPES, filter ? undefined : 'literal') + 1,
    principal: text('principal', a.principal),
    host: filter ? (a.host ?? null) : (a.host ?? '*'),
    operation: code('operation', a.operation, ACL_OPERATIONS) + 1,
    permissionType: code('permission', a.permission, ACL_PERMISSIONS) + 1,
  }
}

// Validation: a ConfigError that names the option and the value.

function list(at: string, value: unknown): void {
  if (!Array.isArray(value) || value.length === 0) throw new ConfigError(`${at} must be a non-empty array`)
}

function name(at: string, value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw new ConfigError(`${at} must be a non-empty string, got ${JSON.stringify(value)}`)
  return value
}

function names(at: string, value: unknown): void {
  list(at, value)
  for (const [i, v] of (value as unknown[]).entries()) name(`${at}: [${i}]`, v)
}

function int(at: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
    throw new ConfigError(`${at} must be an integer ${range}, got ${JSON.stringify(value)}`)
  }
}

function offset(at: string, value: unknown): void {
  const ok = typeof value === 'bigint' ? value >= -1n : Number.isSafeInteger(value) && (value as number) >= -1
  if (!ok) throw new ConfigError(`${at} must be an offset (bigint or integer >= -1), got ${String(value)}`)
}

function timeout(at: string, value: number | undefined): number {
  if (value === undefined) return 30_000
  int(`${at}: timeoutMs`, value, 0, 2 ** 31 - 1)
  return value
}

/** The index of `value` in `allowed`, or a ConfigError listing what is. */
function oneOf(at: string, value: unknown, allowed: readonly string[]): number {
  const i = allowed.indexOf(value as string)
  if (i < 0) throw new ConfigError(`${at} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`)
  return i
}

function resource(at: string, r: ConfigResource): void {
  if (r === null || typeof r !== 'object') throw new ConfigError(`${at} must be an object`)
  oneOf(`${at}.type`, r.type, Object.keys(CONFIG_RESOURCE_TYPES))
  if (typeof r.name !== 'string' || (r.type !== 'broker' && r.name === '')) {
    throw new ConfigError(
      `${at}.name must be a ${r.type === 'broker' ? '' : 'non-empty '}string, got ${JSON.stringify(r.name)}`,
    )
  }
}

function scramMechanism(at: string, value: unknown): void {
  oneOf(at, value, Object.keys(SCRAM_MECHANISMS))
}
