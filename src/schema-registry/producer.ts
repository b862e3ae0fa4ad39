// SchemaProducer: a Producer whose records carry values (and keys) as objects, serialized into the
// wire format by the serializers configured per topic, or given per send. It needs no change to the
// Producer: records go on to its send/sendBatch/publish as bytes. Records keep their order: while
// one waits for its topic's schema id (the first of a topic, once), later ones queue behind it and
// one loop hands them over (synchronously, once the id is known: no promise per record); with ids
// known, records are serialized and handed over at once.

import { Deque } from '../client/deque.ts'
import type { Producer } from '../producer/producer.ts'
import type { Bytes, ProducerRecord, RecordMetadata } from '../producer/record.ts'
import { ConfigError } from '../protocol/errors.ts'
import { Serializer, type SerializerOptions } from './serializer.ts'
import type { SchemaSource } from './source.ts'

export interface TopicSerializers {
  value?: Serializer | SerializerOptions
  /** Without one, keys are bytes (string, Buffer, Uint8Array or null) as for the Producer. */
  key?: Serializer | SerializerOptions
}

export interface SchemaProducerOptions extends TopicSerializers {
  /** Serializers of single topics, over the defaults above. */
  topics?: Record<string, TopicSerializers>
}

export interface SchemaRecord<V, K> extends Omit<ProducerRecord, 'key' | 'value'> {
  key?: K | Bytes
  value: V
}

function checkRecord(record: SchemaRecord<unknown, unknown>): void {
  if (record === null || typeof record !== 'object') throw new ConfigError('a record must be an object')
  if (typeof record.topic !== 'string')
    throw new ConfigError(`record.topic must be a string, got ${typeof record.topic}`)
}

/** The record with its serialized key and value (built field by field: a spread costs more per record). */
function bytesRecord(record: SchemaRecord<unknown, unknown>, key: Bytes | undefined, value: Bytes): ProducerRecord {
  return {
    topic: record.topic,
    key,
    value,
    headers: record.headers,
    partition: record.partition,
    timestamp: record.timestamp,
  }
}

interface Resolved {
  value: Serializer | undefined
  key: Serializer | undefined
}

/** A send waiting behind a record whose schema id is being fetched. */
interface Job<T> {
  now: () => T | undefined
  later: () => Promise<T>
  deliver: (serialized: T) => void
  fail: (error: Error) => void
}

export class SchemaProducer<V = unknown, K = unknown> {
  private readonly defaults: Resolved
  private readonly topics = new Map<string, Resolved>()
  /** Sends waiting for a schema id, in send order. */
  private readonly waiting = new Deque<Job<unknown>>()
  private draining: Promise<void> | undefined

  constructor(
    private readonly registry: SchemaSource,
    readonly producer: Producer,
    options: SchemaProducerOptions,
  ) {
    if (options === null || typeof options !== 'object')
      throw new ConfigError('SchemaProducer options must be an object')
    this.defaults = this.serializers(options, { value: undefined, key: undefined })
    for (const [topic, serializers] of Object.entries(options.topics ?? {}))
      this.topics.set(topic, this.serializers(serializers, this.defaults))
  }

  private serializers(given: TopicSerializers, fallback: Resolved): Resolved {
    const make = (s: Serializer | SerializerOptions | undefined, isKey: boolean) =>
      s === undefined || s instanceof Serializer ? s : new Serializer(this.registry, { ...s, isKey })
    return { value: make(given.value, false) ?? fallback.value, key: make(given.key, true) ?? fallback.key }
  }

  private serializersOf(topic: string, override: TopicSerializers | undefined): Resolved {
    const configured = this.topics.get(topic) ?? this.defaults
    return override ? this.serializers(override, configured) : configured
  }

  /** The record with key and value serialized, or undefined when a schema id must be fetched first. */
  private serializeSync(record: SchemaRecord<V, K>, s: Resolved): ProducerRecord | undefined {
    checkRecord(record)
    const value = s.value ? s.value.serializeSync(record.topic, record.value) : (record.value as Bytes)
    if (value === undefined) return undefined
    const key = s.key && record.key != null ? s.key.serializeSync(record.topic, record.key) : (record.key as Bytes)
    if (key === undefined && record.key !== undefined) return undefined
    return bytesRecord(record, key, value)
  }

