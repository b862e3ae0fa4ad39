// Frames: a stream cut into frames however its bytes arrive, request and response frames written
// and read back with their headers (both sides, as a client and a server use them).

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ProtocolError } from '../../../src/protocol/errors.ts'
import {
  decodeRequestFrame,
  decodeResponseFrame,
  encodeRequestFrame,
  encodeResponseFrame,
  FrameReader,
} from '../../../src/protocol/framing.ts'
import { ApiVersions, Metadata } from '../../../src/protocol/messages/index.ts'

function frame(body: Buffer): Buffer {
  const size = Buffer.alloc(4)
  size.writeInt32BE(body.length)
  return Buffer.concat([size, body])
}

describe('FrameReader', () => {
  const bodies = [Buffer.from('first'), Buffer.alloc(0), Buffer.alloc(3000, 7), Buffer.from('last')]
  const stream = Buffer.concat(bodies.map(frame))

  for (const chunkSize of [1, 3, 4, 5, 1000, stream.length]) {
    it(`cuts a stream delivered in ${chunkSize}-byte chunks into the frames written`, () => {
      const reader = new FrameReader()
      const seen: Buffer[] = []
      for (let i = 0; i < stream.length; i += chunkSize) {
        reader.push(stream.subarray(i, i + chunkSize), (f) => {
          seen.push(Buffer.from(f))
          return true
        })
      }
      assert.deepEqual(seen, bodies)
      assert.equal(reader.pending, 0)
    })
  }

  it('hands out a frame inside one chunk as a view of it, without copying', () => {
    const chunk = frame(Buffer.from('view'))
    const reader = new FrameReader()
    let got: Buffer | undefined
    reader.push(chunk, (f) => {
      got = f
      return true
    })
    assert.equal(got?.buffer, chunk.buffer)
  })

  it('stops at the frame whose handler returns false, keeping the rest', () => {
    const reader = new FrameReader()
    let count = 0
    reader.push(stream, () => {
      count++
      return false
    })
    assert.equal(count, 1)
    assert.equal(reader.pending, stream.length - 4 - bodies[0].length)
  })

  it('refuses negative and oversized lengths with ProtocolError before buffering them', () => {
    const negative = Buffer.from([0xff, 0xff, 0xff, 0xfe])
    assert.throws(() => new FrameReader().push(negative, () => true), ProtocolError)
    const huge = Buffer.alloc(4)
    huge.writeInt32BE(2000)
    assert.throws(() => new FrameReader(1000).push(huge, () => true), /2000 is not a valid frame length/)
  })
})

describe('request and response frames', () => {
  it('reads back a request frame written by the client side, header and body', () => {
    const body = {
      topics: [{ name: 'orders' }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    }
    for (const apiVersion of [4, 9, 12]) {
      const written = Buffer.concat(
        encodeRequestFrame(Metadata.request, { apiVersion, correlationId: 42, clientId: 'me' }, body),
      )
      assert.equal(written.readInt32BE(0), written.length - 4)
      const { header, body: r } = decodeRequestFrame(written.subarray(4), () => Metadata.request.flexibleVersion)
      assert.deepEqual(
        { apiKey: header.apiKey, apiVersion: header.apiVersion, correlationId: header.correlationId },
        { apiKey: Metadata.apiKey, apiVersion, correlationId: 42 },
      )
      assert.equal(header.clientId, 'me')
      const decoded = Metadata.request.read(r, apiVersion)
      assert.deepEqual(
        decoded.topics?.map((t) => t.name),
        ['orders'],
      )
      assert.equal(r.remaining(), 0)
    }
  })

  it('reads back a response frame written by the server side (ApiVersions keeps header v0)', () => {
    const body = {
      errorCode: 0,
      apiKeys: [{ apiKey: 3, minVersion: 0, maxVersion: 12 }],
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1n,
      finalizedFeatures: [],
      zkMigrationReady: false,
    }
    const written = Buffer.concat(encodeResponseFrame(ApiVersions.response, 3, 7, body))
    assert.equal(written.readInt32BE(0), written.length - 4)
    const { header, body: r } = decodeResponseFrame(written.subarray(4), ApiVersions.apiKey, true)
    assert.equal(header.correlationId, 7)
    const read = ApiVersions.response.read(r, 3).apiKeys
    assert.deepEqual(
      read.map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion })),
      body.apiKeys,
    )
  })

  it('raises ProtocolError for a request frame too short to hold a header', () => {
    assert.throws(() => decodeRequestFrame(Buffer.alloc(2), () => 0), ProtocolError)
  })
})
