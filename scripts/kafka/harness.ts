// A real Apache Kafka (KRaft) assembled from Maven Central jars and run with the machine's Java 17:
// a single node with every listener kind, and a 3-node cluster for failover tests.
// Follows the recipe in the project notes (pom files, log4j configs and listener layout beside this file).
// All state lives under `.kafka/` in the project root (git-ignored): jars per version, the test CA,
// node configs, data dirs, pid files and logs.

import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { probeMetadata } from './probe.ts'

const HERE = dirname(fileURLToPath(import.meta.url))
export const ROOT = resolve(HERE, '../..')
export const KIT = process.env.KAFKAX_KIT_DIR ?? join(ROOT, '.kafka')

/** Kafka lines we run, with the log4j2 version each release pins (none for 3.9: reload4j). */
const RELEASES: Record<string, { version: string; log4j2?: string }> = {
  '4.3': { version: '4.3.1', log4j2: '2.25.4' },
  '3.9': { version: '3.9.2' },
}

export interface KafkaRelease {
  version: string
  line: '4.3' | '3.9'
  libs: string
}

/** KAFKA_VERSION selects the line: unset or 4.3.x -> 4.3.1, 3.9.x -> 3.9.2. */
export function release(requested = process.env.KAFKA_VERSION ?? '4.3'): KafkaRelease {
  const line = requested.startsWith('3.9') ? '3.9' : requested.startsWith('4.3') ? '4.3' : undefined
  if (!line) throw new Error(`KAFKA_VERSION=${requested} is not supported: use 4.3.x (default) or 3.9.x`)
  const { version } = RELEASES[line]
  return { version, line, libs: join(KIT, `libs-${version}`) }
}

export const TLS_DIR = join(KIT, 'tls')
export const STORE_PASSWORD = 'changeit'

/**
 * Ports of the single node (identical in docker-compose.yml and the README). KAFKA_PORT_BASE shifts
 * them all, so a second single node (another Kafka line, a recording session) can run beside the first.
 */
export const DEFAULT_PORT_BASE = 9092
export function singlePorts(base: number) {
  return {
    plaintext: base,
    controller: base + 1,
    saslPlaintext: base + 2,
    ssl: base + 3,
    saslSsl: base + 4,
    /** A PLAINTEXT listener advertised at the recording proxy's port, so recorded clients stay on the proxy. */
    proxied: base + 5,
    proxy: base + 6,
  }
}
export type SinglePorts = ReturnType<typeof singlePorts>
const BASE = Number(process.env.KAFKA_PORT_BASE ?? DEFAULT_PORT_BASE)
export const SINGLE = singlePorts(BASE)

export const SINGLE_DIR = join(KIT, BASE === DEFAULT_PORT_BASE ? 'single' : `single-${BASE}`)

/** Test users: PLAIN knows both; SCRAM-SHA-256 and -512 credentials are created at format time. */
export const USERS = { admin: 'admin-secret', alice: 'alice-secret' } as const

export const CLUSTER_NODES = [1, 2, 3] as const
/** KAFKA_CLUSTER_PORT_BASE shifts the cluster's ports (and its folder), so two clusters can run side by side. */
const CLUSTER_BASE = Number(process.env.KAFKA_CLUSTER_PORT_BASE ?? DEFAULT_PORT_BASE)
// Node i listens on 9i92 (PLAINTEXT) and 9i93 (CONTROLLER), as in the recipe's port plan.
export const clusterBrokerPort = (node: number) => CLUSTER_BASE + node * 100
const clusterControllerPort = (node: number) => CLUSTER_BASE + 1 + node * 100
export const CLUSTER_BOOTSTRAP = CLUSTER_NODES.map((n) => `127.0.0.1:${clusterBrokerPort(n)}`)

const HEAP = process.env.KAFKA_HEAP_OPTS ?? '-Xms384m -Xmx384m'
const JVM_OPTS = [
  ...HEAP.split(/\s+/).filter(Boolean),
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-Djava.awt.headless=true',
]
const TOOL_JVM = ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Djava.awt.headless=true']
const START_TIMEOUT_MS = Number(process.env.KAFKA_START_TIMEOUT_MS ?? 120_000)

function log(message: string) {
  process.stderr.write(`[kafka-harness] ${message}\n`)
}

