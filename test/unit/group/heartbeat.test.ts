// The heartbeat timer: one beat at a time, the interval it is given (changed on the way, as the
// consumer protocol's broker dictates), a delay a beat returns (a backoff), beats asked for now,
// also from inside a beat (then right after it, never beside it), and nothing after stop().

import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { HeartbeatTimer } from '../../../src/group/heartbeat.ts'
import { sleep, waitFor } from '../../helpers/wait.ts'

const timers: HeartbeatTimer[] = []
afterEach(() => {
  for (const t of timers.splice(0)) t.stop()
})

/** A timer whose beats record when they ran and how many ran at once. */
function timer(
  intervalMs: number,
  beat: (n: number) => Promise<number | undefined> | number | undefined = () => undefined,
) {
  const at: number[] = []
  let running = 0
  let overlapped = false
  const t = new HeartbeatTimer(intervalMs, async () => {
    running++
    if (running > 1) overlapped = true
    at.push(Date.now())
    try {
      return await beat(at.length)
    } finally {
      running--
    }
  })
  timers.push(t)
  return { t, at, overlapped: () => overlapped }
}

describe('HeartbeatTimer', () => {
  it('beats at its interval, and at a new one once changed', async () => {
    const { t, at } = timer(30)
    t.start()
    await waitFor('three beats', () => at.length >= 3)
    t.intervalMs = 80
    const from = at.length
    await waitFor('three more beats', () => at.length >= from + 3)
    const gaps = at.slice(from, from + 3).map((x, i) => x - at[from + i - 1])
    // the beat in flight when the interval changed may still use the old one
    assert.ok(
      gaps.slice(1).every((g) => g >= 75),
      `gaps after the change: ${gaps.join(', ')} ms`,
    )
  })

  it('a delay returned by a beat (a backoff) comes before the next one', async () => {
    const { t, at } = timer(10_000, (n) => (n === 1 ? 60 : undefined))
    t.start()
    t.now()
    await waitFor('the beat after the backoff', () => at.length === 2)
    assert.ok(at[1] - at[0] >= 55, `${at[1] - at[0]} ms`)
  })

  it('now() from inside a beat: the next beat follows it at once, never runs beside it', async () => {
    let asked = false
    const { t, at, overlapped } = timer(10_000, async () => {
      if (!asked) {
        asked = true
        t.now()
        await sleep(20)
      }
      return undefined
    })
    t.start()
    t.now()
    await waitFor('the beat asked for', () => at.length === 2)
    assert.equal(overlapped(), false)
    assert.ok(at[1] - at[0] >= 18, `${at[1] - at[0]} ms apart`)
  })

  it('after stop(), no more beats; settled() waits for the one in flight', async () => {
    let release!: () => void
    const { t, at } = timer(5, () => new Promise<undefined>((resolve) => (release = () => resolve(undefined))))
    t.start()
    await waitFor('a beat in flight', () => at.length === 1)
    t.stop()
    let settled = false
    const waiting = t.settled().then(() => {
      settled = true
    })
    await sleep(20)
    assert.equal(settled, false)
    release()
    await waiting
    await sleep(30)
    assert.equal(at.length, 1)
  })
})
