// Snappy as Kafka's Java client writes it: xerial's snappy-java stream framing, a 16-byte header
// (magic 82 'SNAPPY' 00, version int32 1, compatible-version int32 1) followed by blocks of
// [int32 compressed length][raw snappy block]. Readers must also accept plain raw snappy, which
// some clients (librdkafka before xerial support, kafka-go) write.

import { ProtocolError } from '../errors.ts'

export const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
const HEADER_SIZE = 16

export function isXerial(data: Uint8Array): boolean {
  return data.length >= HEADER_SIZE && XERIAL_MAGIC.equals(data.subarray(0, XERIAL_MAGIC.length))
}

/** Frames one raw snappy block the way snappy-java's output stream does. */
export function xerialFrame(block: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER_SIZE + 4 + block.length)
  XERIAL_MAGIC.copy(out, 0)
  out.writeInt32BE(1, 8)
  out.writeInt32BE(1, 12)
  out.writeInt32BE(block.length, HEADER_SIZE)
  out.set(block, HEADER_SIZE + 4)
  return out
}

/** The raw snappy blocks inside a xerial stream, as views into `data`. */
export function xerialBlocks(data: Buffer): Buffer[] {
  const blocks: Buffer[] = []
  let offset = HEADER_SIZE
  while (offset < data.length) {
    if (offset + 4 > data.length) throw new ProtocolError('truncated xerial snappy block length')
    const length = data.readInt32BE(offset)
    offset += 4
    if (length < 0 || offset + length > data.length) {
      throw new ProtocolError(`xerial snappy block of ${length} bytes runs past the data`)
    }
    blocks.push(data.subarray(offset, offset + length))
    offset += length
  }
  return blocks
}
