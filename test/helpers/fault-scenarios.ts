// The fault scenarios: kafkax clients talk to the real broker through the FaultProxy while a
// seeded schedule of faults runs, then what reached the broker is read back and checked exactly.
// Each scenario creates and closes every client it uses, so the leak check can demand that no
// socket or timer created meanwhile is left. test/integration/faults.test.ts runs them briefly,
// scripts/soak.ts for longer with a new seed per round. A scenario resolves with its figures, or
// throws an AssertionError listing every problem, the figures and the seed that replays it.

import assert from 'node:assert/strict'
import { Admin } from '../../src/admin/admin.ts'
import { Cluster } from '../../src/client/cluster.ts'
import { Consumer } from '../../src/consumer/consumer.ts'
import type { Message } from '../../src/consumer/message.ts'
import { type CommitTrace, channels } from '../../src/observability/channels.ts'
import { Producer } from '../../src/producer/producer.ts'
import type { RecordMetadata } from '../../src/producer/record.ts'
import { KafkaError, KafkaxError } from '../../src/protocol/errors.ts'
import { FaultProxy, type FaultProxyStats } from './fault-proxy.ts'
import {
  describeFaults,
  type Fault,
  type FaultCounts,
  type FaultKind,
  noFaults,
  planFaults,
  runFaults,
} from './fault-schedule.ts'
import { brokers, readWithKcat, restartSingle, SINGLE, uniqueTopic } from './kafka.ts'
import { type LeakReport, LeakWatch, PromiseLedger } from './leaks.ts'
import { prng } from './prng.ts'

export interface ScenarioOptions {
  seed: number
  /** Time the seeded faults may take in all. */
  faultMs: number
  /** Broker restarts at most (each takes 10-20 s on a small machine). */
  restarts: number
  /** Kinds the schedule must have (once each, first): a short run still sees every fault. */
  include?: FaultKind[]
  /** Length of the seeded black holes (default 1-5 s; the soak goes past session timeouts). */
  blackholeMs?: [number, number]
  log: (line: string) => void
}

interface Common {
  seed: number
  topic: string
  faults: FaultCounts
  proxy: FaultProxyStats
}

/** Every kind of fault; restarts are further bounded by `restarts`. */
const WEIGHTS = { reset: 3, blackhole: 3, latency: 2, trickle: 2, refuse: 2, restart: 2 }
/** Clients reach the broker only through the proxy: bootstrap and the advertised PROXIED listener. */
const THROUGH_PROXY = () => [`127.0.0.1:${SINGLE.proxy}`]

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** `promise`, or a rejection naming `what` once `ms` passed; a later rejection of `promise` is ignored. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  promise.catch(() => {})
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled after ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Polls `condition` until it holds (true) or `ms` passed (false). */
async function until(condition: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await condition()) return true
    if (Date.now() > deadline) return false
    await sleep(50)
  }
}

/** The problems a scenario found; `verdict` throws them all at once, with the figures and the seed. */
class Problems {
  readonly list: string[] = []

  add(problem: string): void {
    // the first problems of a kind explain it; a thousand more copies would not
    if (this.list.length < 40) this.list.push(problem)
    else if (this.list.length === 40) this.list.push('(more problems left out)')
  }

  check(ok: boolean, problem: string): void {
    if (!ok) this.add(problem)
  }

  leaks(report: LeakReport): void {
    for (const l of report.leaked) this.add(`left alive after close: ${l}`)
    for (const r of report.unhandledRejections) this.add(`unhandled rejection: ${r}`)
    for (const e of report.uncaughtExceptions) this.add(`uncaught exception: ${e}`)
  }

  verdict(name: string, figures: Common): void {
    if (this.list.length === 0) return
    throw new assert.AssertionError({
      message: `${name} (replay with FAULT_SEED=${figures.seed}):\n  - ${this.list.join('\n  - ')}\nfigures: ${format(figures)}`,
    })
  }
}

/** Figures as one line of JSON (bigints as numbers). */
export function format(figures: object): string {
  return JSON.stringify(figures, (_, v) => (typeof v === 'bigint' ? Number(v) : v))
}

