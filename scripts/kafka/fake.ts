// The fake cluster (kafkax/testing) as a process of its own: the test runner's fake target
// (KAFKAX_TARGET=fake), the conformance tests (the Java tools and kcat run synchronously, so the
// fake must not share their event loop) and `npm run kafka -- fake`. With --harness it takes the
// single node's layout: PLAINTEXT, SASL_PLAINTEXT (sessions of 15 s), SSL and SASL_SSL (the
// harness's test certificate), and PROXIED advertised at the recording proxy's port, the same
// users and the broker settings the tests rely on.
//
//   node --import tsx scripts/kafka/fake.ts [--brokers N] [--harness] [--topic name[:partitions]]... [--dist]
//   npm run kafka -- fake [same options]
// prints one JSON line {"bootstrap": [...]} once listening; stops on SIGTERM, SIGINT or stdin closing.

import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { FakeCluster, type FakeClusterOptions } from '../../src/testing/index.ts'
import { ensureCerts, ROOT, SINGLE, STORE_PASSWORD, TLS_DIR, USERS } from './harness.ts'

/** The single node's listeners, users and settings (harness.ts singleNodeProperties), served by the fake. */
export function harnessOptions(): FakeClusterOptions {
  ensureCerts()
  const tls = { pfx: readFileSync(join(TLS_DIR, 'broker.p12')), passphrase: STORE_PASSWORD }
  return {
    brokers: 1,
    users: USERS,
    listeners: () => [
      { name: 'PLAINTEXT', port: SINGLE.plaintext },
      { name: 'SASL_PLAINTEXT', port: SINGLE.saslPlaintext, sasl: true, reauthenticationMs: 15_000 },
      { name: 'SSL', port: SINGLE.ssl, tls },
      { name: 'SASL_SSL', port: SINGLE.saslSsl, tls, sasl: true },
      { name: 'PROXIED', port: SINGLE.proxied, advertisedPort: SINGLE.proxy },
    ],
    defaultReplicationFactor: 1,
    brokerConfigs: { 'num.io.threads': '4', 'num.network.threads': '2' },
  }
}

export interface FakeProcess {
  bootstrap: string[]
  pid: number
  stop(): Promise<void>
}

/** Starts the fake cluster in a child process and resolves once it listens. */
export function startFakeProcess(args: string[] = []): Promise<FakeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error('the fake cluster did not start within 30 s'))
    }, 30_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the fake cluster exited with ${code} before it listened`))
    })
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer)
      const { bootstrap } = JSON.parse(line) as { bootstrap: string[] }
      resolve({
        bootstrap,
        pid: child.pid!,
        stop: async () => {
          child.kill('SIGTERM')
          await exited
        },
      })
    })
  })
}

/** The fake cluster for a test run (scripts/test.ts's fake target), as brokerForRun gives the real broker. */
export async function fakeClusterForRun(): Promise<{ env: NodeJS.ProcessEnv; done: () => Promise<void> }> {
  const fake = await startFakeProcess(['--harness'])
  return { env: { ...process.env, KAFKA_BROKERS: fake.bootstrap.join(',') }, done: () => fake.stop() }
}

/** Runs the fake cluster in this process until SIGTERM, SIGINT or stdin closing; `argv` as the usage above. */
export async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      brokers: { type: 'string', default: '1' },
      harness: { type: 'boolean', default: false },
      topic: { type: 'string', multiple: true, default: [] },
      // the compiled package (npm run build), as users run it: for the benchmark
      dist: { type: 'boolean', default: false },
    },
  })
  const topics = values.topic.map((t) => {
    const [name, partitions] = t.split(':')
    return { name, partitions: partitions ? Number(partitions) : undefined }
  })
  const options = values.harness ? harnessOptions() : { brokers: Number(values.brokers) }
  const { FakeCluster: Fake } = values.dist
    ? ((await import(
        new URL('../../dist/testing/index.js', import.meta.url).href
      )) as typeof import('../../src/testing/index.ts'))
    : { FakeCluster }
  const cluster = await Fake.start({
    ...options,
    topics,
    log: (line) => process.stderr.write(`[fake] ${line}\n`),
  })
  const stop = async () => {
    await cluster.stop()
    process.exit(0)
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  // a parent that goes away takes the fake with it
  process.stdin.on('end', stop)
  process.stdin.resume()
  process.stdout.write(`${JSON.stringify({ bootstrap: cluster.bootstrap })}\n`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await serve(process.argv.slice(2))
