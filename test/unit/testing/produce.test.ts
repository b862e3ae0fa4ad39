// Produce on the fake broker, on the wire: batches are checked as a broker checks them (CRC, one
// batch per partition, size), stored as sent (so any codec round-trips byte for byte but for the
// offsets and leader epoch), and an idempotent retry gets its first offsets back.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Connection } from '../../../src/client/connection.ts'
import { ErrorCode } from '../../../src/protocol/error-codes.ts'
import { Produce } from '../../../src/protocol/messages/index.ts'
import { FakeCluster } from '../../../src/testing/index.ts'
import { connectTo, recordBatch } from './helpers.ts'

describe('Produce on the fake broker', () => {
  let cluster: FakeCluster
  let conn: Connection
  before(async () => {
    cluster = await FakeCluster.start({
      listen: false,
      topics: [{ name: 'p', configs: { 'max.message.bytes': '2000' } }],
    })
    conn = await connectTo(cluster)
  })
  after(async () => {
    conn.close()
    await cluster.stop()
  })

  const produce = async (records: Buffer, acks = -1) => {
    const r = await conn.request(
      Produce,
      { acks, timeoutMs: 1000, topicData: [{ name: 'p', partitionData: [{ index: 0, records }] }] },
      { version: 12 },
    )
    return r.responses[0].partitionResponses[0]
  }

  it('stores the batch as sent: only base offset and leader epoch change', async () => {
    const sent = await recordBatch(['a', 'b'], { compression: 'gzip' })
    await produce(await recordBatch(['first']))
    assert.equal((await produce(sent)).baseOffset, 1n)
    const [, stored] = [...cluster.topics.get('p')!.partitions[0].log.batches()]
    assert.equal(stored.readBigInt64BE(0), 1n)
    assert.deepEqual(stored.subarray(16), sent.subarray(16), 'magic, CRC, attributes and records untouched')
  })

  it('refuses a bad CRC, two batches in one partition, a batch above max.message.bytes, an unknown partition', async () => {
    const corrupt = await recordBatch(['x'])
    corrupt[corrupt.length - 1] ^= 0xff
    assert.equal((await produce(corrupt)).errorCode, ErrorCode.CORRUPT_MESSAGE)
    const two = Buffer.concat([await recordBatch(['y']), await recordBatch(['z'])])
    assert.equal((await produce(two)).errorCode, ErrorCode.INVALID_RECORD)
    assert.equal((await produce(await recordBatch(['w'.repeat(3000)]))).errorCode, ErrorCode.MESSAGE_TOO_LARGE)
    const r = await conn.request(
      Produce,
      {
        acks: 1,
        timeoutMs: 1000,
        topicData: [{ name: 'p', partitionData: [{ index: 5, records: await recordBatch(['v']) }] }],
      },
      { version: 12 },
    )
    assert.equal(r.responses[0].partitionResponses[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
  })

  it('answers an idempotent retry with the offsets of its first write, and writes it once', async () => {
    const batch = await recordBatch(['once', 'only'], { producerId: 99n, producerEpoch: 0, baseSequence: 0 })
    const first = await produce(batch)
    const retry = await produce(batch)
    assert.equal(retry.errorCode, ErrorCode.NONE)
    assert.equal(retry.baseOffset, first.baseOffset)
    const values = (await cluster.records('p')).map((r) => String(r.value))
    assert.equal(values.filter((v) => v === 'once').length, 1)
    const gap = await produce(await recordBatch(['gap'], { producerId: 99n, producerEpoch: 0, baseSequence: 5 }))
    assert.equal(gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
  })
})
