// kafkajs's admin client on the kafkax Admin (its public methods only): kafkajs's arguments and
// answers (numbers for resource, ACL and config types, offsets as strings), its validation messages,
// and its errors: broker errors as KafkaJSProtocolError, createTopics' as KafkaJSAggregateError,
// deleteGroups' and deleteTopicRecords' as their own classes.

import {
  type AclOperation,
  type AclPatternType,
  type AclPermission,
  type AclResourceType,
  type AdminError,
  type ConfigResourceType,
  KafkaError,
  type Acl as KafkaxAcl,
  type AclFilter as KafkaxAclFilter,
  Admin as KafkaxAdmin,
  type ConfigSource as KafkaxConfigSource,
} from '../index.ts'
import { ErrorCode } from '../protocol/error-codes.ts'
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  type ConfigResourceTypes,
  type ConfigSource,
  ResourcePatternTypes,
} from './constants.ts'
import {
  KafkaJSAggregateError,
  KafkaJSCreateTopicError,
  KafkaJSDeleteGroupsError,
  KafkaJSDeleteTopicRecordsError,
  KafkaJSNonRetriableError,
  KafkaJSNotImplemented,
  protocolError,
  type RetrySpent,
  toKafkaJSError,
} from './errors.ts'
import { clientEvents, Instrumentation } from './instrumentation.ts'
import type { Logger } from './logger.ts'
import { offsetOf } from './offsets.ts'
import { clientOptions, type KafkaContext, resolveBrokers, retryPolicy } from './options.ts'
import type {
  AclEntry,
  AclFilter,
  AdminConfig,
  AdminEvents,
  AlterConfigResponse,
  ClientOn,
  ConsumerGroupState,
  DeleteAclResponse,
  DeleteGroupsResult,
  DescribeAclResource,
  DescribeAclResponse,
  DescribeConfigResponse,
  GroupDescription,
  GroupDescriptions,
  GroupOverview,
  IResourceConfig,
  ITopicConfig,
  ITopicMetadata,
  ITopicPartitionConfig,
  ListPartitionReassignmentsResponse,
  PartitionReassignment,
  ResourceConfigQuery,
  SeekEntry,
  TopicPartitions,
} from './types.ts'

// Kafka's codes (kafkajs's numbers) and kafkax's names of the same enumerations, by code.
const CONFIG_RESOURCES: Record<number, ConfigResourceType> = { 2: 'topic', 4: 'broker', 8: 'broker-logger' }
const CONFIG_SOURCE_CODES: Record<KafkaxConfigSource, number> = {
  unknown: 0,
  'dynamic-topic': 1,
  'dynamic-broker': 2,
  'dynamic-default-broker': 3,
  'static-broker': 4,
  default: 5,
  'dynamic-broker-logger': 6,
  'client-metrics': 7,
  group: 8,
}
/** kafkax's names of a kafkajs enumeration, by code: TRANSACTIONAL_ID (5) is 'transactional-id'. */
function namesOf(enumeration: Record<string, number>): string[] {
  const names: string[] = []
  for (const [key, code] of Object.entries(enumeration)) names[code] = key.toLowerCase().replaceAll('_', '-')
  return names
}
const ACL_RESOURCES = namesOf(AclResourceTypes)
const ACL_PATTERNS = namesOf(ResourcePatternTypes)
const ACL_OPERATIONS = namesOf(AclOperationTypes)
const ACL_PERMISSIONS = namesOf(AclPermissionTypes)

/** The kafkax name of a kafkajs number, or kafkajs's validation error. */
function named<T extends string>(table: readonly string[], code: unknown, what: string, item: unknown): T {
  const name = Number.isInteger(code) && (code as number) > 0 ? table[code as number] : undefined
  if (name === undefined) throw new KafkaJSNonRetriableError(`Invalid ${what} ${String(code)}: ${JSON.stringify(item)}`)
  return name as T
}

const codeOf = (table: readonly string[], name: string | undefined) => Math.max(0, table.indexOf(name ?? 'unknown'))

