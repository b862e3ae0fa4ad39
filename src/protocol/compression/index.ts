// The record-batch codecs (RecordBatch attributes bits 0-2): 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd.
// Work is asynchronous so a large batch never blocks the event loop, except lz4 frames of at most
// LZ4_SYNC_MAX_BYTES decompressed, which are decompressed at once (as the Java client does on its
// poll thread): lz4-napi's threadpool decompression of such frames grew a slow consumer's RSS by
// ~130 MB over minutes, not held by the heap, where on the event loop it stays flat, and one takes
// under a millisecond. snappy, lz4 and zstd come from optional packages loaded on first use. Corrupt
// input always becomes a ProtocolError.

import { promisify } from 'node:util'
import zlib from 'node:zlib'
import { ConfigError, ProtocolError } from '../errors.ts'
import { runtimeName } from '../runtime.ts'
import { lz4Bound, snappyLength, zstdBound } from './bounds.ts'
import { isXerial, xerialBlocks, xerialFrame } from './snappy-framing.ts'

export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
export type CompressionCodec = (typeof CODECS)[number]

/** Decompressed batches larger than this are refused (a guard against compression bombs). */
export const MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024

/** lz4 frames that decompress to at most this are decompressed on the event loop (~0.8 ms per MiB here). */
export const LZ4_SYNC_MAX_BYTES = 1024 * 1024

const gzip = promisify(zlib.gzip)
const gunzip = promisify(zlib.gunzip)

interface Codec {
  compress(data: Buffer): Promise<Buffer>
  /** `bound`: what `data` decompresses to at most, from its headers, where known. */
  decompress(data: Buffer, bound?: number): Promise<Buffer>
}

type Snappy = typeof import('snappy')
type Lz4 = typeof import('lz4-napi')
type Zstd = typeof import('@mongodb-js/zstd')

const NOT_FOUND = new Set(['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND'])

/**
 * Loads an optional codec package once. A ConfigError says what to install when it is absent, and
 * names the runtime when it is installed but does not load (a native binding built for another one).
 */
export function loadOptional<T>(codec: string, name: string, load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined
  return () => {
    loaded ??= load().catch((cause) => {
      loaded = undefined
      // the package itself is missing, not a module it needs (such as its platform binding)
      const message = String(cause?.message ?? cause)
      const missing = NOT_FOUND.has(cause?.code) && (message.includes(`'${name}'`) || message.includes(`"${name}"`))
      const reason = missing
        ? `is not installed (${runtimeName()})`
        : `does not load in ${runtimeName()}: ${message.split('\n')[0]}`
      const text = `${codec} compression needs the optional package ${name}, which ${reason}; npm install ${name}`
      throw new ConfigError(text, { cause })
    })
    return loaded
  }
}

const snappy = loadOptional<Snappy>('snappy', 'snappy', () => import('snappy'))
const lz4 = loadOptional<Lz4>('lz4', 'lz4-napi', () => import('lz4-napi'))
const zstdPackage = loadOptional<Zstd>('zstd', '@mongodb-js/zstd', () => import('@mongodb-js/zstd'))

// node:zlib has zstd from Node 22.15 / 23.8; older runtimes use @mongodb-js/zstd.
const nativeZstd = zlib as unknown as {
  zstdCompress?: (b: Buffer, cb: (e: Error | null, r: Buffer) => void) => void
  zstdDecompress?: (b: Buffer, o: object, cb: (e: Error | null, r: Buffer) => void) => void
}

/** zstd from node:zlib (Node >= 22.15 / 23.8, Bun, Deno), undefined where it lacks it. */
function nativeZstdCodec(): Codec | undefined {
  const { zstdCompress, zstdDecompress } = nativeZstd
  if (!zstdCompress || !zstdDecompress) return undefined
  const compress = promisify(zstdCompress)
  return {
    compress: (data) => compress(data),
    decompress: (data) =>
      new Promise((resolve, reject) =>
        zstdDecompress(data, { maxOutputLength: MAX_DECOMPRESSED_BYTES }, (e, r) => (e ? reject(e) : resolve(r))),
      ),
  }
}

