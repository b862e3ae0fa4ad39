// The dispatcher's FIFO: the same answers as a plain array under random operation sequences that
// cross the compaction threshold (1024 consumed items).

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { Deque } from '../../../src/client/deque.ts'

type Op =
  | { op: 'push'; n: number }
  | { op: 'shift' }
  | { op: 'take'; n: number }
  | { op: 'removeAt'; i: number }
  | { op: 'clear' }

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('push' as const), n: fc.integer({ min: 1, max: 3000 }) }) },
  { weight: 4, arbitrary: fc.constant({ op: 'shift' as const }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('take' as const), n: fc.integer({ min: 0, max: 2500 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('removeAt' as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
)

describe('Deque', () => {
  it('behaves like an array used as a FIFO', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const deque = new Deque<number>()
        const model: number[] = []
        let next = 0
        for (const o of ops) {
          if (o.op === 'push') {
            for (let k = 0; k < o.n; k++) {
              deque.push(next)
              model.push(next++)
            }
            // many single shifts: the path that compacts
            for (let k = 0; k < o.n; k += 2) assert.equal(deque.shift(), model.shift())
          } else if (o.op === 'shift') assert.equal(deque.shift(), model.shift())
          else if (o.op === 'take') assert.deepEqual(deque.take(o.n), model.splice(0, o.n))
          else if (o.op === 'removeAt' && model.length > 0) {
            const i = o.i % model.length
            assert.equal(deque.removeAt(i), model.splice(i, 1)[0])
          } else if (o.op === 'clear') {
            deque.clear()
            model.length = 0
          }
          assert.equal(deque.length, model.length)
          assert.equal(deque.at(0), model[0])
          assert.equal(deque.at(model.length - 1), model[model.length - 1])
        }
      }),
      { numRuns: 200 },
    )
  })

  it('empties to undefined', () => {
    const deque = new Deque<string>()
    assert.equal(deque.shift(), undefined)
    deque.push('a')
    assert.equal(deque.shift(), 'a')
    assert.equal(deque.shift(), undefined)
    assert.deepEqual(deque.take(5), [])
    assert.equal(deque.length, 0)
  })
})
