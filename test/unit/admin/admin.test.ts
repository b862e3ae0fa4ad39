// Admin option validation: bad arguments are refused with a ConfigError naming the option before
// any connection is tried (the brokers here do not exist, so a missed check surfaces as a
// ConnectionError instead).

import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Admin } from '../../../src/admin/admin.ts'
import { ConfigError } from '../../../src/protocol/errors.ts'

describe('Admin option validation', () => {
  const admin = new Admin({ brokers: ['127.0.0.1:1'], connectTimeoutMs: 200, retry: { maxAttempts: 1 } })
  after(() => admin.close())

  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ['no topics', () => admin.createTopics([]), /^createTopics must be a non-empty array$/],
    [
      'empty topic name',
      () => admin.createTopics([{ topic: '' }]),
      /createTopics: topics\[0\]\.topic must be a non-empty/,
    ],
    [
      'zero partitions',
      () => admin.createTopics([{ topic: 't', partitions: 0 }]),
      /topics\[0\]\.partitions: 0 is not allowed: expected integer >= 1/,
    ],
    ['fractional partitions', () => admin.createTopics([{ topic: 't', partitions: 1.5 }]), /topics\[0\]\.partitions/],
    [
      'replication factor -2',
      () => admin.createTopics([{ topic: 't', replicationFactor: -2 }]),
      /topics\[0\]\.replicationFactor/,
    ],
    [
      'a config value that is not a string',
      () => admin.createTopics([{ topic: 't', configs: { 'retention.ms': 1000 as unknown as string } }]),
      /topics\[0\]\.configs\.retention\.ms must be a string/,
    ],
    ['negative timeout', () => admin.createTopics([{ topic: 't' }], { timeoutMs: -1 }), /createTopics: timeoutMs/],
    [
      'a topic name that is not a string',
      () => admin.deleteTopics(['a', 3 as unknown as string]),
      /deleteTopics: \[1\]/,
    ],
    ['no partition count', () => admin.createPartitions([{ topic: 't' } as never]), /topics\[0\]\.count/],
    [
      'an unknown config resource type',
      () => admin.describeConfigs([{ type: 'cluster' as 'topic', name: 'x' }]),
      /resources\[0\]\.type must be one of topic, broker, broker-logger, client-metrics, group/,
    ],
    [
      'an unknown config op',
      () =>
        admin.incrementalAlterConfigs([
          { type: 'topic', name: 't', ops: [{ key: 'k', op: 'replace' as 'set', value: '1' }] },
        ]),
      /ops\[0\]\.op must be one of set, delete, append, subtract/,
    ],
    [
      'set without a value',
      () => admin.incrementalAlterConfigs([{ type: 'topic', name: 't', ops: [{ key: 'k', op: 'set' }] }]),
      /ops\[0\]\.value must be a string for op 'set'/,
    ],
    [
      'an offset below -1',
      () => admin.deleteRecords({ topic: 't', partitions: [{ partition: 0, offset: -2n }] }),
      /partitions\[0\]\.offset/,
    ],
    [
      'a negative partition',
      () => admin.deleteRecords({ topic: 't', partitions: [{ partition: -1, offset: 0 }] }),
      /partitions\[0\]\.partition/,
    ],
    [
      'an unknown offset spec',
      () => admin.listOffsets({ topic: 't', at: 'newest' as 'latest' }),
      /listOffsets: at must be/,
    ],
    ['a negative timestamp', () => admin.listOffsets({ topic: 't', at: { timestamp: -5 } }), /at\.timestamp/],
    [
      'a fractional committed offset',
      () => admin.alterCommittedOffsets('g', [{ topic: 't', partition: 0, offset: 1.5 }]),
      /offsets\[0\]\.offset/,
    ],
    ['an empty group id', () => admin.fetchCommittedOffsets(''), /fetchCommittedOffsets: groupId/],
    ['no share groups', () => admin.describeShareGroups([]), /^describeShareGroups must be a non-empty array$/],
    ['an empty share group id', () => admin.listShareGroupOffsets(''), /listShareGroupOffsets: groupId/],
    [
      'a share-group start offset below -1',
      () => admin.alterShareGroupOffsets('g', [{ topic: 't', partition: 0, offset: -2n }]),
      /alterShareGroupOffsets: offsets\[0\]\.offset/,
    ],
    [
      'no topics to delete share-group offsets of',
      () => admin.deleteShareGroupOffsets('g', []),
      /deleteShareGroupOffsets: topics must be a non-empty array/,
    ],
    [
      "'any' in an ACL to create",
      () =>
        admin.createAcls([
          { resourceType: 'topic', resourceName: 't', principal: 'User:a', operation: 'any', permission: 'allow' },
        ]),
      /acls\[0\]\.operation: 'any' is only for filters/,
    ],
    [
      'an ACL without a principal',
      () =>
        admin.createAcls([
          { resourceType: 'topic', resourceName: 't', operation: 'read', permission: 'allow' } as never,
        ]),
      /acls\[0\]\.principal/,
    ],
    [
      'an unknown ACL resource type',
      () => admin.describeAcls({ resourceType: 'table' as 'topic' }),
      /filter\.resourceType must be one of any, topic, group/,
    ],
    [
      'too few SCRAM iterations',
      () => admin.upsertScramCredentials([{ user: 'u', mechanism: 'SCRAM-SHA-256', password: 'p', iterations: 100 }]),
      /credentials\[0\]\.iterations: \d+ is not allowed: expected integer from 4096 to 16384/,
    ],
    [
      'an unknown SCRAM mechanism',
      () => admin.deleteScramCredentials([{ user: 'u', mechanism: 'PLAIN' as 'SCRAM-SHA-256' }]),
      /credentials\[0\]\.mechanism must be one of SCRAM-SHA-256, SCRAM-SHA-512/,
    ],
  ]
  for (const [what, call, message] of cases) {
    it(`refuses ${what}`, async () => {
      await assert.rejects(call(), (error: unknown) => {
        assert.ok(error instanceof ConfigError, `a ConfigError, got ${error}`)
        assert.match(error.message, message)
        return true
      })
    })
  }

  it('never echoes a SCRAM password', async () => {
    const error = await admin
      .upsertScramCredentials([{ user: 'u', mechanism: 'SCRAM-SHA-512', password: 'hunter2', iterations: 1 }])
      .catch((e: unknown) => e)
    assert.ok(error instanceof ConfigError)
    assert.doesNotMatch(error.message, /hunter2/)
  })

  it('refuses bad client options at construction', () => {
    assert.throws(() => new Admin({ brokers: 'no-port' }), ConfigError)
  })
})
