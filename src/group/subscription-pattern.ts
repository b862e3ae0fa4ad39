// Subscriptions by pattern (Java's subscribe(Pattern) / subscribe(SubscriptionPattern)): topics given
// as JavaScript RegExps. The classic protocol matches them on the client against the metadata; the
// consumer protocol (KIP-848) sends them to the broker as one regular expression in RE2/J syntax,
// which the broker matches against whole topic names (GroupMetadataManager: Pattern.matches()). So a
// RegExp's source is translated: its search semantics become a full match, its flags inline ones,
// its named groups RE2's; what RE2 cannot express (lookaround, backreferences, the stateful g and y
// flags, v-mode sets) is a ConfigError.

import { ConfigError } from '../protocol/errors.ts'

/** Flags RE2/J takes inline; d (match indices) changes nothing about which names match. */
const INLINE_FLAGS: Record<string, string> = { i: 'i', m: 'm', s: 's' }
const NO_EFFECT_FLAGS = new Set(['d', 'u'])
/** Escapes meaning the same in both syntaxes. */
const SHARED_ESCAPES = new Set(['d', 'D', 'w', 'W', 's', 'S', 'b', 'B', 'f', 'n', 'r', 't', 'v'])

/** A subscription: exact topic names, and patterns matching topic names. */
export interface Subscription {
  names: string[]
  patterns: RegExp[]
}

/** A subscription split into exact names and patterns; a ConfigError for what cannot be subscribed to. */
export function splitSubscription(
  topics: readonly (string | RegExp)[],
  protocol: 'classic' | 'consumer',
): Subscription {
  const names: string[] = []
  const patterns: RegExp[] = []
  for (const t of topics) {
    if (typeof t === 'string' && t !== '') names.push(t)
    else if (t instanceof RegExp) {
      // a stateful RegExp (lastIndex) would match a name only every other time
      if (t.global || t.sticky)
        throw new ConfigError(`topics: ${String(t)}: the g and y flags cannot match topic names`)
      if (protocol === 'consumer') toRe2(t)
      patterns.push(t)
    } else throw new ConfigError(`topics: ${JSON.stringify(t)} is neither a topic name nor a RegExp`)
  }
  return { names, patterns }
}

/** Whether a topic name matches any of the patterns (JavaScript semantics: a search, as RegExp.test). */
export function matchesAny(patterns: readonly RegExp[], topic: string): boolean {
  return patterns.some((p) => p.test(topic))
}

/** The patterns as one RE2/J regular expression matching whole names (null without patterns). */
export function subscriptionRegex(patterns: readonly RegExp[]): string | null {
  if (patterns.length === 0) return null
  if (patterns.length === 1) return toRe2(patterns[0])
  return patterns.map((p) => `(?:${toRe2(p)})`).join('|')
}

/** A RegExp as RE2/J syntax, matching a whole topic name exactly when the RegExp finds a match in it. */
export function toRe2(pattern: RegExp): string {
  if (!(pattern instanceof RegExp)) throw new ConfigError(`topics: ${String(pattern)} is not a RegExp`)
  let inline = ''
  for (const flag of pattern.flags) {
    if (INLINE_FLAGS[flag]) inline += INLINE_FLAGS[flag]
    else if (!NO_EFFECT_FLAGS.has(flag)) throw unsupported(pattern, `the ${flag} flag`)
  }
  const { body, topLevelAlternation } = translate(pattern)
  // a search becomes a full match: unanchored ends may be preceded or followed by anything
  let start = '.*'
  let end = '.*'
  let core = body
  if (!topLevelAlternation && !pattern.multiline) {
    if (core.startsWith('^')) {
      core = core.slice(1)
      start = ''
    }
    if (endsWithAnchor(core)) {
      core = core.slice(0, -1)
      end = ''
    }
  }
  if (topLevelAlternation) core = `(?:${core})`
  // no need for another .* next to one
  else {
    if (core.startsWith('.*')) start = ''
    if (core.endsWith('.*') && !core.endsWith('\\.*')) end = ''
  }
  return `${inline ? `(?${inline})` : ''}${start}${core}${end}`
}

