// Tagged fields (KIP-482): a varint count, then per field a varint tag, a varint size and the data.
// Tags we do not know are kept as raw bytes and written back, so a frame re-encodes byte for byte.

import { ProtocolError } from '../errors.ts'
import type { Reader } from './reader.ts'
import type { Writer } from './writer.ts'

export interface TaggedField {
  tag: number
  data: Buffer
}

/** Reads a tagged-field section; each field is handed to `known` first, unknown ones are returned. */
export function readTaggedFields(r: Reader, known?: (tag: number, field: Reader) => boolean): TaggedField[] {
  const count = r.uvarint()
  if (count > r.remaining()) throw new ProtocolError(`${count} tagged fields cannot fit in ${r.remaining()} bytes`)
  const unknown: TaggedField[] = []
  let previous = -1
  for (let i = 0; i < count; i++) {
    const tag = r.uvarint()
    if (tag <= previous) throw new ProtocolError(`tagged field ${tag} out of order after ${previous}`)
    previous = tag
    const field = r.sub(r.uvarint())
    if (!known?.(tag, field)) unknown.push({ tag, data: field.buffer.subarray(field.offset, field.end) })
  }
  return unknown
}

/** Writes tagged fields in ascending tag order. */
export function writeTaggedFields(w: Writer, fields: readonly TaggedField[]): void {
  const sorted = fields.length > 1 ? [...fields].sort((a, b) => a.tag - b.tag) : fields
  w.uvarint(sorted.length)
  for (const { tag, data } of sorted) {
    w.uvarint(tag)
    w.uvarint(data.length)
    w.raw(data)
  }
}
