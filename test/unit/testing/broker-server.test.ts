// The fake broker's connection handling: ApiVersions offers exactly the served APIs and the feature
// levels of what the fake implements, an unknown ApiVersions version is answered in v0 with
// UNSUPPORTED_VERSION, an API it does not serve closes the connection, SASL listeners accept PLAIN,
// SCRAM and unsecured OAUTHBEARER from the cluster's users, refuse wrong passwords, grant a session
// lifetime, and close on requests before auth.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Admin } from '../../../src/admin/admin.ts'
import { Connection } from '../../../src/client/connection.ts'
import { saslMechanism } from '../../../src/client/sasl/index.ts'
import { unsecuredJwt } from '../../../src/client/sasl/oauthbearer.ts'
import { ErrorCode } from '../../../src/protocol/error-codes.ts'
import { AuthenticationError, ConnectionError } from '../../../src/protocol/errors.ts'
import { decodeResponseFrame, encodeRequestFrame, FrameReader } from '../../../src/protocol/framing.ts'
import { ApiVersions, loadApi, Metadata } from '../../../src/protocol/messages/index.ts'
import { FakeCluster } from '../../../src/testing/index.ts'
import { connectTo } from './helpers.ts'

/** Sends one raw frame on a fresh in-process stream; resolves with the response frame, or 'closed'. */
async function rawExchange(cluster: FakeCluster, frame: Uint8Array[]): Promise<Buffer | 'closed'> {
  const l = cluster.brokers.get(1)!.listeners[0]
  const stream = await cluster.connect({
    host: l.advertisedHost,
    port: l.advertisedPort,
    tls: undefined,
    signal: new AbortController().signal,
  })
  return new Promise((resolve) => {
    const frames = new FrameReader()
    stream.on('data', (chunk: Buffer) =>
      frames.push(chunk, (f) => {
        resolve(Buffer.from(f))
        return false
      }),
    )
    stream.on('close', () => resolve('closed'))
    for (const c of frame) stream.write(c)
  })
}

describe('the fake broker on the wire', () => {
  let cluster: FakeCluster
  before(async () => {
    cluster = await FakeCluster.start({
      listen: false,
      users: { alice: 'alice-secret' },
      listeners: [{ name: 'PLAINTEXT' }, { name: 'SASL_PLAINTEXT', sasl: true, reauthenticationMs: 60_000 }],
    })
  })
  after(() => cluster.stop())

  it('ApiVersions offers exactly the APIs it serves, with the versions of their handlers', async () => {
    const c = await connectTo(cluster)
    c.close()
    const offered = [...c.brokerVersions].sort((a, b) => a[0] - b[0])
    const served = [...cluster.apis.values()]
      .map((h) => [h.api.apiKey, [h.minVersion, h.maxVersion]])
      .sort((a, b) => (a[0] as number) - (b[0] as number))
    assert.deepEqual(offered, served)
    assert.ok(offered.length > 40)
  })

  it('advertises the feature levels of what it implements, and no transaction.version (no TV2)', async () => {
    const admin = new Admin({ brokers: cluster.bootstrap, connect: cluster.connect })
    try {
      const features = await admin.describeFeatures()
      const level = (name: string) => features.finalized.find((f) => f.name === name)?.maxVersionLevel
      assert.equal(level('metadata.version'), 30)
      assert.equal(level('group.version'), 1, 'the consumer group protocol (KIP-848) is there')
      assert.equal(level('transaction.version'), undefined)
      for (const f of features.finalized) {
        const supported = features.supported.find((s) => s.name === f.name)!
        assert.ok(supported.minVersion <= f.maxVersionLevel && f.maxVersionLevel <= supported.maxVersion, f.name)
      }
      assert.ok(features.finalizedEpoch >= 0n)
    } finally {
      await admin.close()
    }
  })

  it('answers an ApiVersions version it does not know in v0 with UNSUPPORTED_VERSION and its range', async () => {
    // a v4 request relabelled v99 (after the size prefix: api key, then version)
    const frame = encodeRequestFrame(ApiVersions.request, { apiVersion: 4, correlationId: 5, clientId: 't' }, {})
    Buffer.from(frame[0].buffer, frame[0].byteOffset).writeInt16BE(99, 6)
    const answer = await rawExchange(cluster, frame)
    assert.ok(answer !== 'closed')
    const { header, body } = decodeResponseFrame(answer, ApiVersions.apiKey, false)
    assert.equal(header.correlationId, 5)
    const response = ApiVersions.response.read(body, 0)
    assert.equal(response.errorCode, ErrorCode.UNSUPPORTED_VERSION)
    assert.deepEqual(
      response.apiKeys.map((k) => [k.apiKey, k.maxVersion]),
      [[18, 4]],
    )
  })

  it('closes the connection on an API it does not serve', async () => {
    const shareFetch = await loadApi(78)
    const frame = encodeRequestFrame(
      shareFetch.request,
      { apiVersion: 1, correlationId: 1, clientId: 't' },
      {
        groupId: 'g',
        memberId: 'm',
        shareSessionEpoch: 0,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 0,
        maxRecords: 0,
        batchSize: 0,
        topics: [],
        forgottenTopicsData: [],
      },
    )
    assert.equal(await rawExchange(cluster, frame), 'closed')
  })

  for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
    it(`authenticates ${mechanism} with the cluster's users and refuses a wrong password`, async () => {
      const ok = await connectTo(cluster, 1, 1, {
        sasl: saslMechanism({ mechanism, username: 'alice', password: 'alice-secret' }),
      })
      const metadata = await ok.request(Metadata, { topics: [] })
      assert.equal(metadata.clusterId, cluster.clusterId)
      ok.close()
      await assert.rejects(
        connectTo(cluster, 1, 1, { sasl: saslMechanism({ mechanism, username: 'alice', password: 'wrong' }) }),
        (e) => e instanceof AuthenticationError && !e.message.includes('wrong'),
      )
    })
  }

  it('accepts an unsecured OAUTHBEARER token and refuses an expired one', async () => {
    const token = (lifetimeMs: number) =>
      saslMechanism({
        mechanism: 'oauthbearer',
        oauthBearerProvider: async () => ({ value: unsecuredJwt({ sub: 'alice', lifetimeMs }) }),
      })
    const ok = await connectTo(cluster, 1, 1, { sasl: token(60_000) })
    ok.close()
    const expired = saslMechanism({
      mechanism: 'oauthbearer',
      oauthBearerProvider: async () => {
        const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url')
        return { value: `${part({ alg: 'none' })}.${part({ sub: 'alice', exp: 1 })}.` }
      },
    })
    await assert.rejects(connectTo(cluster, 1, 1, { sasl: expired }), AuthenticationError)
  })

  it('closes a SASL listener connection that sends anything but ApiVersions and SASL first', async () => {
    const l = cluster.brokers.get(1)!.listeners[1]
    const c = new Connection({ host: l.advertisedHost, port: l.advertisedPort, connect: cluster.connect })
    await c.connect()
    await assert.rejects(c.request(Metadata, { topics: [] }), ConnectionError)
  })
})
