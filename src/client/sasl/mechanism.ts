// SASL as the connection sees it: a mechanism runs its exchange over SaslAuthenticate round trips
// that the connection performs. The mechanisms hold credentials in closures, never in properties, so
// that logging, inspecting or serialising a mechanism cannot reveal them.

import { ConfigError } from '../../protocol/errors.ts'
import { oauthBearerMechanism } from './oauthbearer.ts'
import { plainMechanism } from './plain.ts'
import { scramMechanism } from './scram.ts'

/** A SASL mechanism: its name for SaslHandshake and the exchange of SaslAuthenticate messages. */
export interface SaslMechanism {
  /** As sent in SaslHandshake: 'PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER', ... */
  readonly name: string
  /** Runs the exchange. `send` does one SaslAuthenticate round trip: it sends the client bytes and
   *  resolves with the server's bytes (it rejects with AuthenticationError when the broker answers
   *  an error code). Throws AuthenticationError when the server's answer is wrong (e.g. a bad SCRAM
   *  server signature). */
  authenticate(send: (clientBytes: Buffer) => Promise<Buffer>): Promise<void>
}

/** What an OAUTHBEARER token provider returns. */
export interface OAuthBearerToken {
  /** The bearer token, e.g. a JWT. */
  value: string
  /** SASL extensions (KIP-342) sent beside the token. */
  extensions?: Record<string, string>
}

/** `mechanism` is case-insensitive (options may come from YAML or the environment). */
export type SaslOptions =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  | {
      mechanism: 'oauthbearer'
      /** Called for a token at every authentication and re-authentication. */
      oauthBearerProvider: () => Promise<OAuthBearerToken>
    }
  | { mechanism: 'custom'; custom: SaslMechanism }

/** Validates the options once and returns the mechanism; throws ConfigError. */
export function saslMechanism(options: SaslOptions): SaslMechanism {
  if (typeof options !== 'object' || options === null) throw new ConfigError('sasl options must be an object')
  const raw: unknown = options.mechanism
  const mechanism = typeof raw === 'string' ? raw.toLowerCase() : raw
  switch (mechanism) {
    case 'plain':
    case 'scram-sha-256':
    case 'scram-sha-512': {
      const { username, password } = options as { username: unknown; password: unknown }
      if (typeof username !== 'string' || username === '')
        throw new ConfigError(`sasl.username must be a non-empty string for ${mechanism}`)
      if (typeof password !== 'string' || password === '')
        throw new ConfigError(`sasl.password must be a non-empty string for ${mechanism}`)
      if (mechanism === 'plain') return plainMechanism(username, password)
      return scramMechanism(mechanism === 'scram-sha-256' ? 'sha256' : 'sha512', username, password)
    }
    case 'oauthbearer': {
      const { oauthBearerProvider } = options as { oauthBearerProvider: unknown }
      if (typeof oauthBearerProvider !== 'function')
        throw new ConfigError('sasl.oauthBearerProvider must be a function returning a token')
      return oauthBearerMechanism(oauthBearerProvider as () => Promise<OAuthBearerToken>)
    }
    case 'custom': {
      const { custom } = options as { custom: Partial<SaslMechanism> | undefined }
      if (typeof custom?.name !== 'string' || custom.name === '' || typeof custom.authenticate !== 'function')
        throw new ConfigError('sasl.custom must have a mechanism name and an authenticate function')
      return custom as SaslMechanism
    }
    default:
      throw new ConfigError(
        `sasl.mechanism ${JSON.stringify(raw)} is not one of plain, scram-sha-256, scram-sha-512, oauthbearer, custom`,
      )
  }
}
