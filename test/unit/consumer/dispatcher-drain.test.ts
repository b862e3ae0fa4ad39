// Dispatcher.drain(timeoutMs), what Consumer.stop() waits on: handlers that finish in time are
// waited for; one still running at the timeout is abandoned, its partition named, its offset held
// below it even when it finishes later, and a revocation (settled()) no longer waits for it.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Message } from '../../../src/consumer/message.ts'
import { waitFor, within } from '../../helpers/wait.ts'
import { dispatch, FakeFetcher, TOPIC } from './fake-fetcher.ts'

describe('Dispatcher.drain', () => {
  it('abandons a handler still running at the timeout: names its partition, commits nothing past it', async () => {
    const fetcher = new FakeFetcher([10, 10])
    const stopping = new AbortController()
    let release: (() => void) | undefined
    let lateDone = false
    const { dispatcher, committable } = dispatch(
      fetcher,
      async (m: Message) => {
        if (m.partition === 0 && m.offset === 3n) {
          await new Promise<void>((resolve) => {
            release = resolve
          })
          lateDone = true
        }
      },
      { concurrency: 2, stop: stopping.signal },
    )
    await waitFor('partition 1 handled and partition 0 up to its hung message', () => {
      return committable(1) === 10n && committable(0) === 3n && release !== undefined
    })
    stopping.abort()
    const started = Date.now()
    const abandoned = await within('drain(200)', dispatcher.drain(200), 2000)
    assert.ok(Date.now() - started >= 190, `drain gave up after ${Date.now() - started} ms`)
    assert.deepEqual(abandoned, [{ topic: TOPIC, partition: 0 }])
    await within('settled() of the abandoned partition', dispatcher.settled([dispatcher.get(abandoned[0])!]), 1000)
    release!()
    await waitFor('the abandoned handler to finish', () => lateDone)
    assert.equal(committable(0), 3n, 'the late finish moved the offset')
  })

  it('waits without a bound for a handler that finishes, also with an infinite timeout', async () => {
    for (const timeoutMs of [undefined, Number.POSITIVE_INFINITY, 10_000]) {
      const fetcher = new FakeFetcher([3])
      const stopping = new AbortController()
      let started = false
      let done = false
      const { dispatcher, committable } = dispatch(
        fetcher,
        async (m: Message) => {
          if (m.offset !== 0n) return
          started = true
          await new Promise((resolve) => setTimeout(resolve, 100))
          done = true
        },
        { stop: stopping.signal },
      )
      await waitFor('the slow handler to start', () => started)
      stopping.abort()
      assert.deepEqual(await within(`drain(${timeoutMs})`, dispatcher.drain(timeoutMs), 5000), [])
      assert.equal(done, true, `drain(${timeoutMs}) resolved before the handler finished`)
      assert.equal(committable(0), 1n)
    }
  })
})
