// The registry's REST transport: JSON over HTTP(S) with keep-alive connections, basic or bearer
// auth, TLS with a custom CA or client certificate, one deadline per call that covers its retries,
// and retries of network errors and 5xx answers with backoff. Built on node:http(s) rather than
// fetch: Node 20's fetch takes no per-client CA or client certificate without the undici package.

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls'
import { type RetryOptions, RetryPolicy } from '../client/retry.ts'
import { AuthenticationError, ConfigError, ConnectionError, KafkaxError, TimeoutError } from '../protocol/errors.ts'
import { IncompatibleSchemaError, SchemaRegistryError } from './errors.ts'

export type RegistryAuth =
  | { username: string; password: string }
  /** A bearer token, or a function returning one (called per request, so it may refresh). */
  | { token: string | (() => string | Promise<string>) }

export interface RegistryHttpOptions {
  /** The registry's base URL, e.g. http://127.0.0.1:8081 (Apicurio: http://host:8080/apis/ccompat/v7). */
  url: string
  auth?: RegistryAuth
  /** TLS options for https URLs: `ca` for a private CA, `cert`/`key` for client certificates. */
  tls?: TlsConnectionOptions
  /** Time for one call, its retries included (default 30 s). */
  timeoutMs?: number
  /** Retries of network errors, timeouts and 5xx answers (default 3 attempts, 100 ms to 2 s apart). */
  retry?: Omit<RetryOptions, 'deadlineMs'>
  /** Extra headers sent with every request. */
  headers?: Record<string, string>
}

export interface RegistryRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** The path below the base URL, its parts already encoded. */
  path: string
  body?: unknown
  /** Named in errors. */
  subject?: string
}

/** Larger answers are refused: a registry answer is a schema or a list, never megabytes. */
const MAX_BODY_BYTES = 16 * 1024 * 1024
const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'
/** Node's codes for a server certificate that does not verify: waiting will not fix them. */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME/

interface Answer {
  status: number
  text: string
}

export class RegistryHttp {
  private readonly base: URL
  private readonly basePath: string
  private readonly agent: HttpAgent
  private readonly timeoutMs: number
  private readonly policy: RetryPolicy
  private readonly options: RegistryHttpOptions

  constructor(options: RegistryHttpOptions) {
    if (typeof options?.url !== 'string') throw new ConfigError('the schema registry needs a url')
    try {
      this.base = new URL(options.url)
    } catch (cause) {
      throw new ConfigError(`the schema registry url ${JSON.stringify(options.url)} is not a URL`, { cause })
    }
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:')
      throw new ConfigError(`the schema registry url must be http or https, got ${this.base.protocol}`)
    const auth = options.auth
    if (auth !== undefined && !('token' in auth) && !('username' in auth && typeof auth.password === 'string'))
      throw new ConfigError('auth must be { username, password } or { token }')
    this.timeoutMs = options.timeoutMs ?? 30_000
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0)
      throw new ConfigError(`timeoutMs must be a number of ms > 0, got ${options.timeoutMs}`)
    this.policy = new RetryPolicy({ maxAttempts: 3, maxDelayMs: 2_000, ...options.retry, deadlineMs: this.timeoutMs })
    this.basePath = this.base.pathname.replace(/\/+$/, '')
    this.agent =
      this.base.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, ...options.tls })
        : new HttpAgent({ keepAlive: true })
    this.options = options
  }

  /** The answer's JSON body (undefined when empty); a refusal throws a SchemaRegistryError. */
  async request<T>(req: RegistryRequest): Promise<T> {
    const deadline = Date.now() + this.timeoutMs
    const answer = await this.policy.run(async () => {
      const a = await this.attempt(req, deadline)
      if (a.status >= 200 && a.status < 300) return a
      throw this.refusal(req, a)
    })
    if (answer.text === '') return undefined as T
    try {
      return JSON.parse(answer.text) as T
    } catch (cause) {
      throw new SchemaRegistryError(
        `the answer is not JSON: ${answer.text.slice(0, 200)}`,
        { status: answer.status, errorCode: answer.status, subject: req.subject, request: `${req.method} ${req.path}` },
        { cause },
      )
    }
  }

  /** Closes the idle keep-alive connections. */
  close(): void {
    this.agent.destroy()
  }

  private async headers(body: string | undefined): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept: `${CONTENT_TYPE}, application/json`, ...this.options.headers }
    if (body !== undefined) {
      headers['content-type'] = CONTENT_TYPE
      headers['content-length'] = String(Buffer.byteLength(body))
    }
    const auth = this.options.auth
    if (auth && 'token' in auth) {
      const token = typeof auth.token === 'function' ? await auth.token() : auth.token
      headers.authorization = `Bearer ${token}`
    } else if (auth) {
      headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
    }
    return headers
  }

  private async attempt(req: RegistryRequest, deadline: number): Promise<Answer> {
    const body = req.body === undefined ? undefined : JSON.stringify(req.body)
    const headers = await this.headers(body)
    const where = `${req.method} ${this.base.origin}${this.basePath}${req.path}`
    const send = this.base.protocol === 'https:' ? httpsRequest : httpRequest
    return new Promise<Answer>((resolve, reject) => {
      const r = send(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port,
          path: `${this.basePath}${req.path}`,
          method: req.method,
          headers,
          agent: this.agent,
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (chunk: Buffer) => {
            size += chunk.length
            if (size > MAX_BODY_BYTES)
              r.destroy(new SchemaRegistryError(`answer larger than ${MAX_BODY_BYTES} bytes`, details(req, res)))
            else chunks.push(chunk)
          })
          res.on('end', () => {
            clearTimeout(timer)
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') })
          })
          res.on('error', fail)
        },
      )
      const timer = setTimeout(
        () => r.destroy(new TimeoutError(`schema registry: no answer to ${where} within ${this.timeoutMs} ms`)),
        Math.max(0, deadline - Date.now()),
      )
      function fail(error: Error & { code?: string }) {
        clearTimeout(timer)
        if (error instanceof KafkaxError) reject(error)
        else if (TLS_CODES.test(error.code ?? ''))
          reject(new AuthenticationError(`schema registry: TLS to ${where} failed: ${error.message}`, { cause: error }))
        else reject(new ConnectionError(`schema registry: ${where} failed: ${error.message}`, { cause: error }))
      }
      r.on('error', fail)
      r.end(body)
    })
  }

  private refusal(req: RegistryRequest, answer: Answer): SchemaRegistryError {
    let body: { error_code?: unknown; message?: unknown } = {}
    try {
      body = JSON.parse(answer.text) ?? {}
    } catch {}
    const code = typeof body.error_code === 'number' && body.error_code > 0 ? body.error_code : answer.status
    const text = typeof body.message === 'string' ? body.message : answer.text.slice(0, 200) || `HTTP ${answer.status}`
    const info = { status: answer.status, errorCode: code, subject: req.subject, request: `${req.method} ${req.path}` }
    return code === 409 ? new IncompatibleSchemaError(text, info) : new SchemaRegistryError(text, info)
  }
}

function details(req: RegistryRequest, res: IncomingMessage) {
  const status = res.statusCode ?? 0
  return { status, errorCode: status, subject: req.subject, request: `${req.method} ${req.path}` }
}
