// One TCP or TLS connection to one broker: frames out and in, correlation ids, pipelining up to
// `maxInFlight` requests, per-request timeouts, write back-pressure, ApiVersions negotiation and
// SASL authentication (re-authenticating before the session the broker grants expires, KIP-368).

import { EventEmitter } from 'node:events'
import { createRequire } from 'node:module'
import type { Duplex } from 'node:stream'
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls'
import { traced } from '../observability/tracing.ts'
import { pick, type Resolved, withDefaults } from '../options/schema.ts'
import { ErrorCode, errorCode, kafkaError } from '../protocol/error-codes.ts'
import { AuthenticationError, ConnectionError, KafkaxError, ProtocolError, TimeoutError } from '../protocol/errors.ts'
import { decodeResponseFrame, encodeRequestFrame, FrameReader } from '../protocol/framing.ts'
import { type Api, ApiVersions, SaslAuthenticate, SaslHandshake } from '../protocol/messages/index.ts'
import { clientChannels as channels } from './channels.ts'
import { type Connector, socketConnector } from './connector.ts'
import type { NetworkEvent, NetworkEventListener, NetworkRequest } from './network-events.ts'
import { CLIENT_FIELDS } from './options.ts'
import type { SaslMechanism } from './sasl/mechanism.ts'

/** This package's version, sent to brokers in ApiVersions. */
export const { version: KAFKAX_VERSION } = createRequire(import.meta.url)('../../package.json') as { version: string }

/** A connection's options; what is left out takes the client options' defaults (CLIENT_FIELDS). */
export interface ConnectionOptions {
  host: string
  port: number
  clientId?: string
  /** `true` for TLS with the system CAs, or Node's TLS options (ca, cert, key, servername, rejectUnauthorized...). */
  tls?: boolean | TlsConnectionOptions
  sasl?: SaslMechanism
  /** Time to open the socket, finish TLS, negotiate versions and authenticate. */
  connectTimeoutMs?: number
  /** Default time a request may wait for its response. */
  requestTimeoutMs?: number
  /** Requests sent and not yet answered, at most (the Java client's default). */
  maxInFlight?: number
  /** Close the connection after this long without requests (as connections.max.idle.ms). */
  idleTimeoutMs?: number
  /** Opens the byte stream (default: TCP or TLS sockets). */
  connect?: Connector
  /** Told of each request answered or timed out and of requests waiting for a slot (see network-events.ts). */
  onNetworkEvent?: NetworkEventListener
}

const DEFAULTED = pick(
  CLIENT_FIELDS,
  'clientId',
  'connectTimeoutMs',
  'requestTimeoutMs',
  'maxInFlight',
  'idleTimeoutMs',
)

export interface RequestOptions {
  /** The version to use; default: the highest both sides support. */
  version?: number
  timeoutMs?: number
  /** false for requests the broker does not answer (Produce with acks=0). */
  expectResponse?: boolean
  /** The highest version to negotiate (a protocol feature not in use caps it, e.g. Produce v11 in a transaction of protocol v1). */
  maxVersion?: number
}

/** Cluster-wide feature levels a broker reported in ApiVersions (KIP-584), with their epoch (-1: none). */
export interface FinalizedFeatures {
  epoch: bigint
  levels: ReadonlyMap<string, number>
}

interface InFlight {
  api: Api
  version: number
  resolve: (body: any) => void
  reject: (error: Error) => void
  timer: NodeJS.Timeout
  /** Only when someone listens to network events. */
  request: NetworkRequest | undefined
}