  private async serialize(record: SchemaRecord<V, K>, s: Resolved): Promise<ProducerRecord> {
    checkRecord(record)
    const value = s.value ? await s.value.serialize(record.topic, record.value) : (record.value as Bytes)
    const key = s.key && record.key != null ? await s.key.serialize(record.topic, record.key) : (record.key as Bytes)
    return bytesRecord(record, key, value)
  }

  /**
   * Serializes now when possible and nothing waits, else queues behind the sends waiting, so that
   * records reach the producer in the order they were given.
   */
  private enqueue<T>(job: Job<T>): void {
    if (this.waiting.length === 0) {
      let serialized: T | undefined
      try {
        serialized = job.now()
      } catch (error) {
        job.fail(error as Error)
        return
      }
      if (serialized !== undefined) {
        job.deliver(serialized)
        return
      }
    }
    this.waiting.push(job as Job<unknown>)
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined
    })
  }

  private async drain(): Promise<void> {
    for (let job = this.waiting.at(0); job; job = this.waiting.at(0)) {
      let serialized: unknown
      let failure: Error | undefined
      try {
        serialized = job.now() ?? (await job.later())
      } catch (error) {
        failure = error as Error
      }
      this.waiting.shift()
      try {
        if (failure) job.fail(failure)
        else job.deliver(serialized)
      } catch (error) {
        // what a callback or an 'error' listener throws is theirs: raised as it would be from the Producer
        process.nextTick(() => {
          throw error
        })
      }
    }
  }

  /** Serializes and sends one record; resolves once the broker acknowledged it. */
  send(record: SchemaRecord<V, K>, options?: TopicSerializers): Promise<RecordMetadata> {
    return new Promise((resolve, reject) => {
      const s = this.serializersOf(record?.topic, options)
      this.enqueue({
        now: () => this.serializeSync(record, s),
        later: () => this.serialize(record, s),
        deliver: (r) => this.producer.send(r).then(resolve, reject),
        fail: reject,
      })
    })
  }

  /** Serializes and sends records; resolves when all are acknowledged (see Producer.sendBatch). */
  sendBatch(records: readonly SchemaRecord<V, K>[], options?: TopicSerializers): Promise<RecordMetadata[]> {
    return new Promise((resolve, reject) => {
      const all = records.map((r) => ({ record: r, s: this.serializersOf(r?.topic, options) }))
      this.enqueue({
        now: () => {
          const out: ProducerRecord[] = []
          for (const { record, s } of all) {
            const r = this.serializeSync(record, s)
            if (r === undefined) return undefined
            out.push(r)
          }
          return out
        },
        later: () => Promise.all(all.map(({ record, s }) => this.serialize(record, s))),
        deliver: (rs) => this.producer.sendBatch(rs).then(resolve, reject),
        fail: reject,
      })
    })
  }

  /** Hands a record over and returns at once; the callback reports delivery (see Producer.publish). */
  publish(
    record: SchemaRecord<V, K>,
    callback?: (error: Error | null, metadata: RecordMetadata | null) => void,
    options?: TopicSerializers,
  ): void {
    let s: Resolved
    try {
      s = this.serializersOf(record?.topic, options)
    } catch (error) {
      this.failed(error as Error, record, callback)
      return
    }
    this.enqueue({
      now: () => this.serializeSync(record, s),
      later: () => this.serialize(record, s),
      deliver: (r) => this.producer.publish(r, callback),
      fail: (error) => this.failed(error, record, callback),
    })
  }

  /** A record that could not be serialized is reported as the Producer reports a failed delivery. */
  private failed(
    error: Error,
    record: SchemaRecord<V, K>,
    callback: ((error: Error | null, metadata: RecordMetadata | null) => void) | undefined,
  ): void {
    callback?.(error, null)
    if (!callback || this.producer.listenerCount('error') > 0) this.producer.emit('error', error, record)
  }

  /** Waits for the records still being serialized, then flushes the producer. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining
    await this.producer.flush()
  }

  /** Flushes, then closes the producer. */
  async close(): Promise<void> {
    await this.flush()
    await this.producer.close()
  }
}