function kafkaxAcl(a: AclEntry): KafkaxAcl {
  return {
    resourceType: named<AclResourceType>(ACL_RESOURCES, a.resourceType, 'resource type', a),
    resourceName: a.resourceName,
    patternType: named<AclPatternType>(ACL_PATTERNS, a.resourcePatternType, 'resource pattern type', a),
    principal: a.principal,
    host: a.host,
    operation: named<AclOperation>(ACL_OPERATIONS, a.operation, 'operation type', a),
    permission: named<AclPermission>(ACL_PERMISSIONS, a.permissionType, 'permission type', a),
  }
}

function kafkaxAclFilter(f: AclFilter): KafkaxAclFilter {
  return {
    resourceType: named<AclResourceType>(ACL_RESOURCES, f.resourceType, 'resource type', f),
    resourceName: f.resourceName ?? null,
    patternType: named<AclPatternType>(ACL_PATTERNS, f.resourcePatternType, 'resource pattern filter type', f),
    principal: f.principal ?? null,
    host: f.host ?? null,
    operation: named<AclOperation>(ACL_OPERATIONS, f.operation, 'operation type', f),
    permission: named<AclPermission>(ACL_PERMISSIONS, f.permissionType, 'permission type', f),
  }
}

function kafkajsAcl(a: KafkaxAcl): AclEntry {
  return {
    resourceType: codeOf(ACL_RESOURCES, a.resourceType) as AclResourceTypes,
    resourceName: a.resourceName,
    resourcePatternType: codeOf(ACL_PATTERNS, a.patternType) as ResourcePatternTypes,
    principal: a.principal,
    host: a.host ?? '*',
    operation: codeOf(ACL_OPERATIONS, a.operation) as AclOperationTypes,
    permissionType: codeOf(ACL_PERMISSIONS, a.permission) as AclPermissionTypes,
  }
}

function checkAclStrings(list: (AclEntry | AclFilter)[], what: string, optional: boolean): void {
  for (const field of ['principal', 'host', 'resourceName'] as const) {
    if (list.some((a) => typeof a[field] !== 'string' && !(optional && a[field] === undefined))) {
      throw new KafkaJSNonRetriableError(`Invalid ${what}, the ${field}s have to be a valid string`)
    }
  }
}

const isAdminError = (e: unknown): e is AdminError<unknown> =>
  e instanceof KafkaError && Array.isArray((e as AdminError<unknown>).errors)

/** kafkajs bails out of admin calls with the broker's error as it is (no retries-exceeded wrapper). */
function adminError(error: unknown, spent: RetrySpent): unknown {
  return error instanceof KafkaError ? protocolError(error) : toKafkaJSError(error, spent)
}

function topicName(topic: unknown): string {
  if (!topic || typeof topic !== 'string') throw new KafkaJSNonRetriableError(`Invalid topic ${topic}`)
  return topic
}

/** A kafkajs admin client (`kafka.admin(config)`); it connects on first use if `connect()` was not called. */
export class Admin {
  readonly events: AdminEvents = clientEvents('admin')
  private readonly log: Logger
  private readonly instrumentation: Instrumentation<AdminEvents>
  private readonly retry: ReturnType<typeof retryPolicy>
  private client: Promise<KafkaxAdmin> | undefined

  constructor(
    private readonly kafka: KafkaContext,
    config: AdminConfig = {},
  ) {
    this.log = kafka.logger.namespace('Admin')
    this.instrumentation = new Instrumentation(this.events, this.log)
    this.retry = retryPolicy({ ...kafka.config.retry, ...config.retry }, kafka.config.requestTimeout ?? 30_000)
  }

  /** Connects to the cluster (fetches metadata). */
  connect = async (): Promise<void> => {
    await this.run(() => Promise.resolve())
    this.instrumentation.emit(this.events.CONNECT)
  }

