// SASL mechanisms against scripted servers: the RFC example exchanges byte for byte, every way a
// server answer can be wrong, and the promise that credentials never show up in errors or objects.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { inspect } from 'node:util'
import { type SaslMechanism, saslMechanism } from '../../../src/client/sasl/index.ts'
import { oauthBearerMechanism, unsecuredJwt } from '../../../src/client/sasl/oauthbearer.ts'
import { plainMechanism } from '../../../src/client/sasl/plain.ts'
import { type ScramHash, scramMechanism } from '../../../src/client/sasl/scram.ts'
import { AuthenticationError, ConfigError } from '../../../src/protocol/errors.ts'

/** A server that answers each client message with the next scripted answer (an Error rejects). */
function scripted(answers: (string | Error)[]) {
  const sent: string[] = []
  const send = async (bytes: Buffer) => {
    sent.push(bytes.toString('utf8'))
    const answer = answers.shift()
    if (answer === undefined) throw new Error('client sent more messages than scripted')
    if (answer instanceof Error) throw answer
    return Buffer.from(answer, 'utf8')
  }
  return { sent, send }
}

async function rejectsWithout(promise: Promise<unknown>, secret: string, pattern: RegExp) {
  await assert.rejects(promise, (err: Error) => {
    assert.ok(err instanceof AuthenticationError, `${err.name}: ${err.message}`)
    assert.match(err.message, pattern)
    assert.ok(!err.message.includes(secret) && !String(err).includes(secret), err.message)
    return true
  })
}

describe('SASL PLAIN', () => {
  it('sends NUL user NUL password with an empty authzid', async () => {
    const server = scripted([''])
    await saslMechanism({ mechanism: 'plain', username: 'alice', password: 'alice-secret' }).authenticate(server.send)
    assert.deepEqual(server.sent, ['\0alice\0alice-secret'])
  })

  it('refuses a NUL inside the credentials without echoing them', () => {
    assert.throws(
      () => plainMechanism('al\0ice', 'hunter2'),
      (err: Error) => err instanceof ConfigError && !err.message.includes('hunter2'),
    )
  })

  it('passes the broker refusal through', async () => {
    const refused = new AuthenticationError('Authentication failed: Invalid username or password')
    await assert.rejects(plainMechanism('alice', 'wrong').authenticate(scripted([refused]).send), refused)
  })
})

// RFC 7677 §3 (SCRAM-SHA-256) and RFC 5802 §5 (SCRAM-SHA-1): user "user", password "pencil"
const RFC_EXCHANGES: { hash: ScramHash; nonce: string; messages: string[] }[] = [
  {
    hash: 'sha256',
    nonce: 'rOprNGfwEbeRWgbNEkqO',
    messages: [
      'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
      'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
    ],
  },
  {
    hash: 'sha1',
    nonce: 'fyko+d2lbbFgONRv9qkxdawL',
    messages: [
      'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL',
      'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
      'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
      'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
    ],
  },
]

