// SASL on the broker side of a connection (KIP-43 SaslHandshake v1 then SaslAuthenticate round trips,
// KIP-152; re-authentication, KIP-368). Mechanisms:
//   PLAIN (RFC 4616): one message  authzid NUL authcid NUL password
//   SCRAM-SHA-256/512 (RFC 5802, RFC 7677; Kafka's KIP-84):
//     client-first  n,,n=<user>,r=<client nonce>      server-first  r=<nonce>,s=<salt>,i=<iterations>
//     client-final  c=biws,r=<nonce>,p=<proof>         server-final  v=<server signature>
//   OAUTHBEARER (RFC 7628; KIP-255): n,,\x01auth=Bearer <token>\x01\x01, validated as Kafka's default
//     unsecured validator does (OAuthBearerUnsecuredValidatorCallbackHandler): a JWS with alg none,
//     a `sub` (the principal) and an `exp` in the future; a failure answers {"status":"invalid_token"}
//     and, after the client's \x01, SASL_AUTHENTICATION_FAILED.
// The server keeps, per user and hash, the salt, StoredKey and ServerKey (never the password), as
// Kafka's ScramCredential. Failures answer SASL_AUTHENTICATION_FAILED and close the connection.

import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto'
import { ErrorCode } from '../protocol/error-codes.ts'
import type { Clock } from './clock.ts'

/** User names and their passwords, accepted by every enabled mechanism. */
export type SaslUsers = Readonly<Record<string, string>>

export const SCRAM_ITERATIONS = 4096
export const ALL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const

const API_VERSIONS = 18
const SASL_HANDSHAKE = 17
const SASL_AUTHENTICATE = 36

type Hash = 'sha256' | 'sha512'
const hashOf = (mechanism: string): Hash | undefined =>
  mechanism === 'SCRAM-SHA-256' ? 'sha256' : mechanism === 'SCRAM-SHA-512' ? 'sha512' : undefined

export interface ScramCredential {
  salt: Buffer
  iterations: number
  storedKey: Buffer
  serverKey: Buffer
}

/** SCRAM credentials from a password (RFC 5802 §3). */
export function scramCredential(
  hash: Hash,
  password: string,
  salt = randomBytes(32),
  iterations = SCRAM_ITERATIONS,
): ScramCredential {
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, createHash(hash).digest().length, hash)
  return scramCredentialFromSalted(hash, salted, salt, iterations)
}

/** SCRAM credentials from a salted password (as AlterUserScramCredentials sends them). */
export function scramCredentialFromSalted(
  hash: Hash,
  salted: Buffer,
  salt: Buffer,
  iterations: number,
): ScramCredential {
  const clientKey = createHmac(hash, salted).update('Client Key').digest()
  return {
    salt,
    iterations,
    storedKey: createHash(hash).update(clientKey).digest(),
    serverKey: createHmac(hash, salted).update('Server Key').digest(),
  }
}

/** The cluster's users: passwords for PLAIN, SCRAM credentials per mechanism (also set by the admin API). */
export class Credentials {
  private readonly passwords = new Map<string, string>()
  private readonly scram = new Map<string, ScramCredential>()
  /** SCRAM credentials deleted through the admin API: the password no longer yields them. */
  private readonly deleted = new Set<string>()

  constructor(users: SaslUsers = {}) {
    for (const [user, password] of Object.entries(users)) this.passwords.set(user, password)
  }

  checkPassword(user: string, password: string): boolean {
    const known = this.passwords.get(user)
    if (known === undefined) return false
    const a = Buffer.from(known)
    const b = Buffer.from(password)
    return a.length === b.length && timingSafeEqual(a, b)
  }

  scramFor(mechanism: string, user: string): ScramCredential | undefined {
    const hash = hashOf(mechanism)
    if (!hash) return undefined
    const key = `${mechanism}\0${user}`
    let credential = this.scram.get(key)
    const password = this.passwords.get(user)
    if (!credential && password !== undefined && !this.deleted.has(key)) {
      credential = scramCredential(hash, password)
      this.scram.set(key, credential)
    }
    return credential
  }

  setScram(mechanism: string, user: string, credential: ScramCredential): void {
    const key = `${mechanism}\0${user}`
    this.scram.set(key, credential)
    this.deleted.delete(key)
  }

  /** Deletes a SCRAM credential; false when there was none. */
  deleteScram(mechanism: string, user: string): boolean {
    const existed = this.scramFor(mechanism, user) !== undefined
    const key = `${mechanism}\0${user}`
    this.scram.delete(key)
    this.deleted.add(key)
    return existed
  }

