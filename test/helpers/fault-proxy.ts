// A fault-injecting TCP proxy for integration tests: it sits between kafkax and the real broker
// (the harness's PROXIED listener is advertised at the proxy's port, so metadata keeps every
// connection on the proxy) and forwards bytes unchanged until told otherwise. Faults apply to every
// connection at once, as a network or broker failure would: reset them all (RST), hold everything
// (a black hole: connections stay open, nothing moves), delay each chunk, trickle bytes in 1-7 byte
// fragments, or refuse new connections. Bytes are never altered, dropped only when connections reset.

import { connect, createServer, type Server, type Socket } from 'node:net'

/** How bytes move now: forwarded, held (black hole), delayed per chunk, or trickled. */
export type ForwardMode = 'pass' | 'hold' | 'latency' | 'trickle'

export interface FaultProxyStats {
  /** Client connections accepted. */
  connections: number
  /** Connections (client and broker side counted once per pair) ended with an RST by a fault. */
  resets: number
  /** Client connections reset because the broker side could not be opened (the broker was down). */
  upstreamFailures: number
  bytesToBroker: number
  bytesToClient: number
}

/** Above this many bytes queued in one direction (held, delayed), the proxy stops reading that side. */
const HIGH_WATER = 1 << 20

/** One direction of a connection: chunks from `from` queued, then written to `to` as the mode says. */
class Link {
  private readonly queue: { chunk: Buffer; due: number }[] = []
  private queued = 0
  private ended = false
  private endSent = false
  private blocked = false
  /** Cancels the pump scheduled for later (a latency deadline, the next trickled fragment). */
  private cancel: (() => void) | undefined

  constructor(
    private readonly proxy: FaultProxy,
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly count: (bytes: number) => void,
  ) {
    from.on('data', (chunk: Buffer) => {
      this.queue.push({ chunk, due: Date.now() + proxy.latencyMs })
      this.queued += chunk.length
      if (this.queued > HIGH_WATER) from.pause()
      this.pump()
    })
    from.on('end', () => {
      this.ended = true
      this.pump()
    })
    to.on('drain', () => {
      this.blocked = false
      this.pump()
    })
  }

  /** Forwards what the mode lets through now, and arranges to go on later. */
  pump(): void {
    this.cancel?.()
    this.cancel = undefined
    if (this.to.destroyed) {
      this.stop()
      return
    }
    const mode = this.proxy.mode
    while (this.queue.length > 0 && !this.blocked && mode !== 'hold') {
      const head = this.queue[0]
      if (mode === 'latency') {
        const wait = head.due - Date.now()
        if (wait > 0) {
          this.later(wait)
          return
        }
      }
      const size =
        mode === 'trickle' ? Math.min(head.chunk.length, 1 + Math.floor(this.proxy.random() * 7)) : head.chunk.length
      const piece = head.chunk.subarray(0, size)
      if (size === head.chunk.length) this.queue.shift()
      else head.chunk = head.chunk.subarray(size)
      this.queued -= size
      this.count(size)
      if (!this.to.write(piece)) this.blocked = true
      if (mode === 'trickle') {
        // the next turn of the event loop (the reader gets a turn in between), sometimes a millisecond
        this.later(this.proxy.random() < 0.7 ? 0 : 1)
        break
      }
    }
    if (this.queued <= HIGH_WATER / 2 && this.from.isPaused()) this.from.resume()
    // the end (FIN) comes after the bytes before it, and a black hole holds it as well
    if (this.ended && this.queue.length === 0 && mode !== 'hold' && !this.endSent) {
      this.endSent = true
      this.to.end()
    }
  }

  private later(ms: number): void {
    if (ms === 0) {
      const immediate = setImmediate(() => this.pump())
      this.cancel = () => clearImmediate(immediate)
    } else {
      const timer = setTimeout(() => this.pump(), ms)
      this.cancel = () => clearTimeout(timer)
    }
  }

  /** Drops what is queued (the connection was reset) and what was scheduled. */
  stop(): void {
    this.cancel?.()
    this.cancel = undefined
    this.queue.length = 0
    this.queued = 0
  }
}

interface Pair {
  client: Socket
  broker: Socket
  links: Link[]
}

export class FaultProxy {
  /** The current forwarding mode of every connection. */
  mode: ForwardMode = 'pass'
  /** The delay each chunk gets in 'latency' mode (set by latency()). */
  latencyMs = 0
  readonly stats: FaultProxyStats = {
    connections: 0,
    resets: 0,
    upstreamFailures: 0,
    bytesToBroker: 0,
    bytesToClient: 0,
  }
  private readonly pairs = new Set<Pair>()
  private readonly server: Server
  private listening = false
  private closed = false

