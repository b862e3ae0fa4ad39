// The registry client against the real registry (Apicurio's Confluent-compatible API): every call,
// the registry's errors as typed SchemaRegistryErrors, caching and coalescing of look-ups, and
// retries of 5xx answers and lost connections (through a proxy in front of the real registry).

import assert from 'node:assert/strict'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { ConnectionError, TimeoutError } from '../../src/protocol/errors.ts'
import {
  IncompatibleSchemaError,
  SchemaRegistry,
  SchemaRegistryError,
  SerializationError,
} from '../../src/schema-registry/index.ts'
import { registryUrl, uniqueName } from '../helpers/registry.ts'
import { waitFor } from '../helpers/wait.ts'

const orderV1 = {
  type: 'record',
  name: 'Order',
  namespace: 'kafkax.test',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'total', type: 'double' },
  ],
}
const orderV2 = { ...orderV1, fields: [...orderV1.fields, { name: 'currency', type: 'string', default: 'EUR' }] }
/** Not BACKWARD compatible with v1: `total` changes type. */
const orderBroken = { ...orderV1, fields: [orderV1.fields[0], { name: 'total', type: 'string' }] }

function isRegistryError(type: string, code: number, subject?: string) {
  return (error: unknown) => {
    assert.ok(error instanceof SchemaRegistryError, `expected a SchemaRegistryError, got ${error}`)
    assert.equal(error.type, type, error.message)
    assert.equal(error.code, code)
    if (subject !== undefined) {
      assert.equal(error.subject, subject)
      assert.match(error.message, new RegExp(subject))
    }
    return true
  }
}

/** An HTTP proxy in front of the real registry that counts requests and can fail the next ones. */
class RegistryProxy {
  readonly server: Server
  requests: string[] = []
  /** Answers the next N requests with 503 instead of forwarding them. */
  fail503 = 0
  /** Drops the connection of the next N requests. */
  drop = 0
  /** Delays forwarding by this many ms. */
  delayMs = 0

  constructor(target: URL) {
    this.server = createServer((req, res) => {
      this.requests.push(`${req.method} ${req.url}`)
      if (this.drop > 0) {
        this.drop--
        req.socket.destroy()
        return
      }
      if (this.fail503 > 0) {
        this.fail503--
        res.writeHead(503, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error_code: 50003, message: 'injected by the test proxy' }))
        return
      }
      setTimeout(() => {
        // the client may have given up meanwhile (a timeout test): nothing to forward then
        if (res.destroyed || req.destroyed) return
        const upstream = request(
          { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers)
            answer.pipe(res)
          },
        )
        upstream.on('error', () => res.destroy())
        res.on('close', () => upstream.destroy())
        req.pipe(upstream)
      }, this.delayMs)
    })
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    const { port } = this.server.address() as AddressInfo
    return `http://127.0.0.1:${port}${new URL(registryUrl()).pathname}`
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

