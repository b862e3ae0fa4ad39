// Broker configurations as DescribeConfigs shows them for a broker: the ones the fake's options
// stand for, beside the options' Kafka defaults (equal: DEFAULT_CONFIG, else STATIC_BROKER_CONFIG,
// as a broker reports what its server.properties set), plus any the cluster was given as static.

import type { ClusterState } from './cluster-state.ts'

/** Kafka 4.x defaults of the broker configs the fake cluster has options for. */
const KAFKA_DEFAULTS: Record<string, string> = {
  'auto.create.topics.enable': 'true',
  'default.replication.factor': '1',
  'group.consumer.heartbeat.interval.ms': '5000',
  'group.consumer.session.timeout.ms': '45000',
  'group.initial.rebalance.delay.ms': '3000',
  'group.max.session.timeout.ms': '1800000',
  'group.min.session.timeout.ms': '6000',
  'log.retention.bytes': '-1',
  'message.max.bytes': '1048588',
  'num.partitions': '1',
  'offset.metadata.max.bytes': '4096',
  'offsets.topic.num.partitions': '50',
  'transaction.max.timeout.ms': '900000',
  'transaction.state.log.num.partitions': '50',
}

/** Broker configs a broker may update at run time (DynamicBrokerConfig); the others are read-only. */
const DYNAMIC = new Set(['log.retention.bytes', 'message.max.bytes', 'num.io.threads', 'num.network.threads'])

export interface BrokerConfig {
  name: string
  value: string
  isDefault: boolean
  readOnly: boolean
}

export function brokerConfigs(
  cluster: ClusterState,
  nodeId: number,
  extra: Readonly<Record<string, string>>,
): BrokerConfig[] {
  const g = cluster.groups.settings
  const values: Record<string, string> = {
    'auto.create.topics.enable': String(cluster.autoCreateTopics),
    'broker.id': String(nodeId),
    'default.replication.factor': String(cluster.defaultReplicationFactor),
    'group.consumer.heartbeat.interval.ms': String(g.consumerHeartbeatIntervalMs),
    'group.consumer.session.timeout.ms': String(g.consumerSessionTimeoutMs),
    'group.initial.rebalance.delay.ms': String(g.initialRebalanceDelayMs),
    'group.max.session.timeout.ms': String(g.maxSessionTimeoutMs),
    'group.min.session.timeout.ms': String(g.minSessionTimeoutMs),
    'log.retention.bytes': String(cluster.topics.limits.retentionBytes),
    'message.max.bytes': '1048588',
    'node.id': String(nodeId),
    'num.partitions': String(cluster.defaultPartitions),
    'offset.metadata.max.bytes': String(g.offsetMetadataMaxBytes),
    'offsets.topic.num.partitions': '50',
    'transaction.max.timeout.ms': String(cluster.transactionMaxTimeoutMs),
    'transaction.state.log.num.partitions': '50',
    ...extra,
  }
  return Object.entries(values)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => ({ name, value, isDefault: KAFKA_DEFAULTS[name] === value, readOnly: !DYNAMIC.has(name) }))
}