/** The seeded schedule (after the `first` faults, if any), printed; the proxy's own randomness is seeded too. */
async function faultyNetwork(o: ScenarioOptions, first: Fault[] = []) {
  const faults = [
    ...first,
    ...planFaults(prng(o.seed), {
      durationMs: o.faultMs,
      weights: WEIGHTS,
      maxRestarts: o.restarts,
      include: o.include,
      blackholeMs: o.blackholeMs,
    }),
  ]
  o.log(describeFaults(o.seed, faults))
  const proxy = await FaultProxy.start({
    listenPort: SINGLE.proxy,
    targetPort: SINGLE.proxied,
    random: prng(o.seed + 1),
  })
  const run = () => runFaults(proxy, faults, { restart: () => restartSingle(), log: o.log })
  return { proxy, run }
}

function countError(into: Record<string, number>, error: unknown): void {
  const name = error instanceof KafkaError ? `KafkaError(${error.type})` : ((error as Error)?.name ?? String(error))
  into[name] = (into[name] ?? 0) + 1
}

// ---------------------------------------------------------------------------------------------
// Idempotent producer

export interface ProducerScenarioOptions extends ScenarioOptions {
  requestTimeoutMs: number
  deliveryTimeoutMs: number
  recordsPerSecond: number
  partitions: number
  /** Faults before the seeded ones (the short-timeout case starts with a 5 s black hole). */
  first?: Fault[]
  /** The long delivery timeout: every record must be acknowledged. */
  deliverAll: boolean
}

export interface ProducerFigures extends Common {
  sent: number
  acked: number
  rejected: number
  rejectedBy: Record<string, number>
  /** send() promises not settled by the deadline, and settled later than the delivery timeout allows. */
  pending: number
  settledLate: number
  /** Acknowledged and not in the log. */
  lost: number
  /** Extra copies of any record in the log. */
  duplicated: number
  /** Records of a partition found after a record sent later. */
  reordered: number
  /** Acknowledged at a partition/offset other than where the log has them. */
  misplaced: number
  /** Rejected, yet written once (the answer was lost): allowed. */
  rejectedPresent: number
  retries: number
}

/** Makes records ~100 bytes, so batches fill at the rates the scenarios send. */
const PADDING = 'x'.repeat(90)

/** Quiet network after the faults: records sent in its second half must all be acknowledged. */
const TAIL_MS = 4000

