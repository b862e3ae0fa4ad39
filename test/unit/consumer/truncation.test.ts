// Log truncation detection (KIP-320) over a fake cluster: the epoch of the last record fetched goes
// with each Fetch; a new leader (a newer leader epoch in the metadata) is asked with
// OffsetForLeaderEpoch where the position's epoch ends in its log, and fetching waits for the answer.
// An end below the position moves it back to the first offset known to diverge (reset policy
// 'earliest' or 'latest', as Java) or raises a LogTruncationError ('none'); an end at or past it
// changes nothing; an epoch the leader no longer knows goes to the reset policy. A Fetch answer's
// diverging epoch is handled the same way, and what was fetched from the old leader is dropped.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Fetcher, type FetcherOptions } from '../../../src/consumer/fetcher.ts'
import { ErrorCode, kafkaError } from '../../../src/protocol/error-codes.ts'
import { ConnectionError, LogTruncationError } from '../../../src/protocol/errors.ts'
import { asked, batch, epochAnswer, FakeFetchCluster, fetchAnswer, listOffsetsAnswer } from './fake-fetch-cluster.ts'

const ID = '44444444-4444-4444-4444-444444444444'
const tp = { topic: 't', partition: 0 }

function setup(options: FetcherOptions = {}) {
  const fake = new FakeFetchCluster()
  fake.addTopic('t', ID, [1], [2])
  const errors: unknown[] = []
  const fetcher = new Fetcher(fake.cluster(), { resetPolicy: 'earliest', ...options })
  fetcher.on('error', (e) => errors.push(e))
  const close = async () => {
    const closing = fetcher.close()
    fake.abandon(new ConnectionError('test over'))
    await closing
  }
  return { fake, fetcher, errors, close }
}

/** Reads records 0..4 written in leader epoch 0, then node 2 becomes the leader in epoch 1. */
async function readThenNewLeader(fake: FakeFetchCluster, fetcher: Fetcher) {
  fetcher.assign([{ ...tp, offset: 0n }])
  const first = await fake.nextFetch()
  assert.equal(first.body.topics[0].partitions[0].lastFetchedEpoch, -1, 'nothing fetched yet')
  first.reply(fetchAnswer(fake, first, [{ ...tp, records: await batch(0n, ['a', 'b', 'c', 'd', 'e']) }]))
  const got = await fetcher.next(AbortSignal.timeout(2000))
  assert.equal(got.messages.length, 5)
  const second = await fake.nextFetch()
  assert.deepEqual(asked(fake, second.body), ['t-0@5'])
  assert.equal(second.body.topics[0].partitions[0].lastFetchedEpoch, 0, 'the epoch of the records fetched')
  const p = fake.topics.get('t')!.partitions[0]
  p.leader = 2
  p.leaderEpoch = 1
  second.fail(new ConnectionError('node 1 died'))
  const lookup = await fake.nextEpochLookup()
  assert.equal(lookup.nodeId, 2, 'asked of the new leader')
  assert.deepEqual(lookup.body.topics[0].partitions[0], { partition: 0, currentLeaderEpoch: 1, leaderEpoch: 0 })
  assert.equal(lookup.body.replicaId, -1)
  assert.equal(fake.queuedFetches, 0, 'no fetch before the position is validated')
  return lookup
}

