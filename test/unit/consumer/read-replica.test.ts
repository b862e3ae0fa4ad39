// Fetching from the closest replica (KIP-392) over a fake cluster: the rack goes with every Fetch;
// the replica a leader names is fetched from until it errs, lags (offset out of range: back to the
// leader, no reset), leaves the ISR, cannot be reached, or the naming expires.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Fetcher, type FetcherOptions } from '../../../src/consumer/fetcher.ts'
import { ErrorCode } from '../../../src/protocol/error-codes.ts'
import { ConnectionError } from '../../../src/protocol/errors.ts'
import { asked, batch, FakeFetchCluster, fetchAnswer, turns } from './fake-fetch-cluster.ts'

const ID = '33333333-3333-3333-3333-333333333333'
const tp = { topic: 't', partition: 0 }

function setup(options: FetcherOptions = {}, maxAgeMs?: number) {
  const fake = new FakeFetchCluster()
  if (maxAgeMs !== undefined) fake.metadataMaxAgeMs = maxAgeMs
  // led by node 1, followed by nodes 2 and 3
  fake.addTopic('t', ID, [1], [2, 3])
  const fetcher = new Fetcher(fake.cluster(), { resetPolicy: 'earliest', rackId: 'rack-2', ...options })
  const close = async () => {
    const closing = fetcher.close()
    fake.abandon(new ConnectionError('test over'))
    await closing
  }
  return { fake, fetcher, close }
}

/** Assigns at 0 and has the leader name node 2: the next fetch goes there. */
async function followerNamed(fake: FakeFetchCluster, fetcher: Fetcher) {
  fetcher.assign([{ ...tp, offset: 0n }])
  const first = await fake.nextFetch()
  assert.equal(first.nodeId, 1)
  assert.equal(first.body.rackId, 'rack-2')
  first.reply(fetchAnswer(fake, first, [{ ...tp, preferredReadReplica: 2, highWatermark: 5n }]))
  const second = await fake.nextFetch()
  assert.equal(second.nodeId, 2, 'the replica the leader named')
  assert.deepEqual(asked(fake, second.body), ['t-0@0'])
  return second
}

describe('Fetcher: the preferred read replica (KIP-392)', () => {
  it("fetches from the replica the leader names, with the leader's epoch, and keeps to it", async () => {
    const { fake, fetcher, close } = setup()
    const fromFollower = await followerNamed(fake, fetcher)
    assert.equal(fromFollower.body.topics[0].partitions[0].currentLeaderEpoch, 0)
    fromFollower.reply(fetchAnswer(fake, fromFollower, [{ ...tp, records: await batch(0n, ['a', 'b']) }]))
    const got = await fetcher.next(AbortSignal.timeout(2000))
    assert.deepEqual(
      got.messages.map((m) => m.value?.toString()),
      ['a', 'b'],
    )
    const third = await fake.nextFetch()
    assert.deepEqual([third.nodeId, asked(fake, third.body)], [2, ['t-0@2']])
    await close()
  })

  it('a follower that has not the offset yet sends the partition back to the leader, without a reset', async () => {
    const { fake, fetcher, close } = setup()
    const fromFollower = await followerNamed(fake, fetcher)
    fromFollower.reply(fetchAnswer(fake, fromFollower, [{ ...tp, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE }]))
    const again = await fake.nextFetch()
    assert.deepEqual([again.nodeId, asked(fake, again.body)], [1, ['t-0@0']])
    assert.equal(fake.queuedListOffsets, 0, 'the position stays')
    await close()
  })

  it('back to the leader when the follower errs, cannot be reached, or leaves the ISR', async () => {
    for (const trouble of ['error', 'connection', 'isr'] as const) {
      const { fake, fetcher, close } = setup()
      const fromFollower = await followerNamed(fake, fetcher)
      if (trouble === 'error')
        fromFollower.reply(fetchAnswer(fake, fromFollower, [{ ...tp, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER }]))
      else if (trouble === 'connection') fromFollower.fail(new ConnectionError('node 2 went away'))
      else {
        fake.topics.get('t')!.partitions[0].isr = [1, 3]
        fromFollower.reply(fetchAnswer(fake, fromFollower, [{ ...tp }]))
      }
      const again = await fake.nextFetch()
      assert.equal(again.nodeId, 1, trouble)
      await close()
    }
  })

  it('the naming expires after metadataMaxAgeMs: the leader is asked again', async () => {
    const { fake, fetcher, close } = setup({}, 40)
    const fromFollower = await followerNamed(fake, fetcher)
    await new Promise((r) => setTimeout(r, 60))
    fromFollower.reply(fetchAnswer(fake, fromFollower, [{ ...tp }]))
    await turns()
    const again = await fake.nextFetch()
    assert.equal(again.nodeId, 1)
    await close()
  })
})
