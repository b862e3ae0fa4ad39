// SCRAM (RFC 5802; SHA-256 and SHA-512 per RFC 7677 and Kafka's KIP-84), client side:
//   client-first  n,,n=<user>,r=<client nonce>
//   server-first  r=<client nonce + server nonce>,s=<salt>,i=<iterations>
//   client-final  c=biws,r=<nonce>,p=<proof>       (biws = base64 of "n,,": no channel binding)
//   server-final  v=<server signature> | e=<error>
// Like the Java client, names and passwords are UTF-8 without SASLprep (Kafka's broker does the same).

import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'
import { AuthenticationError } from '../../protocol/errors.ts'
import type { SaslMechanism } from './mechanism.ts'

const pbkdf2Async = promisify(pbkdf2)

export type ScramHash = 'sha1' | 'sha256' | 'sha512'

/** Below this the Java client refuses the exchange: a server asking for fewer is weak or forged. */
export const MIN_ITERATIONS = 4096

/** 24 random bytes in base64: printable and free of ',' as the nonce grammar requires. */
const randomNonce = () => randomBytes(24).toString('base64')

/** `nonce` is injectable so that tests can replay the RFC example exchanges. */
export function scramMechanism(
  hash: ScramHash,
  username: string,
  password: string,
  nonce: () => string = randomNonce,
): SaslMechanism {
  const name = `SCRAM-SHA-${hash.slice(3)}`
  const fail = (reason: string) => new AuthenticationError(`${name} authentication failed: ${reason}`)
  const hmac = (key: Buffer, data: string) => createHmac(hash, key).update(data, 'utf8').digest()
  // saslname: ',' and '=' are escaped as =2C and =3D (RFC 5802 §5.1)
  const saslName = username.replace(/=/g, '=3D').replace(/,/g, '=2C')
  const parse = (message: string) => {
    const map = attributes(message, fail)
    const error = map.get('e')
    if (error !== undefined) throw fail(`server error "${error}"`)
    return map
  }

  return {
    name,
    async authenticate(send) {
      const clientNonce = nonce()
      const clientFirstBare = `n=${saslName},r=${clientNonce}`
      const serverFirst = (await send(Buffer.from(`n,,${clientFirstBare}`, 'utf8'))).toString('utf8')

      const first = parse(serverFirst)
      const serverNonce = first.get('r')
      const salt = first.get('s')
      const i = first.get('i')
      if (serverNonce === undefined || salt === undefined || i === undefined)
        throw fail('server-first-message lacks r, s or i')
      if (!serverNonce.startsWith(clientNonce)) throw fail('server nonce does not extend the client nonce')
      if (!/^[1-9][0-9]{0,9}$/.test(i)) throw fail('iteration count is not a positive integer')
      const iterations = Number(i)
      if (iterations < MIN_ITERATIONS) throw fail(`iteration count ${i} is below the minimum ${MIN_ITERATIONS}`)
      const saltBytes = Buffer.from(salt, 'base64')
      if (saltBytes.length === 0 || saltBytes.toString('base64') !== salt) throw fail('salt is not base64')

      const keyLength = createHash(hash).digest().length
      const saltedPassword = await pbkdf2Async(Buffer.from(password, 'utf8'), saltBytes, iterations, keyLength, hash)
      const clientKey = hmac(saltedPassword, 'Client Key')
      const storedKey = createHash(hash).update(clientKey).digest()
      const clientFinalWithoutProof = `c=biws,r=${serverNonce}`
      const authMessage = `${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`
      const clientSignature = hmac(storedKey, authMessage)
      const proof = Buffer.alloc(keyLength)
      for (let i = 0; i < keyLength; i++) proof[i] = clientKey[i] ^ clientSignature[i]

      const serverFinal = (
        await send(Buffer.from(`${clientFinalWithoutProof},p=${proof.toString('base64')}`, 'utf8'))
      ).toString('utf8')
      const final = parse(serverFinal)
      const verifier = Buffer.from(final.get('v') ?? '', 'base64')
      const expected = hmac(hmac(saltedPassword, 'Server Key'), authMessage)
      // constant time: the comparison must not tell a forging server how much of its guess was right
      if (verifier.length !== expected.length || !timingSafeEqual(verifier, expected))
        throw fail('server signature does not match: the server does not know the credentials')
    },
  }
}

/** Parses `k=v,k=v`; a mandatory extension (m=) we cannot know must abort the exchange (RFC 5802 §5.1). */
function attributes(message: string, fail: (reason: string) => Error): Map<string, string> {
  const map = new Map<string, string>()
  for (const part of message.split(',')) {
    const match = /^([A-Za-z])=(.*)$/s.exec(part)
    if (!match) throw fail('malformed server message')
    if (match[1] === 'm') throw fail('server requires an unsupported mandatory extension')
    if (!map.has(match[1])) map.set(match[1], match[2])
  }
  return map
}