describe('Fetcher: log truncation detection (KIP-320)', () => {
  it("truncated below the position: back to the first offset known to diverge ('earliest' or 'latest', as Java)", async () => {
    for (const resetPolicy of ['earliest', 'latest'] as const) {
      const { fake, fetcher, errors, close } = setup({ resetPolicy })
      const lookup = await readThenNewLeader(fake, fetcher)
      lookup.reply(epochAnswer('t', 0, 0, 3n))
      const after = await fake.nextFetch()
      assert.deepEqual([after.nodeId, asked(fake, after.body)], [2, ['t-0@3']])
      assert.equal(after.body.topics[0].partitions[0].lastFetchedEpoch, 0)
      assert.equal(fetcher.position(tp), 3n)
      assert.equal(fake.queuedListOffsets, 0, 'not a reset to the earliest or latest offset')
      // what the new leader wrote from there on is read, nothing skipped
      after.reply(fetchAnswer(fake, after, [{ ...tp, records: await batch(3n, ['x', 'y'], { leaderEpoch: 1 }) }]))
      const got = await fetcher.next(AbortSignal.timeout(2000))
      assert.deepEqual(
        got.messages.map((m) => [m.offset, m.value?.toString(), m.leaderEpoch]),
        [
          [3n, 'x', 1],
          [4n, 'y', 1],
        ],
      )
      assert.deepEqual(errors, [])
      await close()
    }
  })

  it("resetPolicy 'none': a LogTruncationError naming the position and the divergent offset; no fetch until a seek", async () => {
    const { fake, fetcher, errors, close } = setup({ resetPolicy: 'none' })
    const lookup = await readThenNewLeader(fake, fetcher)
    lookup.reply(epochAnswer('t', 0, 0, 3n))
    await new Promise((r) => setTimeout(r, 30))
    assert.equal(errors.length, 1)
    const e = errors[0] as LogTruncationError
    assert.ok(e instanceof LogTruncationError, String(e))
    assert.deepEqual(
      [e.code, e.retriable, e.topic, e.partition, e.offset, e.divergentOffset],
      ['ETRUNCATED', false, 't', 0, 5n, 3n],
    )
    assert.match(e.message, /truncated at offset 3, below the position 5/)
    assert.equal(fake.queuedFetches, 0)
    await fetcher.seek(tp, e.divergentOffset)
    const after = await fake.nextFetch()
    assert.deepEqual(asked(fake, after.body), ['t-0@3'])
    await close()
  })

  it('the epoch ends at or past the position: fetching goes on where it was', async () => {
    const { fake, fetcher, errors, close } = setup()
    const lookup = await readThenNewLeader(fake, fetcher)
    lookup.reply(epochAnswer('t', 0, 0, 5n))
    const after = await fake.nextFetch()
    assert.deepEqual([after.nodeId, asked(fake, after.body)], [2, ['t-0@5']])
    assert.deepEqual(errors, [])
    await close()
  })

  it('an epoch the new leader does not know (older than its log) goes to the reset policy', async () => {
    const { fake, fetcher, close } = setup()
    const lookup = await readThenNewLeader(fake, fetcher)
    lookup.reply(epochAnswer('t', 0, -1, -1n))
    const reset = await fake.nextListOffsets()
    assert.equal(reset.body.topics[0].partitions[0].timestamp, -2n, 'the earliest offset')
    reset.reply(listOffsetsAnswer('t', 0, 10n))
    assert.deepEqual(asked(fake, (await fake.nextFetch()).body), ['t-0@10'])
    await close()
  })

  it('FENCED_LEADER_EPOCH: the metadata is refreshed and the validation tried again', async () => {
    const { fake, fetcher, close } = setup()
    const lookup = await readThenNewLeader(fake, fetcher)
    lookup.reply(epochAnswer('t', 0, -1, -1n, ErrorCode.FENCED_LEADER_EPOCH))
    const again = await fake.nextEpochLookup()
    assert.ok(fake.refreshes.some((t) => t.includes('t')))
    again.reply(epochAnswer('t', 0, 0, 5n))
    assert.deepEqual(asked(fake, (await fake.nextFetch()).body), ['t-0@5'])
    await close()
  })

  it('a leader without OffsetForLeaderEpoch: fetching goes on unvalidated, as Java does', async () => {
    const { fake, fetcher, errors, close } = setup()
    const lookup = await readThenNewLeader(fake, fetcher)
    lookup.fail(kafkaError(ErrorCode.UNSUPPORTED_VERSION, 'OffsetForLeaderEpoch: broker supports none'))
    assert.deepEqual(asked(fake, (await fake.nextFetch()).body), ['t-0@5'])
    assert.deepEqual(errors, [])
    await close()
  })

  it("a Fetch answer's diverging epoch: the records fetched ahead are dropped and the position moves back", async () => {
    const { fake, fetcher, close } = setup()
    fetcher.assign([{ ...tp, offset: 0n }])
    const first = await fake.nextFetch()
    first.reply(fetchAnswer(fake, first, [{ ...tp, records: await batch(0n, ['a', 'b', 'c', 'd']) }]))
    await fetcher.next(AbortSignal.timeout(2000))
    const second = await fake.nextFetch()
    second.reply(fetchAnswer(fake, second, [{ ...tp, divergingEpoch: { epoch: 0, endOffset: 2n } }]))
    const third = await fake.nextFetch()
    assert.deepEqual(asked(fake, third.body), ['t-0@2'])
    assert.equal(fake.queuedEpochLookups, 0, 'the answer said it all')
    await close()
  })

  it('records fetched from the old leader and not yet taken are dropped and fetched again from the new one', async () => {
    const fake = new FakeFetchCluster()
    fake.addTopic('t', ID, [1, 1], [2])
    const fetcher = new Fetcher(fake.cluster(), { resetPolicy: 'earliest' })
    const other = { topic: 't', partition: 1 }
    fetcher.assign([
      { ...tp, offset: 0n },
      { ...other, offset: 0n },
    ])
    const first = await fake.nextFetch()
    first.reply(fetchAnswer(fake, first, [{ ...tp, records: await batch(0n, ['a', 'b']) }, { ...other }]))
    assert.equal((await fetcher.next(AbortSignal.timeout(2000))).messages.length, 2)
    const second = await fake.nextFetch()
    // c and d come for t-0 and stay buffered; t-1 hears that node 1 no longer leads
    const p = fake.topics.get('t')!.partitions[0]
    p.leader = 2
    p.leaderEpoch = 1
    second.reply(
      fetchAnswer(fake, second, [
        { ...tp, records: await batch(2n, ['c', 'd']) },
        { ...other, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER },
      ]),
    )
    const lookup = await fake.nextEpochLookup()
    assert.equal(fetcher.position(tp), 2n)
    assert.equal(fetcher.take(tp), undefined, "the old leader's c and d are gone")
    lookup.reply(epochAnswer('t', 0, 0, 2n))
    // t-1's retry (5 ms backoff) may reach node 1 first, then the new leader is asked
    let third = await fake.nextFetch()
    while (third.nodeId !== 2) third = await fake.nextFetch()
    assert.deepEqual(asked(fake, third.body), ['t-0@2'])
    const closing = fetcher.close()
    fake.abandon(new ConnectionError('test over'))
    await closing
  })
})
