// Header layouts checked against bytes written out by hand from the protocol guide.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ProtocolError } from '../../../src/protocol/errors.ts'
import {
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../../../src/protocol/headers.ts'
import { Reader, Writer } from '../../../src/protocol/primitives/index.ts'

describe('request and response headers', () => {
  it('encodes request header v1 and v2 as the guide lays them out', () => {
    const h = { apiKey: 3, apiVersion: 12, correlationId: 7, clientId: 'kx' }
    const v1 = new Writer()
    encodeRequestHeader(v1, 1, h)
    assert.equal(v1.finish().toString('hex'), `0003000c00000007${'0002'}6b78`)
    const v2 = new Writer()
    encodeRequestHeader(v2, 2, h)
    assert.equal(v2.finish().toString('hex'), '0003000c0000000700026b7800')
    assert.deepEqual(decodeRequestHeader(new Reader(v2.finish()), 2), { ...h, unknownTaggedFields: [] })
  })

  it('keeps unknown tagged fields of a response header', () => {
    const bytes = Buffer.from('0000002a01030201ff', 'hex')
    const h = decodeResponseHeader(new Reader(bytes), 1)
    assert.deepEqual(h, { correlationId: 42, unknownTaggedFields: [{ tag: 3, data: Buffer.from('01ff', 'hex') }] })
    const w = new Writer()
    encodeResponseHeader(w, 1, h)
    assert.deepEqual(w.finish(), bytes)
    assert.throws(() => decodeResponseHeader(new Reader(bytes.subarray(0, 6)), 1), ProtocolError)
  })

  it('picks header versions by flexibility, ApiVersions responses always v0', () => {
    assert.equal(requestHeaderVersion(true), 2)
    assert.equal(requestHeaderVersion(false), 1)
    assert.equal(responseHeaderVersion(3, true), 1)
    assert.equal(responseHeaderVersion(3, false), 0)
    assert.equal(responseHeaderVersion(18, true), 0)
  })
})