describe('SASL SCRAM', () => {
  for (const { hash, nonce, messages } of RFC_EXCHANGES) {
    it(`replays the RFC ${hash === 'sha1' ? '5802' : '7677'} example exchange (${hash})`, async () => {
      const [clientFirst, serverFirst, clientFinal, serverFinal] = messages
      const server = scripted([serverFirst, serverFinal])
      const mechanism = scramMechanism(hash, 'user', 'pencil', () => nonce)
      assert.equal(mechanism.name, hash === 'sha1' ? 'SCRAM-SHA-1' : 'SCRAM-SHA-256')
      await mechanism.authenticate(server.send)
      assert.deepEqual(server.sent, [clientFirst, clientFinal])
    })
  }

  const [clientFirst, serverFirst, , serverFinal] = RFC_EXCHANGES[0].messages
  const rfc = () => scramMechanism('sha256', 'user', 'pencil', () => 'rOprNGfwEbeRWgbNEkqO')

  it('escapes , and = in the user name', async () => {
    const server = scripted([new AuthenticationError('stop here')])
    await assert.rejects(scramMechanism('sha256', 'a,b=c', 'pencil', () => 'N').authenticate(server.send))
    assert.deepEqual(server.sent, ['n,,n=a=2Cb=3Dc,r=N'])
  })

  it('uses a fresh random nonce for every exchange', async () => {
    const mechanism = saslMechanism({ mechanism: 'scram-sha-512', username: 'u', password: 'p' })
    const nonces = new Set<string>()
    for (let i = 0; i < 3; i++) {
      const server = scripted([new AuthenticationError('stop here')])
      await assert.rejects(mechanism.authenticate(server.send))
      const match = /^n,,n=u,r=([^,]+)$/.exec(server.sent[0])
      assert.ok(match && match[1].length >= 24, server.sent[0])
      nonces.add(match[1])
    }
    assert.equal(nonces.size, 3)
  })

  const failures: [string, string[], RegExp][] = [
    [
      'a wrong server signature',
      [serverFirst, 'v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
      /server signature does not match/,
    ],
    ['a truncated server signature', [serverFirst, 'v=6rriTRBi23WpRR/w'], /server signature does not match/],
    ['a server-final without v=', [serverFirst, 'x=1'], /server signature does not match/],
    [
      'a server nonce that does not extend ours',
      ['r=XOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'],
      /nonce/,
    ],
    [
      'fewer than 4096 iterations',
      ['r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095'],
      /iteration count 4095 is below the minimum 4096/,
    ],
    [
      'a non-numeric iteration count',
      ['r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=lots'],
      /not a positive integer/,
    ],
    ['a salt that is not base64', ['r=rOprNGfwEbeRWgbNEkqO%hvYD,s=not base64!,i=4096'], /salt/],
    ['a server-first without a salt', ['r=rOprNGfwEbeRWgbNEkqO%hvYD,i=4096'], /lacks r, s or i/],
    [
      'an unknown mandatory extension',
      ['m=ext,r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'],
      /mandatory extension/,
    ],
    ['a malformed server-first', ['garbage'], /malformed/],
    ['an e= error in server-final', [serverFirst, 'e=invalid-proof'], /server error "invalid-proof"/],
    ['an e= error in server-first', ['e=unknown-user'], /server error "unknown-user"/],
  ]
  for (const [what, answers, pattern] of failures) {
    it(`fails on ${what} without naming the password`, async () => {
      await rejectsWithout(rfc().authenticate(scripted(answers).send), 'pencil', pattern)
    })
  }

  it('accepts the right signature only after sending the proof', async () => {
    const server = scripted([serverFirst, serverFinal])
    await rfc().authenticate(server.send)
    assert.equal(server.sent[0], clientFirst)
    assert.match(server.sent[1], /,p=[A-Za-z0-9+/]+=*$/)
  })

  it('passes the broker refusal of the proof through', async () => {
    const refused = new AuthenticationError('Authentication failed during authentication due to invalid credentials')
    await assert.rejects(rfc().authenticate(scripted([serverFirst, refused]).send), refused)
  })
})

describe('SASL OAUTHBEARER', () => {
  it('sends the RFC 7628 initial response with the token and its extensions', async () => {
    const server = scripted([''])
    const mechanism = saslMechanism({
      mechanism: 'oauthbearer',
      oauthBearerProvider: async () => ({
        value: 'eyJh.eyJz.',
        extensions: { traceId: 'a b', logicalCluster: 'lkc-1' },
      }),
    })
    await mechanism.authenticate(server.send)
    assert.equal(mechanism.name, 'OAUTHBEARER')
    assert.deepEqual(server.sent, ['n,,\x01auth=Bearer eyJh.eyJz.\x01traceId=a b\x01logicalCluster=lkc-1\x01\x01'])
  })

  it('asks the provider for a token on every authentication', async () => {
    let calls = 0
    const mechanism = oauthBearerMechanism(async () => ({ value: `token${++calls}` }))
    const server = scripted(['', ''])
    await mechanism.authenticate(server.send)
    await mechanism.authenticate(server.send)
    assert.deepEqual(server.sent, ['n,,\x01auth=Bearer token1\x01\x01', 'n,,\x01auth=Bearer token2\x01\x01'])
  })

  it('acknowledges a JSON error with \\x01 and fails with the status, not the token', async () => {
    const json = '{"status":"invalid_token"}'
    const refused = new AuthenticationError(`Authentication failed: ${json}`)
    const server = scripted([json, refused])
    const err = await oauthBearerMechanism(async () => ({ value: 'SECRET-TOKEN' }))
      .authenticate(server.send)
      .then(
        () => assert.fail('authenticated'),
        (e: AuthenticationError) => e,
      )
    assert.ok(err instanceof AuthenticationError)
    assert.match(err.message, /OAUTHBEARER authentication failed: server answered \{"status":"invalid_token"\}/)
    assert.equal(err.cause, refused)
    assert.ok(!err.message.includes('SECRET-TOKEN'))
    assert.deepEqual(server.sent.slice(1), ['\x01'])
  })

  it('still fails when the server accepts the \\x01 after an error document', async () => {
    const server = scripted(['{"status":"invalid_token"}', ''])
    await rejectsWithout(
      oauthBearerMechanism(async () => ({ value: 'SECRET-TOKEN' })).authenticate(server.send),
      'SECRET-TOKEN',
      /invalid_token/,
    )
  })

  const badTokens: [string, () => Promise<{ value: string; extensions?: Record<string, string> }>, RegExp][] = [
    ['a token with a space', async () => ({ value: 'SECRET TOKEN' }), /not a bearer token/],
    ['an empty token', async () => ({ value: '' }), /not a bearer token/],
    ['an extension named auth', async () => ({ value: 'SECRET-TOKEN', extensions: { auth: 'x' } }), /"auth"/],
    ['an extension name with digits', async () => ({ value: 'SECRET-TOKEN', extensions: { k1: 'x' } }), /"k1"/],
    ['an extension value with \\x01', async () => ({ value: 'SECRET-TOKEN', extensions: { k: 'a\x01' } }), /"k"/],
  ]
  for (const [what, provider, pattern] of badTokens) {
    it(`refuses ${what} before sending anything`, async () => {
      const server = scripted([])
      await rejectsWithout(oauthBearerMechanism(provider).authenticate(server.send), 'SECRET', pattern)
      assert.deepEqual(server.sent, [])
    })
  }

  it('wraps a failing provider', async () => {
    const boom = new Error('token endpoint down')
    await assert.rejects(
      oauthBearerMechanism(() => Promise.reject(boom)).authenticate(scripted([]).send),
      (err: Error) =>
        err instanceof AuthenticationError && err.cause === boom && /oauthBearerProvider failed/.test(err.message),
    )
  })

  const decoded = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))

  it('mints unsecured JWS that Kafka decodes: alg none, sub, iat, exp in seconds, scope, empty signature', () => {
    const before = Math.floor(Date.now() / 1000)
    const token = unsecuredJwt({ sub: 'alice', lifetimeMs: 3_600_000, scope: ['read', 'write'] })
    const after = Math.floor(Date.now() / 1000)
    const [header, payload, signature] = token.split('.')
    assert.equal(signature, '')
    assert.deepEqual(decoded(header), { alg: 'none' })
    const claims = decoded(payload)
    assert.equal(claims.sub, 'alice')
    assert.deepEqual(claims.scope, ['read', 'write'])
    assert.ok(claims.iat >= before && claims.iat <= after, String(claims.iat))
    assert.ok(claims.exp - claims.iat >= 3599 && claims.exp - claims.iat <= 3600)
    assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.$/)
    assert.ok(!('scope' in decoded(unsecuredJwt({ sub: 'a', lifetimeMs: 1 }).split('.')[1])))
  })

  it('refuses unusable unsecured JWS claims', () => {
    assert.throws(() => unsecuredJwt({ sub: '', lifetimeMs: 1000 }), ConfigError)
    assert.throws(() => unsecuredJwt({ sub: 'a', lifetimeMs: 0 }), ConfigError)
    assert.throws(() => unsecuredJwt({ sub: 'a', lifetimeMs: Number.NaN }), ConfigError)
  })
})