function logArgs(rel: KafkaRelease, kind: 'broker' | 'tools'): string {
  if (rel.line === '3.9')
    return `-Dlog4j.configuration=file:${join(HERE, kind === 'broker' ? 'log4j.properties' : 'tools-log4j.properties')}`
  return `-Dlog4j2.configurationFile=${join(HERE, kind === 'broker' ? 'log4j2.yaml' : 'tools-log4j2.yaml')}`
}

// ---------------------------------------------------------------------------------------------
// Setup: jars, certificates, kcat

/** Resolves the broker, tools and logging jars into .kafka/libs-<version> (once; cached after). */
export function fetchLibs(rel = release()): void {
  const marker = join(rel.libs, `kafka_2.13-${rel.version}.jar`)
  if (existsSync(marker)) return
  log(`resolving Apache Kafka ${rel.version} jars from Maven Central into ${rel.libs}`)
  mkdirSync(rel.libs, { recursive: true })
  const pom = join(HERE, rel.line === '3.9' ? 'pom-3.9.xml' : 'pom.xml')
  const props = [`-Dkafka.version=${rel.version}`]
  const log4j2 = RELEASES[rel.line].log4j2
  if (log4j2) props.push(`-Dlog4j2.version=${log4j2}`)
  execFileSync(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      pom,
      ...props,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${rel.libs}`,
    ],
    { stdio: 'inherit' },
  )
  for (const jar of [marker, join(rel.libs, `kafka-tools-${rel.version}.jar`), clientsJar(rel)]) {
    if (!existsSync(jar)) throw new Error(`missing ${jar} after fetch`)
  }
}

/** The kafka-clients jar of a release: it carries the protocol's JSON message definitions. */
export function clientsJar(rel = release()): string {
  return join(rel.libs, `kafka-clients-${rel.version}.jar`)
}

/** A test CA and a broker keystore signed by it (SAN localhost + 127.0.0.1), made with the JDK's keytool. */
export function ensureCerts(): void {
  if (existsSync(join(TLS_DIR, 'truststore.p12'))) return
  rmSync(TLS_DIR, { recursive: true, force: true })
  mkdirSync(TLS_DIR, { recursive: true })
  const p = (f: string) => join(TLS_DIR, f)
  const keytool = (...args: string[]) =>
    execFileSync('keytool', ['-storetype', 'PKCS12', '-storepass', STORE_PASSWORD, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
  const rsa = ['-keyalg', 'RSA', '-keysize', '2048', '-validity', '3650']
  keytool(
    '-genkeypair',
    '-alias',
    'ca',
    '-dname',
    'CN=kafkax-test-ca',
    ...rsa,
    '-ext',
    'bc:c',
    '-keystore',
    p('ca.p12'),
  )
  keytool('-exportcert', '-rfc', '-alias', 'ca', '-keystore', p('ca.p12'), '-file', p('ca.pem'))
  keytool('-genkeypair', '-alias', 'broker', '-dname', 'CN=localhost', ...rsa, '-keystore', p('broker.p12'))
  keytool('-certreq', '-alias', 'broker', '-keystore', p('broker.p12'), '-file', p('broker.csr'))
  keytool(
    '-gencert',
    '-alias',
    'ca',
    '-keystore',
    p('ca.p12'),
    '-infile',
    p('broker.csr'),
    '-outfile',
    p('broker.pem'),
    '-rfc',
    '-validity',
    '3650',
    '-ext',
    'SAN=DNS:localhost,IP:127.0.0.1',
    '-ext',
    'KU=digitalSignature,keyEncipherment',
    '-ext',
    'EKU=serverAuth,clientAuth',
  )
  keytool('-importcert', '-noprompt', '-alias', 'ca', '-file', p('ca.pem'), '-keystore', p('broker.p12'))
  keytool('-importcert', '-noprompt', '-alias', 'broker', '-file', p('broker.pem'), '-keystore', p('broker.p12'))
  // written last: its presence marks a complete setup
  keytool('-importcert', '-noprompt', '-alias', 'ca', '-file', p('ca.pem'), '-keystore', p('truststore.p12'))
}

/** kcat (librdkafka) is the second real client we interoperate with; installed from Debian when missing. */
export function ensureKcat(): void {
  if (spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status === 0) return
  log('installing kcat from Debian')
  const sudo = process.getuid?.() === 0 ? [] : ['sudo']
  const run = (args: string[]) => {
    const [cmd, ...rest] = [...sudo, ...args]
    execFileSync(cmd, rest, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  }
  run(['apt-get', 'update', '-qq'])
  run(['apt-get', 'install', '-y', '-qq', 'kcat'])
}

// ---------------------------------------------------------------------------------------------
// Node configuration

const COMMON_PROPS = (dataDir: string) => `process.roles=broker,controller
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=${dataDir}
num.partitions=1
auto.create.topics.enable=true
group.initial.rebalance.delay.ms=0
# a small footprint for 2-core machines (defaults: 3 network, 8 io threads, 128 MiB dedupe buffer on heap)
num.network.threads=2
num.io.threads=4
log.cleaner.dedupe.buffer.size=33554432
# fewer internal partitions: the first group join and transaction come up in well under a second
offsets.topic.num.partitions=5
transaction.state.log.num.partitions=5
# KIP-848 groups: tests set short sessions per group (consumer.session.timeout.ms, consumer.heartbeat.interval.ms)
group.consumer.min.session.timeout.ms=3000
group.consumer.min.heartbeat.interval.ms=250
# transactions past their timeout are aborted within a second (default: checked every 10 s)
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
# share groups' __share_group_state likewise (default 50 partitions): the first share group starts at once
share.coordinator.state.topic.num.partitions=5
# let a share group's own config ask for a short acquisition lock and heartbeat interval (broker
# minimums 15 s and 5 s): tests of lock expiry and of members joining run in seconds
group.share.min.record.lock.duration.ms=1000
group.share.min.heartbeat.interval.ms=500
`

function jaas(listener: string): string {
  const users = Object.entries(USERS)
    .map(([u, pw]) => `user_${u}="${pw}"`)
    .join(' ')
  return [
    `listener.name.${listener}.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${USERS.admin}" ${users};`,
    `listener.name.${listener}.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
    `listener.name.${listener}.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
    // No unsecuredLogin* options: a tokenless login, as the broker only validates client tokens. With no
    // server callback handler configured, Kafka's OAuthBearerUnsecuredValidatorCallbackHandler accepts
    // unsecured JWS (alg none) whose `sub` names the principal.
    `listener.name.${listener}.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;`,
  ].join('\n')
}

