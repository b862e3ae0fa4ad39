// A real Confluent-compatible schema registry for tests, demos and benchmarks: Apicurio Registry 3,
// resolved from Maven Central (pom.xml beside this file: the app's Quarkus fast-jar tarball) and run
// with `java -jar` on 127.0.0.1 with in-memory (H2) storage; it serves the Confluent API at
// /apis/ccompat/v7. Apicurio 3 is built for Java 21: the harness looks for a JDK >= 21 (REGISTRY_JAVA,
// JAVA_HOME, then the JDKs under /usr/lib/jvm). The app is unpacked once into the kit dir (`.kafka/`
// or KAFKAX_KIT_DIR); each instance keeps its pid, log and keys in `<kit>/registry-<port>/`.
//
// An instance at port P listens on P (HTTP) and P + 2 (Quarkus' management interface, health and
// metrics); a `secured` one also on P + 1 (HTTPS, the server certificate of the Kafka harness' test
// CA) and requires credentials: basic auth of REGISTRY_USERS, or a bearer JWT signed with the RS256
// key the harness makes in the instance folder (`registryTokenKey`).

import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { request } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureCerts, KIT, killMatching, logTail, pidOf, STORE_PASSWORD, stopDir, TLS_DIR } from '../kafka/harness.ts'

const HERE = dirname(fileURLToPath(import.meta.url))

export const APICURIO_VERSION = '3.3.3'
const APP_DIR = join(KIT, `apicurio-registry-${APICURIO_VERSION}`)
const APP_JAR = join(APP_DIR, 'quarkus-run.jar')

/** The Confluent-compatible API's base path on Apicurio. */
export const CCOMPAT_PATH = '/apis/ccompat/v7'

/** The project default (README, docker-compose.yml, the demo); REGISTRY_PORT moves it. */
export const DEFAULT_REGISTRY_PORT = 8081
export const REGISTRY_PORT = Number(process.env.REGISTRY_PORT ?? DEFAULT_REGISTRY_PORT)

export function registryPorts(base: number) {
  return { http: base, https: base + 1, management: base + 2 }
}

/** Basic-auth users of a secured instance. */
export const REGISTRY_USERS = { alice: 'alice-secret' } as const

const START_TIMEOUT_MS = Number(process.env.REGISTRY_START_TIMEOUT_MS ?? 120_000)
const JVM_OPTS = [
  ...(process.env.REGISTRY_HEAP_OPTS ?? '-Xms64m -Xmx384m').split(/\s+/).filter(Boolean),
  // a registry in tests serves few requests: start fast rather than peak
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Djava.awt.headless=true',
]

function log(message: string) {
  process.stderr.write(`[registry-harness] ${message}\n`)
}

export const registryDir = (port: number) => join(KIT, `registry-${port}`)

// ---------------------------------------------------------------------------------------------
// Setup: the app and a Java for it

/** Unpacks the Apicurio Registry app into the kit dir (once; cached after). */
export function fetchRegistry(): void {
  if (existsSync(APP_JAR)) return
  log(`resolving Apicurio Registry ${APICURIO_VERSION} from Maven Central into ${APP_DIR}`)
  // unpacked beside and renamed at the end: a concurrent or interrupted setup never leaves half an app
  const partial = `${APP_DIR}.partial-${process.pid}`
  rmSync(partial, { recursive: true, force: true })
  execFileSync(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      join(HERE, 'pom.xml'),
      `-Dapicurio.version=${APICURIO_VERSION}`,
      `-Dregistry.dir=${partial}`,
      'dependency:unpack',
    ],
    { stdio: 'inherit' },
  )
  if (!existsSync(join(partial, 'quarkus-run.jar'))) throw new Error(`no quarkus-run.jar in ${partial} after unpack`)
  if (existsSync(APP_JAR)) rmSync(partial, { recursive: true, force: true })
  else renameSync(partial, APP_DIR)
}

function javaMajor(java: string): number | undefined {
  const result = spawnSync(java, ['-version'], { encoding: 'utf8' })
  if (result.status !== 0) return undefined
  const match = /version "(\d+)/.exec(result.stderr)
  return match ? Number(match[1]) : undefined
}

/** A `java` of version 21 or newer: REGISTRY_JAVA, JAVA_HOME, `java` on PATH, then /usr/lib/jvm/*. */
export function registryJava(): string {
  const jvms = existsSync('/usr/lib/jvm') ? readdirSync('/usr/lib/jvm').sort().reverse() : []
  const candidates = [
    process.env.REGISTRY_JAVA,
    process.env.JAVA_HOME && join(process.env.JAVA_HOME, 'bin', 'java'),
    'java',
    ...jvms.map((dir) => join('/usr/lib/jvm', dir, 'bin', 'java')),
  ].filter((c): c is string => Boolean(c))
  const seen: string[] = []
  for (const java of candidates) {
    const major = javaMajor(java)
    if (major !== undefined && major >= 21) return java
    seen.push(`${java}: ${major ?? 'not runnable'}`)
  }
  throw new Error(
    `Apicurio Registry ${APICURIO_VERSION} needs Java 21 or newer; set REGISTRY_JAVA=/path/to/bin/java (found ${seen.join(', ')})`,
  )
}

// ---------------------------------------------------------------------------------------------
// Processes

/** The last lines of an instance's log, for a failing start or test to print. */
export function registryLogTail(port = REGISTRY_PORT, lines = 40): string {
  return logTail(registryDir(port), lines)
}