  /** Every SCRAM credential (DescribeUserScramCredentials), those of password users included. */
  scramUsers(): { user: string; mechanism: string; iterations: number }[] {
    for (const user of this.passwords.keys()) for (const m of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) this.scramFor(m, user)
    return [...this.scram].map(([key, c]) => {
      const [mechanism, user] = key.split('\0')
      return { user, mechanism, iterations: c.iterations }
    })
  }
}

export interface SaslStep {
  errorCode: number
  errorMessage: string | null
  authBytes: Buffer
  sessionLifetimeMs: number
}

type State = 'handshake' | 'authenticate' | 'oauth-error-sent' | 'authenticated' | 'failed'

/** The SASL state of one connection. */
export class SaslSession {
  private state: State = 'handshake'
  private mechanism = ''
  private scram:
    | { user: string; credential: ScramCredential; nonce: string; clientFirstBare: string; serverFirst: string }
    | undefined
  private expiresAt = Number.POSITIVE_INFINITY
  /** Set once a failure was answered: the connection closes after the response. */
  mustClose = false
  principal: string | undefined

  constructor(
    private readonly credentials: Credentials,
    readonly mechanisms: readonly string[],
    private readonly reauthenticationMs: number,
    private readonly clock: Clock,
  ) {}

  /** Whether a request of `apiKey` may be handled now (anything else closes the connection). */
  allows(apiKey: number): boolean {
    switch (this.state) {
      case 'handshake':
        return apiKey === API_VERSIONS || apiKey === SASL_HANDSHAKE
      case 'authenticate':
      case 'oauth-error-sent':
        return apiKey === SASL_AUTHENTICATE
      case 'authenticated':
        // an expired session may only start re-authenticating
        return apiKey === SASL_HANDSHAKE || this.clock.now() < this.expiresAt
      default:
        return false
    }
  }

  /** SaslHandshake: picks the mechanism; an unknown one answers UNSUPPORTED_SASL_MECHANISM. */
  handshake(mechanism: string): number {
    if (!this.mechanisms.includes(mechanism)) {
      this.mustClose = true
      return ErrorCode.UNSUPPORTED_SASL_MECHANISM
    }
    if (this.state === 'authenticated') {
      // KIP-368: the same mechanism again, to re-authenticate
      if (mechanism !== this.mechanism) {
        this.mustClose = true
        return ErrorCode.ILLEGAL_SASL_STATE
      }
    } else if (this.state !== 'handshake') {
      this.mustClose = true
      return ErrorCode.ILLEGAL_SASL_STATE
    }
    this.mechanism = mechanism
    this.scram = undefined
    this.state = 'authenticate'
    return ErrorCode.NONE
  }

  /** One SaslAuthenticate round trip. */
  authenticate(clientBytes: Buffer): SaslStep {
    if (this.state === 'oauth-error-sent')
      return this.fail(ErrorCode.SASL_AUTHENTICATION_FAILED, 'Authentication failed: invalid OAUTHBEARER token')
    if (this.state !== 'authenticate')
      return this.fail(ErrorCode.ILLEGAL_SASL_STATE, 'SaslAuthenticate before SaslHandshake')
    if (this.mechanism === 'PLAIN') return this.plain(clientBytes)
    if (this.mechanism === 'OAUTHBEARER') return this.oauthBearer(clientBytes)
    return this.scram ? this.scramFinal(clientBytes) : this.scramFirst(clientBytes)
  }

  private plain(bytes: Buffer): SaslStep {
    const parts = bytes.toString('utf8').split('\0')
    if (parts.length !== 3)
      return this.fail(ErrorCode.SASL_AUTHENTICATION_FAILED, 'Invalid SASL/PLAIN response: expected 3 tokens')
    const [authzid, user, password] = parts
    if (authzid !== '' && authzid !== user)
      return this.fail(
        ErrorCode.SASL_AUTHENTICATION_FAILED,
        'Authentication failed: Client requested an authorization id that is different from username',
      )
    if (!this.credentials.checkPassword(user, password))
      return this.fail(ErrorCode.SASL_AUTHENTICATION_FAILED, 'Authentication failed: Invalid username or password')
    return this.succeed(user, Buffer.alloc(0))
  }

