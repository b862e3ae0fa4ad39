// Options every client (Admin, Producer, Consumer) shares: their description (CLIENT_OPTIONS: type,
// bounds, default of each), and the form the cluster takes them in. A ConfigError names the option,
// the value and what is allowed, and never echoes a credential.

import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls'
import { type FieldsOf, type Format, group, type Resolved } from '../options/schema.ts'
import { resolveOptions } from '../options/validate.ts'
import { ConfigError } from '../protocol/errors.ts'
import type { Connector } from './connector.ts'
import type { NetworkEventListener } from './network-events.ts'
import { RETRY_OPTIONS, type RetryOptions } from './retry.ts'
import { type SaslMechanism, type SaslOptions, saslMechanism } from './sasl/index.ts'

/**
 * Options every client (Producer, Consumer, Admin) takes: where the brokers are and how to reach
 * them. Defaults and bounds: CLIENT_OPTIONS, listed in docs/configuration.md.
 */
export interface ClientOptions {
  /** Bootstrap brokers: `['host:port', ...]` or one comma-separated string. */
  brokers: string[] | string
  /** Sent with every request. */
  clientId?: string
  /** `true` for TLS with the system CAs, or Node's TLS options (ca, cert, key, servername, rejectUnauthorized...). */
  tls?: boolean | TlsConnectionOptions
  sasl?: SaslOptions
  /** Per connection attempt: socket, TLS, versions and SASL. */
  connectTimeoutMs?: number
  /** Per request. */
  requestTimeoutMs?: number
  /** Unanswered requests per connection. */
  maxInFlight?: number
  /** Idle connections close after this (as connections.max.idle.ms). */
  idleTimeoutMs?: number
  /** Retries of retriable errors; `deadlineMs` bounds a whole operation. */
  retry?: RetryOptions
  /** Metadata is refreshed at least this often (as metadata.max.age.ms). */
  metadataMaxAgeMs?: number
  /** Opens each connection's byte stream (default: TCP, or TLS with `tls`): a proxy, a fault injector, an in-process broker. */
  connect?: Connector
  /** Called with this client's network events: requests answered or timed out, requests waiting for a slot. */
  onNetworkEvent?: NetworkEventListener
}

