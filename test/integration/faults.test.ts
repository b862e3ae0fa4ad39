// Network faults between kafkax and the real broker (test/helpers/fault-proxy.ts): resets of every
// connection, black holes, latency per chunk, bytes trickled in tiny fragments, refused connections
// and a broker restart, on a seeded schedule printed with its seed (FAULT_SEED=<n> replays it).
// Each scenario ends with exact checks (test/helpers/fault-scenarios.ts): nothing acknowledged lost
// or duplicated, order kept per partition, every promise settled, errors typed, commits never past
// a handled record, no socket or timer left after close. `npm run soak` runs them for longer.

import { after, describe, it } from 'node:test'
import { format, scenarios } from '../helpers/fault-scenarios.ts'
import { FAULT_KINDS, faultSeed } from '../helpers/fault-schedule.ts'
import { rewriteScramUsers } from '../helpers/kafka.ts'

const seed = faultSeed()
const log = (line: string) => process.stdout.write(`${line}\n`)
const NETWORK_FAULTS = FAULT_KINDS.filter((k) => k !== 'restart')
// each scenario bounds its own waits; this only keeps a broken run from holding the suite
const timeout = 240_000

// the files after this one log in with SCRAM: a restarted node was seen refusing those logins
after(() => rewriteScramUsers())

describe(`network faults (FAULT_SEED=${seed})`, () => {
  it('idempotent producer, long delivery timeout: everything delivered exactly once, in order', {
    timeout,
  }, async () => {
    const o = { seed, log, faultMs: 30_000, restarts: 1, include: [...FAULT_KINDS] }
    log(`producer, long delivery timeout: ${format(await scenarios.producerLongTimeout(o))}`)
  })

  it('idempotent producer, short delivery timeout through a 5 s black hole: acked once, rejected typed, none pending', {
    timeout,
  }, async () => {
    const o = { seed, log, faultMs: 8000, restarts: 0 }
    log(`producer, short delivery timeout: ${format(await scenarios.producerShortTimeout(o))}`)
  })

  it('consumer group with concurrency: every record handled, commits never past a handled one, nothing left for the next member', {
    timeout,
  }, async () => {
    const o = { seed, log, faultMs: 30_000, restarts: 1, include: [...FAULT_KINDS] }
    log(`consumer group: ${format(await scenarios.group(o))}`)
  })

  it('admin calls and metadata refresh settle with right results or typed errors', { timeout }, async () => {
    const o = { seed, log, faultMs: 10_000, restarts: 0, include: NETWORK_FAULTS }
    log(`admin: ${format(await scenarios.admin(o))}`)
  })
})
