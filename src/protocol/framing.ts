// Kafka frames (the protocol guide's "Common Request and Response Structure"): an int32 size, then
// a request (header + body) or a response (header + body). This module cuts a byte stream into
// frames and writes and reads whole request and response frames, for a client and a server alike.

import { ProtocolError } from './errors.ts'
import {
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  type RequestHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from './headers.ts'
import type { MessageCodec } from './messages/runtime.ts'
import { Reader, Writer } from './primitives/index.ts'

/** A frame larger than this is taken for a corrupt size prefix (the broker's own bound is far lower). */
export const MAX_FRAME_BYTES = 1 << 30

/**
 * Cuts a stream into frame bodies (without the size prefix). A frame inside one chunk is a view of
 * it; one spanning chunks is copied once. A size below 0 or above `maxBytes` throws ProtocolError.
 */
export class FrameReader {
  private chunks: Buffer[] = []
  private buffered = 0

  constructor(private readonly maxBytes = MAX_FRAME_BYTES) {}

  /** Bytes held that do not yet make a whole frame. */
  get pending(): number {
    return this.buffered
  }

  /** Adds a chunk and calls `onFrame` for every frame it completes; stops when `onFrame` returns false. */
  push(chunk: Buffer, onFrame: (frame: Buffer) => boolean | undefined): void {
    this.chunks.push(chunk)
    this.buffered += chunk.length
    while (this.buffered >= 4) {
      const size = this.peekInt32()
      if (size < 0 || size > this.maxBytes) throw new ProtocolError(`${size} is not a valid frame length`)
      if (this.buffered < 4 + size) return
      if (onFrame(this.take(4 + size).subarray(4)) === false) return
    }
  }

  /** Drops whatever is buffered (the stream was closed). */
  clear(): void {
    this.chunks = []
    this.buffered = 0
  }

  private peekInt32(): number {
    const first = this.chunks[0]
    if (first.length >= 4) return first.readInt32BE(0)
    return this.take(4, true).readInt32BE(0)
  }

  private take(n: number, peek = false): Buffer {
    const first = this.chunks[0]
    if (first.length >= n) {
      const out = first.subarray(0, n)
      if (!peek) this.consume(n)
      return out
    }
    const out = Buffer.allocUnsafe(n)
    let copied = 0
    for (const c of this.chunks) {
      copied += c.copy(out, copied, 0, Math.min(c.length, n - copied))
      if (copied === n) break
    }
    if (!peek) this.consume(n)
    return out
  }

  private consume(n: number): void {
    this.buffered -= n
    while (n > 0) {
      const first = this.chunks[0]
      if (first.length <= n) {
        this.chunks.shift()
        n -= first.length
      } else {
        this.chunks[0] = first.subarray(n)
        n = 0
      }
    }
  }
}

/**
 * A whole request frame, size prefix included, as chunks to write in order. With `splice`, large
 * byte arrays of the body (record batches) are referenced rather than copied into the frame.
 */
export function encodeRequestFrame<T>(
  codec: MessageCodec<T>,
  header: Omit<RequestHeader, 'apiKey'>,
  body: T,
  splice = false,
): Uint8Array[] {
  const w = new Writer(256, splice)
  const sizeAt = w.reserve(4)
  encodeRequestHeader(w, requestHeaderVersion(header.apiVersion >= codec.flexibleVersion), {
    ...header,
    apiKey: codec.apiKey,
  })
  codec.write(w, header.apiVersion, body)
  w.int32At(sizeAt, w.length - 4)
  return w.chunks()
}

/** The header of a request frame (body without size prefix) and a reader positioned at its body. */
export function decodeRequestFrame(frame: Buffer, flexibleVersionOf: (apiKey: number) => number) {
  if (frame.length < 4) throw new ProtocolError(`a request frame of ${frame.length} bytes has no header`)
  const apiKey = frame.readInt16BE(0)
  const apiVersion = frame.readInt16BE(2)
  const r = new Reader(frame)
  const header = decodeRequestHeader(r, requestHeaderVersion(apiVersion >= flexibleVersionOf(apiKey)))
  return { header, body: r }
}

/**
 * A whole response frame, size prefix included, as chunks to write in order: the header of the
 * codec's API at `apiVersion` and the body. With `splice`, as for requests, large byte arrays (a
 * fetch response's record batches) are referenced rather than copied into the frame.
 */
export function encodeResponseFrame<T>(
  codec: MessageCodec<T>,
  apiVersion: number,
  correlationId: number,
  body: T,
  splice = false,
): Uint8Array[] {
  const w = new Writer(256, splice)
  const sizeAt = w.reserve(4)
  encodeResponseHeader(w, responseHeaderVersion(codec.apiKey, apiVersion >= codec.flexibleVersion), {
    correlationId,
  })
  codec.write(w, apiVersion, body)
  w.int32At(sizeAt, w.length - 4)
  return w.chunks()
}

/** The correlation id of a response frame and a reader past its header. */
export function decodeResponseFrame(frame: Buffer, apiKey: number, flexible: boolean) {
  const r = new Reader(frame)
  const header = decodeResponseHeader(r, responseHeaderVersion(apiKey, flexible))
  return { header, body: r }
}
