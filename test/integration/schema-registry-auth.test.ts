// Authentication and TLS against a real secured registry (started here: Apicurio with basic-auth
// users, bearer JWTs checked against a key of the harness, and HTTPS with the test CA's certificate).

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { AuthenticationError } from '../../src/protocol/errors.ts'
import { SchemaRegistry, SchemaRegistryError } from '../../src/schema-registry/index.ts'
import { CA_FILE } from '../helpers/kafka.ts'
import {
  REGISTRY_PORT,
  REGISTRY_USERS,
  signedToken,
  startRegistry,
  stopRegistry,
  uniqueName,
} from '../helpers/registry.ts'

/** Beside the run's registry: its ports are PORT..PORT+2. */
const PORT = REGISTRY_PORT + 10
const schema = { schema: { type: 'record', name: 'Login', fields: [{ name: 'user', type: 'string' }] } }
const unauthorized = (e: unknown) => e instanceof SchemaRegistryError && e.status === 401 && e.type === 'UNAUTHORIZED'

describe('schema registry auth and TLS (real secured registry)', () => {
  let url: string
  let httpsUrl: string
  const clients: SchemaRegistry[] = []
  const client = (options: Omit<ConstructorParameters<typeof SchemaRegistry>[0], 'url'> & { url?: string }) => {
    const c = new SchemaRegistry({ url, ...options })
    clients.push(c)
    return c
  }

  before(async () => {
    const registry = await startRegistry({ port: PORT, secured: true })
    url = registry.url
    httpsUrl = registry.httpsUrl!
  })
  after(async () => {
    for (const c of clients) c.close()
    await stopRegistry(PORT)
  })

  it('basic auth: the right password works, none or a wrong one is a 401 SchemaRegistryError', async () => {
    const alice = client({ auth: { username: 'alice', password: REGISTRY_USERS.alice } })
    const subject = uniqueName('basic-value')
    assert.ok((await alice.register(subject, schema)).id > 0)
    assert.deepEqual(await alice.getVersions(subject), [1])
    await assert.rejects(client({}).getVersions(subject), unauthorized)
    await assert.rejects(client({ auth: { username: 'alice', password: 'wrong' } }).getSubjects(), unauthorized)
  })

  it('bearer tokens: a signed JWT works, a token function is asked per request, a forged one is refused', async () => {
    const subject = uniqueName('bearer-value')
    const service = client({ auth: { token: signedToken(PORT, { sub: 'orders-service' }) } })
    assert.ok((await service.register(subject, schema)).id > 0)

    let asked = 0
    const refreshing = client({
      auth: {
        token: async () => {
          asked++
          return signedToken(PORT)
        },
      },
    })
    await refreshing.getVersions(subject)
    await refreshing.getSubjects()
    assert.equal(asked, 2)

    const token = signedToken(PORT)
    const forged = `${token.slice(0, token.lastIndexOf('.'))}.${Buffer.from('not the signature').toString('base64url')}`
    await assert.rejects(client({ auth: { token: forged } }).getSubjects(), unauthorized)
    await assert.rejects(client({ auth: { token: signedToken(PORT, {}, -60) } }).getSubjects(), unauthorized)
  })

  it('TLS with a custom CA; without it the certificate does not verify (AuthenticationError, not retried)', async () => {
    const auth = { username: 'alice', password: REGISTRY_USERS.alice }
    const tls = client({ url: httpsUrl, auth, tls: { ca: readFileSync(CA_FILE) } })
    assert.ok(Array.isArray(await tls.getSubjects()))
    const started = Date.now()
    await assert.rejects(client({ url: httpsUrl, auth }).getSubjects(), (e) => {
      assert.ok(e instanceof AuthenticationError, String(e))
      assert.match(e.message, /TLS/)
      return true
    })
    assert.ok(Date.now() - started < 2_000)
  })
})
