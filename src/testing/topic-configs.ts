// Topic configurations as a Kafka 4.x broker knows them (LogConfig / TopicConfig): their types and
// defaults, so that CreateTopics, AlterConfigs and DescribeConfigs accept, refuse and describe what a
// broker would. Only a few of them change what the fake does: retention.bytes and retention.ms
// (retention), segment.bytes (segment size, within the fake's own cap), max.message.bytes (the
// produce size limit) and message.timestamp.type (LogAppendTime).

export type ConfigType = 'BOOLEAN' | 'STRING' | 'INT' | 'SHORT' | 'LONG' | 'DOUBLE' | 'LIST' | 'CLASS' | 'PASSWORD'

interface ConfigDef {
  type: ConfigType
  default: string
  /** Allowed values, when the broker checks against a list. */
  values?: readonly string[]
  /** Smallest allowed numeric value. */
  min?: number
}

const LONG_MAX = '9223372036854775807'

/** Kafka's config type ids in DescribeConfigs responses (ConfigResource / ConfigEntry.ConfigType). */
export const CONFIG_TYPE_IDS: Record<ConfigType, number> = {
  BOOLEAN: 1,
  STRING: 2,
  INT: 3,
  SHORT: 4,
  LONG: 5,
  DOUBLE: 6,
  LIST: 7,
  CLASS: 8,
  PASSWORD: 9,
}

export const TOPIC_CONFIGS: ReadonlyMap<string, ConfigDef> = new Map<string, ConfigDef>([
  [
    'cleanup.policy',
    { type: 'LIST', default: 'delete', values: ['delete', 'compact', 'compact,delete', 'delete,compact'] },
  ],
  [
    'compression.type',
    { type: 'STRING', default: 'producer', values: ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'] },
  ],
  ['compression.gzip.level', { type: 'INT', default: '-1' }],
  ['compression.lz4.level', { type: 'INT', default: '9' }],
  ['compression.zstd.level', { type: 'INT', default: '3' }],
  ['delete.retention.ms', { type: 'LONG', default: '86400000', min: 0 }],
  ['file.delete.delay.ms', { type: 'LONG', default: '60000', min: 0 }],
  ['flush.messages', { type: 'LONG', default: LONG_MAX, min: 1 }],
  ['flush.ms', { type: 'LONG', default: LONG_MAX, min: 0 }],
  ['index.interval.bytes', { type: 'INT', default: '4096', min: 0 }],
  ['local.retention.bytes', { type: 'LONG', default: '-2', min: -2 }],
  ['local.retention.ms', { type: 'LONG', default: '-2', min: -2 }],
  ['max.compaction.lag.ms', { type: 'LONG', default: LONG_MAX, min: 1 }],
  ['max.message.bytes', { type: 'INT', default: '1048588', min: 0 }],
  ['message.timestamp.after.max.ms', { type: 'LONG', default: '3600000', min: 0 }],
  ['message.timestamp.before.max.ms', { type: 'LONG', default: LONG_MAX, min: 0 }],
  ['message.timestamp.type', { type: 'STRING', default: 'CreateTime', values: ['CreateTime', 'LogAppendTime'] }],
  ['min.cleanable.dirty.ratio', { type: 'DOUBLE', default: '0.5', min: 0 }],
  ['min.compaction.lag.ms', { type: 'LONG', default: '0', min: 0 }],
  ['min.insync.replicas', { type: 'INT', default: '1', min: 1 }],
  ['preallocate', { type: 'BOOLEAN', default: 'false' }],
  ['remote.storage.enable', { type: 'BOOLEAN', default: 'false' }],
  ['retention.bytes', { type: 'LONG', default: '-1', min: -1 }],
  ['retention.ms', { type: 'LONG', default: '604800000', min: -1 }],
  ['segment.bytes', { type: 'INT', default: '1073741824', min: 1024 * 1024 }],
  ['segment.index.bytes', { type: 'INT', default: '10485760', min: 4 }],
  ['segment.jitter.ms', { type: 'LONG', default: '0', min: 0 }],
  ['segment.ms', { type: 'LONG', default: '604800000', min: 1 }],
  ['unclean.leader.election.enable', { type: 'BOOLEAN', default: 'false' }],
])

/** Why `value` is not acceptable for topic config `name`, or undefined when it is. */
export function invalidTopicConfig(name: string, value: string | null): string | undefined {
  const def = TOPIC_CONFIGS.get(name)
  if (!def) return `Unknown topic config name: ${name}`
  if (value === null) return undefined
  switch (def.type) {
    case 'BOOLEAN':
      if (!/^(true|false)$/i.test(value))
        return `Invalid value ${value} for configuration ${name}: Expected value to be either true or false`
      break
    case 'INT':
    case 'LONG':
    case 'SHORT': {
      if (!/^-?\d+$/.test(value.trim()))
        return `Invalid value ${value} for configuration ${name}: Not a number of type ${def.type}`
      if (def.min !== undefined && Number(value) < def.min)
        return `Invalid value ${value} for configuration ${name}: Value must be at least ${def.min}`
      break
    }
    case 'DOUBLE':
      if (Number.isNaN(Number(value)))
        return `Invalid value ${value} for configuration ${name}: Not a number of type DOUBLE`
      break
    default:
      break
  }
  if (def.values && !def.values.includes(value.trim()))
    return `Invalid value ${value} for configuration ${name}: String must be one of: ${def.values.join(', ')}`
  return undefined
}
