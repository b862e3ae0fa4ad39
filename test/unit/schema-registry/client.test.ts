// What needs no registry: subject name strategies, the caches, and options refused with a ConfigError.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError } from '../../../src/protocol/errors.ts'
import { LoadingCache } from '../../../src/schema-registry/cache.ts'
import { SchemaRegistry } from '../../../src/schema-registry/index.ts'
import { subjectName } from '../../../src/schema-registry/subjects.ts'
import { waitFor } from '../../helpers/wait.ts'

describe('schema registry client without a registry', () => {
  it('names subjects by strategy', () => {
    assert.equal(subjectName('TopicName', 'orders', false, 'shop.Order'), 'orders-value')
    assert.equal(subjectName('TopicName', 'orders', true, undefined), 'orders-key')
    assert.equal(subjectName('RecordName', 'orders', false, 'shop.Order'), 'shop.Order')
    assert.equal(subjectName('TopicRecordName', 'orders', false, 'shop.Order'), 'orders-shop.Order')
    assert.equal(
      subjectName((t, k) => `${t}.${k ? 'k' : 'v'}`, 'orders', true, undefined),
      'orders.k',
    )
    assert.throws(() => subjectName('RecordName', 'orders', false, undefined), ConfigError)
  })

  it('caches: one load per key at a time, failures not kept, entries expire after the TTL', async () => {
    const cache = new LoadingCache<string, number>(50)
    let loads = 0
    const load = async () => {
      loads++
      await new Promise((r) => setTimeout(r, 10))
      return loads
    }
    const loading = Date.now()
    assert.deepEqual(
      await Promise.all([cache.load('a', load), cache.load('a', load), cache.load('a', load)]),
      [1, 1, 1],
    )
    assert.equal(cache.get('a'), 1)
    await assert.rejects(
      cache.load('b', () => Promise.reject(new Error('down'))),
      /down/,
    )
    assert.equal(await cache.load('b', load), 2)
    await waitFor('entry a to expire', () => cache.get('a') === undefined, { intervalMs: 5 })
    assert.ok(Date.now() - loading >= 50, 'expired before its TTL')
    assert.equal(await cache.load('a', load), 3)
  })

  it('refuses unusable options with a ConfigError', () => {
    assert.throws(() => new SchemaRegistry({ url: 'not a url' }), ConfigError)
    assert.throws(() => new SchemaRegistry({ url: 'ftp://registry' }), ConfigError)
    assert.throws(() => new SchemaRegistry(undefined as never), ConfigError)
    assert.throws(() => new SchemaRegistry({ url: 'http://r', auth: { user: 'x' } as never }), ConfigError)
    assert.throws(() => new SchemaRegistry({ url: 'http://r', timeoutMs: 0 }), ConfigError)
    assert.throws(() => new SchemaRegistry({ url: 'http://r', retry: { maxAttempts: 0 } }), ConfigError)
    const sr = new SchemaRegistry({ url: 'http://127.0.0.1:1' })
    assert.throws(() => sr.serializer({}), ConfigError)
    assert.throws(() => sr.serializer({ useLatestVersion: true, autoRegister: true }), ConfigError)
    assert.throws(() => sr.serializer({ useLatestVersion: true, subjectNameStrategy: 'Nope' as never }), ConfigError)
    assert.throws(() => sr.register('', { schema: '"string"' }), ConfigError)
    assert.throws(() => sr.register('s', { type: 'XML' as never, schema: '<x/>' }), ConfigError)
    assert.throws(() => sr.getVersion('s', 0), ConfigError)
    assert.throws(() => sr.getSchema(-1), ConfigError)
    sr.close()
  })
})
