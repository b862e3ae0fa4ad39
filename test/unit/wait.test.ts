// The tests' waiting helper: it must fail a wait that would hang, saying what it waited for.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { holdsFor, waitFor, within } from '../helpers/wait.ts'

describe('waitFor, holdsFor and within', () => {
  it('resolves as soon as the condition holds', async () => {
    let n = 0
    await waitFor('n to reach 3', () => ++n >= 3, { intervalMs: 1 })
    assert.equal(n, 3)
  })

  it('rejects at the deadline with what it waited for and the state', async () => {
    await assert.rejects(
      waitFor('a never', () => false, { timeoutMs: 30, state: () => ({ seen: 2n }) }),
      /waited 30 ms for a never \(state: \{"seen":"2n"\}\)/,
    )
  })

  it('bounds a promise that never settles', async () => {
    await assert.rejects(within('a stuck call', new Promise(() => {}), 20), /a stuck call did not settle within 20 ms/)
    assert.equal(await within('a quick call', Promise.resolve(7), 20), 7)
  })

  it('holdsFor lasts the window while the condition holds, and fails at once when it breaks', async () => {
    const started = Date.now()
    await holdsFor('nothing changes', () => true, 40, { intervalMs: 5 })
    assert.ok(Date.now() - started >= 40)
    let looks = 0
    const breaking = Date.now()
    await assert.rejects(
      holdsFor('looks stay under 3', () => ++looks < 3, 10_000, { intervalMs: 1, state: () => ({ looks }) }),
      /looks stay under 3 stopped holding after \d+ of 10000 ms \(state: \{"looks":3\}\)/,
    )
    assert.ok(Date.now() - breaking < 1000, 'it did not wait out the window')
  })
})
