// ManualClock: timers run when the test advances time, in due order, including those they schedule.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError } from '../../../src/protocol/errors.ts'
import { ManualClock } from '../../../src/testing/clock.ts'

describe('ManualClock', () => {
  it('runs due timers in order as time advances, and never the cancelled ones', () => {
    const clock = new ManualClock(1000)
    const ran: string[] = []
    clock.schedule(300, () => ran.push(`b@${clock.now()}`))
    clock.schedule(100, () => {
      ran.push(`a@${clock.now()}`)
      clock.schedule(50, () => ran.push(`a2@${clock.now()}`))
    })
    clock.schedule(200, () => ran.push('cancelled')).cancel()
    clock.advance(99)
    assert.deepEqual(ran, [])
    clock.advance(500)
    assert.deepEqual(ran, ['a@1100', 'a2@1150', 'b@1300'])
    assert.equal(clock.now(), 1599)
    assert.equal(clock.pending, 0)
    assert.throws(() => clock.advance(-1), ConfigError)
    assert.throws(() => clock.set(1000), ConfigError, 'it does not go backwards')
  })
})