/**
 * ACLs enforced (Kafka's StandardAuthorizer), where a resource without ACLs stays open to everyone,
 * so a test can deny one principal one resource: the single node started with `--authorizer`.
 */
const AUTHORIZER_PROPS = `authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=true
`

export function singleNodeProperties(dir: string, s: SinglePorts = SINGLE, o: { authorizer?: boolean } = {}): string {
  const listeners = [
    `PLAINTEXT://127.0.0.1:${s.plaintext}`,
    `CONTROLLER://127.0.0.1:${s.controller}`,
    `SASL_PLAINTEXT://127.0.0.1:${s.saslPlaintext}`,
    `SSL://127.0.0.1:${s.ssl}`,
    `SASL_SSL://127.0.0.1:${s.saslSsl}`,
    `PROXIED://127.0.0.1:${s.proxied}`,
  ]
  const advertised = listeners.map((l) => (l.startsWith('PROXIED') ? `PROXIED://127.0.0.1:${s.proxy}` : l))
  return `${COMMON_PROPS(join(dir, 'data'))}node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:${s.controller}
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
listeners=${listeners.join(',')}
advertised.listeners=${advertised.join(',')}
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,PROXIED:PLAINTEXT
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER
${jaas('sasl_plaintext')}
${jaas('sasl_ssl')}
ssl.keystore.type=PKCS12
ssl.keystore.location=${join(TLS_DIR, 'broker.p12')}
ssl.keystore.password=${STORE_PASSWORD}
ssl.key.password=${STORE_PASSWORD}
ssl.truststore.type=PKCS12
ssl.truststore.location=${join(TLS_DIR, 'truststore.p12')}
ssl.truststore.password=${STORE_PASSWORD}
ssl.client.auth=none
# SASL sessions on SASL_PLAINTEXT expire after 15 s, so clients must re-authenticate (KIP-368)
listener.name.sasl_plaintext.connections.max.reauth.ms=15000
${o.authorizer ? AUTHORIZER_PROPS : ''}`
}

