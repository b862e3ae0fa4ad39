// npm test: typecheck, lint, a check that generated code is current and the public API documented, unit tests, then integration tests against a real Kafka broker
// (started here once for the whole run and stopped at the end, unless KAFKA_BROKERS names one) and, when a selected
// test uses it (imports test/helpers/registry.ts), a real schema registry (likewise, unless REGISTRY_URL names one).
// `npm test -- unit` or `-- integration` runs one part; extra arguments after it filter test files.
// KAFKAX_TARGET=fake runs the integration tests against the fake cluster (kafkax/testing) instead, in
// the single node's listener layout, without the files that test the real broker itself.
// The integration tests run under Node 24 (the current LTS; fetched into .tmp/node24 unless this is
// Node 24, see scripts/runtime-fetch.ts), the rest under the Node that runs this script.

import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fakeClusterForRun } from './kafka/fake.ts'
import { brokerForRun, ROOT } from './kafka/harness.ts'
import { registryForRun } from './registry/harness.ts'
import { node24 } from './runtime-fetch.ts'
import { testFiles } from './test-files.ts'

const [part = 'all', ...filters] = process.argv.slice(2)
const fakeTarget = process.env.KAFKAX_TARGET === 'fake'

/** Integration test files the fake target leaves out, and why (docs/testing.md lists them too). */
const NOT_FOR_THE_FAKE: Record<string, string> = {
  'test/integration/records.test.ts': "reads the batches from the broker's log directory",
  'test/integration/cluster.test.ts': 'kills and restarts the JVM brokers of the 3-node cluster',
  'test/integration/exactly-once-cluster.test.ts': 'kills and restarts the JVM brokers of the 3-node cluster',
  'test/integration/faults.test.ts': 'restarts the JVM single node between the faults',
  'test/integration/harness.test.ts': 'tests the broker harness',
  'test/integration/share-group.test.ts': 'share groups (KIP-932): the fake cluster has none',
  'test/integration/share-group-members.test.ts': 'share groups (KIP-932): the fake cluster has none',
  'test/integration/group-consumer-protocol.test.ts':
    'sets group configs (IncrementalAlterConfigs on GROUP resources), which the fake cluster does not keep',
  'test/integration/fake-cluster-java.test.ts': 'starts fake clusters of its own: the default target runs it',
  'test/integration/fake-cluster-kcat.test.ts': 'starts fake clusters of its own: the default target runs it',
}

function step(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  process.stdout.write(`\n=== ${name}\n`)
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', env })
  if (result.status !== 0) {
    process.stdout.write(`\n=== ${name} failed (exit ${result.status ?? result.signal})\n`)
    process.exitCode = 1
    throw new Error(`${name} failed`)
  }
}

function runTests(
  name: string,
  dir: string,
  env: NodeJS.ProcessEnv,
  concurrency: number,
  exclude: string[] = [],
  node = process.execPath,
): void {
  const files = testFiles(ROOT, dir, filters).filter((f) => !exclude.includes(f))
  if (files.length === 0) throw new Error(`no test files under ${dir}`)
  step(
    `${name} (Node ${spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()})`,
    node,
    // --test-force-exit: a file whose failed test left a client running ends when its tests have, instead
    // of holding the run until CI's deadline
    [
      '--import',
      'tsx',
      '--test',
      '--test-force-exit',
      '--test-reporter=spec',
      `--test-concurrency=${concurrency}`,
      ...files,
    ],
    env,
  )
}

async function integration(): Promise<void> {
  const usesRegistry = testFiles(ROOT, 'test/integration', filters).some((f) =>
    readFileSync(join(ROOT, f), 'utf8').includes('helpers/registry.ts'),
  )
  // side by side: the registry starts while the broker does
  const services = await Promise.allSettled([
    fakeTarget ? fakeClusterForRun() : brokerForRun(),
    registryForRun(usesRegistry),
  ])
  try {
    for (const s of services) if (s.status === 'rejected') throw s.reason
    const [broker, registry] = services.map((s) => (s as PromiseFulfilledResult<{ env: NodeJS.ProcessEnv }>).value)
    const exclude = fakeTarget ? Object.keys(NOT_FOR_THE_FAKE) : []
    for (const file of exclude) process.stdout.write(`(fake target) without ${file}: ${NOT_FOR_THE_FAKE[file]}\n`)
    // one file at a time: they share one broker, and the cluster tests need the machine's cores
    runTests(
      fakeTarget ? 'integration tests (fake cluster)' : 'integration tests',
      'test/integration',
      { ...broker.env, ...registry.env },
      1,
      exclude,
      node24(),
    )
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