export async function producerScenario(o: ProducerScenarioOptions): Promise<ProducerFigures> {
  const problems = new Problems()
  const watch = new LeakWatch().start()
  const topic = uniqueTopic('faults-producer')
  const admin = new Admin({ brokers: brokers() })
  await within(admin.createTopics([{ topic, partitions: o.partitions, replicationFactor: 1 }]), 30_000, 'createTopics')
  const { proxy, run } = await faultyNetwork(o, o.first)
  const producer = new Producer({
    brokers: THROUGH_PROXY(),
    acks: 'all',
    idempotent: true,
    requestTimeoutMs: o.requestTimeoutMs,
    deliveryTimeoutMs: o.deliveryTimeoutMs,
    connectTimeoutMs: 2000,
    retry: { initialDelayMs: 50, maxDelayMs: 500 },
    // the Java client's batch.size: batches fill and queue up behind one another during a fault
    batch: { lingerMs: 5, maxBytes: 16_384 },
  })
  const ledger = new PromiseLedger()
  const outcomes: (RecordMetadata | Error | undefined)[] = []
  const sentAt: number[] = []
  // the delivery timeout counts from the batch's first record; a request under way then gets its own timeout
  const settleBoundMs = o.deliveryTimeoutMs + o.requestTimeoutMs + 1000
  let settledLate = 0
  const send = () => {
    const i = outcomes.length
    outcomes.push(undefined)
    sentAt.push(Date.now())
    ledger.track(producer.send({ topic, key: `k${i % 64}`, value: `${i} ${PADDING}` }), (r) => {
      outcomes[i] = r.status === 'fulfilled' ? r.value : (r.reason as Error)
      if (Date.now() - sentAt[i] > settleBoundMs) settledLate++
    })
  }
  /** Sends at the scenario's rate until `done()`. */
  const pace = async (done: () => boolean) => {
    const perTick = Math.max(1, Math.round(o.recordsPerSecond / 50))
    while (!done()) {
      for (let j = 0; j < perTick; j++) send()
      await sleep(20)
    }
  }
  let faults = noFaults()
  let quietSince = Number.POSITIVE_INFINITY
  let closed = false
  try {
    await within(producer.connect(), 20_000, 'producer.connect() through the proxy')
    let faulting = true
    const running = run().finally(() => {
      faulting = false
    })
    await pace(() => !faulting)
    faults = await running
    quietSince = Date.now()
    await pace(() => Date.now() - quietSince >= TAIL_MS)
    // every send() settles within the delivery timeout, plus a request timeout in flight and backoff
    const settleMs = Math.min(o.deliveryTimeoutMs + o.requestTimeoutMs + 10_000, 60_000)
    await until(() => ledger.pending === 0, settleMs)
    problems.check(
      ledger.pending === 0,
      `${ledger.pending} of ${ledger.handed} send() promises still pending ${settleMs} ms after the last send`,
    )
    // close() flushes: with sends left pending it cannot settle either, so it gets less time
    await within(producer.close(), ledger.pending === 0 ? 15_000 : 5000, 'producer.close()').then(
      () => {
        closed = true
      },
      (error) => problems.add(String(error)),
    )
  } finally {
    // a producer that hangs must not keep its sockets past the scenario
    if (!closed) await producer.cluster.close()
    await proxy.close()
  }
  const retries = producer.stats().retries

  const read = readWithKcat(topic)
  await admin.close()
  problems.leaks(await watch.stop())

  const copies = new Map<number, { partition: number; offset: bigint }[]>()
  const byPartition = new Map<number, number[]>()
  for (const r of read) {
    const i = Number(r.value.split(' ')[0])
    if (
      !Number.isInteger(i) ||
      i < 0 ||
      i >= outcomes.length ||
      r.key !== `k${i % 64}` ||
      r.value !== `${i} ${PADDING}`
    ) {
      problems.add(`a record never sent in the log: ${r.partition}/${r.offset} ${r.key}=${r.value}`)
      continue
    }
    copies.set(i, [...(copies.get(i) ?? []), { partition: r.partition, offset: r.offset }])
    byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), i])
  }
  let duplicated = 0
  for (const [i, c] of copies) {
    if (c.length > 1) {
      duplicated += c.length - 1
      problems.add(
        `record ${i} is in the log ${c.length} times: ${c.map((x) => `${x.partition}/${x.offset}`).join(', ')}`,
      )
    }
  }
  let reordered = 0
  for (const [partition, values] of byPartition) {
    for (let j = 1; j < values.length; j++) {
      if (values[j] < values[j - 1]) {
        reordered++
        problems.add(`partition ${partition}: record ${values[j]} follows record ${values[j - 1]}`)
      }
    }
  }
  let acked = 0
  let rejected = 0
  let lost = 0
  let misplaced = 0
  let rejectedPresent = 0
  const rejectedBy: Record<string, number> = {}
  const lateFrom = quietSince + TAIL_MS / 2
  outcomes.forEach((outcome, i) => {
    const found = copies.get(i)
    if (outcome === undefined) return
    if (outcome instanceof Error) {
      rejected++
      countError(rejectedBy, outcome)
      if (found) rejectedPresent++
      if (!(outcome instanceof KafkaxError)) problems.add(`record ${i} rejected with an untyped error: ${outcome}`)
      if (o.deliverAll)
        problems.add(`record ${i} rejected although the delivery timeout outlasts the faults: ${outcome}`)
      else if (sentAt[i] >= lateFrom)
        problems.add(`record ${i} sent ${sentAt[i] - quietSince} ms after the faults ended was rejected: ${outcome}`)
      return
    }
    acked++
    if (!found) {
      lost++
      problems.add(`record ${i} acknowledged at ${outcome.partition}/${outcome.offset} is not in the log`)
    } else if (found[0].partition !== outcome.partition || found[0].offset !== outcome.offset) {
      misplaced++
      problems.add(
        `record ${i} acknowledged at ${outcome.partition}/${outcome.offset}, in the log at ${found[0].partition}/${found[0].offset}`,
      )
    }
  })
  const figures: ProducerFigures = {
    seed: o.seed,
    topic,
    sent: outcomes.length,
    acked,
    rejected,
    rejectedBy,
    pending: ledger.pending,
    settledLate,
    lost,
    duplicated,
    reordered,
    misplaced,
    rejectedPresent,
    retries,
    faults,
    proxy: { ...proxy.stats },
  }
  problems.check(acked > 0, 'nothing was acknowledged')
  problems.check(settledLate === 0, `${settledLate} send() promises settled more than ${settleBoundMs} ms after send()`)
  problems.verdict(`idempotent producer through faults (delivery timeout ${o.deliveryTimeoutMs} ms)`, figures)
  return figures
}

