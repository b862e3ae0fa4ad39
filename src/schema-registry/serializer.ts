// Serializer: what a producer needs to write keys or values of topics in the wire format. It names
// the subject (a subject name strategy), gets the schema id (registering the schema, looking it up,
// or taking the subject's latest version for registries where clients may not register), and
// encodes. Once a topic's id is known, serializing is synchronous: no promise per record.

import { ConfigError } from '../protocol/errors.ts'
import type { ParsedSchema, Schema } from './schema.ts'
import type { SchemaSource } from './source.ts'
import { checkStrategy, type SubjectNameStrategy, subjectName } from './subjects.ts'

export interface SerializerOptions {
  /** The writer's schema; optional with `useLatestVersion`. */
  schema?: Schema
  /** Default 'TopicName': `<topic>-value` (or `-key`). */
  subjectNameStrategy?: SubjectNameStrategy
  /** Serializes keys: the `-key` subject of the TopicName strategies (default false). */
  isKey?: boolean
  /** Register the schema when the subject lacks it (default true, unless `useLatestVersion`). */
  autoRegister?: boolean
  /**
   * Write with the subject's latest version, registering nothing (for locked-down registries; the
   * latest version is looked up again after the registry's latestCacheTtlMs).
   */
  useLatestVersion?: boolean
  /** Protobuf: the message type to write (default: the file's first message). */
  messageName?: string
}

interface TopicSchema {
  id: number
  schema: ParsedSchema
  /** When useLatestVersion must ask again. */
  expires: number
}

export class Serializer {
  private readonly strategy: SubjectNameStrategy
  private readonly isKey: boolean
  private readonly autoRegister: boolean
  private readonly useLatest: boolean
  private readonly latestTtlMs: number
  private readonly topics = new Map<string, TopicSchema>()
  private readonly resolving = new Map<string, Promise<TopicSchema>>()
  private own: Promise<ParsedSchema> | undefined

  constructor(
    private readonly registry: SchemaSource,
    private readonly options: SerializerOptions,
  ) {
    if (options === null || typeof options !== 'object') throw new ConfigError('serializer options must be an object')
    checkStrategy(options.subjectNameStrategy)
    this.strategy = options.subjectNameStrategy ?? 'TopicName'
    this.isKey = options.isKey ?? false
    this.useLatest = options.useLatestVersion ?? false
    this.autoRegister = options.autoRegister ?? !this.useLatest
    if (!options.schema && !this.useLatest) throw new ConfigError('a serializer needs a schema, or useLatestVersion')
    if (this.useLatest && this.autoRegister)
      throw new ConfigError('useLatestVersion and autoRegister exclude each other')
    this.latestTtlMs = registry.latestCacheTtlMs
  }

  /** Wire-format bytes of `value` for `topic`, when the topic's schema id is known already; else undefined. */
  serializeSync(topic: string, value: unknown): Buffer | undefined {
    const known = this.topics.get(topic)
    if (known === undefined || known.expires <= Date.now()) return undefined
    return known.schema.encode(known.id, value, this.options.messageName)
  }

  /** Wire-format bytes of `value` for `topic`; the first call per topic names the subject and gets the id. */
  async serialize(topic: string, value: unknown): Promise<Buffer> {
    const bytes = this.serializeSync(topic, value)
    if (bytes !== undefined) return bytes
    const { id, schema } = await this.schemaFor(topic)
    return schema.encode(id, value, this.options.messageName)
  }

  /** The schema id and parsed schema a topic's records are written with. */
  schemaFor(topic: string): Promise<TopicSchema> {
    let pending = this.resolving.get(topic)
    if (pending === undefined) {
      pending = this.resolve(topic).finally(() => this.resolving.delete(topic))
      this.resolving.set(topic, pending)
    }
    return pending
  }

  private async resolve(topic: string): Promise<TopicSchema> {
    const own = this.options.schema && (await this.ownSchema())
    const subject = subjectName(this.strategy, topic, this.isKey, own?.recordName)
    let resolved: TopicSchema
    if (this.useLatest) {
      const latest = await this.registry.getLatest(subject)
      resolved = {
        id: latest.id,
        schema: await this.registry.parsedSchema(latest.id),
        expires: Date.now() + this.latestTtlMs,
      }
    } else {
      const schema = this.options.schema!
      const id = this.autoRegister
        ? (await this.registry.register(subject, schema)).id
        : (await this.registry.lookup(subject, schema)).id
      resolved = { id, schema: own!, expires: Number.POSITIVE_INFINITY }
    }
    this.topics.set(topic, resolved)
    return resolved
  }

  private ownSchema(): Promise<ParsedSchema> {
    this.own ??= this.registry.parse(this.options.schema!).catch((error) => {
      this.own = undefined
      throw error
    })
    return this.own
  }
}
