// kafkajs's configuration turned into kafkax client options: brokers (a list, or a function called
// at each connect), ssl, sasl (the built-in mechanisms and custom ones in kafkajs's shape), timeouts,
// the socket factory, and the retry settings with the time budget they imply.

import type { Duplex } from 'node:stream'
import type { ClientOptions, Connector, RetryOptions as KafkaxRetryOptions, SaslOptions } from '../index.ts'
import { KafkaJSNonRetriableError, type RetrySpent } from './errors.ts'
import type { Logger } from './logger.ts'
import type { KafkaConfig, Mechanism, RetryOptions } from './types.ts'

/** kafkajs's retry defaults (src/retry/defaults.js of kafkajs 2.2). */
const RETRY_DEFAULTS = { maxRetryTime: 30_000, initialRetryTime: 300, factor: 0.2, multiplier: 2, retries: 5 }

/** The bootstrap brokers: the list, or what the function returns now. */
export async function resolveBrokers(brokers: KafkaConfig['brokers']): Promise<string[]> {
  const list = typeof brokers === 'function' ? await brokers() : brokers
  if (!Array.isArray(list) || list.length === 0 || list.some((b) => typeof b !== 'string')) {
    throw new KafkaJSNonRetriableError(
      `Failed to connect: "brokers" must be a non-empty list of host:port strings, got ${JSON.stringify(list)}`,
    )
  }
  return list
}

/** Checks the configuration when `new Kafka()` is called, as kafkajs does. */
export function checkConfig(config: KafkaConfig): void {
  if (config === null || typeof config !== 'object')
    throw new KafkaJSNonRetriableError('new Kafka(config): config must be an object')
  const { brokers } = config
  if (typeof brokers !== 'function' && (!Array.isArray(brokers) || brokers.length === 0)) {
    throw new KafkaJSNonRetriableError('Failed to connect: expected brokers array and got nothing')
  }
}

/** The retry policy of a client: kafkajs's settings as kafkax's, and what a translated error reports. */
export function retryPolicy(
  retry: RetryOptions | undefined,
  requestTimeoutMs: number,
): { options: KafkaxRetryOptions; spent: RetrySpent } {
  const r = { ...RETRY_DEFAULTS, ...retry }
  const retries = Math.min(Math.max(0, Math.floor(r.retries)), Number.MAX_SAFE_INTEGER - 1)
  // kafkajs bounds each delay but not the whole: the deadline is every delay at its longest plus
  // every attempt at the request timeout, so the retries, not the deadline, end an operation
  let delays = 0
  let delay = r.initialRetryTime
  for (let i = 0; i < Math.min(retries, 64); i++) {
    delays += Math.min(delay, r.maxRetryTime)
    delay *= r.multiplier
  }
  delays += Math.max(0, retries - 64) * r.maxRetryTime
  const deadlineMs = delays * (1 + r.factor) + (retries + 1) * requestTimeoutMs
  return {
    options: {
      maxAttempts: retries + 1,
      initialDelayMs: r.initialRetryTime,
      maxDelayMs: r.maxRetryTime,
      multiplier: Math.max(1, r.multiplier),
      jitter: Math.min(1, Math.max(0, r.factor)),
      deadlineMs,
    },
    spent: { retryCount: retries, retryTime: Math.round(delays) },
  }
}

/** A kafkajs custom mechanism as a kafkax one; the broker's address comes from the connection. */
function customMechanism(m: Mechanism, logger: Logger): SaslOptions {
  return {
    mechanism: 'custom',
    custom: {
      name: m.mechanism.toUpperCase(),
      async authenticate(send, broker) {
        const saslAuthenticate = async <T>(args: {
          request: { encode: () => Buffer | Promise<Buffer> }
          response?: { decode: (raw: Buffer) => Buffer | Promise<Buffer>; parse: (data: Buffer) => T }
        }): Promise<T | undefined> => {
          const answer = await send(await args.request.encode())
          if (!args.response) return undefined
          return args.response.parse(await args.response.decode(answer))
        }
        const { host = '', port = 0 } = broker ?? {}
        await m.authenticationProvider({ host, port, logger, saslAuthenticate }).authenticate()
      },
    },
  }
}

function saslOptions(sasl: KafkaConfig['sasl'], logger: Logger): SaslOptions | undefined {
  if (!sasl) return undefined
  if ('authenticationProvider' in sasl && typeof sasl.authenticationProvider === 'function')
    return customMechanism(sasl, logger)
  if (String(sasl.mechanism).toLowerCase() === 'aws') {
    throw new KafkaJSNonRetriableError(
      'SASL mechanism aws is not offered by kafkax/kafkajs: use a custom mechanism (see docs/kafkajs.md)',
    )
  }
  return sasl as SaslOptions
}

/** kafkajs's socketFactory as a kafkax connector: resolves at `onConnect`, fails with the socket's error or the abort. */
function socketFactoryConnector(factory: NonNullable<KafkaConfig['socketFactory']>): Connector {
  return ({ host, port, tls, signal }) =>
    new Promise<Duplex>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason)
      const ssl = tls === true ? {} : tls || {}
      let socket: Duplex | undefined
      const fail = (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        socket?.destroy()
        reject(error)
      }
      const onAbort = () => fail(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      socket = factory({
        host,
        port,
        ssl,
        onConnect: () => {
          signal.removeEventListener('abort', onAbort)
          socket?.off('error', fail)
          resolve(socket!)
        },
      })
      socket.once('error', fail)
    })
}

/** The kafkax client options of a kafkajs client made by `kafka`, for `brokers`. */
export function clientOptions(
  config: KafkaConfig,
  brokers: string[],
  logger: Logger,
  extra: { retry: KafkaxRetryOptions; maxInFlightRequests?: number | null; metadataMaxAge?: number },
): ClientOptions {
  const connectionTimeout = config.connectionTimeout ?? 1000
  return {
    brokers,
    clientId: config.clientId ?? 'kafkajs',
    tls: config.ssl || undefined,
    sasl: saslOptions(config.sasl, logger),
    // kafkax's connect timeout covers TCP, TLS, ApiVersions and SASL: kafkajs's connect and authentication timeouts
    connectTimeoutMs: connectionTimeout + (config.sasl ? (config.authenticationTimeout ?? 10_000) : 0),
    requestTimeoutMs: config.requestTimeout ?? 30_000,
    maxInFlight: extra.maxInFlightRequests || undefined,
    metadataMaxAgeMs: extra.metadataMaxAge,
    retry: extra.retry,
    connect: config.socketFactory ? socketFactoryConnector(config.socketFactory) : undefined,
  }
}

/** What a Kafka instance gives the clients it makes: its configuration and its root logger. */
export interface KafkaContext {
  config: KafkaConfig
  logger: Logger
}