// ---------------------------------------------------------------------------------------------
// Consumer group

export interface ConsumerScenarioOptions extends ScenarioOptions {
  partitions: number
  concurrency: number
  /** Records written before the consumer starts, then more at `recordsPerSecond` while the faults run. */
  initialRecords: number
  recordsPerSecond: number
}

export interface ConsumerFigures extends Common {
  groupId: string
  produced: number
  /** Distinct records handled, and handler runs in all. */
  handled: number
  deliveries: number
  /** Handler runs on a record handled before (only uncommitted work may come again). */
  redelivered: number
  /** Commits seen starting (each checked against the handled offsets), and committed offsets polled. */
  commitsChecked: number
  committedPolls: number
  /** Records the second member got after the first stopped. */
  secondMember: number
  /** Errors the consumer reported (onError) during the faults, by class. */
  consumerErrors: Record<string, number>
}

export async function consumerScenario(o: ConsumerScenarioOptions): Promise<ConsumerFigures> {
  const problems = new Problems()
  const watch = new LeakWatch().start()
  const topic = uniqueTopic('faults-group')
  const groupId = `faults-${topic}`
  const admin = new Admin({ brokers: brokers(), requestTimeoutMs: 5000 })
  await within(admin.createTopics([{ topic, partitions: o.partitions, replicationFactor: 1 }]), 30_000, 'createTopics')
  // the records come straight from the broker's own listener: only the consumer is behind the proxy
  const producer = new Producer({ brokers: brokers(), batch: { lingerMs: 5 } })
  const ledger = new PromiseLedger()
  let produced = 0
  let produceFailures = 0
  const produce = (n: number) => {
    for (let j = 0; j < n; j++, produced++) {
      ledger.track(producer.send({ topic, key: `k${produced % 64}`, value: String(produced) }), (r) => {
        if (r.status === 'rejected') produceFailures++
      })
    }
  }
  produce(o.initialRecords)

  const handled = Array.from({ length: o.partitions }, () => new Map<number, number>())
  /** Per partition, the first offset not handled yet: a commit may go up to it, never past it. */
  const handledUpTo = new Array<number>(o.partitions).fill(0)
  const committedOk = new Array<number>(o.partitions).fill(0)
  let deliveries = 0
  let redelivered = 0
  let commitsChecked = 0
  let committedPolls = 0
  const pause = prng(o.seed + 2)
  const handle = async (m: Message) => {
    // some handlers yield, so that several run at once
    if (pause() < 0.2) await sleep(1)
    const p = m.partition
    const offset = Number(m.offset)
    const times = (handled[p].get(offset) ?? 0) + 1
    handled[p].set(offset, times)
    deliveries++
    if (times > 1) {
      redelivered++
      if (offset < committedOk[p])
        problems.add(`${topic}-${p} offset ${offset} handled again after ${committedOk[p]} was committed`)
    }
    while (handled[p].has(handledUpTo[p])) handledUpTo[p]++
  }
  const commitChecks = {
    start: (ctx: CommitTrace) => {
      if (ctx.groupId !== groupId) return
      commitsChecked++
      for (const c of ctx.offsets) {
        if (Number(c.offset) > handledUpTo[c.partition])
          problems.add(
            `commit of ${topic}-${c.partition} at ${c.offset}, offsets from ${handledUpTo[c.partition]} not handled`,
          )
      }
    },
    end: () => {},
    asyncStart: () => {},
    asyncEnd: (ctx: CommitTrace & { error?: unknown }) => {
      if (ctx.groupId !== groupId || ctx.error !== undefined) return
      for (const c of ctx.offsets) committedOk[c.partition] = Math.max(committedOk[c.partition], Number(c.offset))
    },
    error: () => {},
  }
  channels.commit.subscribe(commitChecks)

  const consumerErrors: Record<string, number> = {}
  const consumer = new Consumer({
    brokers: THROUGH_PROXY(),
    groupId,
    topics: [topic],
    fromBeginning: true,
    concurrency: o.concurrency,
    commit: { mode: 'auto', intervalMs: 500 },
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1000,
    rebalanceTimeoutMs: 10_000,
    requestTimeoutMs: 5000,
    connectTimeoutMs: 2000,
    onError: (error) => {
      countError(consumerErrors, error)
      if (!(error instanceof KafkaxError)) problems.add(`the consumer reported an untyped error: ${error}`)
    },
  })
  const { proxy, run } = await faultyNetwork(o)
  let faults = noFaults()
  let second = 0
  let stopped = false
  let polling = true
  // the committed offsets as the broker has them, polled on the broker's own listener while the faults run
  const poll = (async () => {
    while (polling) {
      const committed = await admin.fetchCommittedOffsets(groupId, [topic]).catch(() => [])
      committedPolls++
      for (const c of committed) {
        if (Number(c.offset) > handledUpTo[c.partition])
          problems.add(
            `committed ${topic}-${c.partition} at ${c.offset}, offsets from ${handledUpTo[c.partition]} not handled`,
          )
      }
      await sleep(300)
    }
  })()
  const running = ledger.track(consumer.run(handle))
  try {
    let faulting = true
    const injecting = run().finally(() => {
      faulting = false
    })
    const perTick = Math.max(1, Math.round(o.recordsPerSecond / 10))
    while (faulting) {
      produce(perTick)
      await sleep(100)
    }
    faults = await injecting
    await within(producer.flush(), 60_000, 'flush() of the producer writing the records')
    problems.check(produceFailures === 0, `${produceFailures} records could not be written for the consumer to read`)
    const end = (await within(admin.listOffsets({ topic, at: 'latest' }), 30_000, 'listOffsets')).map((p) =>
      Number(p.offset),
    )
    const all = await until(() => end.every((e, p) => handledUpTo[p] >= e), 60_000)
    problems.check(
      all,
      `not every record handled 60 s after the faults: ${end.map((e, p) => `${p}: ${handledUpTo[p]}/${e}`).join(', ')}`,
    )
    await within(consumer.stop(), 30_000, 'consumer.stop()')
    await within(running, 5000, 'consumer.run() after stop()')
    stopped = true
    polling = false
    await poll
    const committed = await within(admin.fetchCommittedOffsets(groupId, [topic]), 30_000, 'fetchCommittedOffsets')
    const at = end.map((_, p) => Number(committed.find((c) => c.partition === p)?.offset ?? -1))
    problems.check(
      at.every((c, p) => c === end[p]),
      `committed offsets after stop() ${at.join(',')} differ from the end offsets ${end.join(',')}`,
    )

    // a second member of the group, after the first left: everything was committed, nothing comes
    const next = new Consumer({
      brokers: brokers(),
      groupId,
      topics: [topic],
      fromBeginning: true,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 500,
      rebalanceTimeoutMs: 10_000,
    })
    const nextRun = ledger.track(
      next.run(() => {
        second++
      }),
    )
    const positioned = await until(async () => {
      if (next.assignment().length < o.partitions) return false
      const lag = await next.lag()
      return lag.every((l) => l.position !== undefined && Number(l.position) >= end[l.partition])
    }, 30_000)
    problems.check(positioned, 'the second member did not reach the end offsets within 30 s')
    await within(next.stop(), 30_000, 'stop() of the second member')
    await within(nextRun, 5000, 'run() of the second member')
    problems.check(second === 0, `the second member got ${second} records after everything was committed`)
  } finally {
    polling = false
    if (!stopped) await consumer.stop().catch(() => {})
    await poll
    await proxy.close()
    channels.commit.unsubscribe(commitChecks)
    await within(producer.close(), 30_000, 'close() of the producer writing the records').catch((e) =>
      problems.add(String(e)),
    )
    await admin.close()
  }
  problems.check(ledger.pending === 0, `${ledger.pending} promises (run, send) never settled`)
  problems.leaks(await watch.stop())
  const figures: ConsumerFigures = {
    seed: o.seed,
    topic,
    groupId,
    produced,
    handled: handled.reduce((n, m) => n + m.size, 0),
    deliveries,
    redelivered,
    commitsChecked,
    committedPolls,
    secondMember: second,
    consumerErrors,
    faults,
    proxy: { ...proxy.stats },
  }
  problems.check(commitsChecked > 0, 'no commit was seen')
  problems.verdict('consumer group through faults', figures)
  return figures
}

