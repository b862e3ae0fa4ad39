import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BufferPool } from '../../../src/producer/buffer-pool.ts'

describe('BufferPool', () => {
  it('hands back given buffers before allocating, keeps at most maxFree, drops other sizes', () => {
    const pool = new BufferPool(64, 2)
    const a = pool.take()
    const b = pool.take()
    const c = pool.take()
    assert.equal(a.length, 64)
    assert.notEqual(a, b)
    pool.give(a)
    pool.give(b)
    pool.give(c) // beyond maxFree: left to the garbage collector
    pool.give(Buffer.alloc(128)) // a batch that grew
    assert.equal(pool.freeCount, 2)
    const reused = [pool.take(), pool.take()]
    assert.ok(reused.includes(a) && reused.includes(b))
    assert.equal(pool.freeCount, 0)
    assert.notEqual(pool.take(), c)
  })
})