export interface BrokerAddress {
  host: string
  port: number
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

const BROKER: Format = {
  name: 'host:port',
  plural: 'host:port',
  test(text) {
    try {
      parseBroker(text)
      return true
    } catch {
      return false
    }
  },
}

type TlsFields = 'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized'

/**
 * The other Node TLS options code may pass in `tls`, unchecked (Node checks them when it connects).
 * Not host, port, path, socket or timeout: those belong to the connection.
 */
const NODE_TLS_OPTIONS = Object.keys({
  checkServerIdentity: true,
  session: true,
  minDHSize: true,
  lookup: true,
  pskCallback: true,
  ALPNCallback: true,
  allowPartialTrustChain: true,
  sigalgs: true,
  ciphers: true,
  clientCertEngine: true,
  crl: true,
  dhparam: true,
  ecdhCurve: true,
  honorCipherOrder: true,
  privateKeyEngine: true,
  privateKeyIdentifier: true,
  maxVersion: true,
  minVersion: true,
  passphrase: true,
  pfx: true,
  secureOptions: true,
  secureProtocol: true,
  sessionIdContext: true,
  ticketKeys: true,
  sessionTimeout: true,
  secureContext: true,
  enableTrace: true,
  requestCert: true,
  ALPNProtocols: true,
  SNICallback: true,
} satisfies Record<
  Exclude<keyof TlsConnectionOptions, TlsFields | 'host' | 'port' | 'path' | 'socket' | 'timeout'>,
  true
>)

const TLS = group(
  'TLS; `true` uses the system CAs. Setting any tls option turns TLS on unless `enabled` is false',
  {
    enabled: { kind: 'boolean', doc: 'TLS on or off' },
    ca: { kind: 'pem', file: true, doc: 'CA certificates (PEM) trusted for the brokers' },
    cert: { kind: 'pem', file: true, doc: 'Client certificate (PEM) for mutual TLS' },
    key: { kind: 'pem', secret: true, doc: 'Private key (PEM) of the client certificate' },
    servername: { kind: 'string', doc: 'Server name for SNI and certificate checks' },
    rejectUnauthorized: { kind: 'boolean', doc: 'Refuse brokers whose certificate does not verify' },
  } satisfies FieldsOf<Pick<TlsConnectionOptions, TlsFields> & { enabled: boolean }>,
  { shorthand: true, optional: true, passThrough: NODE_TLS_OPTIONS },
)

const SASL = group(
  'SASL authentication',
  {
    mechanism: {
      kind: 'enum',
      values: ['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer', 'custom'],
      doc: 'SASL mechanism (oauthbearer and custom need `oauthBearerProvider` / `custom` from code)',
    },
    username: { kind: 'string', doc: 'User name (plain, scram)' },
    password: { kind: 'string', secret: true, doc: 'Password (plain, scram)' },
    oauthBearerProvider: { kind: 'function', doc: 'Code only: async function returning `{ value, extensions? }`' },
    custom: { kind: 'object', doc: 'Code only: a SaslMechanism `{ name, authenticate }`' },
  } satisfies FieldsOf<SaslOptions>,
  { required: ['mechanism'], optional: true },
)

/** The options every client takes (the `common` section of a configuration file). */
export const CLIENT_FIELDS = {
  brokers: { kind: 'list', format: BROKER, doc: 'Bootstrap brokers, host:port' },
  clientId: { kind: 'string', default: 'kafkax', doc: 'Client id sent with every request' },
  tls: TLS,
  sasl: SASL,
  connectTimeoutMs: {
    kind: 'duration',
    min: 1,
    default: 10_000,
    doc: 'Per connection attempt: socket, TLS, versions and SASL',
  },
  requestTimeoutMs: { kind: 'duration', min: 1, default: 30_000, doc: 'Per request' },
  maxInFlight: { kind: 'integer', min: 1, default: 5, doc: 'Unanswered requests per connection' },
  idleTimeoutMs: { kind: 'duration', min: 1, default: 540_000, doc: 'Idle connections close after this' },
  retry: RETRY_OPTIONS,
  metadataMaxAgeMs: { kind: 'duration', min: 1, default: 300_000, doc: 'Metadata is refreshed at least this often' },
  connect: { kind: 'function', doc: "Code only: opens each connection's byte stream (a proxy, an in-process broker)" },
  onNetworkEvent: {
    kind: 'function',
    doc: "Code only: called with this client's network events (requests answered, timed out, queued)",
  },
} satisfies FieldsOf<ClientOptions>

export type ClientFields = typeof CLIENT_FIELDS

export const CLIENT_OPTIONS = group('Options of every client', CLIENT_FIELDS, { required: ['brokers'] })

/** The client's options as the cluster takes them: defaults applied, brokers parsed, the SASL mechanism built. */
export interface ResolvedClientOptions {
  brokers: BrokerAddress[]
  clientId: string
  tls: true | TlsConnectionOptions | undefined
  sasl: SaslMechanism | undefined
  connectTimeoutMs: number
  requestTimeoutMs: number
  maxInFlight: number
  idleTimeoutMs: number
  retry: Required<RetryOptions>
  metadataMaxAgeMs: number
  connect: Connector | undefined
  onNetworkEvent: NetworkEventListener | undefined
}

/** Options checked and completed against CLIENT_FIELDS (by a client's own schema) in the cluster's form. */
export function clusterOptions(o: Resolved<ClientOptions, ClientFields>): ResolvedClientOptions {
  return {
    brokers: (o.brokers as string[]).map(parseBroker),
    clientId: o.clientId,
    tls: (o.tls || undefined) as true | TlsConnectionOptions | undefined,
    sasl: o.sasl ? saslMechanism(o.sasl as SaslOptions) : undefined,
    connectTimeoutMs: o.connectTimeoutMs,
    requestTimeoutMs: o.requestTimeoutMs,
    maxInFlight: o.maxInFlight,
    idleTimeoutMs: o.idleTimeoutMs,
    retry: o.retry as Required<RetryOptions>,
    metadataMaxAgeMs: o.metadataMaxAgeMs,
    connect: o.connect,
    onNetworkEvent: o.onNetworkEvent,
  }
}

/** Checks a client's options (a ConfigError before any network work) and resolves them. */
export function resolveClientOptions(options: ClientOptions, what = 'client'): ResolvedClientOptions {
  return clusterOptions(resolveOptions(CLIENT_OPTIONS, options, what))
}