// ---------------------------------------------------------------------------------------------
// Admin calls and metadata refresh

export interface AdminFigures extends Common {
  calls: number
  results: number
  errors: Record<string, number>
  /** The slowest call, in ms (each must settle within CALL_BOUND_MS). */
  slowestMs: number
}

/** Each phase of an admin call has its retry deadline plus a connect and a request timeout; createTopics has two phases. */
const ADMIN_RETRY_DEADLINE_MS = 10_000
const ADMIN_REQUEST_TIMEOUT_MS = 3000
const ADMIN_CONNECT_TIMEOUT_MS = 2000
const CALL_PHASE_MS = ADMIN_RETRY_DEADLINE_MS + ADMIN_REQUEST_TIMEOUT_MS + ADMIN_CONNECT_TIMEOUT_MS
const CALL_BOUND_MS = 2 * CALL_PHASE_MS + 2000

export async function adminScenario(o: ScenarioOptions & { workers: number }): Promise<AdminFigures> {
  const problems = new Problems()
  const watch = new LeakWatch().start()
  const topic = uniqueTopic('faults-admin')
  const groupId = `faults-${topic}`
  const direct = new Admin({ brokers: brokers() })
  await within(direct.createTopics([{ topic, partitions: 3, replicationFactor: 1 }]), 30_000, 'createTopics')
  const writer = new Producer({ brokers: brokers() })
  await within(
    writer.sendBatch(Array.from({ length: 30 }, (_, i) => ({ topic, partition: i % 3, value: String(i) }))),
    30_000,
    'writing 30 records',
  )
  await writer.close()
  const committed = [
    { topic, partition: 0, offset: 3n },
    { topic, partition: 1, offset: 5n },
    { topic, partition: 2, offset: 7n },
  ]
  await within(direct.alterCommittedOffsets(groupId, committed), 30_000, 'alterCommittedOffsets')

  // first a black hole outlasting every call's retry deadline: the calls in it must fail, typed and in time
  const hole: Fault = { afterMs: 1000, kind: 'blackhole', durationMs: CALL_PHASE_MS, ending: 'resume' }
  const { proxy, run } = await faultyNetwork(o, [hole])
  const options = {
    brokers: THROUGH_PROXY(),
    requestTimeoutMs: ADMIN_REQUEST_TIMEOUT_MS,
    connectTimeoutMs: ADMIN_CONNECT_TIMEOUT_MS,
    retry: { deadlineMs: ADMIN_RETRY_DEADLINE_MS },
  }
  const admin = new Admin(options)
  const cluster = new Cluster(options)
  const created: string[] = []
  /** Each call and how to tell its result is right (a message when it is not). */
  const calls: Record<string, () => Promise<string | undefined>> = {
    listTopics: async () => ((await admin.listTopics()).includes(topic) ? undefined : `${topic} not listed`),
    describeTopics: async () => {
      const [d] = await admin.describeTopics([topic])
      return d.partitions.length === 3 ? undefined : `${d.partitions.length} partitions`
    },
    createTopics: async () => {
      const name = uniqueTopic('faults-admin-new')
      try {
        await admin.createTopics([{ topic: name, partitions: 1, replicationFactor: 1 }])
      } catch (error) {
        // the first attempt created it and its answer was lost: the retry finds it there
        if (!(error instanceof KafkaError && error.type === 'TOPIC_ALREADY_EXISTS')) throw error
      }
      created.push(name)
      return undefined
    },
    listOffsets: async () => {
      const ends = (await admin.listOffsets({ topic, at: 'latest' })).map((p) => Number(p.offset))
      return ends.join() === '10,10,10' ? undefined : `end offsets ${ends.join()}`
    },
    describeCluster: async () => {
      const { brokers: list } = await admin.describeCluster()
      return list.length === 1 && list[0].port === SINGLE.proxy ? undefined : `brokers ${JSON.stringify(list)}`
    },
    fetchCommittedOffsets: async () => {
      const got = (await admin.fetchCommittedOffsets(groupId)).map((c) => Number(c.offset))
      return got.join() === '3,5,7' ? undefined : `committed ${got.join()}`
    },
    refreshMetadata: async () => {
      const t = (await cluster.refreshMetadata([topic])).topics.get(topic)
      const leaders = t?.partitions.map((p) => p.leader).join()
      return leaders === '1,1,1' ? undefined : `leaders ${leaders}`
    },
  }
  const names = Object.keys(calls)
  const pick = prng(o.seed + 3)
  const errors: Record<string, number> = {}
  let calls_ = 0
  let results = 0
  let slowestMs = 0
  const call = async (name: string, mustSucceed: boolean) => {
    calls_++
    const started = Date.now()
    try {
      const wrong = await within(calls[name](), CALL_BOUND_MS, name)
      results++
      if (wrong) problems.add(`${name} answered wrongly: ${wrong}`)
    } catch (error) {
      if (!(error instanceof KafkaxError)) problems.add(`${name} failed untyped or hung: ${error}`)
      else if (mustSucceed) problems.add(`${name} failed after the faults ended: ${error}`)
      countError(errors, error)
    } finally {
      slowestMs = Math.max(slowestMs, Date.now() - started)
    }
  }
  let faults = noFaults()
  try {
    await within(admin.connect(), 20_000, 'admin.connect() through the proxy')
    let faulting = true
    const injecting = run().finally(() => {
      faulting = false
    })
    await Promise.all(
      Array.from({ length: o.workers }, async () => {
        while (faulting) await call(names[Math.floor(pick() * names.length)], false)
      }),
    )
    faults = await injecting
    // the network is healthy again: every call must now give its right result
    for (const name of names) await call(name, true)
    if (created.length > 0) {
      const described = await within(direct.describeTopics(created), 30_000, 'describeTopics of the created topics')
      const missing = described.filter((d) => d.partitions.length !== 1).map((d) => d.topic)
      problems.check(missing.length === 0, `topics createTopics reported without their partition: ${missing.join()}`)
    }
  } finally {
    await admin.close()
    await cluster.close()
    await proxy.close()
    await direct.close()
  }
  problems.leaks(await watch.stop())
  const figures: AdminFigures = {
    seed: o.seed,
    topic,
    calls: calls_,
    results,
    errors,
    slowestMs,
    faults,
    proxy: { ...proxy.stats },
  }
  problems.check(calls_ > results, `no call failed, not even in the ${hole.durationMs} ms black hole`)
  problems.verdict('admin calls and metadata refresh through faults', figures)
  return figures
}