  private constructor(
    /** The port it listens on (chosen by the system on the first listen when 0 was asked for). */
    public port: number,
    private readonly target: { host: string; port: number },
    private readonly host: string,
    /** Fragment sizes and trickle delays come from this (seeded by the fault schedule). */
    readonly random: () => number,
  ) {
    this.server = createServer((client) => this.onConnection(client))
  }

  /** Listens on `listenPort` (127.0.0.1; 0 for any free port) and forwards every connection to `targetPort`. */
  static async start(o: {
    listenPort: number
    targetPort: number
    host?: string
    random?: () => number
  }): Promise<FaultProxy> {
    const host = o.host ?? '127.0.0.1'
    const proxy = new FaultProxy(o.listenPort, { host, port: o.targetPort }, host, o.random ?? Math.random)
    await proxy.accept()
    return proxy
  }

  private onConnection(client: Socket): void {
    this.stats.connections++
    const broker = connect(this.target.port, this.target.host)
    const pair: Pair = { client, broker, links: [] }
    this.pairs.add(pair)
    for (const s of [client, broker]) s.setNoDelay(true)
    pair.links.push(
      new Link(this, client, broker, (n) => {
        this.stats.bytesToBroker += n
      }),
      new Link(this, broker, client, (n) => {
        this.stats.bytesToClient += n
      }),
    )
    let connected = false
    broker.once('connect', () => {
      connected = true
    })
    // a side that fails takes the other with it, as an RST: the client sees what a dead broker causes
    client.on('error', () => this.reset(pair, false))
    broker.on('error', () => {
      if (!connected) this.stats.upstreamFailures++
      this.reset(pair, false)
    })
    const closed = () => {
      if (!client.destroyed || !broker.destroyed) return
      for (const l of pair.links) l.stop()
      this.pairs.delete(pair)
    }
    client.on('close', closed)
    broker.on('close', closed)
  }

  private reset(pair: Pair, counted: boolean): void {
    for (const l of pair.links) l.stop()
    let open = false
    for (const s of [pair.client, pair.broker]) {
      if (s.destroyed) continue
      open = true
      // an RST, not a FIN (a socket still connecting sends it once connected); a socket we ended
      // (its FIN queued) is destroyed instead: Node's reset then fails (EINVAL while the shutdown is
      // pending) and drops the handle without closing it, a socket leaked for good
      if (s.writableEnded) s.destroy()
      else s.resetAndDestroy()
    }
    if (counted && open) this.stats.resets++
  }

  /** Open connections now. */
  get connectionCount(): number {
    return this.pairs.size
  }

  /** Resets every connection (RST both ways); returns how many there were. */
  resetAll(): number {
    const n = this.pairs.size
    for (const pair of [...this.pairs]) this.reset(pair, true)
    return n
  }

  /** Sets how bytes move from now on; switching back to 'pass' releases what was held or delayed. */
  setMode(mode: ForwardMode, latencyMs = 0): void {
    this.mode = mode
    this.latencyMs = mode === 'latency' ? latencyMs : 0
    for (const pair of this.pairs) for (const l of pair.links) l.pump()
  }

  /** Stops listening (new connections are refused by the kernel); open ones stay as they are. */
  refuse(): void {
    if (!this.listening) return
    this.listening = false
    // the listening socket closes now; close()'s callback would wait for open connections too
    this.server.close()
  }

  /** Listens (again) on the proxy's port. */
  async accept(): Promise<void> {
    if (this.listening || this.closed) return
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error)
      this.server.once('error', onError)
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', onError)
        const address = this.server.address()
        if (address && typeof address === 'object') this.port = address.port
        resolve()
      })
    })
    this.listening = true
  }

  /** Stops listening and destroys every connection; resolves once all sockets are closed. */
  async close(): Promise<void> {
    this.closed = true
    this.mode = 'pass'
    const sockets = [...this.pairs].flatMap((p) => [p.client, p.broker])
    for (const pair of this.pairs) for (const l of pair.links) l.stop()
    for (const s of sockets) s.destroy()
    if (this.listening) {
      this.listening = false
      this.server.close()
    }
    await Promise.all(
      sockets.map((s) => (s.closed ? undefined : new Promise<void>((resolve) => s.once('close', () => resolve())))),
    )
  }
}
