// Control records (transaction markers): bytes laid out by hand from KIP-98 / the protocol guide's
// "Control Batches" section, and a control batch through the RecordBatch decoder.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { crc32c } from '../../../src/protocol/crc32c.ts'
import { ProtocolError } from '../../../src/protocol/errors.ts'
import {
  buildControlBatch,
  controlType,
  decodeControlRecord,
  decodeRecordBatches,
  encodeControlRecord,
  RecordBatchBuilder,
} from '../../../src/protocol/records/index.ts'

const hex = (s: string) => Buffer.from(s, 'hex')

describe('control records', () => {
  it('encodes a COMMIT marker: key version 0, type 1; value version 0, coordinator epoch', () => {
    const r = encodeControlRecord({ type: 'COMMIT', coordinatorEpoch: 5 }, 1000)
    assert.equal(r.key?.toString('hex'), '0000' + '0001')
    assert.equal(r.value?.toString('hex'), '0000' + '00000005')
    assert.equal(r.timestamp, 1000)
  })

  it('encodes an ABORT marker with type 0 and the epoch big-endian', () => {
    const r = encodeControlRecord({ type: 'ABORT', coordinatorEpoch: 0x01020304 }, 0)
    assert.equal(r.key?.toString('hex'), '00000000')
    assert.equal(r.value?.toString('hex'), '000001020304')
  })

  it('decodes markers, reading newer versions for the fields they start with', () => {
    assert.deepEqual(decodeControlRecord({ key: hex('00000000'), value: hex('0000000000ff') }), {
      type: 'ABORT',
      coordinatorEpoch: 255,
    })
    // key version 1 and value version 1 with a trailing field still carry type and epoch first
    assert.deepEqual(decodeControlRecord({ key: hex('00010001'), value: hex('0001fffffffe' + 'abcd') }), {
      type: 'COMMIT',
      coordinatorEpoch: -2,
    })
  })

  it('raises ProtocolError on keys and values that are not transaction markers', () => {
    const bad = [
      { key: hex('000001'), value: hex('000000000000') }, // key too short
      { key: null, value: hex('000000000000') },
      { key: hex('ffff0001'), value: hex('000000000000') }, // negative key version
      { key: hex('00000002'), value: hex('000000000000') }, // LEADER_CHANGE: not a marker
      { key: hex('00000001'), value: hex('0000000000') }, // value too short
      { key: hex('00000001'), value: null },
      { key: hex('00000001'), value: hex('ffff00000000') }, // negative value version
    ]
    for (const record of bad) assert.throws(() => decodeControlRecord(record), ProtocolError)
  })

  it('lays out a control batch with the control and transactional attributes', async () => {
    const batch = await buildControlBatch(
      { type: 'COMMIT', coordinatorEpoch: 5 },
      { producerId: 42n, producerEpoch: 3, timestamp: 1000, partitionLeaderEpoch: 7 },
    )
    // record: attributes 0, timestampDelta 0, offsetDelta 0, key length 4 (zigzag 08), key,
    // value length 6 (zigzag 0c), value, no headers; 16 bytes, so its length varint is zigzag 32 = 20
    const record = '00' + '00' + '00' + '08' + '00000001' + '0c' + '000000000005' + '00'
    const afterCrc =
      '0030' + // attributes: bit 5 control, bit 4 transactional, no codec
      '00000000' + // lastOffsetDelta
      '00000000000003e8' + // baseTimestamp 1000
      '00000000000003e8' + // maxTimestamp
      '000000000000002a' + // producerId 42
      '0003' + // producerEpoch
      'ffffffff' + // baseSequence: none for markers
      '00000001' + // record count
      `20${record}`
    const crc = crc32c(hex(afterCrc)).toString(16).padStart(8, '0')
    const tail = `0000000702${crc}${afterCrc}` // leader epoch 7, magic 2, crc
    assert.equal(batch.toString('hex'), `0000000000000000${(tail.length / 2).toString(16).padStart(8, '0')}${tail}`)
  })

  it('marks the records of a decoded control batch and tells their type', async () => {
    const plain = new RecordBatchBuilder()
    plain.append({ key: hex('00000001'), value: hex('000000000009'), timestamp: 5 }) // marker-shaped, not a marker
    const data = Buffer.concat([
      await buildControlBatch(
        { type: 'ABORT', coordinatorEpoch: 9 },
        { producerId: 1n, producerEpoch: 0, timestamp: 5 },
      ),
      await plain.build(),
    ])
    const [marker, ordinary] = await decodeRecordBatches(data)
    assert.equal(marker.control, true)
    assert.equal(marker.transactional, true)
    assert.equal(marker.records[0].control, true)
    assert.equal(controlType(marker.records[0]), 'ABORT')
    assert.deepEqual(decodeControlRecord(marker.records[0]), { type: 'ABORT', coordinatorEpoch: 9 })
    assert.equal(ordinary.control, false)
    assert.equal(ordinary.records[0].control, false)
    assert.equal(controlType(ordinary.records[0]), null)
  })

  it('reports control types a client does not act on as UNKNOWN', async () => {
    const b = new RecordBatchBuilder({ control: true })
    b.append({ key: hex('00000003'), value: hex('0000'), timestamp: 1 }) // SNAPSHOT_HEADER (KRaft)
    const [batch] = await decodeRecordBatches(await b.build())
    assert.equal(batch.transactional, false)
    assert.equal(controlType(batch.records[0]), 'UNKNOWN')
  })
})
