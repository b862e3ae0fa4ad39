// The pure parts of group membership: assignment diffs, the leader's partition-count watch, and
// the OffsetCommit / OffsetFetch bodies and answers at old and new versions, for a classic member
// (generation) and a consumer-protocol one (member epoch), checked through the generated codecs,
// so a field a version cannot carry would fail here, not at the broker.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ClusterMetadata } from '../../../src/client/metadata.ts'
import { tpKey } from '../../../src/consumer/message.ts'
import { diffAssignment } from '../../../src/group/membership.ts'
import { partitionCounts, sameCounts } from '../../../src/group/metadata-watch.ts'
import {
  offsetCommitError,
  offsetCommitRequest,
  offsetFetchRequest,
  offsetFetchResult,
} from '../../../src/group/offsets.ts'
import { KafkaError } from '../../../src/protocol/errors.ts'
import type { OffsetFetchResponse } from '../../../src/protocol/messages/generated/offset-fetch-response.ts'
import { type MessageCodec, OffsetCommit, OffsetFetch } from '../../../src/protocol/messages/index.ts'
import { Reader, Writer } from '../../../src/protocol/primitives/index.ts'
import { setTopic } from '../../helpers/metadata.ts'

/** Writes a body with a codec and reads it back: what the broker would see. */
function roundTrip<T>(codec: MessageCodec<T>, version: number, body: T): T {
  const w = new Writer()
  codec.write(w, version, body)
  return codec.read(new Reader(w.finish()), version)
}

const tp = (topic: string, partition: number) => ({ topic, partition })

describe('diffAssignment', () => {
  it('splits a new assignment into revoked and added partitions, keeping those that stay out of both', () => {
    const { revoked, added } = diffAssignment(
      [tp('a', 0), tp('a', 1), tp('b', 0)],
      [tp('a', 1), tp('b', 0), tp('b', 1), tp('c', 0)],
    )
    assert.deepEqual(revoked, [tp('a', 0)])
    assert.deepEqual(added, [tp('b', 1), tp('c', 0)])
  })

  it('finds nothing to do when the assignment is unchanged', () => {
    assert.deepEqual(diffAssignment([tp('a', 0), tp('a', 1)], [tp('a', 1), tp('a', 0)]), { revoked: [], added: [] })
  })
})

describe('partition counts (the leader watch)', () => {
  const metadata = new ClusterMetadata()
  const topic = (name: string, partitions: number, errorCode = 0) => setTopic(metadata, name, partitions, errorCode)
  topic('orders', 6)
  topic('audit', 2)
  topic('missing', 0, 3)

  it('counts the partitions of the topics that exist and leaves out missing ones', () => {
    assert.deepEqual(
      partitionCounts(metadata, ['orders', 'audit', 'missing', 'unknown']),
      new Map([
        ['orders', 6],
        ['audit', 2],
      ]),
    )
  })

  it('notices a topic gaining partitions or appearing', () => {
    const before = partitionCounts(metadata, ['orders', 'missing'])
    assert.ok(sameCounts(before, partitionCounts(metadata, ['orders', 'missing'])))
    topic('orders', 8)
    assert.ok(!sameCounts(before, partitionCounts(metadata, ['orders', 'missing'])))
    topic('orders', 6)
    topic('missing', 1)
    assert.ok(!sameCounts(before, partitionCounts(metadata, ['orders', 'missing'])))
  })
})

describe('OffsetCommit', () => {
  const who = { groupId: 'g', generationId: 7, memberId: 'm-1', groupInstanceId: 'i-1' }
  const offsets = [
    { topic: 'a', partition: 0, offset: 10n, leaderEpoch: 3 },
    { topic: 'b', partition: 2, offset: 5n, metadata: 'note' },
    { topic: 'a', partition: 1, offset: 11n },
  ]

  it('v9: one entry per topic with generation, member, instance id, leader epochs and metadata', () => {
    const sent = roundTrip(OffsetCommit.request, 9, offsetCommitRequest(9, who, offsets))
    assert.equal(sent.groupId, 'g')
    assert.equal(sent.generationIdOrMemberEpoch, 7)
    assert.equal(sent.memberId, 'm-1')
    assert.equal(sent.groupInstanceId, 'i-1')
    assert.deepEqual(
      sent.topics.map((t) => [
        t.name,
        t.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.committedLeaderEpoch, p.committedMetadata]),
      ]),
      [
        [
          'a',
          [
            [0, 10n, 3, ''],
            [1, 11n, -1, ''],
          ],
        ],
        ['b', [[2, 5n, -1, 'note']]],
      ],
    )
  })

  it('v2..v6: no instance id field, so none is sent (the codec refuses one)', () => {
    const sent = roundTrip(OffsetCommit.request, 6, offsetCommitRequest(6, who, offsets))
    assert.equal(sent.groupInstanceId, null)
    assert.equal(sent.generationIdOrMemberEpoch, 7)
    assert.equal(sent.topics.length, 2)
  })

  it('a consumer-protocol member (KIP-848) commits with its member epoch in place of a generation', () => {
    const member = { groupId: 'g', memberEpoch: 12, memberId: 'uuid-1', groupInstanceId: null }
    const sent = roundTrip(OffsetCommit.request, 9, offsetCommitRequest(9, member, offsets))
    assert.equal(sent.generationIdOrMemberEpoch, 12)
    assert.equal(sent.memberId, 'uuid-1')
    assert.equal(sent.groupInstanceId, null)
  })

  it('turns the first partition error into a KafkaError', () => {
    const ok = {
      throttleTimeMs: 0,
      topics: [{ name: 'a', topicId: '', partitions: [{ partitionIndex: 0, errorCode: 0 }] }],
    }
    assert.equal(offsetCommitError(ok), undefined)
    const failed = {
      throttleTimeMs: 0,
      topics: [
        {
          name: 'a',
          topicId: '',
          partitions: [
            { partitionIndex: 0, errorCode: 0 },
            { partitionIndex: 1, errorCode: 22 },
          ],
        },
      ],
    }
    const error = offsetCommitError(failed)
    assert.ok(error instanceof KafkaError)
    assert.equal(error.type, 'ILLEGAL_GENERATION')
    assert.match(error.message, /a-1/)
  })
})