export class Connection extends EventEmitter {
  readonly host: string
  readonly port: number
  /** The broker's supported [min, max] version per API key, from ApiVersions. */
  readonly brokerVersions = new Map<number, readonly [number, number]>()
  /** The finalized features of ApiVersions v3+ (the highest level of each). */
  finalizedFeatures: FinalizedFeatures = { epoch: -1n, levels: new Map() }
  private socket: Duplex | undefined
  private readonly connector: Connector
  /** Aborts the connector's attempt while the stream is being opened. */
  private abortConnect: AbortController | undefined
  private readonly options: Resolved<ConnectionOptions, typeof DEFAULTED>
  private readonly inFlight = new Map<number, InFlight>()
  private readonly slotWaiters: (() => void)[] = []
  private nextCorrelationId = 0
  private readonly frames = new FrameReader()
  private closedWith: Error | undefined
  private drained: Promise<void> | undefined
  private reauthenticating: Promise<void> | undefined
  private reauthTimer: NodeJS.Timeout | undefined
  private idleTimer: NodeJS.Timeout | undefined
  /** Requests waiting for an in-flight slot (counted for network events only). */
  private queued = 0

  constructor(options: ConnectionOptions) {
    super()
    this.options = withDefaults(DEFAULTED, options) as typeof this.options
    this.connector = options.connect ?? socketConnector
    this.host = options.host
    this.port = options.port
  }

  get address(): string {
    return `${this.host}:${this.port}`
  }

  get connected(): boolean {
    return this.socket !== undefined && this.closedWith === undefined
  }

  /** Opens the socket, negotiates API versions and authenticates; rejects with a kafkax error. */
  connect(): Promise<void> {
    const { host, port, tls, sasl } = this.options
    return traced(
      channels.connect,
      () => ({ host, port, tls: Boolean(tls), sasl: sasl?.name }),
      () => this.establish(),
    )
  }

