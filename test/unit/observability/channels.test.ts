// The tracing channels: named kafkax:*, silent and free when nobody subscribes, and the traced()
// helper publishing start/end/asyncStart/asyncEnd (and error) with one context object.

import assert from 'node:assert/strict'
import { tracingChannel } from 'node:diagnostics_channel'
import { describe, it } from 'node:test'
import { channels } from '../../../src/index.ts'
import { traced } from '../../../src/observability/tracing.ts'

function record(name: string) {
  const events: [string, object][] = []
  const handlers = {
    start: (c: unknown) => events.push(['start', { ...(c as object) }]),
    end: (c: unknown) => events.push(['end', { ...(c as object) }]),
    asyncStart: (c: unknown) => events.push(['asyncStart', { ...(c as object) }]),
    asyncEnd: (c: unknown) => events.push(['asyncEnd', { ...(c as object) }]),
    error: (c: unknown) => events.push(['error', { ...(c as object) }]),
  }
  const channel = tracingChannel(name)
  channel.subscribe(handlers)
  return { events, stop: () => channel.unsubscribe(handlers) }
}

describe('channels', () => {
  it('are the kafkax:* tracing channels users subscribe to by name', () => {
    const names = ['connect', 'request', 'produce', 'fetch', 'handler', 'rebalance', 'commit'] as const
    for (const name of names) {
      assert.equal(channels[name].hasSubscribers, false)
      const { stop } = record(`kafkax:${name}`)
      assert.equal(channels[name].hasSubscribers, true, `kafkax:${name}`)
      stop()
      assert.equal(channels[name].hasSubscribers, false)
    }
  })

  it('traced() builds no context and runs the function as is when nobody listens', async () => {
    let described = 0
    const result = await traced(
      channels.commit,
      () => {
        described++
        return { groupId: 'g', offsets: [] }
      },
      async () => 'committed',
    )
    assert.equal(result, 'committed')
    assert.equal(described, 0)
  })

  it('traced() publishes the lifecycle of a call with its result in the context', async () => {
    const { events, stop } = record('kafkax:commit')
    try {
      const offsets = [{ topic: 't', partition: 0, offset: 5n }]
      assert.equal(
        await traced(
          channels.commit,
          () => ({ groupId: 'g', offsets }),
          async () => 7,
        ),
        7,
      )
      assert.deepEqual(
        events.map(([e]) => e),
        ['start', 'end', 'asyncStart', 'asyncEnd'],
      )
      assert.deepEqual(events[0][1], { groupId: 'g', offsets })
      assert.equal((events[3][1] as { result: number }).result, 7)
    } finally {
      stop()
    }
  })

  it('traced() publishes a failure on the error channel and rethrows it', async () => {
    const { events, stop } = record('kafkax:rebalance')
    const error = new Error('coordinator moved')
    try {
      await assert.rejects(
        traced(
          channels.rebalance,
          () => ({ groupId: 'g', type: 'assigned' as const, partitions: [] }),
          async () => {
            throw error
          },
        ),
        error,
      )
      const failed = events.find(([e]) => e === 'error')!
      assert.equal((failed[1] as { error: Error }).error, error)
    } finally {
      stop()
    }
  })
})
