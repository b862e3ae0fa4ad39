// Members of a share group run by the Java client (bench/java/ShareMember.java, a KafkaShareConsumer
// in explicit acknowledgement mode), for the share-group tests and the share benchmark: compiled
// once per process with the harness's jars, each member a JVM whose JSON lines say what the broker
// confirmed it accepted.

import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT, release } from '../../scripts/kafka/harness.ts'

export interface JavaShareMemberOptions {
  bootstrap: string
  groupId: string
  topic: string
  /** A sleep per record, as the handler's work (0: none). */
  handlerMs?: number
  /** Keep every accepted offset (tests), or only count them (the benchmark). */
  report?: 'offsets' | 'counts'
}

export interface JavaShareMember {
  /** Settles once the member subscribed (its JVM started and compiled nothing: that was done once). */
  readonly started: Promise<void>
  /** Records the broker confirmed accepted. */
  readonly accepted: () => number
  /** With report 'offsets': each accepted record as `partition:offset`. */
  readonly offsets: string[]
  /** Acknowledgements the broker refused, as the exception names. */
  readonly failures: string[]
  /** Stops the member cleanly (SIGTERM: close() acknowledges and leaves); resolves when it exited. */
  stop(): Promise<void>
}

let compiled: Promise<string> | undefined

/** ShareMember.java compiled into a temporary folder, once per process. */
function compile(): Promise<string> {
  compiled ??= (async () => {
    const out = mkdtempSync(join(tmpdir(), 'kafkax-share-member-'))
    await promisify(execFile)('javac', [
      '-cp',
      `${release().libs}/*`,
      '-d',
      out,
      join(ROOT, 'bench/java/ShareMember.java'),
    ])
    return out
  })()
  return compiled
}

/** The `java` arguments that run ShareMember with `args` (see ShareMember.java). */
export async function shareMemberArgs(args: string[], heapMb = 256): Promise<string[]> {
  return [`-Xmx${heapMb}m`, '-cp', `${await compile()}:${release().libs}/*`, 'ShareMember', ...args]
}

export async function javaShareMember(options: JavaShareMemberOptions): Promise<JavaShareMember> {
  const args = [
    options.bootstrap,
    options.groupId,
    options.topic,
    String(options.handlerMs ?? 0),
    options.report ?? 'offsets',
  ]
  const child: ChildProcess = spawn('java', await shareMemberArgs(args), { stdio: ['ignore', 'pipe', 'pipe'] })
  let count = 0
  const offsets: string[] = []
  const failures: string[] = []
  let stderr = ''
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const started = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`ShareMember exited (${code}) before it started:\n${stderr}`)))
    let pending = ''
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n')
      pending = lines.pop()!
      for (const line of lines) {
        if (!line.startsWith('{')) continue
        const event = JSON.parse(line) as {
          started?: boolean
          accepted?: number | Record<string, number[]>
          failed?: string
        }
        if (event.started) resolve()
        if (typeof event.accepted === 'number') count += event.accepted
        else if (event.accepted) {
          for (const [partition, list] of Object.entries(event.accepted)) {
            count += list.length
            for (const offset of list) offsets.push(`${partition}:${offset}`)
          }
        }
        if (event.failed) failures.push(event.failed)
      }
    })
  })
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000)
  })
  started.catch(() => {})
  return {
    started,
    accepted: () => count,
    offsets,
    failures,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}
