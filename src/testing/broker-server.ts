// One broker of the fake cluster on the wire: its listeners (TCP, TLS, or in-process streams), the
// connections they accept, and the dispatch of every request frame to its API's handler. As Kafka's
// SocketServer does, a connection's requests are handled one at a time, in order (so responses go
// out in request order); a request for an API or version the broker does not offer, a frame that
// does not decode, or anything but ApiVersions and SASL before authentication on a SASL listener
// closes the connection; ApiVersions of an unknown version is answered in v0 with
// UNSUPPORTED_VERSION and the versions offered (KIP-511).

import { createServer as createTcpServer, type Server, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createServer as createTlsServer, type TlsOptions } from 'node:tls'
import { ErrorCode } from '../protocol/error-codes.ts'
import { decodeRequestFrame, encodeResponseFrame, FrameReader } from '../protocol/framing.ts'
import { API_VERSIONS_KEY, type RequestHeader } from '../protocol/headers.ts'
import { type ApiHandler, NO_RESPONSE, type RequestContext } from './api-handler.ts'
import type { ClusterState } from './cluster-state.ts'
import { FetchSessionCache } from './fetch-sessions.ts'
import type { Interceptors } from './interceptors.ts'
import { ALL_MECHANISMS, SaslSession } from './sasl-server.ts'

/** Kafka's socket.request.max.bytes default: a larger frame closes the connection. */
const MAX_REQUEST_BYTES = 100 * 1024 * 1024
/** Requests buffered per connection before reading pauses (the broker mutes a busy channel). */
const MAX_QUEUED = 64

export interface ListenerOptions {
  /** The listener name (default PLAINTEXT); Metadata answers with the addresses of the listener asked. */
  name?: string
  /** Default 127.0.0.1. */
  host?: string
  /** Default 0: an ephemeral port. */
  port?: number
  /** The address given out in Metadata and FindCoordinator (default: the one listened on). */
  advertisedHost?: string
  advertisedPort?: number
  /** TLS: Node's server options (key and cert, or pfx and passphrase). */
  tls?: TlsOptions
  /** SASL with the cluster's users (`FakeClusterOptions.users`): true for PLAIN and SCRAM-SHA-256/512, or the mechanisms. */
  sasl?: boolean | { mechanisms: readonly string[] }
  /** Sessions expire after this and must re-authenticate (KIP-368, connections.max.reauth.ms); 0: never. */
  reauthenticationMs?: number
}

/** What the brokers of one cluster share: its state, the APIs served, the interceptors of the test. */
export interface SharedByBrokers {
  cluster: ClusterState
  apis: ReadonlyMap<number, ApiHandler>
  interceptors: Interceptors
}

export class Listener {
  readonly name: string
  readonly host: string
  port: number
  private server: Server | undefined

  constructor(
    readonly broker: BrokerServer,
    readonly options: ListenerOptions,
  ) {
    this.name = options.name ?? 'PLAINTEXT'
    this.host = options.host ?? '127.0.0.1'
    this.port = options.port ?? 0
  }

  get advertisedHost(): string {
    return this.options.advertisedHost ?? this.host
  }

  get advertisedPort(): number {
    return this.options.advertisedPort ?? this.port
  }

  get address(): string {
    return `${this.advertisedHost}:${this.advertisedPort}`
  }

