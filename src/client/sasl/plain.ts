// SASL PLAIN (RFC 4616): one message, authzid empty, NUL user NUL password. Only safe over TLS.

import { ConfigError } from '../../protocol/errors.ts'
import type { SaslMechanism } from './mechanism.ts'

export function plainMechanism(username: string, password: string): SaslMechanism {
  // a NUL would shift the fields: the broker would read another user or password
  if (username.includes('\0') || password.includes('\0'))
    throw new ConfigError('sasl.username and sasl.password for PLAIN must not contain NUL characters')
  return {
    name: 'PLAIN',
    async authenticate(send) {
      await send(Buffer.from(`\0${username}\0${password}`, 'utf8'))
    },
  }
}