// ---------------------------------------------------------------------------------------------
// The scenarios as the suite and the soak run them (the soak with longer schedules)

export const scenarios = {
  /** Every record must be delivered: the delivery timeout (120 s) outlasts every fault. */
  producerLongTimeout: (o: ScenarioOptions) =>
    producerScenario({
      ...o,
      requestTimeoutMs: 3000,
      deliveryTimeoutMs: 120_000,
      recordsPerSecond: 800,
      partitions: 6,
      deliverAll: true,
    }),
  /**
   * How the epoch-bump hang was found: requests time out inside a 5 s black hole, batches expire
   * with sequences the broker may have written, the epoch is bumped, and the producer must go on.
   */
  producerShortTimeout: (o: ScenarioOptions) =>
    producerScenario({
      ...o,
      first: [{ afterMs: 2000, kind: 'blackhole', durationMs: 5000, ending: o.seed % 2 === 0 ? 'resume' : 'reset' }],
      requestTimeoutMs: 3000,
      deliveryTimeoutMs: 4000,
      recordsPerSecond: 1000,
      partitions: 6,
      deliverAll: false,
    }),
  group: (o: ScenarioOptions) =>
    consumerScenario({ ...o, partitions: 6, concurrency: 4, initialRecords: 3000, recordsPerSecond: 400 }),
  admin: (o: ScenarioOptions) => adminScenario({ ...o, workers: 3 }),
}
