// Runs one client process and measures it from the outside: wall time, CPU time (user + system)
// and peak RSS, through GNU time when the machine has it (`/usr/bin/time -f`); without it only the
// figures a Node client reports about itself are available.

import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Measured {
  stdout: string
  stderr: string
  /** Of the whole process, startup included; undefined without GNU time. */
  cpuSeconds?: number
  peakRssMb?: number
  wallSeconds: number
}

const GNU_TIME = '/usr/bin/time'
export const hasGnuTime = existsSync(GNU_TIME)

/** Runs `command` to completion; `discardStdout` for clients that print every record (kcat -C). */
export async function measured(
  command: string,
  args: string[],
  options: { timeoutMs?: number; discardStdout?: boolean } = {},
): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'kafkax-bench-time-'))
  const timeFile = join(dir, 'time')
  const [cmd, argv] = hasGnuTime ? [GNU_TIME, ['-f', '%e %U %S %M', '-o', timeFile, command, ...args]] : [command, args]
  const started = performance.now()
  const child = spawn(cmd, argv, { stdio: ['ignore', options.discardStdout ? 'ignore' : 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d) => (stdout += d))
  child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-20_000)))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000)
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  clearTimeout(timer)
  const wallSeconds = (performance.now() - started) / 1000
  try {
    if (code !== 0) throw new Error(`${command} ${args.slice(0, 4).join(' ')} exited ${code}:\n${stderr.slice(-2000)}`)
    if (!hasGnuTime) return { stdout, stderr, wallSeconds }
    // GNU time may print "Command exited..." first: the figures are the last line
    const [, user, system, rssKb] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number)
    return { stdout, stderr, wallSeconds, cpuSeconds: user + system, peakRssMb: rssKb / 1024 }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The last line of a client's output that is a JSON object. */
export function lastJson(stdout: string): Record<string, number> {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'))
  if (!line) throw new Error(`no result line in:\n${stdout.slice(-2000)}`)
  return JSON.parse(line)
}
