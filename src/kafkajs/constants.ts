// kafkajs's enumerations, with the numbers kafkajs (and Kafka's protocol) gives them: compression
// types and codecs, config resource types and sources, ACL resource, operation, permission and
// pattern types. Each is a value and, as kafkajs's TypeScript enums, a type.

import { type CompressionCodec, compress, decompress } from '../protocol/compression/index.ts'

/** A record batch's compression (RecordBatch attributes bits 0-2). */
export const CompressionTypes = { None: 0, GZIP: 1, Snappy: 2, LZ4: 3, ZSTD: 4 } as const
/** One of the compression types. */
export type CompressionTypes = (typeof CompressionTypes)[keyof typeof CompressionTypes]

/** kafkax's name of each compression type. */
export const COMPRESSION_NAMES: Record<number, CompressionCodec> = {
  [CompressionTypes.None]: 'none',
  [CompressionTypes.GZIP]: 'gzip',
  [CompressionTypes.Snappy]: 'snappy',
  [CompressionTypes.LZ4]: 'lz4',
  [CompressionTypes.ZSTD]: 'zstd',
}

/** A kafkajs compression codec: compresses an encoder's buffer, decompresses a buffer. */
export interface KafkaJSCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>
  decompress(buffer: Buffer): Promise<Buffer>
}

const builtIn = (codec: CompressionCodec) => (): KafkaJSCodec => ({
  compress: (encoder) => compress(codec, encoder.buffer),
  decompress: (buffer) => decompress(codec, buffer),
})

/**
 * kafkajs's codec registry. kafkax has every codec built in (snappy, lz4 and zstd on their optional
 * packages), so these are kafkax's own; codecs users register here (kafkajs-snappy, kafkajs-lz4,
 * @kafkajs/zstd) are accepted and not used.
 */
export const CompressionCodecs: Record<number, () => KafkaJSCodec> = {
  [CompressionTypes.GZIP]: builtIn('gzip'),
  [CompressionTypes.Snappy]: builtIn('snappy'),
  [CompressionTypes.LZ4]: builtIn('lz4'),
  [CompressionTypes.ZSTD]: builtIn('zstd'),
}

/** What a config belongs to (DescribeConfigs' resource types). */
export const ConfigResourceTypes = { UNKNOWN: 0, TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const
/** One of the config resource types. */
export type ConfigResourceTypes = (typeof ConfigResourceTypes)[keyof typeof ConfigResourceTypes]

/** Where a config value comes from (DescribeConfigs' config sources). */
export const ConfigSource = {
  UNKNOWN: 0,
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
} as const
/** One of the config sources. */
export type ConfigSource = (typeof ConfigSource)[keyof typeof ConfigSource]

/** What an ACL protects. */
export const AclResourceTypes = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
} as const
/** One of the ACL resource types. */
export type AclResourceTypes = (typeof AclResourceTypes)[keyof typeof AclResourceTypes]

/** The operation an ACL allows or denies. */
export const AclOperationTypes = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
} as const
/** One of the ACL operation types. */
export type AclOperationTypes = (typeof AclOperationTypes)[keyof typeof AclOperationTypes]

/** Whether an ACL allows or denies. */
export const AclPermissionTypes = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const
/** One of the ACL permission types. */
export type AclPermissionTypes = (typeof AclPermissionTypes)[keyof typeof AclPermissionTypes]

/** How an ACL's resource name matches. */
export const ResourcePatternTypes = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const
/** One of the resource pattern types. */
export type ResourcePatternTypes = (typeof ResourcePatternTypes)[keyof typeof ResourcePatternTypes]