  /** Closes the connections. */
  disconnect = async (): Promise<void> => {
    const client = this.client
    this.client = undefined
    await (await client?.catch(() => undefined))?.close()
    this.instrumentation.emit(this.events.DISCONNECT)
  }

  /** Every topic's name, internal ones included. */
  listTopics = (): Promise<string[]> => this.run((admin) => admin.listTopics({ includeInternal: true }))

  /** Creates topics: true when all were created, false when some already existed. */
  createTopics = async (options: {
    validateOnly?: boolean
    waitForLeaders?: boolean
    timeout?: number
    topics: ITopicConfig[]
  }): Promise<boolean> => {
    const { topics, validateOnly, timeout, waitForLeaders = true } = options ?? ({} as typeof options)
    if (!topics || !Array.isArray(topics)) throw new KafkaJSNonRetriableError(`Invalid topics array ${topics}`)
    if (topics.some((t) => typeof t?.topic !== 'string')) {
      throw new KafkaJSNonRetriableError('Invalid topics array, the topic names have to be a valid string')
    }
    if (new Set(topics.map((t) => t.topic)).size < topics.length) {
      throw new KafkaJSNonRetriableError('Invalid topics array, it cannot have multiple entries for the same topic')
    }
    for (const { topic, configEntries } of topics) {
      if (configEntries == null) continue
      if (!Array.isArray(configEntries)) {
        throw new KafkaJSNonRetriableError(`Invalid configEntries for topic "${topic}", must be an array`)
      }
      configEntries.forEach((entry, i) => {
        for (const field of ['name', 'value'] as const) {
          if (typeof entry?.[field] !== 'string') {
            throw new KafkaJSNonRetriableError(
              `Invalid configEntries for topic "${topic}". Entry ${i} must have a valid "${field}" property`,
            )
          }
        }
      })
    }
    const admin = await this.admin()
    try {
      await admin.createTopics(
        topics.map((t) => ({
          topic: t.topic,
          partitions: t.numPartitions ?? -1,
          replicationFactor: t.replicationFactor ?? -1,
          replicaAssignment: t.replicaAssignment?.length ? t.replicaAssignment : undefined,
          configs: Object.fromEntries((t.configEntries ?? []).map((e) => [e.name, e.value])),
        })),
        { validateOnly, timeoutMs: timeout ?? 5000, waitForLeaders },
      )
      return true
    } catch (error) {
      if (!isAdminError(error)) throw adminError(error, this.retry.spent)
      if (error.errors.every((e) => e.error.type === 'TOPIC_ALREADY_EXISTS')) return false
      throw new KafkaJSAggregateError(
        'Topic creation errors',
        error.errors.map(
          (e) => new KafkaJSCreateTopicError(protocolError(e.error), (e.item as { topic: string }).topic),
        ),
      )
    }
  }

  /** Deletes topics. */
  deleteTopics = async (options: { topics: string[]; timeout?: number }): Promise<void> => {
    const { topics, timeout } = options ?? ({} as typeof options)
    if (!topics || !Array.isArray(topics)) throw new KafkaJSNonRetriableError(`Invalid topics array ${topics}`)
    if (topics.some((t) => typeof t !== 'string')) {
      throw new KafkaJSNonRetriableError('Invalid topics array, the names must be a valid string')
    }
    await this.run((admin) => admin.deleteTopics(topics, { timeoutMs: timeout ?? 5000 }), true)
  }

  /** Adds partitions to topics. */
  createPartitions = async (options: {
    validateOnly?: boolean
    timeout?: number
    topicPartitions: ITopicPartitionConfig[]
  }): Promise<boolean> => {
    const { topicPartitions, validateOnly, timeout } = options ?? ({} as typeof options)
    if (!topicPartitions || !Array.isArray(topicPartitions)) {
      throw new KafkaJSNonRetriableError(`Invalid topic partitions array ${topicPartitions}`)
    }
    if (topicPartitions.length === 0) throw new KafkaJSNonRetriableError('Empty topic partitions array')
    if (topicPartitions.some((t) => typeof t?.topic !== 'string')) {
      throw new KafkaJSNonRetriableError('Invalid topic partitions array, the topic names have to be a valid string')
    }
    if (new Set(topicPartitions.map((t) => t.topic)).size < topicPartitions.length) {
      throw new KafkaJSNonRetriableError(
        'Invalid topic partitions array, it cannot have multiple entries for the same topic',
      )
    }
    await this.run((admin) =>
      admin.createPartitions(
        topicPartitions.map((t) => ({ topic: t.topic, count: t.count, assignments: t.assignments })),
        { validateOnly, timeoutMs: timeout ?? 5000 },
      ),
    )
    return true
  }

