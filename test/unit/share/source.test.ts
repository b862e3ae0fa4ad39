// A share source's version negotiation (KIP-932, KIP-1222) without a broker: the ShareFetch and
// ShareAcknowledge versions are the highest both sides speak, lock renewals are used only when the
// broker offers ShareAcknowledge v2 (a Kafka 4.1 broker offers v1, which has no RENEW type), and a
// broker without the share APIs gives the typed error that names share groups.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Connection } from '../../../src/client/connection.ts'
import { ErrorCode } from '../../../src/protocol/error-codes.ts'
import { KafkaError } from '../../../src/protocol/errors.ts'
import { ShareAcknowledgeModule, ShareFetchModule } from '../../../src/protocol/messages/index.ts'
import { ShareSource } from '../../../src/share/source.ts'

/** A connection whose broker offers `versions` ([apiKey, min, max]); each request is recorded and answered empty. */
function connectionOffering(versions: [number, number, number][]) {
  const sent: { api: string; version: number }[] = []
  const connection = Object.create(Connection.prototype) as Connection
  Object.defineProperty(connection, 'address', { value: '127.0.0.1:1' })
  Object.assign(connection, {
    brokerVersions: new Map(versions.map(([key, min, max]) => [key, [min, max]])),
    request: async (api: { name: string }, _body: unknown, o: { version: number }) => {
      sent.push({ api: api.name, version: o.version })
      return { errorCode: 0, errorMessage: null, acquisitionLockTimeoutMs: 0, responses: [], nodeEndpoints: [] }
    },
  })
  return { connection, sent }
}

function sourceOn(connection: Connection) {
  const reported: Error[] = []
  const cluster = {
    connectionToNode: async () => connection,
    options: { requestTimeoutMs: 1000 },
    retry: { delay: () => 100 },
  }
  const host = {
    groupId: 'g',
    memberId: 'm',
    counters: { fetches: 0, acknowledgeRequests: 0 },
    log: {},
    lockMs: 30_000,
    margin: () => 0,
    delivered: () => {},
    sessionLost: () => {},
    leaderMoved: () => {},
    refresh: () => {},
    report: (e: Error) => reported.push(e),
  }
  const config = { maxWaitMs: 10, minBytes: 1, maxBytes: 1 << 20, maxRecords: 500, checkCrcs: true }
  return { source: new ShareSource(1, cluster as any, config, host as any), reported }
}

const FETCH = ShareFetchModule.apiKey
const ACK = ShareAcknowledgeModule.apiKey

describe('ShareSource version negotiation', () => {
  it('speaks v2 to a broker offering it (Kafka 4.2+) and renews locks there', async () => {
    const { connection, sent } = connectionOffering([
      [FETCH, 1, 2],
      [ACK, 1, 2],
    ])
    const { source, reported } = sourceOn(connection)
    await source.fetch([], Date.now())
    assert.deepEqual(reported, [])
    assert.deepEqual(sent, [{ api: 'ShareFetch', version: 2 }])
    assert.equal(source.renewable, true)
  })

  it('falls back to v1 on a broker offering only v1 (Kafka 4.1): no lock renewals', async () => {
    const { connection, sent } = connectionOffering([
      [FETCH, 1, 1],
      [ACK, 1, 1],
    ])
    const { source, reported } = sourceOn(connection)
    await source.fetch([], Date.now())
    assert.deepEqual(reported, [])
    assert.deepEqual(sent, [{ api: 'ShareFetch', version: 1 }])
    assert.equal(source.renewable, false)
  })

  it('reports a typed UNSUPPORTED_VERSION naming share groups when the broker has no share APIs', async () => {
    const { connection, sent } = connectionOffering([])
    const { source, reported } = sourceOn(connection)
    await source.fetch([], Date.now())
    assert.deepEqual(sent, [])
    assert.equal(reported.length, 1)
    const [error] = reported
    assert.ok(error instanceof KafkaError && error.code === ErrorCode.UNSUPPORTED_VERSION, String(error))
    assert.match(error.message, /share groups need a broker with KIP-932/)
  })
})
