// npm run soak [-- --minutes 20 --fault-seconds 90 --restarts 2]: the fault scenarios of
// test/integration/faults.test.ts, round after round for longer schedules, each round with a fresh
// seed (FAULT_SEED pins it, to replay a failure). Prints every round's figures and the totals:
// records sent/acknowledged/rejected, faults injected by kind, lost, duplicated, reordered, pending
// promises. Starts the single node unless KAFKA_BROKERS names a running one; exits 1 if a round failed.

import { parseArgs } from 'node:util'
import { format, type ScenarioOptions, scenarios } from '../test/helpers/fault-scenarios.ts'
import { FAULT_KINDS, type FaultCounts, faultSeed, noFaults } from '../test/helpers/fault-schedule.ts'
import { brokerForRun } from './kafka/harness.ts'

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '20' },
    'fault-seconds': { type: 'string', default: '90' },
    restarts: { type: 'string', default: '2' },
  },
})
const budgetMs = Number(values.minutes) * 60_000
const faultMs = Number(values['fault-seconds']) * 1000
const restarts = Number(values.restarts)
for (const [name, v] of [
  ['--minutes', budgetMs],
  ['--fault-seconds', faultMs],
  ['--restarts', restarts],
] as const) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number`)
}

const log = (line: string) => process.stdout.write(`${line}\n`)
const totals = {
  rounds: 0,
  failed: [] as string[],
  faults: noFaults(),
  producer: { sent: 0, acked: 0, rejected: 0, pending: 0, lost: 0, duplicated: 0, reordered: 0, misplaced: 0 },
  consumer: { produced: 0, handled: 0, redelivered: 0, secondMember: 0 },
  admin: { calls: 0, results: 0, errors: 0 },
}

function add(into: Record<string, number>, from: Record<string, number | unknown>): void {
  for (const k of Object.keys(into)) if (typeof from[k] === 'number') into[k] += from[k] as number
}

function addFaults(faults: FaultCounts): void {
  for (const k of FAULT_KINDS) totals.faults[k] += faults[k]
}

/** Runs one scenario; a failure is printed and counted, and the soak goes on with the next one. */
async function scenario<F extends { faults: FaultCounts }>(name: string, seed: number, run: () => Promise<F>) {
  const started = Date.now()
  try {
    const figures = await run()
    addFaults(figures.faults)
    log(`[round ${totals.rounds}] ${name} ok in ${Math.round((Date.now() - started) / 1000)} s: ${format(figures)}`)
    return figures
  } catch (error) {
    totals.failed.push(`${name} FAULT_SEED=${seed}`)
    log(`[round ${totals.rounds}] ${name} FAILED (FAULT_SEED=${seed}):\n${(error as Error).stack ?? error}`)
    return undefined
  }
}

async function round(seed: number): Promise<void> {
  // every kind of fault each round, and black holes up to 15 s: past the group's session timeout
  // (10 s), so members are evicted too
  const o: ScenarioOptions = { seed, log, faultMs, restarts, include: [...FAULT_KINDS], blackholeMs: [1000, 15_000] }
  const producers = [
    ['producer, long delivery timeout', scenarios.producerLongTimeout],
    ['producer, short delivery timeout', scenarios.producerShortTimeout],
  ] as const
  for (const [name, run] of producers) {
    const figures = await scenario(name, seed, () => run(o))
    if (figures) add(totals.producer, figures as unknown as Record<string, number>)
  }
  const group = await scenario('consumer group', seed, () => scenarios.group(o))
  if (group) add(totals.consumer, group as unknown as Record<string, number>)
  const admin = await scenario('admin', seed, () => scenarios.admin({ ...o, faultMs: faultMs / 2 }))
  if (admin) {
    totals.admin.calls += admin.calls
    totals.admin.results += admin.results
    totals.admin.errors += admin.calls - admin.results
  }
}

const broker = await brokerForRun()
process.env.KAFKA_BROKERS = broker.env.KAFKA_BROKERS
try {
  const soakStart = Date.now()
  while (Date.now() - soakStart < budgetMs) {
    totals.rounds++
    const seed = faultSeed()
    log(
      `\n=== soak round ${totals.rounds} (FAULT_SEED=${seed}), ${Math.round((Date.now() - soakStart) / 60_000)} of ${values.minutes} min`,
    )
    await round(seed)
  }
} finally {
  log(`\n=== soak: ${totals.rounds} rounds, ${totals.failed.length} scenarios failed`)
  log(`faults injected: ${FAULT_KINDS.map((k) => `${k} ${totals.faults[k]}`).join(', ')}`)
  log(`producer: ${format(totals.producer)}`)
  log(`consumer group: ${format(totals.consumer)}`)
  log(`admin: ${format(totals.admin)}`)
  for (const f of totals.failed) log(`failed: ${f}`)
  if (totals.failed.length > 0) process.exitCode = 1
  await broker.done()
}
