// Batches written by the two reference clients, decoded by our RecordBatch decoder. The broker keeps
// a producer's batches byte for byte in its log segment (topic compression.type=producer), so we read
// them from the harness broker's data directory: each codec as librdkafka (kcat) and the Java client
// (console producer) compress it.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { CODECS } from '../../src/protocol/compression/index.ts'
import { decodeRecordBatches, type RecordBatch } from '../../src/protocol/records/index.ts'
import { brokers, cli, kcat, partitionLogDir, uniqueTopic } from '../helpers/kafka.ts'
import { waitFor } from '../helpers/wait.ts'

const COUNT = 20
const lines = Array.from({ length: COUNT }, (_, i) => `key-${i}:value-${i} ${'x'.repeat(i * 10)}`)

/** Reads the first segment until it holds `count` records (the broker appends asynchronously to the page cache). */
async function segmentBatches(topic: string, count: number): Promise<RecordBatch[]> {
  const file = join(partitionLogDir(topic), '00000000000000000000.log')
  let batches: RecordBatch[] = []
  const records = () => batches.reduce((n, b) => n + b.records.length, 0)
  const read = async () => {
    batches = await decodeRecordBatches(readFileSync(file))
    return records() >= count
  }
  await waitFor(`${count} records in the first segment of ${topic}`, read, { intervalMs: 100, state: records })
  return batches
}

function check(batches: RecordBatch[], codec: string): void {
  const records = batches.flatMap((b) => b.records)
  assert.deepEqual(
    records.map((r) => `${r.key}:${r.value}`),
    lines,
  )
  assert.deepEqual(
    records.map((r) => r.offset),
    lines.map((_, i) => BigInt(i)),
  )
  for (const b of batches) assert.equal(b.compression, codec)
}

describe('record batches written by real clients', () => {
  for (const codec of CODECS) {
    it(`decodes kcat (librdkafka) batches, ${codec}`, async () => {
      const topic = uniqueTopic(`kcat-${codec}`)
      cli.createTopic(topic)
      kcat(
        // one batch for all lines: librdkafka sends a batch uncompressed when compressing does not shrink it,
        // which a lone small record may not
        ['-b', brokers()[0], '-P', '-t', topic, '-K', ':', '-z', codec, '-H', 'source=kcat', '-X', 'linger.ms=200'],
        `${lines.join('\n')}\n`,
      )
      const batches = await segmentBatches(topic, COUNT)
      check(batches, codec)
      assert.deepEqual(batches[0].records[0].headers, [{ key: 'source', value: Buffer.from('kcat') }])
    })

    it(`decodes Java client batches, ${codec}`, async () => {
      const topic = uniqueTopic(`java-${codec}`)
      cli.createTopic(topic)
      cli.produce(topic, lines, { compression: codec, props: { 'linger.ms': '100' } })
      check(await segmentBatches(topic, COUNT), codec)
    })
  }
})
