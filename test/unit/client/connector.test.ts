// The injectable connector: a Connection runs over whatever duplex stream the connector hands it
// (here an in-process one answered by a few lines of server code), and a connector that hangs is
// given up at the connect timeout with its attempt aborted.

import assert from 'node:assert/strict'
import type { Duplex } from 'node:stream'
import { describe, it } from 'node:test'
import { Connection } from '../../../src/client/connection.ts'
import type { Connector } from '../../../src/client/connector.ts'
import { ConnectionError } from '../../../src/protocol/errors.ts'
import { decodeRequestFrame, encodeResponseFrame, FrameReader } from '../../../src/protocol/framing.ts'
import { ApiVersions, loadedApi, Metadata } from '../../../src/protocol/messages/index.ts'
import { duplexPair } from '../../../src/testing/in-process.ts'

const writeFrame = (end: Duplex, chunks: Uint8Array[]) => {
  for (const c of chunks) end.write(c)
}

/** A server end answering ApiVersions (with Metadata v12 offered) and Metadata (one broker, no topics). */
function serve(end: Duplex, seen: string[]): void {
  const frames = new FrameReader()
  end.on('data', (chunk: Buffer) =>
    frames.push(chunk, (frame) => {
      const flexible = (apiKey: number) => loadedApi(apiKey)!.request.flexibleVersion
      const { header } = decodeRequestFrame(frame, flexible)
      seen.push(`${loadedApi(header.apiKey)!.name} v${header.apiVersion}`)
      if (header.apiKey === ApiVersions.apiKey) {
        writeFrame(
          end,
          encodeResponseFrame(ApiVersions.response, header.apiVersion, header.correlationId, {
            errorCode: 0,
            apiKeys: [
              { apiKey: ApiVersions.apiKey, minVersion: 0, maxVersion: ApiVersions.request.latestStableVersion },
              { apiKey: Metadata.apiKey, minVersion: 0, maxVersion: 12 },
            ],
            throttleTimeMs: 0,
            supportedFeatures: [],
            finalizedFeaturesEpoch: -1n,
            finalizedFeatures: [],
            zkMigrationReady: false,
          }),
        )
      } else {
        writeFrame(
          end,
          encodeResponseFrame(Metadata.response, header.apiVersion, header.correlationId, {
            throttleTimeMs: 0,
            brokers: [{ nodeId: 7, host: 'in-process', port: 1, rack: null }],
            clusterId: 'c',
            controllerId: 7,
            topics: [],
            clusterAuthorizedOperations: -2147483648,
            errorCode: 0,
          }),
        )
      }
      return true
    }),
  )
}

describe('Connection over an injected connector', () => {
  it('negotiates versions and exchanges requests over the stream the connector returns', async () => {
    const seen: string[] = []
    const targets: string[] = []
    const connect: Connector = async (target) => {
      targets.push(`${target.host}:${target.port} tls=${Boolean(target.tls)}`)
      const [client, server] = duplexPair()
      serve(server, seen)
      return client
    }
    const connection = new Connection({ host: 'broker-a', port: 9092, connect })
    await connection.connect()
    const metadata = await connection.request(Metadata, {
      topics: [],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    })
    connection.close()
    assert.deepEqual(targets, ['broker-a:9092 tls=false'])
    assert.deepEqual(seen, [`ApiVersions v${ApiVersions.request.latestStableVersion}`, 'Metadata v12'])
    assert.deepEqual(
      metadata.brokers.map((b) => b.nodeId),
      [7],
    )
  })

  it('gives up a connector that never connects at the connect timeout, aborting its attempt', async () => {
    let aborted: unknown
    const connect: Connector = (target) =>
      new Promise((_, reject) => {
        target.signal.addEventListener('abort', () => {
          aborted = target.signal.reason
          reject(target.signal.reason)
        })
      })
    const connection = new Connection({ host: 'nowhere', port: 1, connect, connectTimeoutMs: 100 })
    await assert.rejects(
      connection.connect(),
      (e) => e instanceof ConnectionError && /longer than 100 ms/.test(e.message),
    )
    assert.ok(aborted instanceof ConnectionError, 'the attempt was aborted with the connection error')
  })

  it('turns a connector failure into a ConnectionError naming the address', async () => {
    const connect: Connector = async () => {
      throw Object.assign(new Error('refused by test'), { code: 'ECONNREFUSED' })
    }
    const connection = new Connection({ host: 'h', port: 2, connect })
    await assert.rejects(
      connection.connect(),
      (e) => e instanceof ConnectionError && /h:2: refused by test/.test(e.message),
    )
  })
})
