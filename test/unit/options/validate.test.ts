// The checks and defaults of option descriptions, on a small description of their own.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { group, withDefaults } from '../../../src/options/schema.ts'
import { checkOptions, checkValue, resolveOptions, settle, Validator } from '../../../src/options/validate.ts'
import { show } from '../../../src/options/values.ts'
import { ConfigError } from '../../../src/protocol/errors.ts'

const SCHEMA = group('test options', {
  name: { kind: 'string', default: 'n', doc: 'a name' },
  waitMs: { kind: 'duration', min: 0, default: 100, doc: 'a wait' },
  mode: group(
    'a mode: absent, it stays absent',
    { size: { kind: 'integer', min: 1, default: 10, doc: 'size' } },
    {
      optional: true,
    },
  ),
  limits: group('always there', { max: { kind: 'size', min: 1, default: 1024, doc: 'max' } }),
  tls: group(
    'shorthand',
    { enabled: { kind: 'boolean', doc: 'on' }, ca: { kind: 'pem', doc: 'ca' } },
    {
      shorthand: true,
      optional: true,
      passThrough: ['ciphers'],
    },
  ),
  hook: { kind: 'function', doc: 'code only' },
})

const message = (f: () => unknown) => {
  try {
    f()
  } catch (error) {
    assert.ok(error instanceof ConfigError)
    return error.message
  }
  assert.fail('no ConfigError')
}

describe('option descriptions', () => {
  it('defaults fill what is unset; an optional group stays absent until set', () => {
    assert.deepEqual(resolveOptions(SCHEMA, {}, 'test'), { name: 'n', waitMs: 100, limits: { max: 1024 } })
    assert.deepEqual(resolveOptions(SCHEMA, { mode: {}, waitMs: '2s' }, 'test'), {
      name: 'n',
      waitMs: 2000,
      mode: { size: 10 },
      limits: { max: 1024 },
    })
    assert.deepEqual(withDefaults(SCHEMA.fields, { limits: { max: 5 } }).limits, { max: 5 })
  })

  it('checkOptions leaves defaults out, so that the caller sees what was set', () => {
    assert.deepEqual(checkOptions(SCHEMA, { name: 'x' }, 'test'), { name: 'x' })
  })

  it('a shorthand group takes true/false and settles into the form its client takes', () => {
    assert.equal(checkOptions(SCHEMA, { tls: true }, 'test').tls, true)
    assert.equal(checkOptions(SCHEMA, { tls: false }, 'test').tls, undefined)
    assert.deepEqual(checkOptions(SCHEMA, { tls: { ca: 'PEM', ciphers: 'X' } }, 'test').tls, {
      ca: 'PEM',
      ciphers: 'X',
    })
    assert.deepEqual(settle(SCHEMA.fields, { tls: { enabled: false, ca: 'PEM' } }), {})
  })

  it('code-only values and pass-through keys come from code only', () => {
    const problems: string[] = []
    const file = new Validator({ name: 'f.yaml', baseDir: '.' }, problems)
    file.group(SCHEMA, { hook: {}, tls: { ciphers: 'X' } }, [])
    assert.deepEqual(problems, [
      'f.yaml: hook: {} is not allowed: expected function (code only)',
      'f.yaml: unknown option tls.ciphers',
    ])
    assert.equal(typeof checkOptions(SCHEMA, { hook: () => 1 }, 'test').hook, 'function')
  })

  it('keys of Object.prototype are unknown options, not fields', () => {
    assert.match(
      message(() => checkOptions(SCHEMA, JSON.parse('{"constructor": 1}'), 'test')),
      /unknown option constructor/,
    )
    assert.match(
      message(() => checkOptions(SCHEMA, { toStringFile: 'x' }, 'test')),
      /unknown option toStringFile/,
    )
  })

  it('durations and sizes stay below 2^31', () => {
    assert.equal(checkValue({ kind: 'duration', min: 0 }, 2 ** 31 - 1, 'wait'), 2 ** 31 - 1)
    assert.match(
      message(() => checkValue({ kind: 'duration', min: 0 }, 2 ** 31, 'wait')),
      /at most 2147483647/,
    )
    assert.match(
      message(() => checkValue({ kind: 'size', min: 0 }, '2GiB', 'max')),
      /"2GiB" is not allowed/,
    )
  })

  it('messages show any value without throwing, and never a secret', () => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    assert.equal(show(undefined, cycle), '[object Object]')
    assert.equal(show(undefined, { n: 1n }), '[object Object]')
    assert.equal(show(undefined, Number.NaN), 'NaN')
    assert.equal(show(undefined, Symbol('s')), 'Symbol(s)')
    assert.equal(show({ kind: 'string', secret: true, doc: '' }, 'hunter2'), '***')
  })
})
