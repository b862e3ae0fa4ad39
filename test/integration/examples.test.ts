// The README's demo and every file in examples/ run against the real broker, as a user would run
// them, so they never rot: each must exit 0 and print what shows it did its job.

import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { ROOT } from '../../scripts/kafka/harness.ts'
import { brokers } from '../helpers/kafka.ts'
import { registryUrl } from '../helpers/registry.ts'
import { waitFor, within } from '../helpers/wait.ts'

function run(args: string[]) {
  // without the runner's NODE_TEST_CONTEXT, an example that is a node:test file reports in TAP
  const { NODE_TEST_CONTEXT: _, ...env } = process.env
  const result = spawnSync(process.execPath, ['--conditions=development', '--import', 'tsx', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...env, KAFKA_BROKERS: brokers().join(','), REGISTRY_URL: registryUrl() },
  })
  assert.equal(result.status, 0, `${args.join(' ')} exited ${result.status}\n${result.stderr}\n${result.stdout}`)
  return result.stdout
}

const EXPECTED: Record<string, RegExp> = {
  'producer.ts': /records: 3/,
  'consumer.ts': /payment 5 .*\n[\s\S]*offsets committed: true/,
  'admin-and-config.ts': /partitions/,
  'exactly-once.ts': /^o-1: \{"cents":250,"euros":2\.5\}\no-2: .*\no-4: .*\no-5: .*\ninput offsets committed: 5$/m,
  'schema-registry.ts':
    /versions 1,2\nrefused: INCOMPATIBLE_SCHEMA\norder o-1: 12.5 via web .*\norder o-2: 9.9 via app/,
  // node:test's summary: TAP ('# pass 1') up to Node 22 when not on a terminal, spec ('ℹ pass 1') since 23
  'fake-cluster.test.ts': /[#ℹ] pass 1\n[#ℹ] fail 0/,
}

describe('examples and demo', () => {
  it('every example has an expectation here', () => {
    assert.deepEqual(readdirSync(join(ROOT, 'examples')).sort(), Object.keys(EXPECTED).sort())
  })

  for (const [file, expected] of Object.entries(EXPECTED)) {
    it(`examples/${file}`, () => {
      assert.match(run([join('examples', file)]), expected)
    })
  }

  it('npm run demo: every order handled or dead-lettered', () => {
    const out = run(['scripts/demo.ts', '--events', '3000'])
    assert.match(out, /every order was handled or dead-lettered exactly as expected/)
    assert.match(out, /dead-lettered 3 poison orders/)
  })

  const onTheFake = [
    { why: 'KAFKAX_DEMO_BROKER=fake', env: { KAFKAX_DEMO_BROKER: 'fake' } },
    // no java on the PATH (the demo runs through process.execPath, which needs none)
    { why: 'Java was not found', env: { PATH: '/nonexistent' } },
  ]
  for (const { why, env } of onTheFake) {
    it(`npm run demo runs on the fake cluster and says so: ${why}`, () => {
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--events', '3000'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 180_000,
        env: { ...process.env, KAFKA_BROKERS: '', ...env },
      })
      assert.equal(result.status, 0, result.stderr)
      assert.ok(result.stdout.startsWith(why), result.stdout.slice(0, 200))
      assert.match(result.stdout, /running on the fake cluster of kafkax\/testing/)
      assert.match(result.stdout, /every order was handled or dead-lettered exactly as expected/)
    })
  }

  it('npm run demo stops cleanly on Ctrl-C: commits, leaves, prints its summary', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--events', '2000000'], {
      cwd: ROOT,
      env: { ...process.env, KAFKA_BROKERS: brokers().join(',') },
    })
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
    })
    child.stderr.on('data', (chunk) => {
      out += chunk
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    try {
      await waitFor('the demo to handle events', () => /handled [1-9]/.test(out), {
        timeoutMs: 60_000,
        state: () => out.slice(-500),
      })
      child.kill('SIGINT')
      assert.equal(await within('the demo to exit after Ctrl-C', exited, 60_000), 0, out.slice(-2000))
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
    assert.match(out, /Ctrl-C: finishing/)
    assert.match(out, /Summary after/)
  })
})
