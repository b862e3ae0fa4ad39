// The per-broker fetch source without a broker, over a fake cluster layer and a host that records
// what the source asks of its fetcher: the request it builds in its fetch session (full, then
// incremental; topics by id or by name), and what each partition's answer or error does to that
// partition alone; a failed request backs the broker off and starts a new session.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PartitionCursor } from '../../../src/consumer/cursor.ts'
import { FetchBuffer } from '../../../src/consumer/fetch-buffer.ts'
import { type FetchHost, FetchSource, type SourcePartition } from '../../../src/consumer/fetch-source.ts'
import { ErrorCode } from '../../../src/protocol/error-codes.ts'
import { AuthenticationError, ConnectionError, KafkaError, ProtocolError } from '../../../src/protocol/errors.ts'
import { ZERO_UUID } from '../../../src/protocol/messages/runtime.ts'
import { asked, batch, FakeFetchCluster, fetchAnswer, type PendingFetch } from './fake-fetch-cluster.ts'

const ID_A = '66666666-6666-6666-6666-666666666666'
const ID_B = '77777777-7777-7777-7777-777777777777'

function setup() {
  const fake = new FakeFetchCluster()
  fake.addTopic('a', ID_A, [1, 1, 1, 1, 1, 1])
  fake.addTopic('b', ID_B, [1])
  fake.addTopic('legacy', ZERO_UUID, [1])
  const buffer = new FetchBuffer(1 << 20, { changed: () => {}, failed: (_, error) => seen.failures.push(error) })
  const seen = {
    buffered: 0,
    answered: 0,
    wakes: 0,
    outOfRange: [] as string[],
    preferred: [] as [string, number][],
    diverged: [] as [string, bigint, number][],
    refreshes: [] as string[][],
    failures: [] as unknown[],
    warnings: [] as unknown[],
  }
  const host: FetchHost = {
    buffer,
    counters: { fetches: 0, incrementalFetches: 0, bytes: 0, records: 0 },
    log: { warn: (o: unknown) => seen.warnings.push(o) } as FetchHost['log'],
    buffered: () => seen.buffered++,
    answered: () => seen.answered++,
    outOfRange: (c) => seen.outOfRange.push(c.key),
    preferReplica: (c, replica) => seen.preferred.push([c.key, replica]),
    diverged: (c, endOffset, epoch) => seen.diverged.push([c.key, endOffset, epoch]),
    refresh: (topics) => seen.refreshes.push(topics),
    fail: (error) => seen.failures.push(error),
    wake: () => seen.wakes++,
  }
  const config = { minBytes: 1, maxWaitMs: 100, readCommitted: false, checkCrcs: true, rackId: 'rack-1' }
  const source = new FetchSource(1, fake.cluster(), config, host)
  const cursors = new Map<string, PartitionCursor>()
  /** The cursor of `topic-partition` at `offset`, as the fetcher would ask for it. */
  const at = (topic: string, partition: number, offset: bigint): SourcePartition => {
    let cursor = cursors.get(`${topic}-${partition}`)
    if (!cursor) {
      cursor = new PartitionCursor(topic, partition)
      cursor.moveTo(offset)
      cursors.set(`${topic}-${partition}`, cursor)
    }
    const t = fake.topics.get(topic)!
    return {
      cursor,
      request: {
        topic,
        topicId: t.topicId,
        partition,
        fetchOffset: offset,
        currentLeaderEpoch: t.partitions[partition].leaderEpoch,
        lastFetchedEpoch: -1,
        partitionMaxBytes: 1024,
      },
    }
  }
  const cursor = (topic: string, partition: number) => cursors.get(`${topic}-${partition}`)!
  /** Sends one Fetch of `partitions` and hands the test the request; `done` settles once it is handled. */
  const send = async (partitions: SourcePartition[]): Promise<{ request: PendingFetch; done: Promise<void> }> => {
    const done = source.fetch(partitions, 4096)
    return { request: await fake.nextFetch(), done }
  }
  return { fake, host, seen, source, buffer, at, cursor, send }
}

