import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'
import { environmentTables } from '../../../src/config/docs.ts'
import { envVariables } from '../../../src/config/env.ts'
import { DEFAULTS_FILE } from '../../../src/config/load.ts'
import { leaves, SECTIONS } from '../../../src/config/schema.ts'
import { validateLayer } from '../../../src/config/validate.ts'
import { didYouMean, formatDuration, formatSize } from '../../../src/config/values.ts'

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

test('environment variable names are unique and follow the option paths', () => {
  const names = envVariables().map((v) => v.name)
  assert.equal(new Set(names).size, names.length)
  assert.ok(names.includes('KAFKA_PRODUCER_BATCH_LINGER_MS'))
  assert.ok(names.includes('KAFKA_CONSUMER_COMMIT_INTERVAL_MS'))
  assert.ok(names.includes('KAFKA_ADMIN_SASL_PASSWORD_FILE'))
  assert.ok(!names.some((n) => n.includes('OAUTH_BEARER_PROVIDER')), 'code-only options have no variable')
})

test('every option has a doc line', () => {
  for (const [section, fields] of Object.entries(SECTIONS)) {
    for (const [path, spec] of leaves(fields)) assert.ok(spec.doc.length > 5, `${section}.${path.join('.')}`)
  }
})

test('defaults.yaml parses and validates, and sets no brokers', () => {
  const raw = parse(readFileSync(DEFAULTS_FILE, 'utf8'))
  const problems: string[] = []
  const layer = validateLayer(raw, { name: 'defaults.yaml', baseDir: ROOT }, problems)
  assert.deepEqual(problems, [])
  assert.deepEqual(Object.keys(layer), ['common', 'producer', 'consumer', 'admin'])
  assert.equal(layer.common?.brokers, undefined)
  assert.deepEqual(layer.producer?.batch, { maxMessages: 10_000, maxBytes: 1_000_000, lingerMs: 5 })
})

test('the build copies defaults.yaml next to the compiled loader', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  assert.match(pkg.scripts.build, /tsc -p tsconfig\.build\.json && node --import tsx scripts\/copy-assets\.ts$/)
  assert.ok(pkg.files.includes('dist'))
  const out = mkdtempSync(join(tmpdir(), 'kafkax-dist-'))
  try {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/copy-assets.ts', out], { cwd: ROOT })
    assert.equal(run.status, 0, String(run.stderr))
    assert.equal(readFileSync(join(out, 'config/defaults.yaml'), 'utf8'), readFileSync(DEFAULTS_FILE, 'utf8'))
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
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
