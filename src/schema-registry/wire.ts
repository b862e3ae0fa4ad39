// The Confluent wire format of a serialized key or value: magic byte 0, the schema id as a 4-byte
// big-endian integer, then the payload. Protobuf payloads start with the message indexes: the path
// of the message type within its .proto file, as a count and indexes in zigzag varints, where the
// common path [0] (the first message) is the single byte 0. (Layout from Confluent's Schema Registry
// documentation, "Wire format", and its protobuf serializer's MessageIndexes.)

import { SerializationError } from './errors.ts'

export const MAGIC_BYTE = 0
export const HEADER_SIZE = 5

export function writeHeader(buffer: Buffer, schemaId: number): void {
  buffer[0] = MAGIC_BYTE
  buffer.writeInt32BE(schemaId, 1)
}

/** The schema id of wire-format bytes; a SerializationError when they are not in that format. */
export function schemaIdOf(bytes: Buffer, topic?: string): number {
  if (bytes.length < HEADER_SIZE)
    throw new SerializationError(`${bytes.length} bytes are too short for the schema registry wire format`, { topic })
  if (bytes[0] !== MAGIC_BYTE)
    throw new SerializationError(`unknown magic byte ${bytes[0]}: not the schema registry wire format`, { topic })
  return bytes.readInt32BE(1)
}

const zigzag = (n: number) => ((n << 1) ^ (n >> 31)) >>> 0

/** The message indexes' bytes: [0] as the single byte 0, anything else as a count and the indexes. */
export function encodeMessageIndexes(indexes: readonly number[]): Buffer {
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0])
  const out: number[] = []
  for (const n of [indexes.length, ...indexes]) {
    for (let v = zigzag(n); ; v >>>= 7) {
      if (v < 0x80) {
        out.push(v)
        break
      }
      out.push((v & 0x7f) | 0x80)
    }
  }
  return Buffer.from(out)
}

/** Reads the message indexes at `offset`; `offset` of the result is where the message starts. */
export function decodeMessageIndexes(bytes: Buffer, offset: number): { indexes: number[]; offset: number } {
  let pos = offset
  const varint = () => {
    let v = 0
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= bytes.length) throw new SerializationError('the protobuf message indexes are truncated')
      const b = bytes[pos++]
      v |= (b & 0x7f) << shift
      if (b < 0x80) return (v >>> 1) ^ -(v & 1)
    }
    throw new SerializationError('a protobuf message index is longer than 5 bytes')
  }
  const count = varint()
  if (count === 0) return { indexes: [0], offset: pos }
  // each index takes a byte at least: a count beyond the bytes left is corrupt, not a reason to allocate
  if (count < 0 || count > bytes.length - pos) throw new SerializationError(`bad protobuf message index count ${count}`)
  const indexes: number[] = []
  for (let i = 0; i < count; i++) indexes.push(varint())
  return { indexes, offset: pos }
}
