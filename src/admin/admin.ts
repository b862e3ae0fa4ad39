// The Admin API, with the semantics of the Java AdminClient: topics, partitions, configs, records,
// offsets, consumer groups, the cluster, ACLs and SCRAM credentials. Each resource has its module;
// they share the request engine (engine.ts). Requests the controller handles go to any broker
// (KRaft brokers forward them), partition requests to the partitions' leaders, group requests to
// the group's coordinator.

import { Cluster } from '../client/cluster.ts'
import { type Acl, type AclFilter, createAcls, deleteAcls, describeAcls } from './acls.ts'
import {
  type BrokerApiVersions,
  brokerApiVersions,
  type ClusterDescription,
  describeCluster,
  describeFeatures,
  type FeatureDescription,
  pingAnyBroker,
} from './cluster.ts'
import {
  type AlterConfigsResource,
  type ConfigEntry,
  type ConfigResource,
  describeConfigs,
  incrementalAlterConfigs,
} from './configs.ts'
import { RequestEngine } from './engine.ts'
import {
  alterCommittedOffsets,
  deleteCommittedOffsets,
  deleteGroups,
  describeGroups,
  fetchCommittedOffsets,
  type GroupCommittedOffset,
  type GroupDescription,
  type GroupPartitionLag,
  groupLag,
  type ListedGroup,
  listGroups,
} from './groups.ts'
import { type AdminOptions, resolveAdminOptions } from './options.ts'
import { deleteRecords, listOffsets, type OffsetSpec, type PartitionOffset } from './records.ts'
import {
  deleteScramCredentials,
  describeScramCredentials,
  type ScramMechanism,
  type ScramUpsertion,
  upsertScramCredentials,
} from './scram.ts'
import {
  alterShareGroupOffsets,
  deleteShareGroupOffsets,
  describeShareGroups,
  listShareGroupOffsets,
  type ShareGroupDescription,
  type ShareGroupPartitionOffset,
} from './share-groups.ts'
import {
  type CreatedTopic,
  createPartitions,
  createTopics,
  deleteTopics,
  describeTopics,
  listTopics,
  type NewPartitions,
  type NewTopic,
  type TopicDescription,
} from './topics.ts'

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
  private readonly engine: RequestEngine

  constructor(options: AdminOptions) {
    this.engine = new RequestEngine(new Cluster(resolveAdminOptions(options)))
  }

  /** Fetches cluster metadata once (proves the cluster is reachable); every call does this first. */
  connect(): Promise<void> {
    return this.engine.connect()
  }

  /** Closes every connection; calls after this fail at once with a ConnectionError. */
  close(): Promise<void> {
    return this.engine.close()
  }

  /** A cheap round trip (Metadata with no topics) to any broker; resolves to its latency in ms. */
  ping(): Promise<number> {
    return pingAnyBroker(this.engine)
  }

  // ------------------------------------------------------------------------------------------
  // Topics

  /**
   * Creates topics; resolves to their ids and sizes (the broker's defaults filled in) once every
   * partition has a leader, unless `waitForLeaders` is false (a new topic reaches the brokers'
   * metadata a moment after the controller created it).
   */
  createTopics(
    topics: NewTopic[],
    options: { validateOnly?: boolean; timeoutMs?: number; waitForLeaders?: boolean } = {},
  ): Promise<CreatedTopic[]> {
    return createTopics(this.engine, topics, options)
  }

  /** Deletes topics; resolves once the controller has deleted them (within `timeoutMs`). */
  deleteTopics(topics: string[], options: { timeoutMs?: number } = {}): Promise<void> {
    return deleteTopics(this.engine, topics, options)
  }

  /** Names of the topics; internal ones (__consumer_offsets...) only with `includeInternal`. */
  listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    return listTopics(this.engine, options)
  }

  /** Partitions, leaders and replicas of each topic, in the order asked. */
  describeTopics(topics: string[]): Promise<TopicDescription[]> {
    return describeTopics(this.engine, topics)
  }

  /** Grows topics to `count` partitions each. */
  createPartitions(
    topics: NewPartitions[],
    options: { validateOnly?: boolean; timeoutMs?: number } = {},
  ): Promise<void> {
    return createPartitions(this.engine, topics, options)
  }

  // ------------------------------------------------------------------------------------------
  // Configs

  /** The configs of topics, brokers...; `keys` narrows the answer to those names. */
  describeConfigs(
    resources: (ConfigResource & { keys?: string[] })[],
  ): Promise<(ConfigResource & { configs: ConfigEntry[] })[]> {
    return describeConfigs(this.engine, resources)
  }

  /** Sets, deletes, appends to or subtracts from config values (list values for append/subtract). */
  incrementalAlterConfigs(resources: AlterConfigsResource[], options: { validateOnly?: boolean } = {}): Promise<void> {
    return incrementalAlterConfigs(this.engine, resources, options)
  }

  // ------------------------------------------------------------------------------------------
  // Records and offsets (sent to the partitions' leaders)

  /**
   * Deletes the records before `offset` in each partition (-1: up to the high watermark); resolves
   * to each partition's new low watermark (earliest offset).
   */
  deleteRecords(request: {
    topic: string
    partitions: { partition: number; offset: bigint | number }[]
    timeoutMs?: number
  }): Promise<{ partition: number; lowWatermark: bigint }[]> {
    return deleteRecords(this.engine, request)
  }

  /**
   * The offset of each partition at a point: `earliest`, `latest` (the high watermark), the record
   * with the highest timestamp, or the first record at or after `{ timestamp }` (offset -1 if none).
   * `partitions` defaults to all of the topic's.
   */
  listOffsets(request: { topic: string; partitions?: number[]; at: OffsetSpec }): Promise<PartitionOffset[]> {
    return listOffsets(this.engine, request)
  }

  // ------------------------------------------------------------------------------------------
  // Consumer groups (sent to each group's coordinator)

  /** Groups of every broker (each lists those it coordinates). */
  listGroups(): Promise<ListedGroup[]> {
    return listGroups(this.engine)
  }

  /**
   * State, protocol and members of classic and KIP-848 consumer groups, with the members'
   * subscriptions and assignments decoded. A group that does not exist fails with ErrorCode.GROUP_ID_NOT_FOUND
   * (brokers before Kafka 4.0 describe it with state `Dead`).
   */
  describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    return describeGroups(this.engine, groupIds)
  }

  /** Deletes empty groups and their committed offsets (NON_EMPTY_GROUP while members remain). */
  deleteGroups(groupIds: string[]): Promise<void> {
    return deleteGroups(this.engine, groupIds)
  }

  /** The group's committed offsets, of every topic or only of `topics`. */
  fetchCommittedOffsets(groupId: string, topics?: string[]): Promise<GroupCommittedOffset[]> {
    return fetchCommittedOffsets(this.engine, groupId, topics)
  }

  /** Commits offsets for a group with no active members (as `kafka-consumer-groups --reset-offsets`). */
  alterCommittedOffsets(
    groupId: string,
    offsets: { topic: string; partition: number; offset: bigint | number; metadata?: string | null }[],
  ): Promise<void> {
    return alterCommittedOffsets(this.engine, groupId, offsets)
  }

  /** Deletes committed offsets of partitions the group no longer consumes (OffsetDelete). */
  deleteCommittedOffsets(groupId: string, partitions: { topic: string; partition: number }[]): Promise<void> {
    return deleteCommittedOffsets(this.engine, groupId, partitions)
  }

  /** Per partition with a committed offset: that offset, the high watermark and the difference. */
  groupLag(groupId: string): Promise<GroupPartitionLag[]> {
    return groupLag(this.engine, groupId)
  }

  // ------------------------------------------------------------------------------------------
  // Share groups (KIP-932; sent to each group's coordinator). listGroups lists them (type 'share')
  // and deleteGroups deletes them with their state.

  /** State, epochs, assignor and members of share groups, with each member's assignment. */
  describeShareGroups(groupIds: string[]): Promise<ShareGroupDescription[]> {
    return describeShareGroups(this.engine, groupIds)
  }

  /**
   * The share group's start offset of every partition it has state for (or only of `topics`):
   * records before it are done; the lag from it, where the broker says (Kafka 4.2+).
   */
  listShareGroupOffsets(groupId: string, topics?: string[]): Promise<ShareGroupPartitionOffset[]> {
    return listShareGroupOffsets(this.engine, groupId, topics)
  }

  /** Moves the start offsets of a share group with no members (as `kafka-share-groups --reset-offsets`). */
  alterShareGroupOffsets(
    groupId: string,
    offsets: { topic: string; partition: number; offset: bigint | number }[],
  ): Promise<void> {
    return alterShareGroupOffsets(this.engine, groupId, offsets)
  }

  /** Deletes the state of `topics` from a share group with no members. */
  deleteShareGroupOffsets(groupId: string, topics: string[]): Promise<void> {
    return deleteShareGroupOffsets(this.engine, groupId, topics)
  }

  // ------------------------------------------------------------------------------------------
  // Cluster, ACLs, SCRAM credentials

  /** The cluster id, the controller and every broker (DescribeCluster). */
  describeCluster(): Promise<ClusterDescription> {
    return describeCluster(this.engine)
  }

  /** The finalized and supported feature levels (ApiVersions to any broker, as Java's describeFeatures). */
  describeFeatures(): Promise<FeatureDescription> {
    return describeFeatures(this.engine)
  }

  /** Every broker's supported API versions, and the version kafkax uses for each with that broker. */
  brokerApiVersions(): Promise<BrokerApiVersions[]> {
    return brokerApiVersions(this.engine)
  }

  /** Creates ACLs (an authorizer must be configured on the brokers). */
  createAcls(acls: Acl[]): Promise<void> {
    return createAcls(this.engine, acls)
  }

  /** The ACLs that match `filter` (every ACL by default). */
  describeAcls(filter: AclFilter = {}): Promise<Acl[]> {
    return describeAcls(this.engine, filter)
  }

  /** Deletes the ACLs matching any of the filters; resolves to the ACLs deleted. */
  deleteAcls(filters: AclFilter[]): Promise<Acl[]> {
    return deleteAcls(this.engine, filters)
  }

  /**
   * Creates or replaces SCRAM credentials. The salt is random and the salted password is computed
   * here (PBKDF2, as RFC 5802's Hi()), so the password never leaves the client.
   */
  upsertScramCredentials(credentials: ScramUpsertion[]): Promise<void> {
    return upsertScramCredentials(this.engine, credentials)
  }

  /** Deletes users' SCRAM credentials of the given mechanisms. */
  deleteScramCredentials(credentials: { user: string; mechanism: ScramMechanism }[]): Promise<void> {
    return deleteScramCredentials(this.engine, credentials)
  }

  /** The SCRAM mechanisms and iterations of `users` (default: every user that has some). */
  describeScramCredentials(
    users?: string[],
  ): Promise<{ user: string; credentials: { mechanism: ScramMechanism; iterations: number }[] }[]> {
    return describeScramCredentials(this.engine, users)
  }
}
