// Options every client (Admin, Producer, Consumer) shares, validated once: a ConfigError names the
// option, the value and what is allowed, and never echoes a credential.

import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls'
import { ConfigError } from '../protocol/errors.ts'
import type { Connector } from './connector.ts'
import type { RetryOptions } from './retry.ts'
import { type SaslMechanism, type SaslOptions, saslMechanism } from './sasl/index.ts'

/** Options every client (Producer, Consumer, Admin) takes: where the brokers are and how to reach them. */
export interface ClientOptions {
  /** Bootstrap brokers: `['host:port', ...]` or one comma-separated string. */
  brokers: string[] | string
  clientId?: string
  /** `true` for TLS with the system CAs, or Node's TLS options (ca, cert, key, servername, rejectUnauthorized). */
  tls?: boolean | TlsConnectionOptions
  sasl?: SaslOptions
  /** Per connection attempt: socket, TLS, versions and SASL (default 10 s). */
  connectTimeoutMs?: number
  /** Per request (default 30 s). */
  requestTimeoutMs?: number
  /** Unanswered requests per connection (default 5). */
  maxInFlight?: number
  /** Idle connections close after this (default 9 min). */
  idleTimeoutMs?: number
  /** Retries of retriable errors; `deadlineMs` bounds a whole operation (default 30 s). */
  retry?: RetryOptions
  /** Metadata is refreshed at least this often (default 5 min, as metadata.max.age.ms). */
  metadataMaxAgeMs?: number
  /** Opens each connection's byte stream (default: TCP, or TLS with `tls`): a proxy, a fault injector, an in-process broker. */
  connect?: Connector
}

export interface BrokerAddress {
  host: string
  port: number
}

export interface ResolvedClientOptions {
  brokers: BrokerAddress[]
  clientId: string
  tls: boolean | TlsConnectionOptions | undefined
  sasl: SaslMechanism | undefined
  connectTimeoutMs: number
  requestTimeoutMs: number
  maxInFlight: number
  idleTimeoutMs: number
  retry: RetryOptions
  metadataMaxAgeMs: number
  connect: Connector | undefined
}

/** `host:port`, `[v6]:port`. */
export function parseBroker(text: string): BrokerAddress {
  const m = /^\s*(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})\s*$/.exec(text)
  const port = m ? Number(m[3]) : Number.NaN
  if (!m || port < 1 || port > 65535) {
    throw new ConfigError(`brokers: ${JSON.stringify(text)} is not host:port (e.g. 127.0.0.1:9092 or [::1]:9092)`)
  }
  return { host: m[1] ?? m[2], port }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`${name} must be a positive number of milliseconds or items, got ${JSON.stringify(value)}`)
  }
  return value
}

export function resolveClientOptions(options: ClientOptions): ResolvedClientOptions {
  if (options === null || typeof options !== 'object') throw new ConfigError('client options must be an object')
  const list = typeof options.brokers === 'string' ? options.brokers.split(',') : options.brokers
  if (!Array.isArray(list) || list.length === 0 || list.some((b) => typeof b !== 'string')) {
    throw new ConfigError('brokers must be a non-empty list of host:port strings')
  }
  const clientId = options.clientId ?? 'kafkax'
  if (typeof clientId !== 'string') throw new ConfigError(`clientId must be a string, got ${typeof clientId}`)
  if (options.connect !== undefined && typeof options.connect !== 'function') {
    throw new ConfigError('connect must be a function (target) => Promise<Duplex>')
  }
  if (options.tls !== undefined && typeof options.tls !== 'boolean' && typeof options.tls !== 'object') {
    throw new ConfigError('tls must be true, false or an object of Node TLS options')
  }
  return {
    brokers: list.map(parseBroker),
    clientId,
    tls: options.tls || undefined,
    sasl: options.sasl ? saslMechanism(options.sasl) : undefined,
    connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs, 10_000),
    requestTimeoutMs: positive('requestTimeoutMs', options.requestTimeoutMs, 30_000),
    maxInFlight: positive('maxInFlight', options.maxInFlight, 5),
    idleTimeoutMs: positive('idleTimeoutMs', options.idleTimeoutMs, 540_000),
    retry: options.retry ?? {},
    metadataMaxAgeMs: positive('metadataMaxAgeMs', options.metadataMaxAgeMs, 300_000),
    connect: options.connect,
  }
}