/** The HTTP status of GET /subjects (401 counts: a secured instance is up too), or undefined. */
function probe(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: `${CCOMPAT_PATH}/subjects`, timeout: 2_000 }, (res) => {
      res.resume()
      resolve(res.statusCode)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(undefined))
    req.end()
  })
}

function secureProps(dir: string, port: number): string[] {
  ensureCerts()
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  writeFileSync(join(dir, 'jwt-private.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }))
  // Quarkus OIDC verifies bearer tokens with this key alone (no identity provider): the DER, base64
  const publicDer = publicKey.export({ type: 'spki', format: 'der' }).toString('base64')
  return [
    `-Dquarkus.http.ssl-port=${registryPorts(port).https}`,
    `-Dquarkus.http.ssl.certificate.key-store-file=${join(TLS_DIR, 'broker.p12')}`,
    `-Dquarkus.http.ssl.certificate.key-store-password=${STORE_PASSWORD}`,
    '-Dquarkus.http.insecure-requests=enabled',
    '-Dquarkus.http.auth.basic=true',
    '-Dquarkus.security.users.embedded.plain-text=true',
    ...Object.entries(REGISTRY_USERS).map(([user, pw]) => `-Dquarkus.security.users.embedded.users.${user}=${pw}`),
    '-Dquarkus.oidc.tenant-enabled=true',
    `-Dquarkus.oidc.public-key=${publicDer}`,
  ]
}

export interface RegistryInstance {
  started: boolean
  /** The Confluent-compatible API over HTTP, e.g. http://127.0.0.1:8081/apis/ccompat/v7 */
  url: string
  /** The same over HTTPS (secured instances only). */
  httpsUrl?: string
}

function instance(port: number, started: boolean, secured: boolean): RegistryInstance {
  const ports = registryPorts(port)
  return {
    started,
    url: `http://127.0.0.1:${ports.http}${CCOMPAT_PATH}`,
    httpsUrl: secured ? `https://127.0.0.1:${ports.https}${CCOMPAT_PATH}` : undefined,
  }
}

/** Kills an instance at `port` left behind by an earlier run whose pid file was lost (it would hold the port). */
function killStrays(port: number): void {
  killMatching(`-Dquarkus.http.port=${port} .*${APP_JAR}`)
}

/**
 * Starts a registry at `port` (default REGISTRY_PORT) and resolves once it answers; a no-op when one
 * already runs there. `secured` requires credentials and adds HTTPS (see the top of this file).
 */
export async function startRegistry(options: { port?: number; secured?: boolean } = {}): Promise<RegistryInstance> {
  const port = options.port ?? REGISTRY_PORT
  const secured = options.secured ?? false
  const dir = registryDir(port)
  if (pidOf(dir) !== undefined) {
    const runningSecured = existsSync(join(dir, 'jwt-private.pem'))
    if (runningSecured !== secured)
      throw new Error(`a ${runningSecured ? 'secured' : 'plain'} registry already runs at ${port}; stop it first`)
    await waitReady(dir, port)
    return instance(port, false, secured)
  }
  killStrays(port)
  fetchRegistry()
  const java = registryJava()
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const ports = registryPorts(port)
  const props = [
    '-Dquarkus.http.host=127.0.0.1',
    `-Dquarkus.http.port=${ports.http}`,
    // the management interface is built in (health, metrics): bound here, not to 0.0.0.0:9000
    '-Dquarkus.management.host=127.0.0.1',
    `-Dquarkus.management.port=${ports.management}`,
    '-Dquarkus.http.access-log.enabled=false',
    '-Dapicurio.storage.kind=sql',
    '-Dapicurio.storage.sql.kind=h2',
    ...(secured ? secureProps(dir, port) : []),
  ]
  const out = openSync(join(dir, 'stdout.log'), 'w')
  const child = spawn(java, [...JVM_OPTS, ...props, '-jar', APP_JAR], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', out, out],
  })
  closeSync(out)
  child.unref()
  writeFileSync(join(dir, 'pid'), String(child.pid))
  await waitReady(dir, port)
  log(`Apicurio Registry ${APICURIO_VERSION} ready at ${instance(port, true, secured).url}`)
  return instance(port, true, secured)
}

async function waitReady(dir: string, port: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (pidOf(dir) === undefined)
      throw new Error(`the registry at ${port} exited during startup:\n${registryLogTail(port)}`)
    const status = await probe(port)
    if (status === 200 || status === 401) return
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`the registry at ${port} not ready after ${START_TIMEOUT_MS} ms:\n${registryLogTail(port)}`)
}

/**
 * The registry of a test run (as brokerForRun for the broker): REGISTRY_URL when it names one, else
 * one started here when `needed`, passed on as REGISTRY_URL; `done` stops what was started.
 */
export async function registryForRun(needed: boolean): Promise<{ env: NodeJS.ProcessEnv; done: () => Promise<void> }> {
  if (process.env.REGISTRY_URL || !needed) return { env: {}, done: async () => {} }
  const registry = await startRegistry()
  return { env: { REGISTRY_URL: registry.url }, done: () => (registry.started ? stopRegistry() : Promise.resolve()) }
}

/** Stops the instance at `port` (SIGTERM, then SIGKILL after 30 s); its state was in memory and is gone. */
export async function stopRegistry(port = REGISTRY_PORT): Promise<void> {
  await stopDir(registryDir(port))
}

/** The private key whose signatures a secured instance at `port` accepts in bearer tokens (RS256). */
export function registryTokenKey(port: number): string {
  return readFileSync(join(registryDir(port), 'jwt-private.pem'), 'utf8')
}
