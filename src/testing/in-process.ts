// Two connected duplex streams in memory (what one end writes the other reads), so that a client's
// connector can reach a fake broker without a socket. Closing or destroying one end ends the other,
// as a socket's peer sees the connection close.

import { Duplex } from 'node:stream'

export function duplexPair(): [Duplex, Duplex] {
  const ends: Duplex[] = []
  for (let i = 0; i < 2; i++) {
    ends.push(
      new Duplex({
        read() {},
        write(chunk, _encoding, done) {
          const peer = ends[1 - i]
          if (!peer.destroyed) peer.push(chunk)
          done()
        },
        final(done) {
          const peer = ends[1 - i]
          if (!peer.destroyed) peer.push(null)
          done()
        },
        destroy(error, done) {
          const peer = ends[1 - i]
          if (!peer.destroyed) {
            peer.push(null)
            peer.destroy()
          }
          done(error)
        },
      }),
    )
  }
  return [ends[0], ends[1]]
}