describe('OffsetFetch', () => {
  const partitions = [tp('a', 0), tp('a', 1), tp('b', 0)]
  const classic = { groupId: 'g', generationId: 7, memberId: 'm-1', groupInstanceId: null }

  it('v8+: the batched groups format, with requireStable', () => {
    const sent = roundTrip(OffsetFetch.request, 9, offsetFetchRequest(9, classic, partitions, true))
    assert.equal(sent.requireStable, true)
    assert.deepEqual(
      sent.groups?.map((g) => [g.groupId, g.topics?.map((t) => [t.name, t.partitionIndexes])]),
      [
        [
          'g',
          [
            ['a', [0, 1]],
            ['b', [0]],
          ],
        ],
      ],
    )
  })

  it('v9: a classic member fetches for the group alone; a consumer-protocol member names itself and its epoch', () => {
    const asClassic = roundTrip(OffsetFetch.request, 9, offsetFetchRequest(9, classic, partitions, false))
    assert.deepEqual(
      asClassic.groups?.map((g) => [g.memberId, g.memberEpoch]),
      [[null, -1]],
    )
    const member = { groupId: 'g', memberEpoch: 12, memberId: 'uuid-1', groupInstanceId: null }
    const asMember = roundTrip(OffsetFetch.request, 9, offsetFetchRequest(9, member, partitions, false))
    assert.deepEqual(
      asMember.groups?.map((g) => [g.groupId, g.memberId, g.memberEpoch, g.topics?.length]),
      [['g', 'uuid-1', 12, 2]],
    )
    // before v9 there is no field for them
    const v8 = roundTrip(OffsetFetch.request, 8, offsetFetchRequest(8, member, partitions, false))
    assert.deepEqual(
      v8.groups?.map((g) => [g.groupId, g.memberId, g.memberEpoch]),
      [['g', null, -1]],
    )
  })

  it('v7: one group at the top level; before v7 requireStable cannot be asked for', () => {
    const v7 = roundTrip(OffsetFetch.request, 7, offsetFetchRequest(7, classic, partitions, true))
    assert.equal(v7.groupId, 'g')
    assert.equal(v7.requireStable, true)
    assert.deepEqual(
      v7.topics?.map((t) => [t.name, t.partitionIndexes]),
      [
        ['a', [0, 1]],
        ['b', [0]],
      ],
    )
    const v5 = roundTrip(OffsetFetch.request, 5, offsetFetchRequest(5, classic, partitions, true))
    assert.equal(v5.requireStable, false)
    assert.equal(v5.topics?.length, 2)
  })

  const partition = (partitionIndex: number, committedOffset: bigint, errorCode = 0) => ({
    partitionIndex,
    committedOffset,
    committedLeaderEpoch: committedOffset < 0n ? -1 : 4,
    metadata: '',
    errorCode,
  })

  it('v8+: reads the group entry; offset -1 means nothing committed', () => {
    const response: OffsetFetchResponse = {
      throttleTimeMs: 0,
      topics: [],
      errorCode: 0,
      groups: [
        {
          groupId: 'g',
          errorCode: 0,
          topics: [{ name: 'a', topicId: '', partitions: [partition(0, 42n), partition(1, -1n)] }],
        },
      ],
    }
    const result = offsetFetchResult(9, 'g', roundTrip(OffsetFetch.response, 9, response))
    assert.deepEqual(
      result,
      new Map([
        [tpKey('a', 0), { offset: 42n, leaderEpoch: 4 }],
        [tpKey('a', 1), null],
      ]),
    )
  })

  it('v5: reads the top-level topics; group and partition errors are thrown', () => {
    const response = (groupError: number, partitionError: number): OffsetFetchResponse => ({
      throttleTimeMs: 0,
      topics: [{ name: 'a', partitions: [partition(0, 7n, partitionError)] }],
      errorCode: groupError,
      groups: [],
    })
    assert.deepEqual(
      offsetFetchResult(5, 'g', roundTrip(OffsetFetch.response, 5, response(0, 0))),
      new Map([[tpKey('a', 0), { offset: 7n, leaderEpoch: 4 }]]),
    )
    assert.throws(
      () => offsetFetchResult(5, 'g', response(14, 0)),
      (e: unknown) => e instanceof KafkaError && e.type === 'COORDINATOR_LOAD_IN_PROGRESS' && e.retriable,
    )
    assert.throws(
      () => offsetFetchResult(5, 'g', response(0, 88)),
      (e: unknown) => e instanceof KafkaError && e.type === 'UNSTABLE_OFFSET_COMMIT',
    )
  })

  it('v8+: an answer without the group asked for is an error', () => {
    const response: OffsetFetchResponse = { throttleTimeMs: 0, topics: [], errorCode: 0, groups: [] }
    assert.throws(() => offsetFetchResult(8, 'g', response), KafkaError)
  })
})
