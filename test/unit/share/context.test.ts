// A share handler's context without a broker: one acknowledgement per delivery (a second throws a
// ConfigError, as does an unknown type), accept/release/reject the same as ack(type), and the
// methods kept when middleware spreads the context; send() refused (no transactions in a share group).

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError } from '../../../src/protocol/errors.ts'
import { type AcknowledgeType, shareContext } from '../../../src/share/message.ts'

describe('shareContext', () => {
  it('takes one acknowledgement, and says which', () => {
    const sent: AcknowledgeType[] = []
    const ctx = shareContext(new AbortController().signal, 3, 't/0@7', (type) => sent.push(type))
    assert.deepEqual([ctx.attempt, ctx.deliveryCount, ctx.acknowledgement()], [3, 3, undefined])
    ctx.release()
    assert.throws(
      () => ctx.accept(),
      (e: unknown) => e instanceof ConfigError && /t\/0@7 was acknowledged already \(release\)/.test(e.message),
    )
    assert.throws(() => ctx.ack('reject'), ConfigError)
    assert.deepEqual(sent, ['release'])
    assert.equal(ctx.acknowledgement(), 'release')
  })

  it('refuses an unknown type, and keeps working when spread by middleware', () => {
    const sent: AcknowledgeType[] = []
    const ctx = shareContext(new AbortController().signal, 1, 't/0@8', (type) => sent.push(type))
    assert.throws(
      () => ctx.ack('renew' as AcknowledgeType),
      /acknowledge type must be 'accept', 'release' or 'reject', got "renew"/,
    )
    const spread = { ...ctx, attempt: 2 }
    spread.reject()
    assert.deepEqual([sent, ctx.acknowledgement()], [['reject'], 'reject'])
  })

  it('refuses send(): share groups have no transactions', () => {
    const ctx = shareContext(new AbortController().signal, 1, 't/0@9', () => {})
    assert.throws(
      () => ctx.send({ topic: 'out', value: 'x' }),
      (e: unknown) => e instanceof ConfigError && /share groups have none/.test(e.message),
    )
  })
})