describe('saslMechanism options', () => {
  it('maps mechanisms case-insensitively to their handshake names', () => {
    const credentials = { username: 'u', password: 'p' }
    const names = ['PLAIN', 'Scram-Sha-256', 'scram-sha-512'].map(
      (mechanism) => saslMechanism({ mechanism, ...credentials } as never).name,
    )
    assert.deepEqual(names, ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'])
    const token = async () => ({ value: 't' })
    assert.equal(saslMechanism({ mechanism: 'OAUTHBEARER', oauthBearerProvider: token } as never).name, 'OAUTHBEARER')
  })

  it('returns a custom mechanism as given', () => {
    const custom: SaslMechanism = { name: 'GSSAPI', authenticate: async () => {} }
    assert.equal(saslMechanism({ mechanism: 'custom', custom }), custom)
  })

  const invalid: [string, unknown, RegExp][] = [
    ['an unknown mechanism', { mechanism: 'kerberos' }, /"kerberos" is not one of/],
    ['no mechanism', { username: 'u', password: 'hunter2' }, /sasl.mechanism undefined/],
    ['no options', null, /must be an object/],
    ['an empty user name', { mechanism: 'plain', username: '', password: 'hunter2' }, /sasl.username/],
    ['a missing password', { mechanism: 'scram-sha-256', username: 'u' }, /sasl.password/],
    ['a numeric password', { mechanism: 'scram-sha-512', username: 'u', password: 42 }, /sasl.password/],
    ['no provider', { mechanism: 'oauthbearer', oauthBearerProvider: 'hunter2' }, /oauthBearerProvider/],
    ['a custom mechanism without a name', { mechanism: 'custom', custom: { authenticate() {} } }, /sasl.custom/],
    ['a custom mechanism without authenticate', { mechanism: 'custom', custom: { name: 'X' } }, /sasl.custom/],
  ]
  for (const [what, options, pattern] of invalid) {
    it(`refuses ${what} with a ConfigError that names no secret`, () => {
      assert.throws(
        () => saslMechanism(options as never),
        (err: Error) => err instanceof ConfigError && pattern.test(err.message) && !err.message.includes('hunter2'),
      )
    })
  }

  it('keeps credentials out of every view of the mechanism objects', () => {
    const mechanisms = [
      saslMechanism({ mechanism: 'plain', username: 'u', password: 'hunter2' }),
      saslMechanism({ mechanism: 'scram-sha-256', username: 'u', password: 'hunter2' }),
      saslMechanism({ mechanism: 'scram-sha-512', username: 'u', password: 'hunter2' }),
      saslMechanism({ mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: 'hunter2' }) }),
    ]
    for (const mechanism of mechanisms) {
      for (const view of [
        String(mechanism),
        JSON.stringify(mechanism),
        inspect(mechanism, { showHidden: true, depth: null, getters: true }),
      ]) {
        assert.ok(!view.includes('hunter2'), `${mechanism.name}: ${view}`)
      }
    }
  })
})
