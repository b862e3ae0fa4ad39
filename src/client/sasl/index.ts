// The SASL mechanism a client's options ask for, built once: the mechanisms hold their credentials
// in closures, so only this module sees them in the clear.

import { ConfigError } from '../../protocol/errors.ts'
import type { OAuthBearerToken, SaslMechanism, SaslOptions } from './mechanism.ts'
import { oauthBearerMechanism } from './oauthbearer.ts'
import { plainMechanism } from './plain.ts'
import { scramMechanism } from './scram.ts'

export type { OAuthBearerToken, SaslMechanism, SaslOptions } from './mechanism.ts'

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
