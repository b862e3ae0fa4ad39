// What the exactly-once tests share: input written round the partitions, the crash tests' side of
// eos-worker.ts (starting a worker process, waiting for its progress, killing it), and checks of what
// a pipeline left: one committed output per input, the group's offsets at the end of the input.

import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { ROOT } from '../../scripts/kafka/harness.ts'
import type { Admin } from '../../src/admin/admin.ts'
import { Producer } from '../../src/producer/producer.ts'
import { kcat } from './kafka.ts'
import { waitFor } from './wait.ts'

export interface WorkerConfig {
  brokers: string[]
  input: string
  output: string
  groupId: string
  id: string
}

/** Writes `count` records `0..count-1` (key and value the number) round the partitions of `topic`. */
export async function writeInputs(
  bootstrap: string[],
  topic: string,
  count: number,
  partitions: number,
): Promise<void> {
  const producer = new Producer({ brokers: bootstrap })
  try {
    await producer.sendBatch(
      Array.from({ length: count }, (_, i) => ({ topic, partition: i % partitions, key: String(i), value: String(i) })),
    )
  } finally {
    await producer.close()
  }
}

/** A running eos-worker.ts process. */
export class Worker {
  readonly child: ChildProcess
  /** Messages this process handled, as it last printed. */
  handled = 0
  stderr = ''
  readonly exited: Promise<number | null>

  constructor(config: WorkerConfig) {
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'test/helpers/eos-worker.ts'), JSON.stringify(config)],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let partial = ''
    this.child.stdout!.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n')
      partial = lines.pop()!
      for (const line of lines) if (line) this.handled = JSON.parse(line).handled
    })
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000)
    })
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)))
  }

  /** kill -9, and waits for the process to be gone. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL')
    await this.exited
  }

  /** SIGTERM (the worker stops its consumer: commits, leaves the group) and waits for the exit code. */
  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM')
    return this.exited
  }
}

/** Whether the group's committed offsets reached the end of every partition of `topic`. */
export async function committedAtEnd(admin: Admin, groupId: string, topic: string): Promise<boolean> {
  const ends = await admin.listOffsets({ topic, at: 'latest' })
  const committed = await admin.fetchCommittedOffsets(groupId, [topic])
  return ends.every((e) => committed.find((c) => c.partition === e.partition)?.offset === e.offset)
}

/** Waits (up to `timeoutMs`) until the group committed the whole input, failing early if `worker` exits. */
export async function untilDone(admin: Admin, config: WorkerConfig, worker: Worker, timeoutMs: number): Promise<void> {
  let exited = false
  worker.exited.then(() => {
    exited = true
  })
  await waitFor(
    'the committed offsets at the end of the input',
    async () => {
      if (exited) throw new Error(`the worker exited: ${worker.stderr}`)
      return committedAtEnd(admin, config.groupId, config.input)
    },
    { timeoutMs, intervalMs: 500, state: () => ({ handled: worker.handled, stderr: worker.stderr.slice(-500) }) },
  )
}

/**
 * What a read_committed reader finds in `output`: the inputs (0..count-1) whose output is missing,
 * those written more than once, and records that are no input's output.
 */
export function outputsOf(
  bootstrap: string[],
  output: string,
  count: number,
): { missing: number[]; duplicated: number[]; foreign: string[] } {
  const seen = new Array<number>(count).fill(0)
  const foreign: string[] = []
  const out = kcat([
    ...['-b', bootstrap.join(','), '-C', '-t', output, '-e', '-q'],
    ...['-X', 'isolation.level=read_committed', '-f', '%s\\n'],
  ])
  for (const value of out.split('\n')) {
    if (!value) continue
    const i = /^out-(\d+)$/.exec(value) ? Number(value.slice(4)) : -1
    if (i >= 0 && i < count) seen[i]++
    else foreign.push(value)
  }
  const missing: number[] = []
  const duplicated: number[] = []
  for (let i = 0; i < count; i++) {
    if (seen[i] === 0) missing.push(i)
    else if (seen[i] > 1) duplicated.push(i)
  }
  return { missing, duplicated, foreign }
}

/** A seeded pseudo-random number in [0, 1) (an LCG): kill points that a seed reproduces. */
export function seeded(seed: number): () => number {
  let x = seed >>> 0
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    return x / 2 ** 32
  }
}