/** zstd from the optional @mongodb-js/zstd: the fallback of runtimes whose node:zlib has none. */
const zstdPackageCodec: Codec = {
  compress: async (data) => (await zstdPackage()).compress(data),
  decompress: async (data) => (await zstdPackage()).decompress(data),
}

async function snappyUncompress(block: Uint8Array): Promise<Buffer> {
  return (await (await snappy()).uncompress(block)) as Buffer
}

const codecs: Record<Exclude<CompressionCodec, 'none'>, Codec> = {
  gzip: {
    compress: (data) => gzip(data),
    decompress: (data) => gunzip(data, { maxOutputLength: MAX_DECOMPRESSED_BYTES }),
  },
  snappy: {
    async compress(data) {
      return xerialFrame(await (await snappy()).compress(data))
    },
    async decompress(data) {
      if (!isXerial(data)) return snappyUncompress(data)
      const blocks = await Promise.all(xerialBlocks(data).map(snappyUncompress))
      return blocks.length === 1 ? blocks[0] : Buffer.concat(blocks)
    },
  },
  lz4: {
    async compress(data) {
      return (await lz4()).compressFrame(data)
    },
    async decompress(data, bound) {
      const lz4Package = await lz4()
      return bound !== undefined && bound <= LZ4_SYNC_MAX_BYTES
        ? lz4Package.decompressFrameSync(data)
        : lz4Package.decompressFrame(data)
    },
  },
  zstd: nativeZstdCodec() ?? zstdPackageCodec,
}

/** Both zstd implementations, for the tests that check they read each other's frames. */
export const zstdImplementations = { native: nativeZstdCodec(), package: zstdPackageCodec } as const

/** Which zstd implementation the codec uses in this runtime. */
export const zstdSource = codecs.zstd === zstdPackageCodec ? '@mongodb-js/zstd' : 'node:zlib'

/** The codec name of a RecordBatch attributes value. */
export function codecOf(attributes: number): CompressionCodec {
  const codec = CODECS[attributes & 0x07]
  if (codec === undefined) throw new ProtocolError(`unknown compression codec ${attributes & 0x07}`)
  return codec
}

export async function compress(codec: CompressionCodec, data: Buffer): Promise<Buffer> {
  return codec === 'none' ? data : codecs[codec].compress(data)
}

/** What `data` can decompress to at most, from its headers (gzip is bounded by zlib itself). */
function bound(codec: Exclude<CompressionCodec, 'none'>, data: Buffer): number {
  if (codec === 'zstd') return zstdBound(data)
  if (codec === 'lz4') return lz4Bound(data)
  if (codec === 'snappy') {
    if (!isXerial(data)) return snappyLength(data)
    return xerialBlocks(data).reduce((sum, block) => sum + snappyLength(block), 0)
  }
  return 0
}

/** Decompresses a batch's records; bad data (or a missing package) never escapes as anything but a typed error. */
export async function decompress(codec: CompressionCodec, data: Buffer): Promise<Buffer> {
  if (codec === 'none') return data
  const most = bound(codec, data)
  if (most > MAX_DECOMPRESSED_BYTES) {
    throw new ProtocolError(`${codec} data claims to decompress to more than ${MAX_DECOMPRESSED_BYTES} bytes`)
  }
  let out: Buffer
  try {
    out = await codecs[codec].decompress(data, most)
  } catch (err) {
    if (err instanceof ConfigError || err instanceof ProtocolError) throw err
    throw new ProtocolError(`corrupt ${codec} data: ${(err as Error)?.message ?? String(err)}`, { cause: err })
  }
  if (out.length > MAX_DECOMPRESSED_BYTES) {
    throw new ProtocolError(`${codec} data decompresses to more than ${MAX_DECOMPRESSED_BYTES} bytes`)
  }
  return out
}
