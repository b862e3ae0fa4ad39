// Upper bounds of what compressed data can decompress to, read from the formats' own headers before
// any decompression: a few KB that claim gigabytes are refused without allocating them (the optional
// codec packages have no output limit of their own).
// Layouts: zstd RFC 8878 §3.1 (frames, blocks of at most 128 KiB output), LZ4 Frame Format 1.6.x
// (block maximum size in the BD byte), snappy format_description.txt (a varint preamble with the
// uncompressed length).

import { ProtocolError } from '../errors.ts'

const ZSTD_MAGIC = 0xfd2fb528
const ZSTD_BLOCK_MAX = 128 * 1024
const LZ4_MAGIC = 0x184d2204
const LZ4_BLOCK_MAX = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20]
/** Skippable frames (both formats share the range 0x184D2A50-0x184D2A5F). */
const isSkippable = (magic: number) => (magic & 0xfffffff0) === 0x184d2a50

function need(data: Uint8Array, offset: number, n: number, what: string): void {
  if (offset + n > data.length) throw new ProtocolError(`truncated ${what}`)
}

/** The most a sequence of zstd frames can decompress to. */
export function zstdBound(data: Buffer): number {
  let offset = 0
  let total = 0
  while (offset < data.length) {
    need(data, offset, 4, 'zstd frame magic')
    const magic = data.readUInt32LE(offset)
    offset += 4
    if (isSkippable(magic)) {
      need(data, offset, 4, 'zstd skippable frame')
      offset += 4 + data.readUInt32LE(offset)
      continue
    }
    if (magic !== ZSTD_MAGIC) throw new ProtocolError('not a zstd frame')
    need(data, offset, 1, 'zstd frame header')
    const descriptor = data[offset++]
    const singleSegment = (descriptor & 0x20) !== 0
    const fcsFlag = descriptor >> 6
    offset += (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 0x03]
    offset += fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag]
    for (let last = false; !last; ) {
      need(data, offset, 3, 'zstd block header')
      const header = data[offset] | (data[offset + 1] << 8) | (data[offset + 2] << 16)
      offset += 3
      last = (header & 1) === 1
      const type = (header >> 1) & 3
      const size = header >>> 3
      if (type === 3) throw new ProtocolError('reserved zstd block type')
      // raw: size bytes in and out; RLE: one byte in, size out; compressed: size in, at most 128 KiB out
      total += type === 2 ? ZSTD_BLOCK_MAX : size
      offset += type === 1 ? 1 : size
    }
    if (descriptor & 0x04) offset += 4
  }
  if (offset > data.length) throw new ProtocolError('truncated zstd frame')
  return total
}

/** The most a sequence of LZ4 frames can decompress to. */
export function lz4Bound(data: Buffer): number {
  let offset = 0
  let total = 0
  while (offset < data.length) {
    need(data, offset, 4, 'lz4 frame magic')
    const magic = data.readUInt32LE(offset)
    offset += 4
    if (isSkippable(magic)) {
      need(data, offset, 4, 'lz4 skippable frame')
      offset += 4 + data.readUInt32LE(offset)
      continue
    }
    if (magic !== LZ4_MAGIC) throw new ProtocolError('not an lz4 frame')
    need(data, offset, 2, 'lz4 frame descriptor')
    const flags = data[offset]
    const blockMax = LZ4_BLOCK_MAX[(data[offset + 1] >> 4) & 7]
    if (!blockMax) throw new ProtocolError('invalid lz4 block maximum size')
    offset += 2 + (flags & 0x08 ? 8 : 0) + (flags & 0x01 ? 4 : 0) + 1
    for (;;) {
      need(data, offset, 4, 'lz4 block size')
      const word = data.readUInt32LE(offset)
      offset += 4
      if (word === 0) break
      const uncompressed = (word & 0x80000000) !== 0
      const size = word & 0x7fffffff
      total += uncompressed ? size : blockMax
      offset += size + (flags & 0x10 ? 4 : 0)
    }
    if (flags & 0x04) offset += 4
  }
  if (offset > data.length) throw new ProtocolError('truncated lz4 frame')
  return total
}

/**
 * Snappy's densest element is a copy with a 2-byte offset: 3 bytes that produce up to 64
 * (format_description.txt §2.2), so a block's elements expand at most 64/3 times.
 */
const SNAPPY_MAX_EXPANSION = 64 / 3

/**
 * The uncompressed length a raw snappy block announces in its varint preamble; refused when the
 * elements after it could not produce that much (a few bytes claiming hundreds of MB).
 */
export function snappyLength(block: Uint8Array): number {
  let value = 0
  for (let i = 0; i < 5; i++) {
    if (i >= block.length) throw new ProtocolError('truncated snappy length')
    const byte = block[i]
    value += (byte & 0x7f) * 2 ** (7 * i)
    if ((byte & 0x80) === 0) {
      const most = Math.ceil((block.length - i - 1) * SNAPPY_MAX_EXPANSION)
      if (value > most) {
        throw new ProtocolError(`snappy block claims ${value} bytes, more than its ${block.length} bytes can hold`)
      }
      return value
    }
  }
  throw new ProtocolError('snappy length longer than 5 bytes')
}