/** True when `source` ends with a `$` that is not escaped. */
function endsWithAnchor(source: string): boolean {
  if (!source.endsWith('$')) return false
  let backslashes = 0
  for (let i = source.length - 2; i >= 0 && source[i] === '\\'; i--) backslashes++
  return backslashes % 2 === 0
}

function unsupported(pattern: RegExp, what: string): ConfigError {
  return new ConfigError(
    `topics: ${String(pattern)} cannot be sent to the broker as an RE2/J regular expression (groupProtocol 'consumer'): ${what} has no RE2 equivalent`,
  )
}

/** The source, token by token, in RE2/J syntax; and whether it alternates at the top level. */
function translate(pattern: RegExp): { body: string; topLevelAlternation: boolean } {
  const s = pattern.source
  const unicode = pattern.unicode
  let out = ''
  let depth = 0
  let topLevelAlternation = false
  let i = 0
  while (i < s.length) {
    const c = s[i]
    if (c === '\\') {
      const [text, next] = translateEscape(pattern, s, i, unicode, false)
      out += text
      i = next
    } else if (c === '[') {
      const [text, next] = characterClass(pattern, s, i, unicode)
      out += text
      i = next
    } else if (c === '(') {
      depth++
      if (s.startsWith('(?=', i) || s.startsWith('(?!', i) || s.startsWith('(?<=', i) || s.startsWith('(?<!', i))
        throw unsupported(pattern, 'a lookahead or lookbehind')
      if (s.startsWith('(?<', i)) {
        out += '(?P<'
        i += 3
      } else {
        out += c
        i++
      }
    } else {
      if (c === ')') depth--
      else if (c === '|' && depth === 0) topLevelAlternation = true
      out += c
      i++
    }
  }
  return { body: out, topLevelAlternation }
}

/** One escape at `i`: its RE2 text and where the next token starts. */
function translateEscape(pattern: RegExp, s: string, i: number, unicode: boolean, inClass: boolean): [string, number] {
  const c = s[i + 1]
  if (c === undefined) return ['\\\\', i + 1]
  if (c >= '1' && c <= '9') throw unsupported(pattern, `the backreference \\${c}`)
  if (c === 'k' && s[i + 2] === '<') throw unsupported(pattern, 'a named backreference')
  if (c === 'c') throw unsupported(pattern, 'a control escape (\\c)')
  if (c === '0') return ['\\x00', i + 2]
  if (c === 'b' && inClass) return ['\\x08', i + 2]
  if (c === 'u') {
    if (unicode && s[i + 2] === '{') {
      const close = s.indexOf('}', i + 3)
      return [`\\x{${s.slice(i + 3, close)}}`, close + 1]
    }
    return [`\\x{${s.slice(i + 2, i + 6)}}`, i + 6]
  }
  if (c === 'x') return [s.slice(i, i + 4), i + 4]
  if (c === 'p' || c === 'P') {
    if (!unicode) return [c, i + 2]
    const close = s.indexOf('}', i + 3)
    const name = s.slice(i + 3, close)
    if (name.includes('=')) throw unsupported(pattern, `the property escape \\${c}{${name}}`)
    return [`\\${c}{${name}}`, close + 1]
  }
  if (SHARED_ESCAPES.has(c)) return [`\\${c}`, i + 2]
  // any other letter or digit escaped means itself in JavaScript (outside u mode), but may not in RE2
  if (/[A-Za-z0-9_]/.test(c)) return [c, i + 2]
  return [`\\${c}`, i + 2]
}

/** A character class at `i`: its RE2 text and where the next token starts. */
function characterClass(pattern: RegExp, s: string, i: number, unicode: boolean): [string, number] {
  if (s.startsWith('[^]', i)) return ['(?s:.)', i + 3]
  if (s.startsWith('[]', i)) throw unsupported(pattern, 'the empty class []')
  let out = '['
  let j = i + 1
  if (s[j] === '^') {
    out += '^'
    j++
  }
  for (; j < s.length && s[j] !== ']'; ) {
    if (s[j] === '\\') {
      const [text, next] = translateEscape(pattern, s, j, unicode, true)
      out += text
      j = next
    } else {
      // RE2 reads [: as the start of a POSIX class: a literal [ stays literal
      out += s[j] === '[' ? '\\[' : s[j]
      j++
    }
  }
  return [`${out}]`, j + 1]
}