function clusterNodeProperties(node: number, dir: string): string {
  const voters = CLUSTER_NODES.map((n) => `${n}@127.0.0.1:${clusterControllerPort(n)}`).join(',')
  const listeners = `PLAINTEXT://127.0.0.1:${clusterBrokerPort(node)},CONTROLLER://127.0.0.1:${clusterControllerPort(node)}`
  return `${COMMON_PROPS(join(dir, 'data'))}node.id=${node}
controller.quorum.voters=${voters}
listeners=${listeners}
advertised.listeners=${listeners}
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
# detect a killed node in 4 s instead of 9 s
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000
# a rack per node; consumers that name theirs fetch from the replica there (KIP-392)
broker.rack=rack-${node}
replica.selector.class=org.apache.kafka.common.replica.RackAwareReplicaSelector
`
}

/** Java client configs for the CLI tools on the secured listeners of the single node. */
export function clientConfig(
  kind: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER' | 'SSL' | 'SASL_SSL-SCRAM-SHA-256',
  user: keyof typeof USERS = 'alice',
): string {
  const file = join(SINGLE_DIR, `client-${kind}-${user}.properties`)
  const trust = `ssl.truststore.type=PKCS12\nssl.truststore.location=${join(TLS_DIR, 'truststore.p12')}\nssl.truststore.password=${STORE_PASSWORD}\n`
  const login = (mech: string) => {
    const prefix = `sasl.mechanism=${mech}\nsasl.jaas.config=org.apache.kafka.common.security`
    // OAUTHBEARER: the Java client's default login handler makes an unsecured JWS with this `sub`
    if (mech === 'OAUTHBEARER')
      return `${prefix}.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="${user}";\n`
    const module = mech === 'PLAIN' ? 'plain.PlainLoginModule' : 'scram.ScramLoginModule'
    return `${prefix}.${module} required username="${user}" password="${USERS[user]}";\n`
  }
  let text: string
  if (kind === 'SSL') text = `security.protocol=SSL\n${trust}`
  else if (kind === 'SASL_SSL-SCRAM-SHA-256') text = `security.protocol=SASL_SSL\n${login('SCRAM-SHA-256')}${trust}`
  else text = `security.protocol=SASL_PLAINTEXT\n${login(kind)}`
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, text)
  return file
}

// ---------------------------------------------------------------------------------------------
// Processes

/** A fresh KRaft cluster id: 16 random bytes, base64url (Kafka never hands out ids starting with '-'). */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

/** The java arguments that run a Kafka CLI class with the assembled classpath (for tools run alongside others). */
export function toolArgs(mainClass: string, args: string[]): string[] {
  const rel = release()
  fetchLibs(rel)
  return [...TOOL_JVM, logArgs(rel, 'tools'), '-cp', `${rel.libs}/*`, mainClass, ...args]
}

/** Runs a Kafka CLI class with the assembled classpath and returns its output (throws on failure). */
export function runTool(mainClass: string, args: string[], options: { input?: string; timeoutMs?: number } = {}) {
  const result = spawnSync('java', toolArgs(mainClass, args), {
    input: options.input,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 256 * 1024 * 1024,
  })
  if (result.error) throw result.error
  if (result.status !== 0) {
    throw new Error(`${mainClass} ${args.join(' ')} exited ${result.status}:\n${result.stderr}\n${result.stdout}`)
  }
  return { stdout: result.stdout, stderr: result.stderr }
}

function format(config: string, id: string, extra: string[]) {
  runTool('kafka.tools.StorageTool', ['format', '-t', id, '-c', config, ...extra])
}

/** The pid in `dir`/pid when that process runs (the registry harness keeps its instances the same way). */
export function pidOf(dir: string): number | undefined {
  const file = join(dir, 'pid')
  if (!existsSync(file)) return undefined
  const pid = Number(readFileSync(file, 'utf8'))
  try {
    process.kill(pid, 0)
    return pid
  } catch {
    return undefined
  }
}

