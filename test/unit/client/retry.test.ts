// The retry policy every layer uses: backoff growth, bounds and jitter, which errors are retried,
// and what is thrown when attempts or time run out.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RetryPolicy } from '../../../src/client/retry.ts'
import { AuthenticationError, ConfigError, ConnectionError } from '../../../src/protocol/errors.ts'

describe('RetryPolicy', () => {
  it('grows delays by the multiplier up to the maximum, spread by the jitter', () => {
    const p = new RetryPolicy({ initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, jitter: 0 })
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((a) => p.delay(a)),
      [100, 200, 400, 800, 1000, 1000],
    )
    const j = new RetryPolicy({ initialDelayMs: 100, jitter: 0.5 })
    assert.equal(
      j.delay(1, () => 0),
      50,
    )
    assert.equal(
      j.delay(1, () => 0.999999),
      150,
    )
  })

  it('retries retriable errors until success', async () => {
    const p = new RetryPolicy({ initialDelayMs: 1, maxAttempts: 5 })
    const seen: number[] = []
    const result = await p.run(async (attempt) => {
      seen.push(attempt)
      if (attempt < 3) throw new ConnectionError('down')
      return 'up'
    })
    assert.equal(result, 'up')
    assert.deepEqual(seen, [1, 2, 3])
  })

  it('does not retry errors that are not retriable, and stops after maxAttempts', async () => {
    const p = new RetryPolicy({ initialDelayMs: 1, maxAttempts: 3 })
    let calls = 0
    await assert.rejects(
      p.run(async () => {
        calls++
        throw new AuthenticationError('bad password')
      }),
      AuthenticationError,
    )
    assert.equal(calls, 1)
    calls = 0
    await assert.rejects(
      p.run(async () => {
        calls++
        throw new ConnectionError(`down ${calls}`)
      }),
      /down 3/,
    )
    assert.equal(calls, 3)
  })

  it('gives up with the last error when the next wait would pass the deadline', async () => {
    const p = new RetryPolicy({ initialDelayMs: 40, maxDelayMs: 40, jitter: 0, maxAttempts: 1000, deadlineMs: 100 })
    let calls = 0
    await assert.rejects(
      p.run(async () => {
        calls++
        throw new ConnectionError('down')
      }),
      ConnectionError,
    )
    assert.ok(calls >= 2 && calls <= 3, `${calls} attempts in a 100 ms deadline with 40 ms waits`)
  })

  it('stops waiting when the signal aborts', async () => {
    const p = new RetryPolicy({ initialDelayMs: 10_000 })
    const controller = new AbortController()
    const run = p.run(
      async () => {
        throw new ConnectionError('down')
      },
      { signal: controller.signal, onRetry: () => controller.abort(new Error('stopped')) },
    )
    await assert.rejects(run, /stopped/)
  })

  it('rejects options that make no sense with ConfigError', () => {
    assert.throws(() => new RetryPolicy({ maxAttempts: 0 }), ConfigError)
    assert.throws(() => new RetryPolicy({ multiplier: 0.5 }), /multiplier/)
    assert.throws(() => new RetryPolicy({ jitter: 2 }), /jitter/)
    assert.throws(() => new RetryPolicy({ initialDelayMs: Number.NaN }), /initialDelayMs/)
  })
})