  /** Partitions, leaders and replicas of topics (every topic without `topics`). */
  fetchTopicMetadata = async (options: { topics?: string[] } = {}): Promise<{ topics: ITopicMetadata[] }> => {
    const asked = options?.topics ?? []
    for (const t of asked) topicName(t)
    return this.run(async (admin) => {
      const names = asked.length > 0 ? asked : await admin.listTopics({ includeInternal: true })
      if (names.length === 0) return { topics: [] }
      const described = await admin.describeTopics(names)
      return {
        topics: described.map((t) => ({
          name: t.topic,
          partitions: t.partitions.map((p) => ({
            partitionErrorCode: p.leader < 0 ? ErrorCode.LEADER_NOT_AVAILABLE : 0,
            partitionId: p.partition,
            leader: p.leader,
            replicas: p.replicas,
            isr: p.isr,
            offlineReplicas: p.offline,
          })),
        })),
      }
    })
  }

  /** Each partition's high watermark (`offset`, `high`) and earliest offset (`low`). */
  fetchTopicOffsets = async (topic: string): Promise<(SeekEntry & { high: string; low: string })[]> => {
    topicName(topic)
    return this.run(async (admin) => {
      const [high, low] = await Promise.all([
        admin.listOffsets({ topic, at: 'latest' }),
        admin.listOffsets({ topic, at: 'earliest' }),
      ])
      return high.map((h, i) => ({
        partition: h.partition,
        offset: String(h.offset),
        high: String(h.offset),
        low: String(low[i].offset),
      }))
    }, true)
  }

  /** Each partition's first offset at or after `timestamp`; the high watermark where no record is that new. */
  fetchTopicOffsetsByTimestamp = async (topic: string, timestamp?: number): Promise<SeekEntry[]> => {
    topicName(topic)
    return this.run(async (admin) => {
      const high = await admin.listOffsets({ topic, at: 'latest' })
      if (timestamp === undefined) return high.map((h) => ({ partition: h.partition, offset: String(h.offset) }))
      const found = await admin.listOffsets({ topic, at: { timestamp } })
      return found.map((f, i) => ({
        partition: f.partition,
        offset: String(f.offset >= 0n ? f.offset : high[i].offset),
      }))
    }, true)
  }

