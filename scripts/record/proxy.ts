// A TCP proxy that forwards Kafka connections unchanged and, on the side, cuts both directions into
// frames (int32 size prefix) and pairs each response with its request by correlation id.

import { connect, createServer, type Socket } from 'node:net'

export interface Exchange {
  apiKey: number
  apiVersion: number
  correlationId: number
  /** The whole request frame without its size prefix (request header included). */
  request: Buffer
  /** The whole response frame without its size prefix, or null when none came (Produce acks=0, closed early). */
  response: Buffer | null
}

export interface RecordingProxy {
  port: number
  exchanges(): Exchange[]
  close(): Promise<void>
}

/** Returns a function that takes stream chunks and calls `onFrame` with each complete frame body. */
export function frameSplitter(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0)
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    while (pending.length >= 4) {
      const end = 4 + pending.readInt32BE(0)
      if (pending.length < end) break
      // a copy: the chunk may be a slice of a pooled buffer
      onFrame(Buffer.from(pending.subarray(4, end)))
      pending = pending.subarray(end)
    }
  }
}

export async function startRecordingProxy(o: {
  listenPort: number
  targetPort: number
  host?: string
}): Promise<RecordingProxy> {
  const host = o.host ?? '127.0.0.1'
  const all: Exchange[] = []
  const sockets = new Set<Socket>()

  const server = createServer((client) => {
    const upstream = connect(o.targetPort, host)
    // correlation ids are unique per connection, not across connections
    const inFlight = new Map<number, Exchange>()
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      // one side failing ends the other: the client sees the same reset it would see without us
      s.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream)
    upstream.pipe(client)

    client.on(
      'data',
      frameSplitter((request) => {
        const exchange: Exchange = {
          apiKey: request.readInt16BE(0),
          apiVersion: request.readInt16BE(2),
          correlationId: request.readInt32BE(4),
          request,
          response: null,
        }
        all.push(exchange)
        inFlight.set(exchange.correlationId, exchange)
      }),
    )
    upstream.on(
      'data',
      frameSplitter((response) => {
        const correlationId = response.readInt32BE(0)
        const exchange = inFlight.get(correlationId)
        if (!exchange) throw new Error(`response with unknown correlation id ${correlationId}`)
        exchange.response = response
        inFlight.delete(correlationId)
      }),
    )
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(o.listenPort, host, () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : o.listenPort

  return {
    port,
    exchanges: () => [...all],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