  private async establish(): Promise<void> {
    const timeoutMs = this.options.connectTimeoutMs
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ConnectionError(`connecting to ${this.address} took longer than ${timeoutMs} ms`)),
        timeoutMs,
      )
    })
    try {
      await Promise.race([this.open(), timeout])
      await Promise.race([this.negotiateVersions(), timeout])
      if (this.options.sasl) await Promise.race([this.authenticate(this.options.sasl), timeout])
      this.touch()
    } catch (error) {
      this.destroy(error as Error)
      throw error
    } finally {
      clearTimeout(timer)
    }
  }

  private async open(): Promise<void> {
    const attempt = new AbortController()
    this.abortConnect = attempt
    let stream: Duplex
    try {
      stream = await this.connector({ host: this.host, port: this.port, tls: this.options.tls, signal: attempt.signal })
    } catch (error) {
      throw this.closedWith ?? this.socketError(error as NodeJS.ErrnoException, true)
    } finally {
      this.abortConnect = undefined
    }
    if (this.closedWith) {
      stream.destroy()
      throw this.closedWith
    }
    this.socket = stream
    stream.on('error', (error) => this.destroy(this.socketError(error, false)))
    stream.on('close', () => this.destroy(new ConnectionError(`connection to ${this.address} closed`)))
    stream.on('data', (chunk: Buffer) => this.onData(chunk))
  }

  /** TLS verification failures will not heal by retrying: like Java's SslAuthenticationException. */
  private socketError(error: NodeJS.ErrnoException, connecting: boolean): Error {
    const tlsFailure = /CERT|SSL|TLS|self[- ]signed|altnames|Hostname\/IP/i.test(`${error.code ?? ''} ${error.message}`)
    if (connecting && tlsFailure)
      return new AuthenticationError(`TLS handshake with ${this.address} failed: ${error.message}`, { cause: error })
    return new ConnectionError(
      `${connecting ? 'cannot connect to' : 'connection to'} ${this.address}: ${error.message}`,
      {
        cause: error,
      },
    )
  }

  private async negotiateVersions(): Promise<void> {
    let version = ApiVersions.request.latestStableVersion
    for (;;) {
      const response = await this.request(
        ApiVersions,
        { clientSoftwareName: 'kafkax', clientSoftwareVersion: KAFKAX_VERSION },
        { version },
      )
      this.brokerVersions.clear()
      for (const k of response.apiKeys) this.brokerVersions.set(k.apiKey, [k.minVersion, k.maxVersion])
      if (response.errorCode === 0) {
        this.finalizedFeatures = {
          epoch: response.finalizedFeaturesEpoch,
          levels: new Map(response.finalizedFeatures.map((f) => [f.name, f.maxVersionLevel])),
        }
        return
      }
      // An older broker answers an ApiVersions version it does not know with v0 and its own range.
      const theirs = this.brokerVersions.get(ApiVersions.apiKey)
      if (response.errorCode !== ErrorCode.UNSUPPORTED_VERSION || !theirs || theirs[1] >= version) {
        throw kafkaError(response.errorCode, `ApiVersions v${version} to ${this.address}`)
      }
      version = theirs[1]
    }
  }

  /** The highest version of `api` both kafkax and this broker support (at most `maxVersion`). */
  versionFor(api: Api, maxVersion = Number.POSITIVE_INFINITY): number {
    const theirs = this.brokerVersions.get(api.apiKey)
    const min = api.request.minVersion
    const max = Math.min(api.request.latestStableVersion, maxVersion)
    if (api.apiKey === ApiVersions.apiKey && !theirs) return max
    const common = theirs ? Math.min(max, theirs[1]) : -1
    if (!theirs || common < Math.max(min, theirs[0])) {
      const range = theirs ? `${theirs[0]}-${theirs[1]}` : 'none'
      throw kafkaError(
        ErrorCode.UNSUPPORTED_VERSION,
        `${api.name}: broker ${this.address} supports ${range}, kafkax ${min}-${max}`,
      )
    }
    return common
  }

  supports(api: Api): boolean {
    try {
      this.versionFor(api)
      return true
    } catch {
      return false
    }
  }

  private async authenticate(mechanism: SaslMechanism): Promise<void> {
    const handshake = await this.request(SaslHandshake, { mechanism: mechanism.name }, { version: 1 })
    if (handshake.errorCode !== 0) {
      throw new AuthenticationError(
        `SASL mechanism ${mechanism.name} is not enabled on ${this.address} (enabled: ${handshake.mechanisms.join(', ')})`,
      )
    }
    let lifetimeMs = 0
    await mechanism.authenticate(
      async (authBytes) => {
        const response = await this.request(SaslAuthenticate, { authBytes })
        if (response.errorCode !== 0) {
          const name = errorCode(response.errorCode).name
          throw new AuthenticationError(
            `SASL ${mechanism.name} authentication to ${this.address} failed: ${response.errorMessage ?? name}`,
          )
        }
        lifetimeMs = Number(response.sessionLifetimeMs)
        return response.authBytes
      },
      { host: this.host, port: this.port },
    )
    clearTimeout(this.reauthTimer)
    if (lifetimeMs > 0) {
      // Like the Java client: somewhere between 85% and 95% of the session, so clients spread out.
      const delay = Math.floor(lifetimeMs * (0.85 + 0.1 * Math.random()))
      this.reauthTimer = setTimeout(() => this.reauthenticate(mechanism), delay)
      this.reauthTimer.unref()
    }
  }

  /** KIP-368: new requests wait while the connection drains and authenticates again. */
  private reauthenticate(mechanism: SaslMechanism): void {
    if (!this.connected) return
    this.reauthenticating = (async () => {
      while (this.inFlight.size + this.reserved > 0) await new Promise<void>((r) => this.slotWaiters.push(r))
      await this.authenticate(mechanism)
    })()
      .catch((error) => this.destroy(error))
      .finally(() => {
        this.reauthenticating = undefined
        this.emit('reauthenticated')
        this.releaseSlots()
      })
  }

  /** Sends one request; resolves with the decoded response body (undefined when none is expected). */
  request<Req, Res>(api: Api<Req, Res>, body: Req, options: RequestOptions = {}): Promise<Res> {
    if (!channels.request.hasSubscribers) return this.exchange(api, body, options)
    const context = { apiName: api.name, apiKey: api.apiKey, host: this.host, port: this.port }
    return channels.request.tracePromise(() => this.exchange(api, body, options), context)
  }

  private async exchange<Req, Res>(api: Api<Req, Res>, body: Req, options: RequestOptions): Promise<Res> {
    const createdAt = this.options.onNetworkEvent ? Date.now() : 0
    await this.acquireSlot(api === SaslHandshake || api === SaslAuthenticate || api === ApiVersions)
    let registered = false
    try {
      const version = options.version ?? this.versionFor(api, options.maxVersion)
      const correlationId = this.nextCorrelationId
      this.nextCorrelationId = (this.nextCorrelationId + 1) & 0x7fffffff
      const clientId = this.options.clientId
      const frame = encodeRequestFrame(api.request, { apiVersion: version, correlationId, clientId }, body, true)
      this.touch()
      const request = this.options.onNetworkEvent && {
        apiKey: api.apiKey,
        apiName: api.name,
        apiVersion: version,
        correlationId,
        clientId,
        broker: this.address,
        createdAt,
        sentAt: Date.now(),
        pendingDuration: Date.now() - createdAt,
      }
      if (options.expectResponse === false) {
        // resolved once the socket took every byte: the caller may then reuse the spliced buffers
        await this.write(frame, true)
        if (request) this.notify({ type: 'request', ...request, duration: Date.now() - request.sentAt, size: 0 })
        return undefined as Res
      }
      if (this.closedWith) throw this.closedWith
      const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs
      const response = new Promise<Res>((resolve, reject) => {
        const timer = setTimeout(() => {
          // The answer may still come and the stream is ordered: like the Java client, drop the connection.
          this.inFlight.delete(correlationId)
          if (request) this.notify({ type: 'request-timeout', ...request })
          reject(new TimeoutError(`${api.name} to ${this.address} got no response in ${timeoutMs} ms`))
          this.destroy(new ConnectionError(`connection to ${this.address} dropped after a request timed out`))
        }, timeoutMs)
        this.inFlight.set(correlationId, { api, version, resolve, reject, timer, request })
      })
      response.catch(() => {}) // observed below; this only keeps an early rejection from being "unhandled"
      this.reserved--
      registered = true
      await this.write(frame)
      return await response
    } finally {
      if (!registered) {
        this.reserved--
        this.releaseSlots()
      }
    }
  }

  /** Slots taken by requests being encoded or written without a response to wait for. */
  private reserved = 0

  /** Waits for a free in-flight slot; while re-authenticating, only the SASL exchange itself goes on. */
  private async acquireSlot(internal: boolean): Promise<void> {
    const max = this.options.maxInFlight
    for (;;) {
      if (this.closedWith) throw this.closedWith
      if (!internal && this.reauthenticating) await this.reauthenticating
      else if (this.inFlight.size + this.reserved >= max) await this.waitForSlot()
      else break
    }
    this.reserved++
  }

  private async waitForSlot(): Promise<void> {
    if (!this.options.onNetworkEvent) return new Promise<void>((r) => this.slotWaiters.push(r))
    this.queueSize(+1)
    try {
      await new Promise<void>((r) => this.slotWaiters.push(r))
    } finally {
      this.queueSize(-1)
    }
  }

  private queueSize(change: number): void {
    this.queued += change
    const clientId = this.options.clientId
    this.notify({ type: 'request-queue-size', broker: this.address, clientId, queueSize: this.queued })
  }

  /** A network event to the client's listener; a listener's failure must not break the connection. */
  private notify(event: NetworkEvent): void {
    try {
      this.options.onNetworkEvent?.(event)
    } catch {}
  }

  /** Wakes every waiter: each checks again whether it may go (cheap: a handful at most). */
  private releaseSlots(): void {
    for (const wake of this.slotWaiters.splice(0)) wake()
  }

  /** Writes a frame's chunks in one go (corked: one writev); `flushed` waits until the kernel has them. */
  private async write(frame: Uint8Array[], flushed = false): Promise<void> {
    while (this.drained) await this.drained
    if (this.closedWith) throw this.closedWith
    const socket = this.socket!
    socket.cork()
    for (let i = 0; i < frame.length - 1; i++) socket.write(frame[i])
    const last = frame[frame.length - 1]
    let more = true
    const flush = flushed
      ? new Promise<void>((resolve, reject) => {
          more = socket.write(last, (error) => (error ? reject(error) : resolve()))
        })
      : undefined
    if (!flushed) more = socket.write(last)
    socket.uncork()
    if (!more) {
      // Back-pressure: the next writes wait until the kernel took this one.
      this.drained = new Promise<void>((resolve) => {
        const done = () => {
          socket.off('drain', done)
          socket.off('close', done)
          this.drained = undefined
          resolve()
        }
        socket.on('drain', done)
        socket.on('close', done)
      })
    }
    await flush
  }

  private onData(chunk: Buffer): void {
    try {
      this.frames.push(chunk, (frame) => {
        this.onFrame(frame)
        return this.closedWith === undefined
      })
    } catch (error) {
      this.destroy(
        error instanceof ProtocolError
          ? new ProtocolError(`${error.message} (from ${this.address})`)
          : (error as Error),
      )
    }
  }

  private onFrame(frame: Buffer): void {
    const correlationId = frame.length >= 4 ? frame.readInt32BE(0) : -1
    const entry = this.inFlight.get(correlationId)
    if (!entry) {
      this.destroy(new ProtocolError(`response with unknown correlation id ${correlationId} from ${this.address}`))
      return
    }
    this.inFlight.delete(correlationId)
    clearTimeout(entry.timer)
    this.releaseSlots()
    const { api, request } = entry
    if (request) this.notify({ type: 'request', ...request, duration: Date.now() - request.sentAt, size: frame.length })
    let version = entry.version
    try {
      const r = decodeResponseFrame(frame, api.apiKey, version >= api.response.flexibleVersion).body
      // ApiVersions answers a version the broker does not support in v0, starting with error code 35.
      if (api === ApiVersions && r.remaining() >= 2 && frame.readInt16BE(r.offset) === ErrorCode.UNSUPPORTED_VERSION)
        version = 0
      entry.resolve(api.response.read(r, version))
    } catch (error) {
      entry.reject(
        error instanceof KafkaxError
          ? error
          : new ProtocolError(`cannot decode ${api.name} v${version} from ${this.address}`, { cause: error }),
      )
    }
  }

  private touch(): void {
    const idle = this.options.idleTimeoutMs
    clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(() => {
      if (this.inFlight.size === 0) this.close()
      else this.touch()
    }, idle)
    this.idleTimer.unref()
  }

  /** Closes the connection; requests in flight fail with ConnectionError. */
  close(): void {
    this.destroy(new ConnectionError(`connection to ${this.address} closed by the client`))
  }

  /** Fails every request in flight with `error` and closes the socket; emits 'close' once. */
  destroy(error: Error): void {
    if (this.closedWith) return
    this.closedWith = error instanceof KafkaxError ? error : new ConnectionError(error.message, { cause: error })
    clearTimeout(this.reauthTimer)
    clearTimeout(this.idleTimer)
    for (const [id, entry] of this.inFlight) {
      clearTimeout(entry.timer)
      this.inFlight.delete(id)
      entry.reject(
        this.closedWith instanceof ConnectionError || this.closedWith instanceof AuthenticationError
          ? this.closedWith
          : new ConnectionError(`connection to ${this.address} failed: ${this.closedWith.message}`, {
              cause: this.closedWith,
            }),
      )
    }
    this.releaseSlots()
    this.abortConnect?.abort(this.closedWith)
    this.socket?.destroy()
    this.frames.clear()
    this.emit('close', this.closedWith)
  }
}
