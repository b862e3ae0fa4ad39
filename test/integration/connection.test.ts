// Connections and the cluster client against the real single node, on every listener: PLAINTEXT,
// SASL_PLAINTEXT with each mechanism, SSL, SASL_SSL; failures that must be clear and not retried
// (bad password, untrusted CA, wrong server name), a broker that is not there, KIP-368 re-auth.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { Cluster } from '../../src/client/cluster.ts'
import { Connection } from '../../src/client/connection.ts'
import { saslMechanism } from '../../src/client/sasl/index.ts'
import type { SaslOptions } from '../../src/client/sasl/mechanism.ts'
import { unsecuredJwt } from '../../src/client/sasl/oauthbearer.ts'
import { AuthenticationError, ConnectionError, KafkaError } from '../../src/protocol/errors.ts'
import { Metadata } from '../../src/protocol/messages/index.ts'
import { brokers, CA_FILE, SINGLE, USERS } from '../helpers/kafka.ts'
import { holdsFor, sleep, waitFor } from '../helpers/wait.ts'

const HOST = '127.0.0.1'
const ca = () => readFileSync(CA_FILE)

const MECHANISMS: SaslOptions[] = [
  { mechanism: 'plain', username: 'alice', password: USERS.alice },
  { mechanism: 'scram-sha-256', username: 'alice', password: USERS.alice },
  { mechanism: 'scram-sha-512', username: 'alice', password: USERS.alice },
  {
    mechanism: 'oauthbearer',
    oauthBearerProvider: async () => ({ value: unsecuredJwt({ sub: 'alice', lifetimeMs: 60_000 }) }),
  },
]

/** Connects, asks for metadata and returns the brokers it names. */
async function metadataThrough(connection: Connection): Promise<number[]> {
  await connection.connect()
  try {
    const response = await connection.request(Metadata, { topics: [] })
    return response.brokers.map((b) => b.nodeId)
  } finally {
    connection.close()
  }
}

describe('connections on every listener', () => {
  it('PLAINTEXT: negotiates versions per broker and pipelines requests', async () => {
    const [host, port] = brokers()[0].split(':')
    const c = new Connection({ host, port: Number(port), maxInFlight: 3 })
    await c.connect()
    try {
      assert.ok(c.brokerVersions.size > 40, 'ApiVersions lists the broker APIs')
      const version = c.versionFor(Metadata)
      assert.equal(version, Math.min(Metadata.request.latestStableVersion, c.brokerVersions.get(3)![1]))
      const answers = await Promise.all(Array.from({ length: 20 }, () => c.request(Metadata, { topics: [] })))
      assert.equal(new Set(answers.map((a) => a.clusterId)).size, 1)
    } finally {
      c.close()
    }
    await assert.rejects(c.request(Metadata, { topics: [] }), ConnectionError)
  })

  for (const sasl of MECHANISMS) {
    it(`SASL_PLAINTEXT with ${sasl.mechanism}`, async () => {
      const c = new Connection({ host: HOST, port: SINGLE.saslPlaintext, sasl: saslMechanism(sasl) })
      assert.deepEqual(await metadataThrough(c), [1])
    })
  }

  it('SSL with the test CA, and SASL_SSL with SCRAM-SHA-512', async () => {
    assert.deepEqual(await metadataThrough(new Connection({ host: HOST, port: SINGLE.ssl, tls: { ca: ca() } })), [1])
    const sasl = saslMechanism({ mechanism: 'scram-sha-512', username: 'admin', password: USERS.admin })
    const c = new Connection({ host: 'localhost', port: SINGLE.saslSsl, tls: { ca: ca() }, sasl })
    assert.deepEqual(await metadataThrough(c), [1])
  })

  it('a wrong password fails at once with AuthenticationError that does not show it', async () => {
    for (const mechanism of ['plain', 'scram-sha-256'] as const) {
      const cluster = new Cluster({
        brokers: [`${HOST}:${SINGLE.saslPlaintext}`],
        sasl: { mechanism, username: 'alice', password: 'not-the-secret-42' },
        retry: { maxAttempts: 10 },
      })
      const error = await cluster.connect().then(
        () => assert.fail('authenticated with a wrong password'),
        (e) => e,
      )
      await cluster.close()
      assert.ok(error instanceof AuthenticationError, `${mechanism}: ${error}`)
      assert.equal(error.retriable, false)
      assert.doesNotMatch(`${error.message} ${error.stack}`, /not-the-secret-42/)
    }
  })

  it('an untrusted CA or a wrong server name fails the TLS handshake', async () => {
    const untrusted = new Connection({ host: HOST, port: SINGLE.ssl, tls: true })
    await assert.rejects(untrusted.connect(), (e: unknown) => e instanceof AuthenticationError && /TLS/.test(e.message))
    const wrongName = new Connection({
      host: HOST,
      port: SINGLE.ssl,
      tls: { ca: ca(), servername: 'kafka.example.com' },
    })
    await assert.rejects(wrongName.connect(), (e: unknown) => e instanceof AuthenticationError && /TLS/.test(e.message))
  })

  it('a broker that is not there: retries, then ConnectionError within the deadline', async () => {
    const cluster = new Cluster({
      brokers: [`${HOST}:${SINGLE.proxy + 50}`],
      retry: { maxAttempts: 1000, initialDelayMs: 50, maxDelayMs: 200, deadlineMs: 2000 },
      connectTimeoutMs: 500,
    })
    const started = Date.now()
    await assert.rejects(cluster.connect(), ConnectionError)
    const elapsed = Date.now() - started
    assert.ok(elapsed >= 1500, `gave up after ${elapsed} ms, before the deadline was near`)
    assert.ok(elapsed < 10_000, `still trying after ${elapsed} ms`)
    await cluster.close()
  })

  it('re-authenticates before the 15 s session of SASL_PLAINTEXT ends (KIP-368)', async () => {
    const c = new Connection({
      host: HOST,
      port: SINGLE.saslPlaintext,
      sasl: saslMechanism({ mechanism: 'scram-sha-256', username: 'alice', password: USERS.alice }),
    })
    await c.connect()
    const sessionEnds = Date.now() + 15_000
    let reauthentications = 0
    c.on('reauthenticated', () => reauthentications++)
    // a connection in use: a request every 500 ms (pacing)
    let using = true
    const traffic = (async () => {
      while (using) {
        await c.request(Metadata, { topics: [] })
        await sleep(500)
      }
    })()
    try {
      await waitFor('a re-authentication', () => reauthentications >= 1, { timeoutMs: 20_000 })
      // without it the broker closes the connection when the first session ends
      await holdsFor('the connection open past its first session', () => c.connected, sessionEnds + 2000 - Date.now())
    } finally {
      using = false
      await traffic.catch(() => {})
      c.close()
    }
  })

  it('refuses an API version the broker does not support with UNSUPPORTED_VERSION', async () => {
    const [host, port] = brokers()[0].split(':')
    const c = new Connection({ host, port: Number(port) })
    await c.connect()
    try {
      assert.throws(
        () => c.versionFor({ ...Metadata, apiKey: 9999, name: 'Imaginary' }),
        (e: unknown) => e instanceof KafkaError && e.type === 'UNSUPPORTED_VERSION',
      )
    } finally {
      c.close()
    }
  })
})