/** Starts a node's JVM on its config; a restart (`append`) keeps the log of the run before. */
function startProcess(rel: KafkaRelease, dir: string, append = false): void {
  mkdirSync(join(dir, 'logs'), { recursive: true })
  const out = openSync(join(dir, 'stdout.log'), append ? 'a' : 'w')
  const child = spawn(
    'java',
    [
      ...JVM_OPTS,
      logArgs(rel, 'broker'),
      `-Dkafka.logs.dir=${join(dir, 'logs')}`,
      '-cp',
      `${rel.libs}/*`,
      'kafka.Kafka',
      join(dir, 'server.properties'),
    ],
    { detached: true, stdio: ['ignore', out, out] },
  )
  closeSync(out)
  child.unref()
  writeFileSync(join(dir, 'pid'), String(child.pid))
  writeFileSync(join(dir, 'version'), rel.version)
}

/** The last lines of a node's log, for a failing test to print. */
export function logTail(dir: string, lines = 60): string {
  const file = join(dir, 'stdout.log')
  if (!existsSync(file)) return `(no log at ${file})`
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n')
}

/** Waits until a real Metadata request to `port` lists `expectBrokers` brokers. */
async function waitReady(dir: string, port: number, expectBrokers: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS
  let last: unknown
  while (Date.now() < deadline) {
    if (pidOf(dir) === undefined) throw new Error(`Kafka in ${dir} exited during startup:\n${logTail(dir)}`)
    try {
      const brokers = await probeMetadata('127.0.0.1', port, 2_000)
      if (brokers.length >= expectBrokers) return
      last = new Error(`metadata lists ${brokers.length} of ${expectBrokers} brokers`)
    } catch (err) {
      last = err
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`Kafka in ${dir} not ready after ${START_TIMEOUT_MS} ms (${String(last)}):\n${logTail(dir)}`)
}

/** Signals the process of `dir` and waits until it is gone (SIGKILL after 30 s). */
export async function stopDir(dir: string, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
  const pid = pidOf(dir)
  rmSync(join(dir, 'pid'), { force: true })
  if (pid === undefined) return
  try {
    process.kill(pid, signal)
  } catch {
    return
  }
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0)
    } catch {
      return
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  try {
    process.kill(pid, 'SIGKILL')
  } catch {}
}

/** Kills a broker of `dir` left behind by an earlier run whose pid file was lost (it would hold our ports). */
function killStrays(dir: string): void {
  killMatching(`kafka.Kafka ${dir}/`)
}

