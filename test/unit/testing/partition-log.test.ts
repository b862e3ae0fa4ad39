// The fake broker's partition log: offsets assigned on append, reads bounded by bytes and by the
// high watermark or last stable offset, segments, retention and DeleteRecords, LogAppendTime with
// a valid CRC, leader epochs, and lookups by timestamp.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeRecordBatches, RecordBatchBuilder } from '../../../src/protocol/records/index.ts'
import { PartitionLog } from '../../../src/testing/partition-log.ts'

async function batch(values: string[], timestamp = 1000, compression: 'none' | 'lz4' = 'none'): Promise<Buffer> {
  const b = new RecordBatchBuilder({ compression }, 256)
  for (const [i, v] of values.entries()) b.append({ key: null, value: Buffer.from(v), timestamp: timestamp + i })
  return b.build()
}

const options = { retentionBytes: -1, retentionMs: -1, segmentBytes: 1024 * 1024 }

describe('PartitionLog', () => {
  it('assigns offsets batch after batch and reads them back from any offset inside a batch', async () => {
    const log = new PartitionLog(options)
    assert.deepEqual(log.append(await batch(['a', 'b', 'c']), 0, 5000, false), { baseOffset: 0, lastOffset: 2 })
    assert.deepEqual(log.append(await batch(['d', 'e']), 0, 5000, false), { baseOffset: 3, lastOffset: 4 })
    assert.equal(log.logEndOffset, 5)
    const fromMiddle = await decodeRecordBatches(log.read(1, 1 << 20, log.logEndOffset))
    assert.deepEqual(
      fromMiddle.flatMap((b) => b.records.map((r) => `${r.offset}:${r.value}`)),
      ['0:a', '1:b', '2:c', '3:d', '4:e'],
      'the batch holding offset 1 comes whole, then the next',
    )
    assert.equal(log.read(5, 1 << 20, 5).length, 0, 'nothing at the end')
    const upToFirst = await decodeRecordBatches(log.read(0, 1 << 20, 3))
    assert.equal(upToFirst.length, 1, 'not past the given upper bound (high watermark or LSO)')
  })

  it('returns the first batch whatever its size, the others only within maxBytes (KIP-74)', async () => {
    const log = new PartitionLog(options)
    const big = await batch(['x'.repeat(500)])
    log.append(big, 0, 0, false)
    log.append(await batch(['y']), 0, 0, false)
    assert.equal(log.read(0, 10, 2).length, big.length, 'one oversized batch')
    assert.equal(log.read(0, 10, 2, false).length, 0, 'unless it is not the first of the response')
    assert.ok(log.read(0, 1 << 20, 2).length > big.length, 'both when they fit')
  })

  it('rolls segments, deletes the oldest past retention.bytes and moves the log start offset', async () => {
    const log = new PartitionLog({ retentionBytes: 3000, retentionMs: -1, segmentBytes: 1000 })
    for (let i = 0; i < 40; i++) log.append(await batch([`value-${i}-${'z'.repeat(200)}`]), 0, 0, false)
    assert.equal(log.logEndOffset, 40)
    assert.ok(log.sizeInBytes <= 3000 + 1000, `kept ${log.sizeInBytes} bytes`)
    assert.ok(log.logStartOffset > 0, 'old segments were deleted')
    assert.equal(log.read(0, 1 << 20, 40).length, 0, 'below the log start nothing is read')
    const kept = await log.records()
    assert.equal(Number(kept[0].offset), log.logStartOffset)
    assert.equal(Number(kept.at(-1)!.offset), 39)
  })

  it('keeps a large batch the request brought as a segment of its own when told it may, else copies it', async () => {
    const values = Array.from({ length: 100 }, (_, i) => `${i}-${'v'.repeat(1000)}`)
    const log = new PartitionLog(options)
    log.append(await batch(['first']), 0, 0, false)
    const large = await batch(values, 2000)
    log.append(large, 3, 0, false, true)
    log.append(await batch(['last']), 3, 0, false, true)
    const read = log.read(1, 1 << 20, log.logEndOffset)
    assert.equal(read.buffer, large.buffer, 'the adopted batch is read where it came, not from a copy')
    assert.equal(read.length, large.length, 'alone in its segment: the next append went to a new one')
    const [adopted] = await decodeRecordBatches(read)
    assert.equal(adopted.baseOffset, 1n, 'its base offset is set in place')
    assert.equal(adopted.partitionLeaderEpoch, 3)
    assert.deepEqual(
      (await log.records()).map((r) => `${r.offset}:${String(r.value).slice(0, 6)}`),
      ['0:first', ...values.map((v, i) => `${i + 1}:${v.slice(0, 6)}`), '101:last'],
    )

    const copied = new PartitionLog(options)
    const inLargerMemory = Buffer.concat([await batch(values), Buffer.alloc(2 * large.length)])
    copied.append(inLargerMemory.subarray(0, large.length), 0, 0, false, true)
    copied.append(large, 0, 0, false)
    assert.notEqual(
      copied.read(0, large.length, 200).buffer,
      inLargerMemory.buffer,
      'a batch that is less than half of the memory it is in is copied',
    )
    assert.notEqual(copied.read(100, large.length, 200).buffer, large.buffer, 'a batch not given away is copied')
    assert.equal(copied.read(0, 1 << 20, 200).length, 2 * large.length, 'both packed into one segment')
  })

  it('DeleteRecords moves the log start offset; reads start there', async () => {
    const log = new PartitionLog(options)
    log.append(await batch(['a', 'b', 'c', 'd']), 0, 0, false)
    log.deleteRecordsBefore(2)
    assert.equal(log.logStartOffset, 2)
    assert.deepEqual(
      (await log.records()).map((r) => String(r.value)),
      ['c', 'd'],
    )
  })

  it('sets LogAppendTime and recomputes the CRC, which a CRC-checking decoder accepts', async () => {
    const log = new PartitionLog(options)
    log.append(await batch(['a', 'b'], 1000, 'lz4'), 3, 777_000, true)
    const [decoded] = await decodeRecordBatches(log.read(0, 1 << 20, 2), { checkCrcs: true })
    assert.equal(decoded.logAppendTime, true)
    assert.equal(decoded.partitionLeaderEpoch, 3)
    assert.deepEqual(
      decoded.records.map((r) => r.timestamp),
      [777_000, 777_000],
    )
  })

  it('answers OffsetForLeaderEpoch from the epochs batches were written in', async () => {
    const log = new PartitionLog(options)
    log.append(await batch(['a', 'b']), 0, 0, false)
    log.append(await batch(['c']), 2, 0, false)
    log.append(await batch(['d']), 2, 0, false)
    assert.deepEqual(log.endOffsetFor(0, 2), { epoch: 0, endOffset: 2 })
    assert.deepEqual(
      log.endOffsetFor(1, 2),
      { epoch: 0, endOffset: 2 },
      'an epoch without writes maps to the one before',
    )
    assert.deepEqual(log.endOffsetFor(2, 2), { epoch: 2, endOffset: 4 })
    assert.equal(log.epochAt(3), 2)
  })

  it('finds the first record at or after a timestamp, and the record with the largest one', async () => {
    const log = new PartitionLog(options)
    log.append(await batch(['a', 'b', 'c'], 100), 0, 0, false)
    log.append(await batch(['d', 'e'], 500, 'lz4'), 0, 0, false)
    assert.deepEqual(await log.offsetForTimestamp(101), { offset: 1, timestamp: 101 })
    assert.deepEqual(await log.offsetForTimestamp(300), { offset: 3, timestamp: 500 })
    assert.equal(await log.offsetForTimestamp(10_000), undefined)
    assert.deepEqual(await log.maxTimestampRecord(), { offset: 4, timestamp: 501 })
  })

  it('tells waiters of every append', async () => {
    const log = new PartitionLog(options)
    let calls = 0
    const unsubscribe = log.onChange(() => calls++)
    log.append(await batch(['a']), 0, 0, false)
    unsubscribe()
    log.append(await batch(['b']), 0, 0, false)
    assert.equal(calls, 1)
  })
})
