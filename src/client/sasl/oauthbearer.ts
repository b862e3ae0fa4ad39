// SASL OAUTHBEARER (RFC 7628) as Kafka speaks it (KIP-255, extensions KIP-342). The client sends
//   n,,\x01auth=Bearer <token>\x01[key=value\x01...]\x01
// and the server answers nothing on success. On failure it answers a JSON error document and waits
// for the client's \x01 before it fails the exchange with an error code.

import { AuthenticationError, ConfigError } from '../../protocol/errors.ts'
import type { OAuthBearerToken, SaslMechanism } from './mechanism.ts'

// RFC 6750 b64token; RFC 7628 key and value grammar (Kafka's OAuthBearerClientInitialResponse too)
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
const EXTENSION_KEY = /^[A-Za-z]+$/
const EXTENSION_VALUE = /^[\x21-\x7E \t\r\n]+$/

export function oauthBearerMechanism(provider: () => Promise<OAuthBearerToken>): SaslMechanism {
  const fail = (reason: string, cause?: unknown) =>
    new AuthenticationError(`OAUTHBEARER authentication failed: ${reason}`, { cause })
  return {
    name: 'OAUTHBEARER',
    async authenticate(send) {
      // asked on every authentication, so that re-authentication (KIP-368) picks up a refreshed token
      let token: OAuthBearerToken
      try {
        token = await provider()
      } catch (err) {
        throw fail('oauthBearerProvider failed', err)
      }
      // the messages name the problem, never the token
      if (typeof token?.value !== 'string' || !TOKEN.test(token.value))
        throw fail('oauthBearerProvider returned a value that is not a bearer token')
      let message = `n,,\x01auth=Bearer ${token.value}\x01`
      for (const [key, value] of Object.entries(token.extensions ?? {})) {
        if (!EXTENSION_KEY.test(key) || key === 'auth') throw fail(`invalid SASL extension name "${key}"`)
        if (typeof value !== 'string' || !EXTENSION_VALUE.test(value))
          throw fail(`invalid value for SASL extension "${key}"`)
        message += `${key}=${value}\x01`
      }
      const answer = await send(Buffer.from(`${message}\x01`, 'utf8'))
      if (answer.length === 0) return
      // RFC 7628 §3.2.2: acknowledge the error with a lone \x01; Kafka then fails the exchange
      const document = answer.toString('utf8')
      let cause: unknown
      try {
        await send(Buffer.from([1]))
      } catch (err) {
        cause = err
      }
      throw fail(`server answered ${document}`, cause)
    },
  }
}

/**
 * An unsecured JWS (`alg: none`, no signature) that Kafka's default, unsecured OAUTHBEARER validator
 * (OAuthBearerUnsecuredValidatorCallbackHandler) accepts. For tests and local development only: anyone
 * can mint one for any `sub`, so no production broker accepts it.
 */
export function unsecuredJwt(claims: { sub: string; lifetimeMs: number; scope?: string[] }): string {
  const { sub, lifetimeMs, scope } = claims
  if (typeof sub !== 'string' || sub === '') throw new ConfigError('unsecuredJwt: sub must be a non-empty string')
  if (!Number.isFinite(lifetimeMs) || lifetimeMs <= 0)
    throw new ConfigError('unsecuredJwt: lifetimeMs must be a positive number')
  const now = Date.now()
  // NumericDate claims are seconds since the epoch
  const payload = { sub, iat: Math.floor(now / 1000), exp: Math.floor((now + lifetimeMs) / 1000), scope }
  const part = (value: object) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')
  return `${part({ alg: 'none' })}.${part(payload)}.`
}
