// The ShareConsumer's options, checked against their description before any network work: every
// bad option is one ConfigError naming it; unknown ones get a did-you-mean; the defaults apply.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError } from '../../../src/protocol/errors.ts'
import { ShareConsumer, type ShareConsumerOptions } from '../../../src/share/consumer.ts'
import { resolveShareConsumerOptions } from '../../../src/share/options.ts'

const base: ShareConsumerOptions = { brokers: ['127.0.0.1:1'], groupId: 'g', topics: ['t'] }

describe('ShareConsumer options', () => {
  const bad: [string, unknown, RegExp][] = [
    ['groupId', { groupId: '' }, /groupId: "" is not allowed: expected string/],
    ['missing groupId', { groupId: undefined }, /groupId: required/],
    ['topics', { topics: [] }, /topics: \[\] is not allowed: expected list of topic names/],
    ['topic names', { topics: ['t', 7] }, /topics: \["t",7\] is not allowed/],
    ['concurrency', { concurrency: 0 }, /concurrency: 0 is not allowed: expected integer >= 1/],
    [
      'acknowledgement',
      { acknowledgement: 'auto' },
      /acknowledgement: "auto" is not allowed: expected one of implicit, explicit/,
    ],
    ['dlq', { dlq: { topic: '' } }, /dlq\.topic: "" is not allowed: expected topic name/],
    [
      'dlq producer',
      { dlq: { topic: 'd', producer: { acks: 'most' } } },
      /invalid dead-letter producer options: acks: "most"/,
    ],
    ['fetch.maxRecords', { fetch: { maxRecords: 0 } }, /fetch\.maxRecords: 0 is not allowed: expected integer >= 1/],
    ['retry.maxRetries', { retry: { maxRetries: -1 } }, /retry\.maxRetries: -1 is not allowed: expected integer >= 0/],
    ['renewLocks', { renewLocks: 'yes' }, /renewLocks: "yes" is not allowed: expected boolean/],
    ['an unknown option', { concurency: 2 }, /unknown option concurency; did you mean concurrency\?/],
    ['a Consumer-only option', { fromBeginning: true }, /unknown option fromBeginning/],
  ]
  for (const [name, patch, message] of bad) {
    it(`refuses ${name} with a ConfigError`, () => {
      assert.throws(
        () => new ShareConsumer({ ...base, ...(patch as Partial<ShareConsumerOptions>) }),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      )
    })
  }

  it('names every problem in one error', () => {
    assert.throws(
      () => new ShareConsumer({ ...base, concurrency: 0, fetch: { maxWaitMs: -1 } }),
      (e: unknown) => e instanceof ConfigError && /2 problems/.test(e.message) && /fetch\.maxWaitMs/.test(e.message),
    )
  })

  it('applies the defaults, and takes text forms as the Consumer does', () => {
    const o = resolveShareConsumerOptions(base)
    assert.deepEqual(
      [o.concurrency, o.acknowledgement, o.renewLocks, o.fetch, o.retry, o.client.brokers],
      [
        1,
        'implicit',
        true,
        { maxWaitMs: 500, minBytes: 1, maxBytes: 50 * 1024 * 1024, checkCrcs: true, maxRecords: 500 },
        undefined,
        [{ host: '127.0.0.1', port: 1 }],
      ],
    )
    const t = resolveShareConsumerOptions({ ...base, fetch: { maxWaitMs: '2s' as never }, retry: { maxRetries: 2 } })
    assert.equal(t.fetch.maxWaitMs, 2000)
    assert.equal(t.retry?.maxRetries, 2)
    assert.equal(t.retry?.initialDelayMs, 100)
  })

  it('refuses missing options, a handler that is not a function, and bad run() and stop() options', async () => {
    assert.throws(() => new ShareConsumer(undefined as never), /ShareConsumer needs an object of options/)
    const consumer = new ShareConsumer(base)
    assert.throws(() => consumer.run('handler' as never), /run\(\) needs a handler function/)
    assert.throws(() => consumer.run(async () => {}, { handleSignal: true } as never), /unknown option handleSignal/)
    await assert.rejects(consumer.stop({ timeoutMs: -1 }), /timeoutMs: -1 is not allowed: expected duration >= 0/)
  })
})
