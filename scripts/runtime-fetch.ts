// The runtimes kafkax is tested on, fetched from the npm registry into .tmp/<name> (Node.js as the
// node-<platform>-<arch> packages, Bun, Deno), and `onNode24()`: the benchmark, the demo and the
// integration suite run on Node 24 (the current LTS) whatever `node` the shell has.

import { type SpawnSyncOptions, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './kafka/harness.ts'

export interface Runtime {
  /** The npm package and version range it comes from. */
  spec: string
  /** The executable inside the installed package. */
  bin: string
  kind: 'node' | 'bun' | 'deno'
}

const NODE_PACKAGE = `node-${process.platform}-${process.arch}`
const node = (major: number): Runtime => ({
  spec: `${NODE_PACKAGE}@${major}`,
  bin: `node_modules/${NODE_PACKAGE}/bin/node`,
  kind: 'node',
})
export const RUNTIMES: Record<string, Runtime> = {
  node20: node(20),
  node22: node(22),
  node24: node(24),
  node26: node(26),
  bun: { spec: 'bun@1.4', bin: 'node_modules/bun/bin/bun.exe', kind: 'bun' },
  deno: { spec: 'deno@2.9', bin: 'node_modules/deno/deno', kind: 'deno' },
}

const TMP = join(ROOT, '.tmp')

export function run(command: string, args: string[], options: SpawnSyncOptions = {}): void {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', ...options })
  if (result.status !== 0) {
    const how = result.error?.message ?? (result.signal ? `signal ${result.signal}` : `exit ${result.status}`)
    throw new Error(`${command} ${args.join(' ')} failed (${how})`)
  }
}

/** The runtime's executable, installed from the npm registry into .tmp/<name> unless already there. */
export function fetchRuntime(name: string): string {
  const runtime = RUNTIMES[name]
  const prefix = join(TMP, name)
  const bin = join(prefix, runtime.bin)
  const wanted = runtime.spec.split('@').pop()!
  const version = existsSync(bin) ? spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout : ''
  if (!version.replace(/^v|^[a-z]+ /, '').startsWith(`${wanted}.`)) {
    run('npm', [
      'install',
      '--prefix',
      prefix,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      runtime.spec,
    ])
  }
  return bin
}

/** Node 24's executable: this process's own when it is Node 24, else the one fetched into .tmp/node24. */
export function node24(): string {
  return process.versions.node.startsWith('24.') ? process.execPath : fetchRuntime('node24')
}

/**
 * Runs this script again under Node 24 when the shell's Node is another major, and exits with its
 * status. Bun and Deno are left alone (the smoke suite runs the demo under them on purpose), and
 * KAFKAX_ANY_NODE=1 keeps the current Node (to measure or demo another one).
 */
export function onNode24(): void {
  if (process.versions.bun || 'Deno' in globalThis || process.env.KAFKAX_ANY_NODE === '1') return
  if (process.versions.node.startsWith('24.')) return
  const bin = fetchRuntime('node24')
  process.stderr.write(`[kafkax] Node ${process.versions.node} -> re-running under Node 24 (${bin})\n`)
  const result = spawnSync(bin, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' })
  process.exit(result.status ?? 1)
}