describe('FetchSource', () => {
  it('fetches in its session: every partition first, then only what changed, topics by id', async () => {
    const { fake, host, seen, source, at, cursor, send } = setup()
    const first = await send([at('a', 0, 0n), at('a', 1, 0n), at('b', 0, 5n)])
    assert.ok(source.inFlight && cursor('a', 0).inFlight, 'the broker and its partitions are busy meanwhile')
    const body = first.request.body
    assert.ok(first.request.version >= 13)
    assert.deepEqual(
      [
        body.sessionId,
        body.sessionEpoch,
        body.maxBytes,
        body.minBytes,
        body.maxWaitMs,
        body.isolationLevel,
        body.rackId,
      ],
      [0, 0, 4096, 1, 100, 0, 'rack-1'],
    )
    assert.deepEqual(
      body.topics.map((t) => t.topicId),
      [ID_A, ID_B],
    )
    assert.deepEqual(asked(fake, body), ['a-0@0', 'a-1@0', 'b-0@5'])
    first.request.reply(
      fetchAnswer(fake, first.request, [{ topic: 'a', partition: 0, records: await batch(0n, ['m', 'n']) }], {
        sessionId: 77,
      }),
    )
    await first.done
    assert.ok(!source.inFlight && !cursor('a', 0).inFlight)
    assert.deepEqual([seen.buffered, seen.answered, seen.wakes], [1, 1, 1])
    assert.equal(cursor('a', 0).fetchOffset, 2n)

    // a-0 moved on, a-1 is unchanged, b-0 is no longer fetched
    const second = await send([at('a', 0, 2n), at('a', 1, 0n)])
    assert.deepEqual([second.request.body.sessionId, second.request.body.sessionEpoch], [77, 1])
    assert.deepEqual(asked(fake, second.request.body), ['a-0@2'])
    assert.deepEqual(second.request.body.forgottenTopicsData, [{ topicId: ID_B, partitions: [0] }])
    second.request.reply(fetchAnswer(fake, second.request, [], { sessionId: 77 }))
    await second.done
    assert.deepEqual([host.counters.fetches, host.counters.incrementalFetches], [2, 1])
  })

  it('fetches by name below v13, and when a topic has no id', async () => {
    const { fake, buffer, at, cursor, send } = setup()
    const legacy = await send([at('a', 0, 0n), at('legacy', 0, 3n)])
    assert.equal(legacy.request.version, 12)
    assert.deepEqual(
      legacy.request.body.topics.map((t) => t.topic),
      ['a', 'legacy'],
    )
    legacy.request.reply(
      fetchAnswer(fake, legacy.request, [{ topic: 'legacy', partition: 0, records: await batch(3n, ['old']) }]),
    )
    await legacy.done
    assert.equal(buffer.take(cursor('legacy', 0))?.messages[0].value?.toString(), 'old')

    fake.fetchVersion = 11
    const old = await send([at('a', 0, 0n)])
    assert.equal(old.request.version, 11)
    assert.deepEqual(
      old.request.body.topics.map((t) => [t.topic, t.topicId]),
      [['a', undefined]],
    )
    old.request.fail(new ConnectionError('test over'))
    await old.done
  })

  it('handles each partition’s error on its own', async () => {
    const { fake, seen, buffer, at, cursor, send } = setup()
    const endpoints = [{ nodeId: 2, host: '127.0.0.1', port: 9999, rack: null }]
    const { request, done } = await send([0, 1, 2, 3, 4, 5].map((p) => at('a', p, 10n)))
    request.reply(
      fetchAnswer(
        fake,
        request,
        [
          { topic: 'a', partition: 0, records: await batch(10n, ['fine']), highWatermark: 11n },
          { topic: 'a', partition: 1, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE },
          {
            topic: 'a',
            partition: 2,
            errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
            currentLeader: { leaderId: 2, leaderEpoch: 4 },
          },
          { topic: 'a', partition: 3, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER },
          { topic: 'a', partition: 4, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED },
          { topic: 'a', partition: 5, errorCode: ErrorCode.CORRUPT_MESSAGE },
        ],
        { nodeEndpoints: endpoints },
      ),
    )
    await done
    assert.equal(buffer.take(cursor('a', 0))?.messages[0].value?.toString(), 'fine', 'the good partition is buffered')
    assert.equal(cursor('a', 0).highWatermark, 11n)
    assert.deepEqual(seen.outOfRange, ['a\x001'], 'out of range: to the reset policy, without a backoff')
    assert.equal(cursor('a', 1).failures, 0)
    // KIP-951: the leader named in the answer, with its endpoint, instead of a metadata refresh
    assert.deepEqual(fake.hints, [{ topic: 'a', partition: 2, leaderId: 2, endpoints }])
    assert.deepEqual(seen.refreshes, [['a']], 'a refresh only for the partition without a hint')
    assert.equal(seen.failures.length, 1, 'only the error that retrying cannot fix is reported')
    const [failure] = seen.failures
    assert.ok(failure instanceof KafkaError && failure.code === ErrorCode.TOPIC_AUTHORIZATION_FAILED, String(failure))
    for (const p of [2, 3, 4, 5]) {
      const c = cursor('a', p)
      assert.ok(c.failures === 1 && c.retryAt > Date.now() - 50, `a-${p} backs off`)
      assert.equal(c.fetchOffset, 10n, `a-${p} keeps its offset`)
    }
  })

  it('refreshes metadata when the hinted leader is no news', async () => {
    const { fake, seen, at, send } = setup()
    fake.acceptHints = false
    const { request, done } = await send([at('b', 0, 0n)])
    request.reply(
      fetchAnswer(fake, request, [
        {
          topic: 'b',
          partition: 0,
          errorCode: ErrorCode.FENCED_LEADER_EPOCH,
          currentLeader: { leaderId: 1, leaderEpoch: 0 },
        },
      ]),
    )
    await done
    assert.equal(fake.hints.length, 1)
    assert.deepEqual(seen.refreshes, [['b']])
  })

  it('reports corrupt records of one partition, backs it off, and buffers the others', async () => {
    const { fake, seen, buffer, at, cursor, send } = setup()
    const corrupt = await batch(0n, ['x', 'y'])
    corrupt[corrupt.length - 1] ^= 0xff
    const { request, done } = await send([at('a', 0, 0n), at('a', 1, 0n)])
    request.reply(
      fetchAnswer(fake, request, [
        { topic: 'a', partition: 0, records: corrupt },
        { topic: 'a', partition: 1, records: await batch(0n, ['ok']) },
      ]),
    )
    await done
    assert.equal(seen.failures.length, 1)
    assert.ok(seen.failures[0] instanceof ProtocolError, String(seen.failures[0]))
    assert.deepEqual([cursor('a', 0).failures, cursor('a', 0).fetchOffset], [1, 0n])
    assert.ok(!buffer.has(cursor('a', 0)))
    assert.equal(buffer.take(cursor('a', 1))?.messages[0].value?.toString(), 'ok')
  })

  it('drops the answer of a partition whose cursor moved on while the request was out', async () => {
    const { fake, seen, buffer, at, cursor, send } = setup()
    const { request, done } = await send([at('a', 0, 0n), at('a', 1, 0n)])
    cursor('a', 0).moveTo(0n) // a seek: a new generation, at the very offset in flight
    request.reply(
      fetchAnswer(fake, request, [
        { topic: 'a', partition: 0, records: await batch(0n, ['stale']), highWatermark: 1n },
        { topic: 'a', partition: 1, records: await batch(0n, ['current']) },
      ]),
    )
    await done
    assert.ok(!buffer.has(cursor('a', 0)))
    assert.equal(cursor('a', 0).highWatermark, undefined)
    assert.equal(buffer.take(cursor('a', 1))?.messages[0].value?.toString(), 'current')
    assert.equal(seen.answered, 1)
  })

  it('backs the broker off after a lost connection, refreshes its topics, and starts a new session', async () => {
    const { fake, seen, source, at, send } = setup()
    const ok = await send([at('a', 0, 0n), at('b', 0, 0n)])
    ok.request.reply(fetchAnswer(fake, ok.request, [], { sessionId: 9 }))
    await ok.done
    const lost = await send([at('a', 0, 0n), at('b', 0, 0n)])
    assert.equal(lost.request.body.sessionEpoch, 1)
    const before = Date.now()
    lost.request.fail(new ConnectionError('connection reset'))
    await lost.done
    assert.deepEqual(seen.refreshes, [['a', 'b']])
    assert.equal(seen.failures.length, 0, 'retriable: logged, not reported')
    assert.equal(seen.warnings.length, 1)
    assert.ok(source.retryAt >= before, 'the broker backs off')
    assert.ok(!source.inFlight)
    const again = await send([at('a', 0, 0n), at('b', 0, 0n)])
    assert.deepEqual(
      [again.request.body.sessionId, again.request.body.sessionEpoch],
      [9, 0],
      'a full request that closes the old session',
    )
    assert.deepEqual(asked(fake, again.request.body), ['a-0@0', 'b-0@0'])
    again.request.fail(new AuthenticationError('SASL refused'))
    await again.done
    assert.ok(seen.failures[0] instanceof AuthenticationError, 'never retried: reported')
  })

  it('starts a new session at once after a session error, and reports other request errors', async () => {
    const { fake, seen, source, buffer, at, send } = setup()
    const ok = await send([at('a', 0, 0n)])
    ok.request.reply(fetchAnswer(fake, ok.request, [], { sessionId: 5 }))
    await ok.done
    const lostSession = await send([at('a', 0, 0n)])
    lostSession.request.reply(
      fetchAnswer(fake, lostSession.request, [{ topic: 'a', partition: 0, records: await batch(0n, ['ignored']) }], {
        errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
      }),
    )
    await lostSession.done
    assert.deepEqual([seen.failures.length, source.retryAt, buffer.bytes, seen.answered], [0, 0, 0, 1])
    const fresh = await send([at('a', 0, 0n)])
    assert.deepEqual(
      [fresh.request.body.sessionId, fresh.request.body.sessionEpoch],
      [0, 0],
      'an unknown session is not named again',
    )
    fresh.request.reply(fetchAnswer(fake, fresh.request, [], { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED }))
    await fresh.done
    assert.equal(seen.failures.length, 1)
    assert.ok(
      seen.failures[0] instanceof KafkaError && seen.failures[0].code === ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
    )
    assert.ok(source.retryAt > 0, 'and the broker backs off')
  })
})
