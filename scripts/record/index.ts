// npm run record: starts a private single node (KAFKA_PORT_BASE, default 29092; KAFKA_VERSION 4.3 or
// 3.9), runs every scenario of scenarios.ts through the recording proxy and writes the conversations
// to fixtures/protocol/<broker version>/, merging fixtures/protocol/index.json across versions.

import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

// the harness computes its ports from KAFKA_PORT_BASE when imported, so set it before importing it
if (!process.env.KAFKA_PORT_BASE) {
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, KAFKA_PORT_BASE: '29092' },
  })
  process.exit(child.status ?? 1)
}

const { ROOT, SINGLE, ensureKcat, release, startSingle, stopSingle } = await import('../kafka/harness.ts')
const { startRecordingProxy } = await import('./proxy.ts')
const { librdkafkaVersion, prepare, scenarios } = await import('./scenarios.ts')

const id = (s: { client: string; name: string }) => `${s.client}-${s.name}`

// `--scenario <id> <bootstrap>`: the child that runs one scenario. The clients are run synchronously
// (runTool, spawnSync), which would block the proxy's event loop if they ran in this process.
if (process.argv[2] === '--scenario') {
  const [, , , wanted, bootstrap] = process.argv
  const scenario = scenarios().find((s) => id(s) === wanted)
  if (!scenario) throw new Error(`no scenario ${wanted}`)
  scenario.run(bootstrap)
  process.exit(0)
}

function runScenario(scenarioId: string, bootstrap: string): Promise<void> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], '--scenario', scenarioId, bootstrap], {
    stdio: 'inherit',
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`scenario ${scenarioId} exited ${code}`))))
  })
}

interface IndexEntry {
  file: string
  client: string
  kafka: string
  scenario: string
  description: string
}

const OUT = join(ROOT, 'fixtures', 'protocol')
const rel = release()
const dir = join(OUT, rel.version)
ensureKcat()
const clients = { java: `java-${rel.version}`, kcat: `kcat-${librdkafkaVersion()}` }

const entries: IndexEntry[] = []
// a freshly formatted node every time: the recordings then depend on the scenarios alone
await stopSingle()
await startSingle()
try {
  prepare(`127.0.0.1:${SINGLE.plaintext}`)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  for (const s of scenarios()) {
    const started = Date.now()
    // a fresh proxy per scenario, so its fixture holds exactly that client's connections
    const proxy = await startRecordingProxy({ listenPort: SINGLE.proxy, targetPort: SINGLE.proxied })
    try {
      await runScenario(id(s), `127.0.0.1:${proxy.port}`)
    } finally {
      await proxy.close()
    }
    const exchanges = proxy.exchanges()
    if (exchanges.length === 0) throw new Error(`${id(s)}: nothing recorded`)
    const file = `${rel.version}/${id(s)}.jsonl`
    const lines = exchanges.map((e) =>
      JSON.stringify({
        apiKey: e.apiKey,
        apiVersion: e.apiVersion,
        correlationId: e.correlationId,
        request: e.request.toString('base64'),
        response: e.response?.toString('base64') ?? null,
      }),
    )
    writeFileSync(join(OUT, file), `${lines.join('\n')}\n`)
    if (s.records) writeFileSync(join(OUT, `${file}.records.json`), `${JSON.stringify(s.records, null, 1)}\n`)
    entries.push({ file, client: clients[s.client], kafka: rel.version, scenario: s.name, description: s.description })
    const unanswered = exchanges.filter((e) => e.response === null).length
    console.log(`${file}: ${exchanges.length} exchanges (${unanswered} unanswered), ${Date.now() - started} ms`)
  }
} finally {
  await stopSingle()
}

// merge: entries of other broker versions stay, this version's are replaced
const indexFile = join(OUT, 'index.json')
const previous: IndexEntry[] = existsSync(indexFile) ? JSON.parse(readFileSync(indexFile, 'utf8')) : []
const merged = [...previous.filter((e) => e.kafka !== rel.version), ...entries].sort((a, b) =>
  a.file.localeCompare(b.file),
)
writeFileSync(indexFile, `${JSON.stringify(merged, null, 2)}\n`)
console.log(`${entries.length} fixtures for Kafka ${rel.version} in ${dir}`)