/** SIGKILLs the processes whose command line matches `pattern` (pgrep -f): strays of an earlier run. */
export function killMatching(pattern: string): void {
  const found = spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' })
  for (const line of (found.stdout ?? '').split('\n')) {
    const pid = Number(line)
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Single node

/**
 * Starts the single node with every listener (and ACLs enforced with `authorizer`); a no-op when it
 * already runs and serves requests.
 */
export async function startSingle(o: { authorizer?: boolean } = {}): Promise<{ started: boolean; bootstrap: string }> {
  const rel = release()
  const bootstrap = `127.0.0.1:${SINGLE.plaintext}`
  if (pidOf(SINGLE_DIR) !== undefined) {
    const running = readFileSync(join(SINGLE_DIR, 'version'), 'utf8')
    if (running !== rel.version)
      throw new Error(`Kafka ${running} already runs; stop it before starting ${rel.version}`)
    await waitReady(SINGLE_DIR, SINGLE.plaintext, 1)
    return { started: false, bootstrap }
  }
  killStrays(SINGLE_DIR)
  fetchLibs(rel)
  ensureCerts()
  rmSync(SINGLE_DIR, { recursive: true, force: true })
  mkdirSync(SINGLE_DIR, { recursive: true })
  const config = join(SINGLE_DIR, 'server.properties')
  writeFileSync(config, singleNodeProperties(SINGLE_DIR, SINGLE, o))
  const scram = Object.entries(USERS).flatMap(([name, password]) =>
    ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${name},password=${password}]`]),
  )
  format(config, clusterId(), ['--standalone', ...scram])
  startProcess(rel, SINGLE_DIR)
  await waitReady(SINGLE_DIR, SINGLE.plaintext, 1)
  log(`Kafka ${rel.version} ready at ${bootstrap} (logs: ${join(SINGLE_DIR, 'stdout.log')})`)
  return { started: true, bootstrap }
}

/**
 * The broker a test run uses: the one KAFKA_BROKERS names, else the single node (started when not
 * running). `done()` stops what this call started; the returned env carries KAFKA_BROKERS.
 */
export async function brokerForRun(): Promise<{ env: NodeJS.ProcessEnv; done: () => Promise<void> }> {
  const env = { ...process.env }
  if (env.KAFKA_BROKERS) return { env, done: async () => {} }
  const broker = await startSingle()
  env.KAFKA_BROKERS = broker.bootstrap
  return { env, done: () => (broker.started ? stopAll() : Promise.resolve()) }
}

export async function stopSingle(): Promise<void> {
  await stopDir(SINGLE_DIR)
}

/**
 * Stops the running single node (SIGTERM: a clean shutdown; SIGKILL: a crash) and starts it again
 * on its existing data and config (never reformatted); resolves once it serves requests again.
 */
export async function restartSingle(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
  if (pidOf(SINGLE_DIR) === undefined) throw new Error(`no single node runs in ${SINGLE_DIR}`)
  const rel = release()
  const running = readFileSync(join(SINGLE_DIR, 'version'), 'utf8')
  if (running !== rel.version) throw new Error(`Kafka ${running} runs, not ${rel.version}: cannot restart it as that`)
  await stopDir(SINGLE_DIR, signal)
  startProcess(rel, SINGLE_DIR, true)
  await waitReady(SINGLE_DIR, SINGLE.plaintext, 1)
}

/**
 * Writes the test users' SCRAM credentials again. A CI run saw the single node, restarted twice by
 * the fault suite, refuse every SCRAM login of users its metadata still held (Kafka 4.3.1), and the
 * later SCRAM tests failed; fresh credential records bring its cache back. One mechanism of one user
 * per request: the broker refuses two changes of one user at once.
 */
export function rewriteScramUsers(): void {
  for (const [name, password] of Object.entries(USERS)) {
    for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'])
      runTool('kafka.admin.ConfigCommand', [
        '--bootstrap-server',
        `127.0.0.1:${SINGLE.plaintext}`,
        '--alter',
        '--entity-type',
        'users',
        '--entity-name',
        name,
        '--add-config',
        `${mechanism}=[password=${password}]`,
      ])
  }
}

// ---------------------------------------------------------------------------------------------
// Three-node cluster

const CLUSTER_DIR = join(KIT, CLUSTER_BASE === DEFAULT_PORT_BASE ? 'cluster' : `cluster-${CLUSTER_BASE}`)
export const clusterDir = (node: number) => join(CLUSTER_DIR, `n${node}`)

/** Formats and starts a fresh 3-node cluster (replication factor 3, min ISR 2). */
export async function startCluster(): Promise<string[]> {
  const rel = release()
  fetchLibs(rel)
  await stopCluster()
  killStrays(CLUSTER_DIR)
  rmSync(CLUSTER_DIR, { recursive: true, force: true })
  const id = clusterId()
  for (const n of CLUSTER_NODES) {
    const dir = clusterDir(n)
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'server.properties'), clusterNodeProperties(n, dir))
    format(join(dir, 'server.properties'), id, [])
  }
  // all three before waiting: the controller quorum needs two of them
  for (const n of CLUSTER_NODES) startProcess(rel, clusterDir(n))
  for (const n of CLUSTER_NODES) await waitReady(clusterDir(n), clusterBrokerPort(n), CLUSTER_NODES.length)
  log(`cluster ready at ${CLUSTER_BOOTSTRAP.join(',')}`)
  return CLUSTER_BOOTSTRAP
}

/** SIGKILL a node: no controlled shutdown, leaders move only when the controller fences it. */
export async function killNode(node: number): Promise<void> {
  await stopDir(clusterDir(node), 'SIGKILL')
}

/** SIGTERM a node: a controlled shutdown that moves its leaders first. */
export async function stopNode(node: number): Promise<void> {
  await stopDir(clusterDir(node), 'SIGTERM')
}

/** Restarts a stopped or killed node on its existing data (never reformatted). */
export async function restartNode(node: number): Promise<void> {
  const dir = clusterDir(node)
  if (pidOf(dir) !== undefined) return
  startProcess(release(), dir, true)
  await waitReady(dir, clusterBrokerPort(node), 1)
}

export async function stopCluster(): Promise<void> {
  await Promise.all(CLUSTER_NODES.map((n) => stopDir(clusterDir(n))))
}

export async function stopAll(): Promise<void> {
  await Promise.all([stopSingle(), stopCluster()])
}
