// The ShareConsumer's option checks, before any network work: every bad option is a ConfigError
// naming it.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError } from '../../../src/protocol/errors.ts'
import { ShareConsumer, type ShareConsumerOptions } from '../../../src/share/consumer.ts'

const base: ShareConsumerOptions = { brokers: ['127.0.0.1:1'], groupId: 'g', topics: ['t'] }

describe('ShareConsumer options', () => {
  const bad: [string, unknown, RegExp][] = [
    ['groupId', { groupId: '' }, /groupId must be a non-empty string/],
    ['topics', { topics: [] }, /needs topics/],
    ['topic names', { topics: ['t', 7] }, /needs topics/],
    ['concurrency', { concurrency: 0 }, /concurrency must be an integer >= 1, got 0/],
    ['acknowledgement', { acknowledgement: 'auto' }, /acknowledgement must be 'implicit' or 'explicit', got "auto"/],
    ['dlq', { dlq: { topic: '' } }, /dlq.topic must be a non-empty topic name/],
    ['fetch.maxRecords', { fetch: { maxRecords: 0 } }, /fetch.maxRecords must be an integer >= 1, got 0/],
    ['retry.maxRetries', { retry: { maxRetries: -1 } }, /retry.maxRetries must be an integer >= 0, got -1/],
  ]
  for (const [name, patch, message] of bad) {
    it(`refuses a bad ${name} with a ConfigError`, () => {
      assert.throws(
        () => new ShareConsumer({ ...base, ...(patch as Partial<ShareConsumerOptions>) }),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      )
    })
  }

  it('refuses missing options and a handler that is not a function', () => {
    assert.throws(() => new ShareConsumer(undefined as never), ConfigError)
    const consumer = new ShareConsumer(base)
    assert.throws(() => consumer.run('handler' as never), /run\(\) needs a handler function/)
  })
})
