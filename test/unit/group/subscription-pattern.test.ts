// Subscriptions by pattern: a JavaScript RegExp translated to the RE2/J regular expression the broker
// matches whole topic names against (KIP-848), checked three ways: the translation of each construct,
// what has no RE2 equivalent (a ConfigError), and, for translations that are valid JavaScript too
// once RE2's inline flags and group names are written the JavaScript way, the same topics matched by
// the full match of the translation as by the RegExp's search.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { splitSubscription, subscriptionRegex, toRe2 } from '../../../src/group/subscription-pattern.ts'
import { ConfigError } from '../../../src/protocol/errors.ts'

const NAMES = [
  'orders',
  'orders.eu',
  'orders.us.v2',
  'ORDERS.EU',
  'pre-orders',
  'payments',
  'audit.orders',
  'a',
  'b',
  'xb',
  'ab',
  'x9y',
  'X12Y',
  'orders-eu',
  'A',
]

/** The full match of an RE2 translation, as a JavaScript RegExp (for the translations that allow it). */
function fullMatch(re2: string): RegExp {
  let flags = 'u'
  const inline = /^\(\?([ims]+)\)/.exec(re2)
  let body = re2
  if (inline) {
    flags += inline[1]
    body = re2.slice(inline[0].length)
  }
  body = body.replaceAll('(?P<', '(?<')
  return new RegExp(`^(?:${body})$`, flags)
}

describe('subscription patterns', () => {
  it('translates a search to a full match, keeping anchors, flags, groups and escapes', () => {
    const cases: [RegExp, string][] = [
      [/^orders\..*/, 'orders\\..*'],
      [/^orders\./, 'orders\\..*'],
      [/orders/, '.*orders.*'],
      [/^payments$/, 'payments'],
      [/^a|b$/, '.*(?:^a|b$).*'],
      [/^orders\.(?<region>eu|us)$/, 'orders\\.(?P<region>eu|us)'],
      [/x\d+y/i, '(?i).*x\\d+y.*'],
      [/\u0041/, '.*\\x{0041}.*'],
      [/\u{41}/u, '.*\\x{41}.*'],
      [/[a-z\b]/, '.*[a-z\\x08].*'],
      // biome-ignore lint/correctness/noEmptyCharacterClassInRegex: [^] (any character) is what is translated here
      [/[^]/, '.*(?s:.).*'],
      [/a\/b/, '.*a\\/b.*'],
      // an identity escape in JavaScript, not in RE2 (\z: end of text)
      [/z/, '.*z.*'],
      // RE2 would read [: as a POSIX class
      [/[[:x]/, '.*[\\[:x].*'],
    ]
    for (const [pattern, re2] of cases) assert.equal(toRe2(pattern), re2, String(pattern))
    assert.equal(subscriptionRegex([/^a\./, /b$/]), '(?:a\\..*)|(?:.*b)')
    assert.equal(subscriptionRegex([]), null)
  })

  it('matches the same topics on the broker (full match of the translation) as the RegExp does', () => {
    const patterns = [
      /^orders\./,
      /orders/,
      /^orders$/,
      /^a|b$/,
      /.*a|b/,
      /x\d+y/i,
      /^orders\.(?<region>eu|us)/,
      /\.v2$/,
      /^(orders|payments)/,
      /ORDERS/i,
      /-/,
      /^a$|^b$/,
    ]
    for (const p of patterns) {
      const broker = fullMatch(toRe2(p))
      for (const name of NAMES) assert.equal(broker.test(name), p.test(name), `${p} on ${name}: ${toRe2(p)}`)
    }
    const both = [/^orders\.eu/, /^pay/]
    const union = fullMatch(subscriptionRegex(both)!)
    for (const name of NAMES)
      assert.equal(
        union.test(name),
        both.some((p) => p.test(name)),
        name,
      )
  })

  it('what RE2 cannot express is a ConfigError naming it', () => {
    const cases: [RegExp, RegExp][] = [
      [/(?=a)/, /lookahead or lookbehind/],
      [/(?<!a)b/, /lookahead or lookbehind/],
      [/(a)\1/, /backreference \\1/],
      [/(?<n>a)\k<n>/, /named backreference/],
      [/\cJ/, /control escape/],
      // biome-ignore lint/correctness/noEmptyCharacterClassInRegex: [] (matches nothing) is what is rejected here
      [/[]/, /empty class/],
      // biome-ignore lint/complexity/useRegexLiterals: TypeScript takes the v flag in literals only from ES2024
      [new RegExp('a', 'v'), /the v flag/],
      [/\p{Script=Greek}/u, /property escape/],
    ]
    for (const [pattern, message] of cases)
      assert.throws(
        () => toRe2(pattern),
        (e: unknown) => e instanceof ConfigError && message.test(e.message) && e.message.includes(String(pattern)),
        String(pattern),
      )
  })

  it('splits a subscription into names and patterns; stateful flags and other values are ConfigErrors', () => {
    assert.deepEqual(splitSubscription(['a', /^b/, 'c'], 'classic'), { names: ['a', 'c'], patterns: [/^b/] })
    // lookaround is fine where JavaScript matches (classic), not where the broker does
    assert.deepEqual(splitSubscription([/^(?!tmp)/], 'classic').patterns, [/^(?!tmp)/])
    assert.throws(() => splitSubscription([/^(?!tmp)/], 'consumer'), ConfigError)
    for (const protocol of ['classic', 'consumer'] as const) {
      assert.throws(() => splitSubscription([/a/g], protocol), /the g and y flags/)
      assert.throws(() => splitSubscription([/a/y], protocol), /the g and y flags/)
      assert.throws(() => splitSubscription([42 as unknown as string], protocol), /neither a topic name nor a RegExp/)
      assert.throws(() => splitSubscription([''], protocol), ConfigError)
    }
  })
})
