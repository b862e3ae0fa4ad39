// The tests' waiting helper: it must fail a wait that would hang, saying what it waited for.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { waitFor, within } from '../helpers/wait.ts'

describe('waitFor and within', () => {
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
})