  /**
   * A group's committed offsets: every partition of `topics` ('-1' where nothing is committed), or
   * every partition with a commit. `resolveOffsets` commits the high watermark for '-1' (as kafkajs).
   */
  fetchOffsets = async (options: {
    groupId: string
    topics?: string[]
    resolveOffsets?: boolean
  }): Promise<{ topic: string; partitions: (SeekEntry & { metadata: string | null })[] }[]> => {
    const { groupId, topics = [], resolveOffsets = false } = options ?? ({} as typeof options)
    if (!groupId) throw new KafkaJSNonRetriableError(`Invalid groupId ${groupId}`)
    if (!Array.isArray(topics)) throw new KafkaJSNonRetriableError('Expected topics array to be set')
    const offsets = await this.run(async (admin) => {
      const committed = await admin.fetchCommittedOffsets(groupId, topics.length > 0 ? topics : undefined)
      const byTopic = new Map<string, Map<number, { offset: string; metadata: string | null }>>()
      if (topics.length > 0) {
        for (const t of await admin.describeTopics(topics)) {
          byTopic.set(t.topic, new Map(t.partitions.map((p) => [p.partition, { offset: '-1', metadata: null }])))
        }
      }
      for (const c of committed) {
        let partitions = byTopic.get(c.topic)
        if (!partitions) {
          partitions = new Map()
          byTopic.set(c.topic, partitions)
        }
        partitions.set(c.partition, { offset: String(c.offset), metadata: c.metadata || null })
      }
      return [...byTopic].map(([topic, partitions]) => ({
        topic,
        partitions: [...partitions].sort(([a], [b]) => a - b).map(([partition, o]) => ({ partition, ...o })),
      }))
    })
    if (!resolveOffsets) return offsets
    return Promise.all(
      offsets.map(async ({ topic, partitions }) => {
        const ends = new Map((await this.fetchTopicOffsets(topic)).map((o) => [o.partition, o]))
        const resolved = partitions.map((p) => {
          const end = ends.get(p.partition)
          const offset = p.offset === '-1' ? end?.high : p.offset === '-2' ? end?.low : p.offset
          return { ...p, offset: offset ?? p.offset }
        })
        await this.setOffsets({ groupId, topic, partitions: resolved })
        return { topic, partitions: resolved }
      }),
    )
  }

  /** Commits the earliest (`earliest: true`) or latest offset of every partition of `topic` for an idle group. */
  resetOffsets = async (options: { groupId: string; topic: string; earliest?: boolean }): Promise<void> => {
    const { groupId, topic, earliest = false } = options ?? ({} as typeof options)
    if (!groupId) throw new KafkaJSNonRetriableError(`Invalid groupId ${groupId}`)
    if (!topic) throw new KafkaJSNonRetriableError(`Invalid topic ${topic}`)
    const offsets = await this.run((admin) => admin.listOffsets({ topic, at: earliest ? 'earliest' : 'latest' }))
    await this.setOffsets({
      groupId,
      topic,
      partitions: offsets.map((o) => ({ partition: o.partition, offset: String(o.offset) })),
    })
  }

  /** Commits offsets of `topic` for a group without running members. */
  setOffsets = async (options: { groupId: string; topic: string; partitions: SeekEntry[] }): Promise<void> => {
    const { groupId, topic, partitions } = options ?? ({} as typeof options)
    if (!groupId) throw new KafkaJSNonRetriableError(`Invalid groupId ${groupId}`)
    if (!topic) throw new KafkaJSNonRetriableError(`Invalid topic ${topic}`)
    if (!partitions || partitions.length === 0) throw new KafkaJSNonRetriableError('Invalid partitions')
    const offsets = partitions.map((p) => ({
      topic,
      partition: p.partition,
      offset: offsetOf(p.offset, `${topic}-${p.partition}`),
    }))
    const { state } = await this.describeGroup(groupId)
    if (state !== 'Empty' && state !== 'Dead') {
      throw new KafkaJSNonRetriableError(`The consumer group must have no running instances, current state: ${state}`)
    }
    await this.run((admin) => admin.alterCommittedOffsets(groupId, offsets))
  }

  /** Deletes the records before each given offset ('-1': all of the partition). */
  deleteTopicRecords = async (options: { topic: string; partitions: SeekEntry[] }): Promise<void> => {
    const { topic, partitions } = options ?? ({} as typeof options)
    if (!topic || typeof topic !== 'string') throw new KafkaJSNonRetriableError(`Invalid topic "${topic}"`)
    if (!partitions || partitions.length === 0) throw new KafkaJSNonRetriableError('Invalid partitions')
    const items = partitions.map((p) => ({
      partition: p.partition,
      offset: offsetOf(p.offset, `${topic}-${p.partition}`),
    }))
    const admin = await this.admin()
    try {
      await admin.deleteRecords({ topic, partitions: items })
    } catch (error) {
      if (!isAdminError(error)) throw adminError(error, this.retry.spent)
      throw new KafkaJSDeleteTopicRecordsError({
        topic,
        partitions: error.errors.map(({ item, error: e }) => {
          const p = item as (typeof items)[number]
          return { partition: p.partition, offset: String(p.offset), error: protocolError(e) }
        }),
      })
    }
  }

