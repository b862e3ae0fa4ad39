// kafkax on every runtime it promises: fetches Node.js 20/22/24/26, Bun and Deno from the npm registry
// into .tmp/ and runs a suite with each.
//
//   npm run runtimes -- unit  [node20 node22 node24 node26 bun deno]   the unit tests, from the source
//   npm run runtimes -- smoke [node24 bun deno deno-npm]               the real-broker smoke tests
//
// Without runtime names, all of that suite's. The smoke suite packs kafkax (npm pack), installs the
// tarball into a fresh project as a user would, and runs test/runtime-smoke/*.ts there against the
// harness broker (started here unless KAFKA_BROKERS names one); `deno-npm` runs the same files with
// `npm:kafkax` specifiers instead of bare `kafkax`. Each runtime then runs the demo (scripts/demo.ts).

import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brokerForRun, ROOT, SINGLE, TLS_DIR } from './kafka/harness.ts'
import { fetchRuntime, RUNTIMES, run } from './runtime-fetch.ts'
import { testFiles } from './test-files.ts'

const SUITES = {
  unit: ['node20', 'node22', 'node24', 'node26', 'bun', 'deno'],
  // Node.js runs the .ts smoke files itself from 22.18 (type stripping); the integration suite runs
  // from the source under Node 24 (npm test).
  smoke: ['node24', 'bun', 'deno', 'deno-npm'],
}
/**
 * Unit test files Bun cannot run as they are. otel-missing (and the schema registry's missing-packages)
 * hides installed packages by patching Module._resolveFilename, which Bun's require() does not go
 * through; the smoke suite checks the otel error under Bun in a project where the package really is absent.
 * The fault suite's leak check (test/helpers/leaks.ts) is Node test tooling: it rests on
 * async_hooks.createHook, which neither Bun nor Deno implements for sockets.
 */
const NOT_UNDER_BUN = [
  'test/unit/observability/otel-missing.test.ts',
  'test/unit/schema-registry/missing-packages.test.ts',
  'test/unit/leaks.test.ts',
]
const NOT_UNDER_DENO = ['test/unit/leaks.test.ts']

function banner(text: string): void {
  process.stdout.write(`\n=== ${text}\n`)
}

function unit(names: string[], filters: string[]): void {
  const files = testFiles(ROOT, 'test/unit', filters)
  for (const name of names) {
    const bin = fetchRuntime(name)
    const { kind } = RUNTIMES[name]
    banner(`unit tests under ${name} (${spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]})`)
    if (kind === 'node') run(bin, ['--import', 'tsx', 'scripts/test.ts', 'unit', ...filters])
    // bun test reads arguments without ./ as name filters; its default 5 s per test is too short for the Java checks
    if (kind === 'bun') {
      const portable = files.filter((f) => !NOT_UNDER_BUN.includes(f))
      run(bin, ['test', '--timeout', '120000', ...portable.map((f) => `./${f}`)])
    }
    // typecheck is npm test's job (Deno would check against its own types, not @types/node)
    if (kind === 'deno') {
      run(bin, ['test', '--allow-all', '--no-check', ...files.filter((f) => !NOT_UNDER_DENO.includes(f))])
    }
  }
}

/**
 * Packs kafkax and installs the tarball into a fresh project with the smoke tests; returns the project.
 * It lives outside the repository, whose node_modules would otherwise resolve what the project lacks.
 */
function smokeProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kafkax-smoke-'))
  mkdirSync(join(dir, 'npm-specifiers'))
  run('npm', ['run', 'build'])
  run('npm', ['pack', '--pack-destination', dir, '--silent'])
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
  const dependencies = { kafkax: `file:./kafkax-${version}.tgz` }
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'smoke', private: true, type: 'module', dependencies }),
  )
  run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: dir })
  const source = join(ROOT, 'test/runtime-smoke')
  for (const file of readdirSync(source)) {
    copyFileSync(join(source, file), join(dir, file))
    // the same file with Deno's npm: specifier (resolved from the project's node_modules)
    const text = readFileSync(join(source, file), 'utf8').replaceAll("from 'kafkax'", "from 'npm:kafkax'")
    writeFileSync(join(dir, 'npm-specifiers', file), text)
  }
  return dir
}

async function smoke(names: string[]): Promise<void> {
  const project = smokeProject()
  const { env, done } = await brokerForRun()
  env.KAFKAX_SMOKE_SASL_SSL ??= `127.0.0.1:${SINGLE.saslSsl}`
  env.KAFKAX_SMOKE_CA_FILE ??= join(TLS_DIR, 'ca.pem')
  try {
    for (const name of names) {
      const runtimeName = name === 'deno-npm' ? 'deno' : name
      const bin = fetchRuntime(runtimeName)
      const { kind } = RUNTIMES[runtimeName]
      const dir = name === 'deno-npm' ? join(project, 'npm-specifiers') : project
      const files = readdirSync(dir).filter((f) => f.endsWith('.test.ts'))
      banner(`smoke tests under ${name} (${spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]})`)
      const options = { cwd: dir, env, timeout: 10 * 60_000 }
      if (kind === 'node') run(bin, ['--test', '--test-reporter=spec', '--test-concurrency=1', ...files], options)
      if (kind === 'bun') run(bin, ['test', '--timeout', '120000', ...files.map((f) => `./${f}`)], options)
      if (kind === 'deno') run(bin, ['test', '--allow-all', '--no-check', ...files], options)
      if (name === 'deno-npm') continue
      banner(`the demo under ${name}`)
      const demo = ['scripts/demo.ts', '--events', '5000']
      const args = {
        node: ['--import', 'tsx', ...demo],
        bun: demo,
        deno: ['run', '--allow-all', '--no-check', ...demo],
      }
      run(bin, args[kind], { env, timeout: 5 * 60_000 })
    }
  } finally {
    await done()
    rmSync(project, { recursive: true, force: true })
  }
}

const [suite, ...rest] = process.argv.slice(2)
if (suite !== 'unit' && suite !== 'smoke') {
  console.error('usage: npm run runtimes -- unit|smoke [runtime...] (unit: filters after the runtimes)')
  process.exit(2)
}
const names = rest.filter((r) => r in RUNTIMES || r === 'deno-npm')
const filters = rest.filter((r) => !names.includes(r))
const chosen = names.length > 0 ? names : SUITES[suite]
try {
  if (suite === 'unit') unit(chosen, filters)
  else await smoke(chosen)
} catch (error) {
  console.error(`\n=== ${(error as Error).message}`)
  process.exitCode = 1
}
