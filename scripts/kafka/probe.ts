// Readiness probe for the harness: one hand-encoded Metadata v4 request (no topics listed, valid on
// Kafka 3.9 and 4.x) over a plain socket. A listening port is not enough: the broker binds before it
// serves requests. Layouts from the Kafka protocol guide (request header v1, MetadataRequest v4).

import { connect } from 'node:net'

export interface ProbedBroker {
  nodeId: number
  host: string
  port: number
}

const METADATA = 3
const VERSION = 4

function request(correlationId: number): Buffer {
  const clientId = Buffer.from('kafkax-harness')
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 1)
  let o = body.writeInt16BE(METADATA, 0)
  o = body.writeInt16BE(VERSION, o)
  o = body.writeInt32BE(correlationId, o)
  o = body.writeInt16BE(clientId.length, o)
  o += clientId.copy(body, o)
  o = body.writeInt32BE(0, o) // topics: empty array -> no topic metadata, just brokers
  body.writeInt8(0, o) // allow_auto_topic_creation
  const size = Buffer.alloc(4)
  size.writeInt32BE(body.length)
  return Buffer.concat([size, body])
}

function parseBrokers(frame: Buffer, correlationId: number): ProbedBroker[] {
  let o = 0
  if (frame.readInt32BE(o) !== correlationId) throw new Error('correlation id mismatch')
  o += 4 + 4 // correlation id, throttle_time_ms
  const count = frame.readInt32BE(o)
  o += 4
  const brokers: ProbedBroker[] = []
  for (let i = 0; i < count; i++) {
    const nodeId = frame.readInt32BE(o)
    const hostLength = frame.readInt16BE(o + 4)
    const host = frame.toString('utf8', o + 6, o + 6 + hostLength)
    o += 6 + hostLength
    const port = frame.readInt32BE(o)
    const rackLength = frame.readInt16BE(o + 4)
    o += 6 + Math.max(rackLength, 0)
    brokers.push({ nodeId, host, port })
  }
  return brokers
}

/** Resolves with the brokers a Metadata response lists, or rejects (connection refused, timeout...). */
export function probeMetadata(host: string, port: number, timeoutMs: number): Promise<ProbedBroker[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    let received = Buffer.alloc(0)
    const done = (err: Error | null, brokers?: ProbedBroker[]) => {
      socket.destroy()
      clearTimeout(timer)
      if (err) reject(err)
      else resolve(brokers!)
    }
    const timer = setTimeout(() => done(new Error(`no Metadata response from ${host}:${port}`)), timeoutMs)
    socket.on('error', (err) => done(err))
    socket.on('close', () => done(new Error(`${host}:${port} closed the connection`)))
    socket.on('connect', () => socket.write(request(1)))
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk])
      if (received.length < 4 || received.length < 4 + received.readInt32BE(0)) return
      try {
        done(null, parseBrokers(received.subarray(4, 4 + received.readInt32BE(0)), 1))
      } catch (err) {
        done(err as Error)
      }
    })
  })
}