  /** The brokers, the controller (null when unknown) and the cluster id. */
  describeCluster = (): Promise<{
    brokers: { nodeId: number; host: string; port: number }[]
    controller: number | null
    clusterId: string
  }> =>
    this.run(async (admin) => {
      const c = await admin.describeCluster()
      return {
        brokers: c.brokers.map(({ nodeId, host, port }) => ({ nodeId, host, port })),
        controller: c.controller < 0 ? null : c.controller,
        clusterId: c.clusterId,
      }
    })

  /** The configs of topics, brokers and broker loggers (synonyms are not asked for: always empty). */
  describeConfigs = async (options: {
    resources: ResourceConfigQuery[]
    includeSynonyms?: boolean
  }): Promise<DescribeConfigResponse> => {
    const resources = checkedResources(options?.resources)
    for (const r of resources) {
      if (!Array.isArray(r.configNames) && r.configNames != null) {
        throw new KafkaJSNonRetriableError(`Invalid resource configNames ${r.configNames}: ${JSON.stringify(r)}`)
      }
    }
    return this.run(async (admin) => {
      const described = await admin.describeConfigs(
        resources.map((r) => ({
          type: CONFIG_RESOURCES[r.type],
          name: r.name,
          keys: r.configNames?.length ? r.configNames : undefined,
        })),
      )
      return {
        resources: described.map((d, i) => ({
          configEntries: d.configs.map((c) => ({
            configName: c.name,
            configValue: c.value,
            isDefault: c.default,
            configSource: CONFIG_SOURCE_CODES[c.source] as ConfigSource,
            isSensitive: c.sensitive,
            readOnly: c.readOnly,
            configSynonyms: [],
          })),
          errorCode: 0,
          errorMessage: null,
          resourceName: d.name,
          resourceType: resources[i].type,
        })),
        throttleTime: 0,
      }
    })
  }

  /** Sets config values (IncrementalAlterConfigs SET: configs not named keep their values). */
  alterConfigs = async (options: {
    validateOnly?: boolean
    resources: IResourceConfig[]
  }): Promise<AlterConfigResponse> => {
    const resources = checkedResources(options?.resources)
    const noEntries = resources.find((r) => !Array.isArray(r.configEntries))
    if (noEntries) {
      throw new KafkaJSNonRetriableError(
        `Invalid resource configEntries ${noEntries.configEntries}: ${JSON.stringify(noEntries)}`,
      )
    }
    const badValue = resources.find((r) =>
      r.configEntries.some((e) => typeof e?.name !== 'string' || typeof e.value !== 'string'),
    )
    if (badValue) throw new KafkaJSNonRetriableError(`Invalid resource config value: ${JSON.stringify(badValue)}`)
    await this.run((admin) =>
      admin.incrementalAlterConfigs(
        resources.map((r) => ({
          type: CONFIG_RESOURCES[r.type],
          name: r.name,
          ops: r.configEntries.map((e) => ({ key: e.name, op: 'set' as const, value: e.value })),
        })),
        { validateOnly: Boolean(options.validateOnly) },
      ),
    )
    return {
      resources: resources.map((r) => ({
        errorCode: 0,
        errorMessage: null,
        resourceName: r.name,
        resourceType: r.type,
      })),
      throttleTime: 0,
    }
  }

  /** The groups of every broker. */
  listGroups = (): Promise<{ groups: GroupOverview[] }> =>
    this.run(async (admin) => ({
      groups: (await admin.listGroups()).map(({ groupId, protocolType }) => ({ groupId, protocolType })),
    }))

  /** State, protocol and members of groups; a group that does not exist is described `Dead`, as kafkajs sees it. */
  describeGroups = async (groupIds: string[]): Promise<GroupDescriptions> => ({
    groups: await Promise.all(groupIds.map((id) => this.describeGroup(id))),
  })

