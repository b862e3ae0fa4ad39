// The metadata cache: updates, stale answers that must not move a leader back, KIP-951 hints, and
// the client options every client shares.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ClusterMetadata } from '../../../src/client/metadata.ts'
import { parseBroker, resolveClientOptions } from '../../../src/client/options.ts'
import { ConfigError } from '../../../src/protocol/errors.ts'
import type { MetadataResponse } from '../../../src/protocol/messages/generated/metadata-response.ts'

const TOPIC_ID = '00000000-0000-0000-0000-0000000000aa'

function response(leader: number, leaderEpoch: number, topicId = TOPIC_ID): MetadataResponse {
  return {
    throttleTimeMs: 0,
    brokers: [1, 2, 3].map((nodeId) => ({ nodeId, host: '127.0.0.1', port: 9000 + nodeId, rack: null })),
    clusterId: 'c1',
    controllerId: 1,
    topics: [
      {
        errorCode: 0,
        name: 'orders',
        topicId,
        isInternal: false,
        partitions: [
          {
            errorCode: 0,
            partitionIndex: 0,
            leaderId: leader,
            leaderEpoch,
            replicaNodes: [1, 2, 3],
            isrNodes: [1, 2, 3],
            offlineReplicas: [],
          },
        ],
        topicAuthorizedOperations: 0,
      },
    ],
    clusterAuthorizedOperations: 0,
    errorCode: 0,
  }
}

describe('ClusterMetadata', () => {
  it('follows newer leader epochs and ignores older ones from lagging brokers', () => {
    const m = new ClusterMetadata()
    m.update(response(1, 5))
    assert.equal(m.partition('orders', 0)?.leader, 1)
    m.update(response(2, 6))
    assert.equal(m.partition('orders', 0)?.leader, 2)
    m.update(response(1, 5))
    assert.equal(m.partition('orders', 0)?.leader, 2, 'stale answer moved the leader back')
    // a recreated topic (new id) starts over, whatever the epochs
    m.update(response(3, 0, '00000000-0000-0000-0000-0000000000bb'))
    assert.equal(m.partition('orders', 0)?.leader, 3)
    assert.equal(m.brokers.size, 3)
  })

  it('applies KIP-951 leader hints only when they are newer, with their endpoints', () => {
    const m = new ClusterMetadata()
    m.update(response(1, 5))
    assert.equal(m.applyLeaderHint('orders', 0, { leaderId: 2, leaderEpoch: 4 }), false)
    assert.equal(m.partition('orders', 0)?.leader, 1)
    const endpoint = { nodeId: 4, host: '127.0.0.1', port: 9004, rack: null }
    assert.equal(m.applyLeaderHint('orders', 0, { leaderId: 4, leaderEpoch: 7 }, [endpoint]), true)
    assert.equal(m.partition('orders', 0)?.leader, 4)
    assert.deepEqual(m.brokers.get(4), endpoint)
    assert.equal(m.applyLeaderHint('unknown', 0, { leaderId: 4, leaderEpoch: 9 }), false)
  })
})

describe('client options', () => {
  it('parses broker lists, IPv6 included, and rejects what is not host:port', () => {
    assert.deepEqual(parseBroker('127.0.0.1:9092'), { host: '127.0.0.1', port: 9092 })
    assert.deepEqual(parseBroker('[::1]:9093'), { host: '::1', port: 9093 })
    assert.deepEqual(
      resolveClientOptions({ brokers: 'a:1, b:2' }).brokers.map((b) => b.host),
      ['a', 'b'],
    )
    for (const bad of ['localhost', 'host:0', 'host:70000', ':9092'])
      assert.throws(() => parseBroker(bad), ConfigError, bad)
    assert.throws(() => resolveClientOptions({ brokers: [] }), /brokers/)
    assert.throws(() => resolveClientOptions({ brokers: ['a:1'], requestTimeoutMs: -5 }), /requestTimeoutMs/)
  })

  it('never echoes a password in a ConfigError', () => {
    const bad = { mechanism: 'scram-sha-1', username: 'u', password: 'hunter2-secret' } as never
    assert.throws(
      () => resolveClientOptions({ brokers: ['a:1'], sasl: bad }),
      (e: unknown) => e instanceof ConfigError && !/hunter2-secret/.test(e.message),
    )
  })
})
