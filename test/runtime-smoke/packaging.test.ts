// What an installed package must do beyond the clients: optional peers that are absent fail with a
// ConfigError saying what to install (this project installs kafkax alone), and the CLI runs.

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { it } from 'node:test'
import { ConfigError, otelMiddleware } from 'kafkax'
import { brokers } from './smoke.ts'

it('otelMiddleware without @opentelemetry/api is a ConfigError naming the package', () => {
  assert.throws(
    () => otelMiddleware(),
    (e: Error) => e instanceof ConfigError && /npm install @opentelemetry\/api/.test(e.message),
  )
})

it('runs the kafkax command line with this runtime', () => {
  const pkg = createRequire(import.meta.url).resolve('kafkax/package.json')
  const bin = join(
    dirname(pkg),
    (createRequire(import.meta.url)('kafkax/package.json') as { bin: { kafkax: string } }).bin.kafkax,
  )
  const args = (globalThis as { Deno?: unknown }).Deno ? ['run', '-A', bin] : [bin]
  const ping = spawnSync(process.execPath, [...args, 'ping', '--brokers', brokers().join(',')], {
    encoding: 'utf8',
    timeout: 30_000,
  })
  assert.equal(ping.status, 0, ping.stderr)
  assert.match(ping.stdout, /cluster \S+ answered in \d+(\.\d+)? ms/)
})