  /** Deletes groups without members; the failed ones come in a KafkaJSDeleteGroupsError. */
  deleteGroups = async (groupIds: string[]): Promise<DeleteGroupsResult[]> => {
    if (!groupIds || !Array.isArray(groupIds)) throw new KafkaJSNonRetriableError(`Invalid groupIds array ${groupIds}`)
    const invalid = groupIds.find((g) => typeof g !== 'string')
    if (invalid !== undefined) throw new KafkaJSNonRetriableError(`Invalid groupId name: ${JSON.stringify(invalid)}`)
    if (groupIds.length === 0) return []
    const admin = await this.admin()
    try {
      await admin.deleteGroups(groupIds)
    } catch (error) {
      if (!isAdminError(error)) throw adminError(error, this.retry.spent)
      throw new KafkaJSDeleteGroupsError(
        'Error in DeleteGroups',
        error.errors.map(({ item, error: e }) => ({
          groupId: item as string,
          errorCode: e.code,
          error: protocolError(e),
        })),
      )
    }
    return groupIds.map((groupId) => ({ groupId, errorCode: 0 }))
  }

  /** Creates ACLs (the brokers need an authorizer). */
  createAcls = async (options: { acl: AclEntry[] }): Promise<boolean> => {
    const acl = options?.acl
    if (!acl || !Array.isArray(acl)) throw new KafkaJSNonRetriableError(`Invalid ACL array ${acl}`)
    if (acl.length === 0) throw new KafkaJSNonRetriableError('Empty ACL array')
    checkAclStrings(acl, 'ACL array', false)
    const acls = acl.map(kafkaxAcl)
    await this.run((admin) => admin.createAcls(acls))
    return true
  }

  /** The ACLs matching a filter, per resource. */
  describeAcls = async (filter: AclFilter): Promise<DescribeAclResponse> => {
    checkAclStrings([filter], 'ACL filter', true)
    const f = kafkaxAclFilter(filter)
    const acls = await this.run((admin) => admin.describeAcls(f))
    const resources = new Map<string, DescribeAclResource>()
    for (const a of acls.map(kafkajsAcl)) {
      const key = `${a.resourceType}\0${a.resourcePatternType}\0${a.resourceName}`
      let resource = resources.get(key)
      if (!resource) {
        resource = {
          resourceType: a.resourceType,
          resourceName: a.resourceName,
          resourcePatternType: a.resourcePatternType,
          acls: [],
        }
        resources.set(key, resource)
      }
      resource.acls.push({
        principal: a.principal,
        host: a.host,
        operation: a.operation,
        permissionType: a.permissionType,
      })
    }
    return { throttleTime: 0, errorCode: 0, errorMessage: null, resources: [...resources.values()] }
  }

  /** Deletes the ACLs matching each filter; answers what each filter deleted. */
  deleteAcls = async (options: { filters: AclFilter[] }): Promise<DeleteAclResponse> => {
    const filters = options?.filters
    if (!filters || !Array.isArray(filters)) throw new KafkaJSNonRetriableError(`Invalid ACL Filter array ${filters}`)
    if (filters.length === 0) throw new KafkaJSNonRetriableError('Empty ACL Filter array')
    checkAclStrings(filters, 'ACL Filter array', true)
    const codes = filters.map(kafkaxAclFilter)
    const filterResponses = []
    for (const f of codes) {
      const deleted = await this.run((admin) => admin.deleteAcls([f]))
      filterResponses.push({
        errorCode: 0,
        errorMessage: null,
        matchingAcls: deleted.map((a) => ({ ...kafkajsAcl(a), errorCode: 0, errorMessage: null })),
      })
    }
    return { throttleTime: 0, filterResponses }
  }

  /** Not offered yet (the kafkax Admin has no partition reassignment). */
  alterPartitionReassignments = async (_request: {
    topics: PartitionReassignment[]
    timeout?: number
  }): Promise<void> => {
    throw new KafkaJSNotImplemented(
      'alterPartitionReassignments is not available in kafkax/kafkajs (see docs/kafkajs.md)',
    )
  }

