// Where a connection's bytes go: a connector opens a duplex stream to a broker address. The default
// opens a TCP socket (TLS when asked); users and tests may pass their own, as undici's `connect`
// option, to put a proxy, a fault injector or an in-process broker underneath a client.

import { connect as netConnect } from 'node:net'
import type { Duplex } from 'node:stream'
import { type ConnectionOptions as TlsConnectionOptions, connect as tlsConnect } from 'node:tls'

/** What a Connector is asked to open: a broker's address, TLS options and a signal that aborts the attempt. */
export interface ConnectTarget {
  host: string
  port: number
  /** `true` for TLS with the system CAs, or Node's TLS options; undefined for plain TCP. */
  tls: boolean | TlsConnectionOptions | undefined
  /** Aborted when the connection gives up (connect timeout, close): the attempt must end and free its socket. */
  signal: AbortSignal
}

/**
 * Opens a stream to `target` and resolves once bytes can flow (TLS handshake done), or rejects
 * with the socket's error, or with `target.signal`'s reason once it aborts.
 */
export type Connector = (target: ConnectTarget) => Promise<Duplex>

/** TCP (TLS when `target.tls` is set), TCP_NODELAY, keep-alive every 60 s. */
export const socketConnector: Connector = (target) =>
  new Promise((resolve, reject) => {
    const { host, port, tls, signal } = target
    if (signal.aborted) return reject(signal.reason)
    const socket = tls
      ? tlsConnect({ host, port, servername: isIp(host) ? undefined : host, ...(tls === true ? {} : tls) })
      : netConnect({ host, port })
    socket.setNoDelay(true)
    socket.setKeepAlive(true, 60_000)
    const connected = tls ? 'secureConnect' : 'connect'
    const onError = (error: Error) => {
      socket.off(connected, onConnect)
      signal.removeEventListener('abort', onAbort)
      socket.destroy()
      reject(error)
    }
    const onAbort = () => onError(signal.reason)
    const onConnect = () => {
      socket.off('error', onError)
      signal.removeEventListener('abort', onAbort)
      resolve(socket)
    }
    socket.once('error', onError)
    socket.once(connected, onConnect)
    signal.addEventListener('abort', onAbort, { once: true })
  })

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':')
}