  /** Listens on a socket (not for in-process listeners); the port stays the same across restarts. */
  async open(): Promise<void> {
    const onConnection = (socket: Socket) => {
      socket.setNoDelay(true)
      this.broker.accept(socket, this)
    }
    const server = this.options.tls ? createTlsServer(this.options.tls, onConnection) : createTcpServer(onConnection)
    // a TLS handshake that fails ends that socket only
    server.on('tlsClientError', () => {})
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host: this.host, port: this.port, exclusive: true }, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const address = server.address()
    if (address && typeof address === 'object') this.port = address.port
    this.server = server
  }

  async close(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

export class BrokerServer {
  readonly listeners: Listener[]
  alive = false
  readonly fetchSessions = new FetchSessionCache()
  private readonly connections = new Set<ClientConnection>()

  constructor(
    readonly shared: SharedByBrokers,
    readonly nodeId: number,
    listeners: ListenerOptions[],
    readonly rack: string | null,
    private readonly inProcess: boolean,
  ) {
    this.listeners = listeners.map((l) => new Listener(this, l))
  }

  listener(name: string): Listener | undefined {
    return this.listeners.find((l) => l.name === name)
  }

  async start(): Promise<void> {
    if (!this.inProcess) {
      const opened: Listener[] = []
      try {
        for (const l of this.listeners) {
          await l.open()
          opened.push(l)
        }
      } catch (error) {
        await Promise.all(opened.map((l) => l.close()))
        throw error
      }
    }
    this.alive = true
  }

  /** Stops listening and cuts every connection at once, as a killed process would. */
  async kill(): Promise<void> {
    this.alive = false
    for (const c of this.connections) c.destroy()
    this.connections.clear()
    this.fetchSessions.clear()
    await Promise.all(this.listeners.map((l) => l.close()))
  }

  accept(stream: Duplex, listener: Listener): void {
    if (!this.alive) {
      stream.destroy()
      return
    }
    const connection = new ClientConnection(stream, this, listener)
    this.connections.add(connection)
    stream.once('close', () => this.connections.delete(connection))
  }

  get connectionCount(): number {
    return this.connections.size
  }
}

/** One client connection: frames in, requests handled in order, responses out. */
export class ClientConnection {
  readonly sasl: SaslSession | undefined
  /** The client's address as Kafka reports it in group descriptions ("/127.0.0.1"). */
  readonly clientHost: string
  /** A socket's reads are new buffers; an in-process stream passes on the client's own, which it may reuse. */
  readonly ownsFrames: boolean
  private readonly frames = new FrameReader(MAX_REQUEST_BYTES)
  private readonly queue: Buffer[] = []
  private busy = false
  private closed = false

  constructor(
    private readonly stream: Duplex,
    readonly broker: BrokerServer,
    readonly listener: Listener,
  ) {
    this.clientHost = `/${(stream as Partial<Socket>).remoteAddress ?? '127.0.0.1'}`
    this.ownsFrames = stream instanceof Socket
    const { sasl, reauthenticationMs } = listener.options
    if (sasl) {
      const mechanisms = sasl === true ? ALL_MECHANISMS : sasl.mechanisms
      this.sasl = new SaslSession(
        broker.shared.cluster.credentials,
        mechanisms,
        reauthenticationMs ?? 0,
        broker.shared.cluster.clock,
      )
    }
    stream.on('data', (chunk: Buffer) => this.onData(chunk))
    stream.on('error', () => this.destroy())
    stream.on('end', () => this.destroy())
    stream.on('close', () => {
      this.closed = true
    })
  }

  private onData(chunk: Buffer): void {
    try {
      this.frames.push(chunk, (frame) => {
        this.queue.push(frame)
        return true
      })
    } catch (error) {
      this.broker.shared.cluster.log(
        `broker ${this.broker.nodeId}: ${(error as Error).message}; closing the connection`,
      )
      this.destroy()
      return
    }
    if (this.queue.length >= MAX_QUEUED) this.stream.pause()
    if (!this.busy) void this.pump()
  }

  private async pump(): Promise<void> {
    this.busy = true
    try {
      while (this.queue.length > 0 && !this.closed) {
        await this.process(this.queue.shift()!)
        if (this.queue.length < MAX_QUEUED / 2 && this.stream.isPaused()) this.stream.resume()
      }
    } finally {
      this.busy = false
    }
  }

  destroy(): void {
    this.closed = true
    this.queue.length = 0
    this.frames.clear()
    this.stream.destroy()
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** One response frame's chunks, written together (a socket sends them in one writev). */
  write(frame: Uint8Array[]): void {
    if (this.closed) return
    this.stream.cork()
    for (const chunk of frame) this.stream.write(chunk)
    this.stream.uncork()
  }

  private refuse(reason: string): void {
    this.broker.shared.cluster.log(
      `broker ${this.broker.nodeId} (${this.listener.name}): ${reason}; closing the connection`,
    )
    this.destroy()
  }

  private async process(frame: Buffer): Promise<void> {
    const { cluster, apis, interceptors } = this.broker.shared
    if (frame.length < 8) return this.refuse(`a request frame of ${frame.length} bytes`)
    const apiKey = frame.readInt16BE(0)
    const version = frame.readInt16BE(2)
    const handler = apis.get(apiKey)
    if (!handler) return this.refuse(`API key ${apiKey} is not served`)
    const supported = version >= handler.minVersion && version <= handler.maxVersion
    if (!supported && handler.api.apiKey !== API_VERSIONS_KEY)
      return this.refuse(`${handler.api.name} v${version} is not served (${handler.minVersion}-${handler.maxVersion})`)
    let header: RequestHeader
    let request: unknown
    try {
      const decoded = decodeRequestFrame(frame, (key) =>
        key === apiKey && supported ? handler.api.request.flexibleVersion : Number.POSITIVE_INFINITY,
      )
      header = decoded.header
      request = supported ? handler.api.request.read(decoded.body, version) : undefined
    } catch (error) {
      return this.refuse(`${handler.api.name} v${version} does not decode: ${(error as Error).message}`)
    }
    const ctx: RequestContext = {
      cluster,
      apis,
      broker: this.broker,
      listener: this.listener,
      connection: this,
      header,
      version,
    }
    if (!supported) {
      // KIP-511: answer in v0, which every client can read, with the versions offered
      this.write(
        encodeResponseFrame(
          handler.api.response,
          0,
          header.correlationId,
          handler.errorResponse(undefined, ErrorCode.UNSUPPORTED_VERSION, ctx),
        ),
      )
      return
    }
    if (this.sasl && !this.sasl.allows(apiKey))
      return this.refuse(`${handler.api.name} before SASL authentication completed`)

    let response: unknown
    try {
      const intercepted = await interceptors.run(handler, request, ctx)
      if (intercepted.kind === 'drop') return
      if (intercepted.kind === 'disconnect') return this.destroy()
      if (this.closed) return
      if (intercepted.kind === 'response') response = intercepted.response
      else if (intercepted.kind === 'error') response = handler.errorResponse(request, intercepted.errorCode, ctx)
      else {
        response = await handler.handle(request, ctx)
        if (response === NO_RESPONSE) return
      }
    } catch (error) {
      cluster.log(`broker ${this.broker.nodeId}: ${handler.api.name} failed: ${(error as Error).stack}`)
      response = handler.errorResponse(request, ErrorCode.UNKNOWN_SERVER_ERROR, ctx)
    }
    // record batches go out as the views of the log they are, not copied into the frame
    this.write(encodeResponseFrame(handler.api.response, version, header.correlationId, response, true))
    if (this.sasl?.mustClose) this.destroy()
  }
}