  /** Not offered yet (the kafkax Admin has no partition reassignment). */
  listPartitionReassignments = async (_request: {
    topics?: TopicPartitions[]
    timeout?: number
  }): Promise<ListPartitionReassignmentsResponse> => {
    throw new KafkaJSNotImplemented(
      'listPartitionReassignments is not available in kafkax/kafkajs (see docs/kafkajs.md)',
    )
  }

  /** Listens to one of `admin.events`; returns the function that removes the listener. */
  on: ClientOn<AdminEvents> = (eventName, listener) => this.instrumentation.on(eventName, listener)

  /** The admin client's logger (namespace Admin). */
  logger = (): Logger => this.log

  private async describeGroup(groupId: string): Promise<GroupDescription> {
    try {
      const [g] = await this.run((admin) => admin.describeGroups([groupId]))
      return {
        errorCode: 0,
        groupId,
        members: g.members.map((m) => ({
          memberId: m.memberId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: m.memberMetadata,
          memberAssignment: m.memberAssignment,
        })),
        protocol: g.protocol,
        protocolType: g.protocolType,
        state: g.state as ConsumerGroupState,
      }
    } catch (error) {
      // Kafka 4 answers GROUP_ID_NOT_FOUND where older brokers (and the versions kafkajs speaks) describe a Dead group
      if ((error as { code?: unknown }).code !== ErrorCode.GROUP_ID_NOT_FOUND) throw error
      return { errorCode: 0, groupId, members: [], protocol: '', protocolType: '', state: 'Dead' }
    }
  }

  /** The kafkax Admin, made and connected on first use (the brokers function is called then). */
  private admin(): Promise<KafkaxAdmin> {
    this.client ??= (async () => {
      const brokers = await resolveBrokers(this.kafka.config.brokers)
      const admin = new KafkaxAdmin({
        ...clientOptions(this.kafka.config, brokers, this.log, { retry: this.retry.options }),
        onNetworkEvent: this.instrumentation.networkListener(),
      })
      await admin.connect()
      return admin
    })().catch((error) => {
      this.client = undefined
      throw toKafkaJSError(error, this.retry.spent)
    })
    return this.client
  }

  /**
   * Runs `fn` on the kafkax Admin with kafkajs's errors: broker errors as they are, except that
   * UNKNOWN_TOPIC_OR_PARTITION, which kafkajs retries for calls on a topic (`retriedUnknownTopic`),
   * comes out of them as KafkaJSNumberOfRetriesExceeded.
   */
  private async run<T>(fn: (admin: KafkaxAdmin) => Promise<T>, retriedUnknownTopic = false): Promise<T> {
    const admin = await this.admin()
    try {
      return await fn(admin)
    } catch (error) {
      if (retriedUnknownTopic && error instanceof KafkaError && error.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
        throw toKafkaJSError(error, this.retry.spent)
      throw adminError(error, this.retry.spent)
    }
  }
}

/** describeConfigs' and alterConfigs' resources, checked as kafkajs does. */
function checkedResources<R extends { type: ConfigResourceTypes; name: string }>(resources: R[] | undefined): R[] {
  if (!resources || !Array.isArray(resources))
    throw new KafkaJSNonRetriableError(`Invalid resources array ${resources}`)
  if (resources.length === 0) throw new KafkaJSNonRetriableError('Resources array cannot be empty')
  const badType = resources.find((r) => CONFIG_RESOURCES[r?.type] === undefined)
  if (badType) throw new KafkaJSNonRetriableError(`Invalid resource type ${badType?.type}: ${JSON.stringify(badType)}`)
  const badName = resources.find((r) => !r.name || typeof r.name !== 'string')
  if (badName) throw new KafkaJSNonRetriableError(`Invalid resource name ${badName.name}: ${JSON.stringify(badName)}`)
  return resources
}
