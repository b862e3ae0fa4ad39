// A connector (ClientOptions.connect) over real sockets that can black-hole every connection: while
// the hole is open, connections open (as through a proxy or a load balancer) but no byte moves
// either way, as when a network path drops packets and TCP keeps retrying. Bytes held meanwhile
// flow once it closes, as TCP's retransmissions would deliver them, unless the client gave up on
// the connection first.

import { Duplex } from 'node:stream'
import { type Connector, socketConnector } from '../../src/client/connector.ts'

export interface BlackHole {
  connect: Connector
  /** Stops every byte until `close()`. */
  open(): void
  close(): void
  /** Connections opened through it, for assertions. */
  readonly connections: number
}

export function blackHole(): BlackHole {
  let holding = false
  let waiters: (() => void)[] = []
  const released = () => (holding ? new Promise<void>((r) => waiters.push(r)) : Promise.resolve())
  let connections = 0

  const connect: Connector = async (target) => {
    const socket = await socketConnector(target)
    connections++
    const stream = new Duplex({
      read() {},
      write(chunk, _encoding, done) {
        released().then(() => {
          if (socket.destroyed) done(new Error('socket closed'))
          else socket.write(chunk, done)
        })
      },
      destroy(error, done) {
        socket.destroy()
        done(error)
      },
    })
    socket.on('data', (chunk) => released().then(() => stream.push(chunk)))
    socket.on('close', () => released().then(() => stream.destroy()))
    socket.on('error', (error) => stream.destroy(error))
    return stream
  }

  return {
    connect,
    open: () => {
      holding = true
    },
    close: () => {
      holding = false
      for (const wake of waiters.splice(0)) wake()
      waiters = []
    },
    get connections() {
      return connections
    },
  }
}
