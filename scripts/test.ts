// npm test: typecheck, lint, a check that generated code is current and the public API documented, unit tests, then integration tests against a real Kafka broker
// (started here once for the whole run and stopped at the end, unless KAFKA_BROKERS names one) and, when a selected
// test uses it (imports test/helpers/registry.ts), a real schema registry (likewise, unless REGISTRY_URL names one).
// `npm test -- unit` or `-- integration` runs one part; extra arguments after it filter test files.

import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { brokerForRun, ROOT } from './kafka/harness.ts'
import { registryForRun } from './registry/harness.ts'
import { testFiles } from './test-files.ts'

const [part = 'all', ...filters] = process.argv.slice(2)

function step(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  process.stdout.write(`\n=== ${name}\n`)
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', env })
  if (result.status !== 0) {
    process.stdout.write(`\n=== ${name} failed (exit ${result.status ?? result.signal})\n`)
    process.exitCode = 1
    throw new Error(`${name} failed`)
  }
}

function runTests(name: string, dir: string, env: NodeJS.ProcessEnv, concurrency: number): void {
  const files = testFiles(ROOT, dir, filters)
  if (files.length === 0) throw new Error(`no test files under ${dir}`)
  step(
    name,
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, ...files],
    env,
  )
}

async function integration(): Promise<void> {
  const usesRegistry = testFiles(ROOT, 'test/integration', filters).some((f) =>
    readFileSync(join(ROOT, f), 'utf8').includes('helpers/registry.ts'),
  )
  // side by side: the registry starts while the broker does
  const services = await Promise.allSettled([brokerForRun(), registryForRun(usesRegistry)])
  try {
    for (const s of services) if (s.status === 'rejected') throw s.reason
    const [broker, registry] = services.map((s) => (s as PromiseFulfilledResult<{ env: NodeJS.ProcessEnv }>).value)
    // one file at a time: they share one broker, and the cluster tests need the machine's cores
    runTests('integration tests', 'test/integration', { ...broker.env, ...registry.env }, 1)
  } finally {
    for (const s of services) if (s.status === 'fulfilled') await s.value.done()
  }
}

try {
  if (part === 'all') {
    step('typecheck', process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'])
    step('lint', process.execPath, ['node_modules/@biomejs/biome/bin/biome', 'check', '.'])
    step('generated code up to date', process.execPath, ['--import', 'tsx', 'scripts/generate/index.ts', '--check'])
    step('API reference: doc comments', process.execPath, ['--import', 'tsx', 'scripts/api-docs.ts', '--check'])
  }
  if (part === 'all' || part === 'unit') runTests('unit tests', 'test/unit', process.env, 2)
  if (part === 'all' || part === 'integration') await integration()
} catch (err) {
  if (!process.exitCode) console.error(err)
  process.exitCode = 1
}