describe('schema registry client (real registry)', () => {
  const sr = new SchemaRegistry({ url: registryUrl() })
  after(() => sr.close())

  it('registers a schema: the same schema gets the same id, under another subject too', async () => {
    const subject = uniqueName('orders-value')
    const { id } = await sr.register(subject, { type: 'AVRO', schema: orderV1 })
    assert.ok(Number.isInteger(id) && id > 0, `id ${id}`)
    // a second client: no cache of the first, the registry itself answers with the same id
    const other = new SchemaRegistry({ url: registryUrl() })
    try {
      assert.deepEqual(await other.register(subject, { type: 'AVRO', schema: JSON.stringify(orderV1) }), { id })
      assert.deepEqual(await other.getVersions(subject), [1])
      assert.deepEqual(await other.register(uniqueName('other-value'), { schema: orderV1 }), { id })
    } finally {
      other.close()
    }
  })

  it('looks schemas up by id, by subject and version, latest, and by content', async () => {
    const subject = uniqueName('lookup-value')
    const v1 = await sr.register(subject, { schema: orderV1 })
    const v2 = await sr.register(subject, { schema: orderV2 })
    assert.notEqual(v1.id, v2.id)

    const byId = await sr.getSchema(v1.id)
    assert.equal(byId.id, v1.id)
    assert.equal(byId.type, 'AVRO')
    assert.deepEqual(JSON.parse(byId.schema), orderV1)
    assert.deepEqual(byId.references, [])

    assert.deepEqual(await sr.getVersions(subject), [1, 2])
    const first = await sr.getVersion(subject, 1)
    assert.equal(first.subject, subject)
    assert.equal(first.version, 1)
    assert.equal(first.id, v1.id)
    const latest = await sr.getLatest(subject)
    assert.equal(latest.version, 2)
    assert.equal(latest.id, v2.id)
    assert.deepEqual(JSON.parse(latest.schema), orderV2)
    assert.equal((await sr.getVersion(subject, 'latest')).id, v2.id)

    const found = await sr.lookup(subject, { schema: orderV1 })
    assert.equal(found.version, 1)
    assert.equal(found.id, v1.id)

    assert.ok((await sr.getSubjects()).includes(subject))
    assert.deepEqual(
      (await sr.getSchemaUsage(v2.id)).filter((u) => u.subject === subject),
      [{ subject, version: 2 }],
    )
    assert.deepEqual([...(await sr.getSchemaTypes())].sort(), ['AVRO', 'JSON', 'PROTOBUF'])
  })

  it('checks compatibility, gets and sets the compatibility level, and refuses an incompatible schema with 409', async () => {
    const subject = uniqueName('compat-value')
    await sr.register(subject, { schema: orderV1 })
    assert.equal(await sr.setCompatibility('BACKWARD', subject), 'BACKWARD')
    assert.equal(await sr.getCompatibility(subject), 'BACKWARD')
    assert.equal(typeof (await sr.getCompatibility()), 'string')

    assert.equal((await sr.checkCompatibility(subject, { schema: orderV2 })).compatible, true)
    assert.equal((await sr.checkCompatibility(subject, { schema: orderBroken })).compatible, false)
    assert.equal((await sr.checkCompatibility(subject, { schema: orderBroken }, { version: 1 })).compatible, false)

    await assert.rejects(sr.register(subject, { schema: orderBroken }), (error) => {
      assert.ok(error instanceof IncompatibleSchemaError)
      return isRegistryError('INCOMPATIBLE_SCHEMA', 409, subject)(error)
    })
    // the v2 schema evolves the subject
    await sr.register(subject, { schema: orderV2 })
    assert.deepEqual(await sr.getVersions(subject), [1, 2])

    await assert.rejects(
      sr.setCompatibility('SOMETIMES' as 'NONE', subject),
      isRegistryError('INVALID_COMPATIBILITY_LEVEL', 42203, subject),
    )
    await sr.deleteCompatibility(subject)
  })

  it('deletes versions and subjects, soft then hard', async () => {
    const subject = uniqueName('delete-value')
    const { id } = await sr.register(subject, { schema: orderV1 })
    await sr.register(subject, { schema: orderV2 })

    assert.equal(await sr.deleteVersion(subject, 2), 2)
    assert.equal(await sr.deleteVersion(subject, 2, { permanent: true }), 2)
    assert.deepEqual(await sr.getVersions(subject), [1])
    await assert.rejects(
      sr.deleteVersion(subject, 1, { permanent: true }),
      isRegistryError('SCHEMA_VERSION_NOT_SOFT_DELETED', 40407, subject),
    )

    assert.deepEqual(await sr.deleteSubject(subject), [1])
    await assert.rejects(sr.getVersions(subject), isRegistryError('SUBJECT_NOT_FOUND', 40401, subject))
    await assert.rejects(sr.deleteSubject(subject), isRegistryError('SUBJECT_SOFT_DELETED', 40404, subject))
    assert.ok((await sr.getSubjects({ deleted: true })).includes(subject))
    assert.ok(!(await sr.getSubjects()).includes(subject))
    // a soft-deleted subject's ids still decode records written before
    assert.equal((await sr.getSchema(id)).id, id)

    assert.deepEqual(await sr.deleteSubject(subject, { permanent: true }), [1])
    assert.ok(!(await sr.getSubjects({ deleted: true })).includes(subject))
    await assert.rejects(
      sr.deleteSubject(subject, { permanent: true }),
      isRegistryError('SUBJECT_NOT_FOUND', 40401, subject),
    )
    // registered again after the hard delete: the cache of ids by subject was dropped, the subject is back
    const again = await sr.register(subject, { schema: orderV1 })
    assert.equal((await sr.lookup(subject, { schema: orderV1 })).id, again.id)
  })

  it('answers errors with the registry code, the subject and the request', async () => {
    const missing = uniqueName('missing-value')
    await assert.rejects(sr.getVersions(missing), isRegistryError('SUBJECT_NOT_FOUND', 40401, missing))
    await assert.rejects(sr.getLatest(missing), isRegistryError('SUBJECT_NOT_FOUND', 40401, missing))
    await assert.rejects(sr.getCompatibility(missing), (e) => e instanceof SchemaRegistryError && e.status === 404)
    const subject = uniqueName('errors-value')
    await sr.register(subject, { schema: orderV1 })
    await assert.rejects(sr.getVersion(subject, 7), isRegistryError('VERSION_NOT_FOUND', 40402, subject))
    await assert.rejects(sr.lookup(subject, { schema: orderV2 }), isRegistryError('SCHEMA_NOT_FOUND', 40403, subject))
    await assert.rejects(sr.getSchema(987_654_321), isRegistryError('SCHEMA_NOT_FOUND', 40403))
    await assert.rejects(
      sr.register(subject, { type: 'PROTOBUF', schema: 'this is not a .proto file' }),
      isRegistryError('INVALID_SCHEMA', 42201, subject),
    )
    await assert.rejects(sr.getSchema(987_654_321), (e) => {
      assert.ok(e instanceof SchemaRegistryError)
      assert.equal(e.retriable, false)
      assert.match(e.message, /GET \/schemas\/ids\/987654321/)
      return true
    })
    // an unknown id in a record's bytes is bad data, not a registry failure
    const bytes = Buffer.from([0, 0x3a, 0xde, 0x68, 0xb1, 1, 2])
    await assert.rejects(sr.decode(bytes, { topic: 'orders' }), (e) => {
      assert.ok(e instanceof SerializationError)
      assert.equal(e.schemaId, 987_654_321)
      assert.equal(e.topic, 'orders')
      return true
    })
  })

  describe('through a proxy', () => {
    const proxy = new RegistryProxy(new URL(registryUrl()))
    let url: string
    before(async () => {
      url = await proxy.start()
    })
    after(() => proxy.close())

    it('caches ids and schemas for ever, latest versions for latestCacheTtlMs, and coalesces concurrent look-ups', async () => {
      const subject = uniqueName('cache-value')
      const { id } = await sr.register(subject, { schema: orderV1 })
      const client = new SchemaRegistry({ url, latestCacheTtlMs: 300 })
      try {
        proxy.requests = []
        const all = await Promise.all(Array.from({ length: 20 }, () => client.getSchema(id)))
        assert.ok(all.every((s) => s === all[0]))
        assert.deepEqual(proxy.requests, [`GET ${new URL(url).pathname}/schemas/ids/${id}`])
        await client.getSchema(id)
        await client.register(subject, { schema: orderV1 })
        await client.register(subject, { schema: orderV1 })
        assert.equal(proxy.requests.length, 2, proxy.requests.join('\n'))

        const cachedAt = Date.now()
        await Promise.all([client.getLatest(subject), client.getLatest(subject)])
        await client.getLatest(subject)
        assert.equal(proxy.requests.length, 3, proxy.requests.join('\n'))
        await sr.register(subject, { schema: orderV2 })
        // cached until the TTL ends, then asked again
        assert.equal((await client.getLatest(subject)).version, 1)
        await waitFor('the latest version asked again', async () => (await client.getLatest(subject)).version === 2, {
          intervalMs: 20,
        })
        assert.ok(Date.now() - cachedAt >= 300, 'asked again before latestCacheTtlMs ended')
        assert.equal(proxy.requests.length, 4, proxy.requests.join('\n'))
      } finally {
        client.close()
      }
    })

    it('retries 5xx answers and lost connections with backoff, and gives up with the last error', async () => {
      const subject = uniqueName('retry-value')
      const client = new SchemaRegistry({ url, retry: { maxAttempts: 3, initialDelayMs: 20 } })
      try {
        proxy.requests = []
        proxy.fail503 = 2
        assert.ok((await client.register(subject, { schema: orderV1 })).id > 0)
        assert.equal(proxy.requests.length, 3)

        proxy.drop = 1
        assert.deepEqual(await client.getVersions(subject), [1])

        proxy.fail503 = 3
        await assert.rejects(client.getVersions(subject), (e) => {
          assert.ok(e instanceof SchemaRegistryError)
          assert.equal(e.status, 503)
          assert.equal(e.type, 'REQUEST_FORWARDING_FAILED')
          assert.equal(e.retriable, true)
          return true
        })
        proxy.drop = 3
        await assert.rejects(client.getVersions(subject), ConnectionError)
        // 4xx answers are final: one request
        proxy.requests = []
        await assert.rejects(client.getVersions(uniqueName('nope')), SchemaRegistryError)
        assert.equal(proxy.requests.length, 1)
      } finally {
        proxy.fail503 = 0
        proxy.drop = 0
        client.close()
      }
    })

    it('settles within timeoutMs when the registry does not answer', async () => {
      const client = new SchemaRegistry({ url, timeoutMs: 300 })
      proxy.delayMs = 2_000
      try {
        const started = Date.now()
        await assert.rejects(client.getSubjects(), TimeoutError)
        const took = Date.now() - started
        assert.ok(took >= 290 && took < 1_500, `took ${took} ms`)
      } finally {
        proxy.delayMs = 0
        client.close()
      }
    })
  })
})
