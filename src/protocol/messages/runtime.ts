// Helpers the generated message codecs share: arrays, tagged-field sections, version checks.
// Layouts follow the protocol guide and KIP-482: flexible versions use compact (varint length + 1)
// strings, bytes and arrays, and end every struct with a tagged-field section.

import { ErrorCode, kafkaError } from '../error-codes.ts'
import { ProtocolError } from '../errors.ts'
import { type Reader, readTaggedFields, type TaggedField, Writer, writeTaggedFields } from '../primitives/index.ts'

export type { TaggedField }

/** A generated message: its versions and its body codec (the header is written separately). */
export interface MessageCodec<T> {
  readonly name: string
  readonly apiKey: number
  readonly type: 'request' | 'response' | 'data'
  readonly minVersion: number
  /** The highest version the definitions describe (it may be unstable, see `latestStableVersion`). */
  readonly maxVersion: number
  /** The highest version brokers enable by default (`latestVersionUnstable` excludes the last one). */
  readonly latestStableVersion: number
  /** The first flexible version (KIP-482), or Infinity when none is. */
  readonly flexibleVersion: number
  write(w: Writer, version: number, message: T): void
  read(r: Reader, version: number): T
}

export const ZERO_UUID = '00000000-0000-0000-0000-000000000000'
export const EMPTY_BYTES: Buffer = Buffer.alloc(0)

export function checkVersion(codec: MessageCodec<unknown>, version: number): void {
  if (!(version >= codec.minVersion && version <= codec.maxVersion)) {
    throw kafkaError(
      ErrorCode.UNSUPPORTED_VERSION,
      `${codec.name} v${version} (supported: ${codec.minVersion}-${codec.maxVersion})`,
    )
  }
}

/** A field set to a non-default value that the chosen version cannot carry (and is not ignorable). */
export function unsupportedField(struct: string, field: string, version: number): never {
  throw kafkaError(ErrorCode.UNSUPPORTED_VERSION, `${struct}.${field} cannot be sent in version ${version}`)
}

export function nullField(struct: string, field: string): never {
  throw new ProtocolError(`${struct}.${field} is null but not nullable in this version`)
}

export type ElementReader<T> = (r: Reader, version: number, flexible: boolean) => T
export type ElementWriter<T> = (w: Writer, version: number, value: T, flexible: boolean) => void

export function readArray<T>(
  r: Reader,
  version: number,
  flexible: boolean,
  element: ElementReader<T>,
  minElementSize: number,
): T[] | null {
  const n = flexible ? r.compactArrayLength(minElementSize) : r.arrayLength(minElementSize)
  if (n === -1) return null
  const items: T[] = []
  for (let i = 0; i < n; i++) items.push(element(r, version, flexible))
  return items
}

export function writeArray<T>(
  w: Writer,
  version: number,
  flexible: boolean,
  items: readonly T[] | null,
  element: ElementWriter<T>,
): void {
  if (items === null) {
    if (flexible) w.uvarint(0)
    else w.int32(-1)
    return
  }
  if (flexible) w.uvarint(items.length + 1)
  else w.int32(items.length)
  for (const item of items) element(w, version, item, flexible)
}

// Element codecs of primitive arrays ([]int32, []string, ...).
export const int8Element: ElementReader<number> = (r) => r.int8()
export const int16Element: ElementReader<number> = (r) => r.int16()
export const uint16Element: ElementReader<number> = (r) => r.uint16()
export const int32Element: ElementReader<number> = (r) => r.int32()
export const uint32Element: ElementReader<number> = (r) => r.uint32()
export const int64Element: ElementReader<bigint> = (r) => r.int64()
export const float64Element: ElementReader<number> = (r) => r.float64()
export const boolElement: ElementReader<boolean> = (r) => r.boolean()
export const uuidElement: ElementReader<string> = (r) => r.uuid()
export const stringElement: ElementReader<string> = (r, _v, flexible) => (flexible ? r.compactString() : r.string())
export const bytesElement: ElementReader<Buffer> = (r, _v, flexible) => (flexible ? r.compactBytes() : r.bytes())

export const writeInt8Element: ElementWriter<number> = (w, _v, x) => w.int8(x)
export const writeInt16Element: ElementWriter<number> = (w, _v, x) => w.int16(x)
export const writeUint16Element: ElementWriter<number> = (w, _v, x) => w.uint16(x)
export const writeInt32Element: ElementWriter<number> = (w, _v, x) => w.int32(x)
export const writeUint32Element: ElementWriter<number> = (w, _v, x) => w.uint32(x)
export const writeInt64Element: ElementWriter<bigint> = (w, _v, x) => w.int64(x)
export const writeFloat64Element: ElementWriter<number> = (w, _v, x) => w.float64(x)
export const writeBoolElement: ElementWriter<boolean> = (w, _v, x) => w.boolean(x)
export const writeUuidElement: ElementWriter<string> = (w, _v, x) => w.uuid(x)
export const writeStringElement: ElementWriter<string> = (w, _v, x, flexible) =>
  flexible ? w.compactString(x) : w.string(x)
export const writeBytesElement: ElementWriter<Buffer> = (w, _v, x, flexible) =>
  flexible ? w.compactBytes(x) : w.bytes(x)

/** Reads a tagged-field section of a struct without known tagged fields. */
export function readUnknownTags(r: Reader): TaggedField[] | undefined {
  const unknown = readTaggedFields(r)
  return unknown.length === 0 ? undefined : unknown
}

/** Writes a tagged-field section holding only the tags this code did not know when it read them. */
export function writeUnknownTags(w: Writer, unknown: readonly TaggedField[] | undefined): void {
  if (unknown === undefined || unknown.length === 0) w.uvarint(0)
  else writeTaggedFields(w, unknown)
}

/** Reads a tagged-field section, handing known tags to `known`; returns the others, kept raw. */
export function readTags(r: Reader, known: (tag: number, field: Reader) => boolean): TaggedField[] | undefined {
  const unknown = readTaggedFields(r, (tag, field) => {
    if (!known(tag, field)) return false
    if (field.remaining() !== 0) throw new ProtocolError(`tagged field ${tag} has ${field.remaining()} bytes left over`)
    return true
  })
  return unknown.length === 0 ? undefined : unknown
}

/** Writes known tagged fields (already encoded) merged with the unknown ones, in tag order. */
export function writeTags(w: Writer, known: TaggedField[], unknown: readonly TaggedField[] | undefined): void {
  writeTaggedFields(w, unknown === undefined ? known : [...known, ...unknown])
}

/** Encodes one tagged field's value on its own, since its size precedes it. */
export function taggedValue(write: (w: Writer) => void): Buffer {
  const w = new Writer(64)
  write(w)
  return w.finish()
}
