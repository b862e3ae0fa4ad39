// A seeded schedule of network faults for the FaultProxy, and its runner. The seed decides every
// choice (which fault, when, how long, fragment sizes), is printed with the schedule, and
// FAULT_SEED=<n> replays it; what differs between two runs of a seed is only the timing of the
// machine (when requests happen to be in flight).

import { randomInt } from 'node:crypto'
import type { FaultProxy } from './fault-proxy.ts'
import { sleep } from './wait.ts'

export type FaultKind = 'reset' | 'blackhole' | 'latency' | 'trickle' | 'refuse' | 'restart'
export const FAULT_KINDS: readonly FaultKind[] = ['reset', 'blackhole', 'latency', 'trickle', 'refuse', 'restart']

export interface Fault {
  /** Quiet time before the fault, after the previous one ended. */
  afterMs: number
  kind: FaultKind
  /** How long it lasts (0 for a reset; a restart lasts as long as the broker takes). */
  durationMs: number
  /** A black hole ends by forwarding what it held, or by resetting every connection. */
  ending?: 'resume' | 'reset'
  /** Per-chunk delay of a latency fault. */
  latencyMs?: number
}

export type FaultCounts = Record<FaultKind, number>

/** FAULT_SEED when set (to replay a run), else a fresh random seed. */
export function faultSeed(env: NodeJS.ProcessEnv = process.env): number {
  if (env.FAULT_SEED === undefined || env.FAULT_SEED === '') return randomInt(2 ** 31)
  const seed = Number(env.FAULT_SEED)
  if (!Number.isInteger(seed) || seed < 0)
    throw new Error(`FAULT_SEED must be a non-negative integer, got ${env.FAULT_SEED}`)
  return seed
}

export interface PlanOptions {
  /** Faults are planned to fit in this time (a restart counted as `restartMs`). */
  durationMs: number
  /** Relative weight of each kind; kinds left out never happen. */
  weights: Partial<FaultCounts>
  /** Kinds that come first, once each, in a seeded order, even beyond `durationMs` (so a short schedule has them all). */
  include?: FaultKind[]
  /** Restarts at most (they are slow: a JVM start). Default 1. */
  maxRestarts?: number
  restartMs?: number
  /** Quiet time between faults. Default 300-2000 ms. */
  gapMs?: [number, number]
  /** Length of black holes. Default 1000-5000 ms. */
  blackholeMs?: [number, number]
}

const between = (random: () => number, [lo, hi]: [number, number]) => lo + Math.floor(random() * (hi - lo + 1))

function weighted(random: () => number, kinds: FaultKind[], weights: Partial<FaultCounts>): FaultKind {
  let pick = random() * kinds.reduce((sum, k) => sum + weights[k]!, 0)
  for (const k of kinds) {
    pick -= weights[k]!
    if (pick < 0) return k
  }
  return kinds[kinds.length - 1]
}

/** Draws a schedule from `random` (a prng): back-to-back faults separated by quiet gaps. */
export function planFaults(random: () => number, o: PlanOptions): Fault[] {
  const restartMs = o.restartMs ?? 15_000
  let restarts = o.maxRestarts ?? 1
  const faults: Fault[] = []
  const first = (o.include ?? []).filter((k) => (o.weights[k] ?? 0) > 0 && (k !== 'restart' || restarts > 0))
  for (let i = first.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[first[i], first[j]] = [first[j], first[i]]
  }
  let used = 0
  for (;;) {
    const kinds = FAULT_KINDS.filter((k) => (o.weights[k] ?? 0) > 0 && (k !== 'restart' || restarts > 0))
    if (kinds.length === 0) break
    const included = first.length > 0
    const kind = first.shift() ?? weighted(random, kinds, o.weights)
    if (kind === 'restart' && restarts === 0) continue
    const fault: Fault = { afterMs: between(random, o.gapMs ?? [300, 2000]), kind, durationMs: 0 }
    if (kind === 'blackhole') {
      fault.durationMs = between(random, o.blackholeMs ?? [1000, 5000])
      fault.ending = random() < 0.5 ? 'resume' : 'reset'
    } else if (kind === 'latency') {
      fault.durationMs = between(random, [1000, 4000])
      fault.latencyMs = between(random, [20, 400])
    } else if (kind === 'trickle') fault.durationMs = between(random, [500, 3000])
    else if (kind === 'refuse') fault.durationMs = between(random, [300, 3000])
    const cost = fault.afterMs + (kind === 'restart' ? restartMs : fault.durationMs)
    // the included kinds always come; the budget bounds the random ones after them
    if (!included && used + cost > o.durationMs) break
    used += cost
    if (kind === 'restart') restarts--
    faults.push(fault)
  }
  return faults
}

/** One line per fault, for the test log: enough to see what a replayed seed will do. */
export function describeFaults(seed: number, faults: readonly Fault[]): string {
  const lines = faults.map((f, i) => {
    const what =
      f.kind === 'blackhole'
        ? `black hole ${f.durationMs} ms, then ${f.ending}`
        : f.kind === 'latency'
          ? `latency ${f.latencyMs} ms per chunk for ${f.durationMs} ms`
          : f.kind === 'trickle'
            ? `trickle 1-7 byte fragments for ${f.durationMs} ms`
            : f.kind === 'refuse'
              ? `reset all, refuse connections for ${f.durationMs} ms`
              : f.kind === 'restart'
                ? 'broker restart'
                : 'reset every connection'
    return `  ${String(i + 1).padStart(2)}. +${f.afterMs} ms: ${what}`
  })
  return `fault schedule (FAULT_SEED=${seed}), ${faults.length} faults:\n${lines.join('\n')}`
}

export const noFaults = (): FaultCounts => ({ reset: 0, blackhole: 0, latency: 0, trickle: 0, refuse: 0, restart: 0 })

/**
 * Applies `faults` to the proxy one after the other; `restart` restarts the broker. Resolves with
 * the faults injected by kind, the proxy back to forwarding normally.
 */
export async function runFaults(
  proxy: FaultProxy,
  faults: readonly Fault[],
  o: { restart?: () => Promise<void>; log?: (line: string) => void } = {},
): Promise<FaultCounts> {
  const counts = noFaults()
  const started = Date.now()
  for (const f of faults) {
    await sleep(f.afterMs)
    o.log?.(`[faults +${Date.now() - started} ms] ${f.kind}${f.durationMs ? ` ${f.durationMs} ms` : ''}`)
    counts[f.kind]++
    try {
      switch (f.kind) {
        case 'reset':
          proxy.resetAll()
          break
        case 'blackhole':
          proxy.setMode('hold')
          await sleep(f.durationMs)
          if (f.ending === 'reset') proxy.resetAll()
          break
        case 'latency':
          proxy.setMode('latency', f.latencyMs)
          await sleep(f.durationMs)
          break
        case 'trickle':
          proxy.setMode('trickle')
          await sleep(f.durationMs)
          break
        case 'refuse':
          proxy.resetAll()
          proxy.refuse()
          await sleep(f.durationMs)
          await proxy.accept()
          break
        case 'restart':
          if (!o.restart) throw new Error('a restart fault needs a restart function')
          await o.restart()
          break
      }
    } finally {
      proxy.setMode('pass')
    }
  }
  return counts
}