  private scramFirst(bytes: Buffer): SaslStep {
    const message = bytes.toString('utf8')
    // gs2 header: no channel binding ("n,,"), or client supports it but we do not ("y,,"); an authzid may follow a=
    const match = /^([ny]),(a=[^,]*)?,(n=[^,]*,r=[^,]+.*)$/s.exec(message)
    if (!match) return this.fail(ErrorCode.SASL_AUTHENTICATION_FAILED, 'Invalid SCRAM client first message')
    const clientFirstBare = match[3]
    const attributes = parseAttributes(clientFirstBare)
    const user = unescapeSaslName(attributes.get('n') ?? '')
    const clientNonce = attributes.get('r') ?? ''
    const credential = this.credentials.scramFor(this.mechanism, user)
    if (!credential)
      return this.fail(
        ErrorCode.SASL_AUTHENTICATION_FAILED,
        `Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanism}`,
      )
    const nonce = clientNonce + randomBytes(18).toString('base64')
    const serverFirst = `r=${nonce},s=${credential.salt.toString('base64')},i=${credential.iterations}`
    this.scram = { user, credential, nonce, clientFirstBare, serverFirst }
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      authBytes: Buffer.from(serverFirst, 'utf8'),
      sessionLifetimeMs: 0,
    }
  }

  private scramFinal(bytes: Buffer): SaslStep {
    const { user, credential, nonce, clientFirstBare, serverFirst } = this.scram!
    const hash = hashOf(this.mechanism)!
    const message = bytes.toString('utf8')
    const proofAt = message.lastIndexOf(',p=')
    const attributes = parseAttributes(message)
    const fail = () =>
      this.fail(
        ErrorCode.SASL_AUTHENTICATION_FAILED,
        `Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanism}`,
      )
    if (proofAt < 0 || attributes.get('r') !== nonce) return fail()
    const clientFinalWithoutProof = message.slice(0, proofAt)
    const authMessage = `${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`
    const proof = Buffer.from(attributes.get('p') ?? '', 'base64')
    const signature = createHmac(hash, credential.storedKey).update(authMessage).digest()
    if (proof.length !== signature.length) return fail()
    const clientKey = Buffer.alloc(proof.length)
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i] ^ signature[i]
    if (!timingSafeEqual(createHash(hash).update(clientKey).digest(), credential.storedKey)) return fail()
    const serverSignature = createHmac(hash, credential.serverKey).update(authMessage).digest()
    return this.succeed(user, Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'))
  }

  private oauthBearer(bytes: Buffer): SaslStep {
    const principal = unsecuredTokenSubject(bytes.toString('utf8'), this.clock.now())
    if (!principal) {
      this.state = 'oauth-error-sent'
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        authBytes: Buffer.from('{"status":"invalid_token"}'),
        sessionLifetimeMs: 0,
      }
    }
    return this.succeed(principal.sub, Buffer.alloc(0), principal.expiresAt)
  }

  private succeed(user: string, authBytes: Buffer, credentialExpiresAt = Number.POSITIVE_INFINITY): SaslStep {
    this.state = 'authenticated'
    this.principal = user
    this.scram = undefined
    // KIP-368: the session lasts connections.max.reauth.ms, or less if the credential expires first
    const lifetime =
      this.reauthenticationMs > 0 ? Math.min(this.reauthenticationMs, credentialExpiresAt - this.clock.now()) : 0
    this.expiresAt = lifetime > 0 ? this.clock.now() + lifetime : Number.POSITIVE_INFINITY
    return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes, sessionLifetimeMs: lifetime }
  }

  private fail(errorCode: number, errorMessage: string): SaslStep {
    this.state = 'failed'
    this.mustClose = true
    return { errorCode, errorMessage, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0 }
  }
}

function parseAttributes(message: string): Map<string, string> {
  const map = new Map<string, string>()
  for (const part of message.split(',')) {
    const eq = part.indexOf('=')
    if (eq === 1 && !map.has(part[0])) map.set(part[0], part.slice(2))
  }
  return map
}

/** saslname: =2C is ',' and =3D is '=' (RFC 5802 §5.1). */
function unescapeSaslName(name: string): string {
  return name.replace(/=2C/g, ',').replace(/=3D/g, '=')
}

/** The subject and expiry of an unsecured OAUTHBEARER client message's token, or undefined if it is not valid. */
function unsecuredTokenSubject(message: string, now: number): { sub: string; expiresAt: number } | undefined {
  const [gs2, ...pairs] = message.split('\x01')
  if (!/^n,(a=[^,]*)?,$/.test(gs2)) return undefined
  const auth = pairs.find((p) => p.startsWith('auth='))
  const match = auth ? /^auth=Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(auth) : null
  if (!match) return undefined
  const [header, payload] = match[1].split('.')
  try {
    const h = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'))
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'))
    if (h?.alg !== 'none' || typeof claims?.sub !== 'string' || claims.sub === '' || typeof claims.exp !== 'number')
      return undefined
    const expiresAt = claims.exp * 1000
    return expiresAt > now ? { sub: claims.sub, expiresAt } : undefined
  } catch {
    return undefined
  }
}
