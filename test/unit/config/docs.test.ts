import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { environmentTables, optionsTable } from '../../../src/config/docs.ts'
import { envVariables } from '../../../src/config/env.ts'
import { SECTIONS } from '../../../src/config/sections.ts'
import { leaves } from '../../../src/options/schema.ts'
import { checkValue } from '../../../src/options/validate.ts'
import { didYouMean, formatDuration, formatSize } from '../../../src/options/values.ts'
import { SHARE_CONSUMER_FIELDS } from '../../../src/share/options.ts'

const ROOT = join(import.meta.dirname, '../../..')

test('docs/configuration.md holds the tables generated from the schema', () => {
  const doc = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8')
  const between = /<!-- options:begin -->\n([\s\S]*)\n<!-- options:end -->/.exec(doc)?.[1]
  assert.equal(between, environmentTables().trimEnd(), 'regenerate with npm run generate')
  for (const { name } of envVariables()) assert.ok(doc.includes(`\`${name}\``), name)
  for (const name of [
    'KAFKA_BROKERS',
    'KAFKA_SASL_PASSWORD_FILE',
    'KAFKA_TLS_CA_FILE',
    'KAFKA_TLS_REJECT_UNAUTHORIZED',
  ]) {
    assert.ok(doc.includes(`| \`${name}`) || doc.includes(`, \`${name}\``), name)
  }
})

test('docs/share-groups.md holds the ShareConsumer options table generated from their description', () => {
  const doc = readFileSync(join(ROOT, 'docs/share-groups.md'), 'utf8')
  const between = /<!-- options:begin -->\n([\s\S]*)\n<!-- options:end -->/.exec(doc)?.[1]
  assert.equal(between, optionsTable(SHARE_CONSUMER_FIELDS), 'regenerate with npm run generate')
  assert.match(between, /\| `fetch\.maxRecords` \| integer >= 1 \| 500 \|/)
})

/** The options of every section, and those of the clients loadConfig does not configure. */
const DESCRIBED = { ...SECTIONS, share: SHARE_CONSUMER_FIELDS }

test('environment variable names are unique and follow the option paths', () => {
  const names = envVariables().map((v) => v.name)
  assert.equal(new Set(names).size, names.length)
  assert.ok(names.includes('KAFKA_PRODUCER_BATCH_LINGER_MS'))
  assert.ok(names.includes('KAFKA_CONSUMER_COMMIT_INTERVAL_MS'))
  assert.ok(names.includes('KAFKA_ADMIN_SASL_PASSWORD_FILE'))
  assert.ok(!names.some((n) => n.includes('OAUTH_BEARER_PROVIDER')), 'code-only options have no variable')
})

test('every option has a doc line', () => {
  for (const [section, fields] of Object.entries(DESCRIBED)) {
    for (const [path, spec] of leaves(fields)) assert.ok(spec.doc.length > 5, `${section}.${path.join('.')}`)
  }
})

test('every default is a value its own option accepts; brokers have none', () => {
  for (const [section, fields] of Object.entries(DESCRIBED)) {
    for (const [path, spec] of leaves(fields)) {
      if (spec.default === undefined) continue
      const { doc: _, default: value, ...check } = spec
      assert.deepEqual(checkValue(check, value, `${section}.${path.join('.')}`), value)
    }
  }
  assert.equal((SECTIONS.common.brokers as { default?: unknown }).default, undefined)
})

test('did-you-mean ignores case and refuses distant names', () => {
  assert.equal(didYouMean('lingerMS', ['maxMessages', 'maxBytes', 'lingerMs']), 'lingerMs')
  assert.equal(didYouMean('compresion', ['compression', 'acks']), 'compression')
  assert.equal(didYouMean('xyz', ['compression', 'acks']), undefined)
})

test('defaults are shown in their shortest exact unit', () => {
  assert.deepEqual([0, 5, 1500, 5000, 120_000, 3_600_000].map(formatDuration), [
    '0ms',
    '5ms',
    '1500ms',
    '5s',
    '2m',
    '1h',
  ])
  assert.deepEqual([1, 1024, 1_000_000, 33_554_432, 1500].map(formatSize), ['1', '1KiB', '1MB', '32MiB', '1500'])
})
