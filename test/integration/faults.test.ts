// Network faults between kafkax and the real broker (test/helpers/fault-proxy.ts): resets of every
// connection, black holes, latency per chunk, bytes trickled in tiny fragments, refused connections
// and a broker restart, on a seeded schedule printed with its seed (FAULT_SEED=<n> replays it).
// Each scenario ends with exact checks (test/helpers/fault-scenarios.ts): nothing acknowledged lost
// or duplicated, order kept per partition, every promise settled, errors typed, commits never past
// a handled record, no socket or timer left after close. `npm run soak` runs them for longer.

import { describe, it } from 'node:test'
import { adminScenario, consumerScenario, format, producerScenario } from '../helpers/fault-scenarios.ts'
import { FAULT_KINDS, faultSeed } from '../helpers/fault-schedule.ts'

const seed = faultSeed()
const log = (line: string) => process.stdout.write(`${line}\n`)
const NETWORK_FAULTS = FAULT_KINDS.filter((k) => k !== 'restart')
// each scenario bounds its own waits; this only keeps a broken run from holding the suite
const timeout = 240_000

describe(`network faults (FAULT_SEED=${seed})`, () => {
  it('idempotent producer, long delivery timeout: everything delivered exactly once, in order', {
    timeout,
  }, async () => {
    const figures = await producerScenario({
      seed,
      log,
      faultMs: 30_000,
      restarts: 1,
      include: [...FAULT_KINDS],
      requestTimeoutMs: 3000,
      deliveryTimeoutMs: 120_000,
      recordsPerSecond: 800,
      partitions: 6,
      deliverAll: true,
    })
    log(`producer, long delivery timeout: ${format(figures)}`)
  })

  it('idempotent producer, short delivery timeout through a 5 s black hole: acked once, rejected typed, none pending', {
    timeout,
  }, async () => {
    const figures = await producerScenario({
      seed,
      log,
      // the case that found the hang: requests time out inside the black hole, batches expire, the epoch is bumped
      first: [{ afterMs: 2000, kind: 'blackhole', durationMs: 5000, ending: seed % 2 === 0 ? 'resume' : 'reset' }],
      faultMs: 8000,
      restarts: 0,
      requestTimeoutMs: 3000,
      deliveryTimeoutMs: 4000,
      recordsPerSecond: 1000,
      partitions: 6,
      deliverAll: false,
    })
    log(`producer, short delivery timeout: ${format(figures)}`)
  })

  it('consumer group with concurrency: every record handled, commits never past a handled one, nothing left for the next member', {
    timeout,
  }, async () => {
    const figures = await consumerScenario({
      seed,
      log,
      faultMs: 30_000,
      restarts: 1,
      include: [...FAULT_KINDS],
      partitions: 6,
      concurrency: 4,
      initialRecords: 3000,
      recordsPerSecond: 400,
    })
    log(`consumer group: ${format(figures)}`)
  })

  it('admin calls and metadata refresh settle with right results or typed errors', { timeout }, async () => {
    const figures = await adminScenario({
      seed,
      log,
      faultMs: 10_000,
      restarts: 0,
      include: NETWORK_FAULTS,
      workers: 3,
    })
    log(`admin: ${format(figures)}`)
  })
})
