// What users hand to `send`: keys, values and header values as string | Buffer | Uint8Array | null,
// headers as an ordered list (duplicates kept) or a plain object. Normalised once, with a clear
// ConfigError naming the field, so nothing downstream sees a value it cannot encode.

import { ConfigError } from '../protocol/errors.ts'
import type { RecordHeader } from '../protocol/records/index.ts'

/** Keys, values and header values on the way in: text (UTF-8), bytes, or null. */
export type Bytes = string | Buffer | Uint8Array | null

/** Headers as an ordered list of `{ key, value }` (duplicates kept), or an object (a list value repeats the key). */
export type HeadersInput = readonly { key: string; value: Bytes }[] | Record<string, Bytes | readonly Bytes[]>

/** A record to send. */
export interface ProducerRecord {
  topic: string
  key?: Bytes
  value: Bytes
  headers?: HeadersInput
  /** Explicit partition: wins over the partitioner. */
  partition?: number
  /** Milliseconds since the epoch (default: now). */
  timestamp?: number
}

/** Where the broker stored a record. */
export interface RecordMetadata {
  topic: string
  partition: number
  offset: bigint
  /** The record's timestamp, or the broker's append time when the topic uses LogAppendTime. */
  timestamp: number
}

export interface NormalizedRecord {
  topic: string
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
  partition: number | undefined
  timestamp: number
}

const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/
/** The last topic name that passed TOPIC: a producer sends to few topics, and the check ran per record. */
let checkedTopic: string | undefined
const NO_HEADERS: RecordHeader[] = []

export function toBytes(value: Bytes | undefined, field: string): Buffer | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return Buffer.from(value, 'utf8')
  if (Buffer.isBuffer(value)) return value
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  throw new ConfigError(`${field} must be a string, Buffer, Uint8Array or null, got ${typeof value}`)
}

function headersOf(input: HeadersInput | undefined): RecordHeader[] {
  if (input === undefined || input === null) return NO_HEADERS
  if (Array.isArray(input)) {
    return input.map((h, i) => {
      if (!h || typeof h.key !== 'string') throw new ConfigError(`headers[${i}].key must be a string`)
      return { key: h.key, value: toBytes(h.value, `headers[${i}].value`) }
    })
  }
  if (typeof input !== 'object') throw new ConfigError('headers must be a list of { key, value } or an object')
  const out: RecordHeader[] = []
  for (const [key, value] of Object.entries(input)) {
    if (Array.isArray(value)) for (const v of value) out.push({ key, value: toBytes(v, `headers.${key}`) })
    else out.push({ key, value: toBytes(value as Bytes, `headers.${key}`) })
  }
  return out
}

export function normalizeRecord(record: ProducerRecord): NormalizedRecord {
  if (record === null || typeof record !== 'object') throw new ConfigError('a record must be an object')
  const { topic, partition, timestamp } = record
  if (topic !== checkedTopic) {
    if (typeof topic !== 'string' || !TOPIC.test(topic)) {
      throw new ConfigError(`record.topic ${JSON.stringify(topic)} is not a valid topic name ([a-zA-Z0-9._-], 1-249)`)
    }
    checkedTopic = topic
  }
  if (partition !== undefined && (!Number.isInteger(partition) || partition < 0)) {
    throw new ConfigError(`record.partition must be a non-negative integer, got ${partition}`)
  }
  if (timestamp !== undefined && (!Number.isSafeInteger(timestamp) || timestamp < 0)) {
    throw new ConfigError(`record.timestamp must be milliseconds since the epoch, got ${timestamp}`)
  }
  return {
    topic,
    key: toBytes(record.key, 'record.key'),
    value: toBytes(record.value, 'record.value'),
    headers: headersOf(record.headers),
    partition,
    timestamp: timestamp ?? Date.now(),
  }
}

/** The bytes a record takes in a batch, bounded above (the accumulator's memory accounting). */
export function estimatedSize(r: NormalizedRecord): number {
  let size = 21 + (r.key?.length ?? 0) + (r.value?.length ?? 0)
  for (const h of r.headers) size += 10 + h.key.length * 3 + (h.value?.length ?? 0)
  return size
}
