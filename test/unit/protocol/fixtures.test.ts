// Recorded conversations of real clients (the Java tools and kcat/librdkafka, against Kafka 4.3 and
// 3.9; fixtures/protocol/README.md says how they were made): every request and response frame must
// decode with our codecs and re-encode byte for byte, and the record batches inside Produce requests
// and Fetch responses must decode (CRC checked, every codec) to the records the client was given.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { ROOT } from '../../../scripts/kafka/harness.ts'
import {
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../../../src/protocol/headers.ts'
import { type Api, loadApi } from '../../../src/protocol/messages/index.ts'
import { Reader, Writer } from '../../../src/protocol/primitives/index.ts'
import { decodeRecordBatches } from '../../../src/protocol/records/index.ts'

const DIR = join(ROOT, 'fixtures/protocol')

interface IndexEntry {
  file: string
  client: string
  kafka: string
  scenario: string
  description: string
}

interface Exchange {
  apiKey: number
  apiVersion: number
  correlationId: number
  request: string
  response: string | null
}

interface SentRecord {
  key: string | null
  value: string | null
  headers: { key: string; value: string | null }[]
}

const PRODUCE = 0
const FETCH = 1

const index: IndexEntry[] = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8'))

function exchanges(entry: IndexEntry): Exchange[] {
  return readFileSync(join(DIR, entry.file), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line))
}

function sentRecords(entry: IndexEntry): SentRecord[] | undefined {
  try {
    return JSON.parse(readFileSync(join(DIR, `${entry.file}.records.json`), 'utf8'))
  } catch {
    return undefined
  }
}

/** Decodes header and body of one frame and encodes them again; returns the decoded body. */
function roundTrip(api: Api, kind: 'request' | 'response', version: number, frame: Buffer, where: string): any {
  const codec = api[kind]
  const flexible = version >= codec.flexibleVersion
  const r = new Reader(frame)
  const w = new Writer(frame.length)
  let body: any
  if (kind === 'request') {
    const hv = requestHeaderVersion(flexible)
    const header = decodeRequestHeader(r, hv)
    assert.equal(header.apiKey, api.apiKey, where)
    body = codec.read(r, version)
    encodeRequestHeader(w, hv, header)
  } else {
    const hv = responseHeaderVersion(api.apiKey, flexible)
    const header = decodeResponseHeader(r, hv)
    body = codec.read(r, version)
    encodeResponseHeader(w, hv, header)
  }
  assert.equal(r.remaining(), 0, `${where}: ${r.remaining()} bytes not decoded`)
  codec.write(w, version, body)
  assert.ok(w.finish().equals(frame), `${where}: re-encoded bytes differ`)
  return body
}

const text = (b: Buffer | null) => (b === null ? null : b.toString('utf8'))

describe('recorded conversations of real clients', () => {
  it('the index names every fixture, from both clients and both Kafka lines', () => {
    const clients = new Set(index.map((e) => `${e.client.split('-')[0]}@${e.kafka.slice(0, 3)}`))
    for (const want of ['java@4.3', 'kcat@4.3', 'java@3.9', 'kcat@3.9']) assert.ok(clients.has(want), want)
    for (const e of index) assert.ok(exchanges(e).length > 0, e.file)
  })

  for (const entry of index) {
    it(`${entry.file}: ${entry.description}`, async () => {
      const produced: SentRecord[] = []
      const fetched = new Map<string, SentRecord>()
      for (const x of exchanges(entry)) {
        const api = await loadApi(x.apiKey)
        const where = `${entry.file} ${api.name} v${x.apiVersion} #${x.correlationId}`
        const request = roundTrip(api, 'request', x.apiVersion, Buffer.from(x.request, 'base64'), where)
        const response =
          x.response === null
            ? undefined
            : roundTrip(api, 'response', x.apiVersion, Buffer.from(x.response, 'base64'), where)
        if (x.apiKey === PRODUCE) {
          for (const topic of request.topicData)
            for (const p of topic.partitionData)
              for (const batch of await decodeRecordBatches(p.records))
                for (const rec of batch.records) produced.push(sent(rec))
        }
        if (x.apiKey === FETCH && response) {
          for (const topic of response.responses)
            for (const p of topic.partitions) {
              if (p.records === null) continue
              for (const batch of await decodeRecordBatches(p.records))
                for (const rec of batch.records) {
                  if (!batch.control)
                    fetched.set(`${topic.topic || topic.topicId}/${p.partitionIndex}/${rec.offset}`, sent(rec))
                }
            }
        }
      }
      const expected = sentRecords(entry)
      if (!expected) return
      // records of different partitions travel in different batches: compare them as sorted lists
      const sorted = (rs: SentRecord[]) => rs.map((r) => JSON.stringify(r)).sort()
      if (produced.length > 0) assert.deepEqual(sorted(produced), sorted(expected), `${entry.file}: produced records`)
      else {
        // a consumer may fetch more than it hands out; every record it was asked to read was fetched
        const got = new Set(sorted([...fetched.values()]))
        for (const r of sorted(expected)) assert.ok(got.has(r), `${entry.file}: not fetched ${r}`)
      }
    })
  }
})

function sent(rec: { key: Buffer | null; value: Buffer | null; headers: { key: string; value: Buffer | null }[] }) {
  return {
    key: text(rec.key),
    value: text(rec.value),
    headers: rec.headers.map((h) => ({ key: h.key, value: text(h.value) })),
  }
}
