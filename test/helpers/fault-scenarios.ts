// The fault scenarios: kafkax clients talk to the real broker through the FaultProxy while a
// seeded schedule of faults runs, then what reached the broker is read back and checked exactly.
// Each scenario creates and closes every client it uses, so the leak check can demand that no
// socket or timer created meanwhile is left. test/integration/faults.test.ts runs them briefly,
// scripts/soak.ts for longer with a new seed per round. A scenario resolves with its figures, or
// throws an AssertionError listing every problem, the figures and the seed that replays it.

import assert from 'node:assert/strict'
import { Admin } from '../../src/admin/admin.ts'
import { Cluster } from '../../src/client/cluster.ts'
import { type CommitTrace, consumerChannels } from '../../src/consumer/channels.ts'
import { Consumer } from '../../src/consumer/consumer.ts'
import type { Message } from '../../src/consumer/message.ts'
import { Producer } from '../../src/producer/producer.ts'
import type { RecordMetadata } from '../../src/producer/record.ts'
import { ErrorCode } from '../../src/protocol/error-codes.ts'
import { KafkaError, KafkaxError } from '../../src/protocol/errors.ts'
import { groupConsumer } from './consumers.ts'
import { FaultProxy, type FaultProxyStats } from './fault-proxy.ts'
import {
  describeFaults,
  type Fault,
  type FaultCounts,
  type FaultKind,
  planFaults,
  runFaults,
} from './fault-schedule.ts'
import { brokers, readWithKcat, restartSingle, SINGLE, uniqueTopic } from './kafka.ts'
import { type LeakReport, LeakWatch, PromiseLedger } from './leaks.ts'
import { prng } from './prng.ts'
import { sleep, waitFor, within } from './wait.ts'

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

  verdict(name: string, seed: number, figures: object | undefined): void {
    if (this.list.length === 0) return
    const and = figures ? `\nfigures: ${format(figures)}` : ''
    throw new assert.AssertionError({
      message: `${name} (replay with FAULT_SEED=${seed}):\n  - ${this.list.join('\n  - ')}${and}`,
    })
  }
}

/** Figures as one line of JSON (bigints as numbers). */
export function format(figures: object): string {
  return JSON.stringify(figures, (_, v) => (typeof v === 'bigint' ? Number(v) : v))
}

/** What a scenario opened, to be closed whatever happens: clients left open would outlive it. */
class Closer {
  private readonly open: { what: string; close: () => Promise<unknown>; force?: () => Promise<unknown> }[] = []

  /** Registers how to close `thing` (and to force it when close() does not settle); returns it. */
  add<T>(thing: T, what: string, close: (t: T) => Promise<unknown>, force?: (t: T) => Promise<unknown>): T {
    this.open.push({ what, close: () => close(thing), force: force && (() => force(thing)) })
    return thing
  }

  /** Closes, last first, what is still open (closing twice is harmless): each within 30 s, or forced. */
  async closeAll(problems: Problems): Promise<void> {
    for (const { what, close, force } of this.open.splice(0).reverse()) {
      try {
        await within(what, close(), 30_000)
      } catch (error) {
        problems.add(`closing ${what}: ${error}`)
        await force?.().catch(() => {})
      }
    }
  }
}

/**
 * Runs a scenario's body under a LeakWatch; then, whatever happened, closes what it opened, checks
 * that nothing it created is left alive, and throws every problem found (a body that threw, too).
 */
async function runScenario<F extends Common>(
  name: string,
  seed: number,
  body: (problems: Problems, closer: Closer) => Promise<F>,
): Promise<F> {
  const problems = new Problems()
  const closer = new Closer()
  const watch = new LeakWatch().start()
  let figures: F | undefined
  try {
    figures = await body(problems, closer)
  } catch (error) {
    problems.add(`the scenario stopped: ${(error as Error)?.stack ?? error}`)
  }
  await closer.closeAll(problems)
  problems.leaks(await watch.stop())
  problems.verdict(name, seed, figures)
  return figures!
}

const closeAdmin = (a: Admin) => a.close()
const closeCluster = (c: Cluster) => c.close()
const closeProducer = (p: Producer) => p.close()
const closeConsumer = (c: Consumer) => c.stop()
/** Drops a client's connections when close() or stop() hangs. */
const dropConnections = (client: { cluster: Cluster }) => client.cluster.close()

/** The seeded schedule (after the `first` faults, if any), printed; the proxy's own randomness is seeded too. */
async function faultyNetwork(o: ScenarioOptions, closer: Closer, first: Fault[] = []) {
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
  const proxy = closer.add(
    await FaultProxy.start({ listenPort: SINGLE.proxy, targetPort: SINGLE.proxied, random: prng(o.seed + 1) }),
    'the fault proxy',
    (p) => p.close(),
  )
  const run = () => runFaults(proxy, faults, { restart: () => restartSingle(), log: o.log })
  return { proxy, run }
}

function countError(into: Record<string, number>, error: unknown): void {
  const name = error instanceof KafkaError ? `KafkaError(${error.type})` : ((error as Error)?.name ?? String(error))
  into[name] = (into[name] ?? 0) + 1
}

// ---------------------------------------------------------------------------------------------
// Idempotent producer

interface ProducerScenarioOptions extends ScenarioOptions {
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

function producerScenario(o: ProducerScenarioOptions): Promise<ProducerFigures> {
  const name = `idempotent producer through faults (delivery timeout ${o.deliveryTimeoutMs} ms)`
  return runScenario(name, o.seed, async (problems, closer) => {
    const topic = uniqueTopic('faults-producer')
    const admin = closer.add(new Admin({ brokers: brokers() }), 'the admin client', closeAdmin)
    await within(
      'createTopics',
      admin.createTopics([{ topic, partitions: o.partitions, replicationFactor: 1 }]),
      30_000,
    )
    const { proxy, run } = await faultyNetwork(o, closer, o.first)
    const producer = closer.add(
      new Producer({
        brokers: THROUGH_PROXY(),
        acks: 'all',
        idempotent: true,
        requestTimeoutMs: o.requestTimeoutMs,
        deliveryTimeoutMs: o.deliveryTimeoutMs,
        connectTimeoutMs: 2000,
        retry: { initialDelayMs: 50, maxDelayMs: 500 },
        // the Java client's batch.size: batches fill and queue up behind one another during a fault
        batch: { lingerMs: 5, maxBytes: 16_384 },
      }),
      'the producer',
      closeProducer,
      dropConnections,
    )
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

    await within('producer.connect() through the proxy', producer.connect(), 20_000)
    let faulting = true
    const running = run().finally(() => {
      faulting = false
    })
    await pace(() => !faulting)
    const faults = await running
    const quietSince = Date.now()
    await pace(() => Date.now() - quietSince >= TAIL_MS)
    // every send() settles within the delivery timeout, plus a request timeout in flight and backoff
    const settleMs = Math.min(o.deliveryTimeoutMs + o.requestTimeoutMs + 10_000, 60_000)
    await waitFor('every send() to settle after the last one', () => ledger.pending === 0, {
      timeoutMs: settleMs,
      state: () => ({ pending: ledger.pending, of: ledger.handed }),
    }).catch((error) => problems.add(String(error)))
    // close() flushes: with sends left pending it cannot settle either, so it gets less time
    await within('producer.close()', producer.close(), ledger.pending === 0 ? 15_000 : 5000).catch(async (error) => {
      problems.add(String(error))
      await dropConnections(producer)
    })
    const retries = producer.stats().retries

    const copies = new Map<number, { partition: number; offset: bigint }[]>()
    const byPartition = new Map<number, number[]>()
    for (const r of readWithKcat(topic)) {
      const i = Number(r.value.split(' ')[0])
      if (!(i >= 0 && i < outcomes.length && r.key === `k${i % 64}` && r.value === `${i} ${PADDING}`)) {
        problems.add(`a record never sent in the log: ${r.partition}/${r.offset} ${r.key}=${r.value}`)
        continue
      }
      const at = { partition: r.partition, offset: r.offset }
      copies.get(i)?.push(at) ?? copies.set(i, [at])
      byPartition.get(r.partition)?.push(i) ?? byPartition.set(r.partition, [i])
    }
    let duplicated = 0
    for (const [i, c] of copies) {
      if (c.length === 1) continue
      duplicated += c.length - 1
      problems.add(
        `record ${i} is in the log ${c.length} times: ${c.map((x) => `${x.partition}/${x.offset}`).join(', ')}`,
      )
    }
    let reordered = 0
    for (const [partition, values] of byPartition) {
      for (let j = 1; j < values.length; j++) {
        if (values[j] >= values[j - 1]) continue // an equal one is a duplicate, counted above
        reordered++
        problems.add(`partition ${partition}: record ${values[j]} follows record ${values[j - 1]}`)
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
    problems.check(acked > 0, 'nothing was acknowledged')
    problems.check(
      settledLate === 0,
      `${settledLate} send() promises settled more than ${settleBoundMs} ms after send()`,
    )
    return {
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
      proxy: proxy.stats,
    }
  })
}

// ---------------------------------------------------------------------------------------------
// Consumer group

interface ConsumerScenarioOptions extends ScenarioOptions {
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

function consumerScenario(o: ConsumerScenarioOptions): Promise<ConsumerFigures> {
  return runScenario('consumer group through faults', o.seed, async (problems, closer) => {
    const topic = uniqueTopic('faults-group')
    const groupId = `group-${topic}` // as groupConsumer() names it, for the second member
    // the checks and the records use the broker's own listener: only the consumer is behind the proxy
    const admin = closer.add(new Admin({ brokers: brokers(), requestTimeoutMs: 5000 }), 'the admin client', closeAdmin)
    await within(
      'createTopics',
      admin.createTopics([{ topic, partitions: o.partitions, replicationFactor: 1 }]),
      30_000,
    )
    const producer = closer.add(
      new Producer({ brokers: brokers(), batch: { lingerMs: 5 } }),
      'the producer writing the records',
      closeProducer,
      dropConnections,
    )
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
    /** Per partition, the highest offset a commit of this consumer is known to have stored. */
    const committedOk = new Array<number>(o.partitions).fill(0)
    let deliveries = 0
    let redelivered = 0
    let commitsChecked = 0
    let committedPolls = 0
    const checkCommitted = (partition: number, offset: bigint, what: string) => {
      if (Number(offset) > handledUpTo[partition])
        problems.add(`${what} ${topic}-${partition} at ${offset}, offsets from ${handledUpTo[partition]} not handled`)
    }
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
    // every commit the consumer starts is checked against what was handled at that moment
    const commits = {
      start: (ctx: CommitTrace) => {
        if (ctx.groupId !== groupId) return
        commitsChecked++
        for (const c of ctx.offsets) checkCommitted(c.partition, c.offset, 'commit of')
      },
      end: () => {},
      asyncStart: () => {},
      asyncEnd: (ctx: CommitTrace & { error?: unknown }) => {
        if (ctx.groupId !== groupId || ctx.error !== undefined) return
        for (const c of ctx.offsets) committedOk[c.partition] = Math.max(committedOk[c.partition], Number(c.offset))
      },
      error: () => {},
    }
    consumerChannels.commit.subscribe(commits)
    closer.add(commits, 'the commit checks', async (c) => consumerChannels.commit.unsubscribe(c))

    const { proxy, run } = await faultyNetwork(o, closer)
    const consumerErrors: Record<string, number> = {}
    const consumer = closer.add(
      new Consumer({
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
      }),
      'the consumer',
      closeConsumer,
      dropConnections,
    )
    // and the committed offsets as the broker has them, polled while the faults run
    let polling = true
    const poll = (async () => {
      while (polling) {
        for (const c of await admin.fetchCommittedOffsets(groupId, [topic]).catch(() => [])) {
          checkCommitted(c.partition, c.offset, 'committed')
        }
        committedPolls++
        await sleep(300)
      }
    })()
    closer.add(poll, 'the committed-offset poll', (p) => {
      polling = false
      return p
    })
    const running = ledger.track(consumer.run(handle))

    let faulting = true
    const injecting = run().finally(() => {
      faulting = false
    })
    const perTick = Math.max(1, Math.round(o.recordsPerSecond / 10))
    while (faulting) {
      produce(perTick)
      await sleep(100)
    }
    const faults = await injecting
    await within('flush() of the producer writing the records', producer.flush(), 60_000)
    problems.check(produceFailures === 0, `${produceFailures} records could not be written for the consumer to read`)
    const ends = await within('listOffsets', admin.listOffsets({ topic, at: 'latest' }), 30_000)
    const end = ends.map((p) => Number(p.offset))
    await waitFor('every record to be handled after the faults', () => end.every((e, p) => handledUpTo[p] >= e), {
      timeoutMs: 60_000,
      state: () => ({ handledUpTo, end }),
    }).catch((error) => problems.add(String(error)))
    await within('consumer.stop()', consumer.stop(), 30_000)
    await within('consumer.run() after stop()', running, 5000)
    polling = false
    await poll
    const committed = await within('fetchCommittedOffsets', admin.fetchCommittedOffsets(groupId, [topic]), 30_000)
    const at = end.map((_, p) => Number(committed.find((c) => c.partition === p)?.offset ?? -1))
    problems.check(
      at.every((c, p) => c === end[p]),
      `committed offsets after stop() ${at.join(',')} differ from the end offsets ${end.join(',')}`,
    )

    // a second member of the group, after the first left: everything was committed, nothing comes
    let second = 0
    const next = closer.add(
      groupConsumer(topic, { rebalanceTimeoutMs: 10_000 }),
      'the second member',
      closeConsumer,
      dropConnections,
    )
    const nextRun = ledger.track(
      next.run(() => {
        second++
      }),
    )
    await waitFor('the second member to be assigned every partition at its end offset', async () => {
      if (next.assignment().length < o.partitions) return false
      const lag = await next.lag()
      return lag.every((l) => l.position !== undefined && Number(l.position) >= end[l.partition])
    }).catch((error) => problems.add(String(error)))
    await within('stop() of the second member', next.stop(), 30_000)
    await within('run() of the second member', nextRun, 5000)
    problems.check(second === 0, `the second member got ${second} records after everything was committed`)
    await within('close() of the producer writing the records', producer.close(), 30_000)
    problems.check(ledger.pending === 0, `${ledger.pending} promises (run, send) never settled`)
    problems.check(commitsChecked > 0, 'no commit was seen')
    return {
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
      proxy: proxy.stats,
    }
  })
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

function adminScenario(o: ScenarioOptions & { workers: number }): Promise<AdminFigures> {
  return runScenario('admin calls and metadata refresh through faults', o.seed, async (problems, closer) => {
    const topic = uniqueTopic('faults-admin')
    const groupId = `faults-${topic}`
    const direct = closer.add(new Admin({ brokers: brokers() }), 'the direct admin client', closeAdmin)
    await within('createTopics', direct.createTopics([{ topic, partitions: 3, replicationFactor: 1 }]), 30_000)
    const writer = closer.add(new Producer({ brokers: brokers() }), 'the producer', closeProducer, dropConnections)
    const records = Array.from({ length: 30 }, (_, i) => ({ topic, partition: i % 3, value: String(i) }))
    await within('writing 30 records', writer.sendBatch(records), 30_000)
    await writer.close()
    const offsets = [3n, 5n, 7n].map((offset, partition) => ({ topic, partition, offset }))
    await within('alterCommittedOffsets', direct.alterCommittedOffsets(groupId, offsets), 30_000)

    // first a black hole outlasting every call's retry deadline: the calls in it must fail, typed and in time
    const hole: Fault = { afterMs: 1000, kind: 'blackhole', durationMs: CALL_PHASE_MS, ending: 'resume' }
    const { proxy, run } = await faultyNetwork(o, closer, [hole])
    const options = {
      brokers: THROUGH_PROXY(),
      requestTimeoutMs: ADMIN_REQUEST_TIMEOUT_MS,
      connectTimeoutMs: ADMIN_CONNECT_TIMEOUT_MS,
      retry: { deadlineMs: ADMIN_RETRY_DEADLINE_MS },
    }
    const admin = closer.add(new Admin(options), 'the admin client', closeAdmin)
    const cluster = closer.add(new Cluster(options), 'the cluster', closeCluster)
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
          if (!(error instanceof KafkaError && error.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw error
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
    let made = 0
    let results = 0
    let slowestMs = 0
    const call = async (name: string, mustSucceed: boolean) => {
      made++
      const started = Date.now()
      try {
        const wrong = await within(name, calls[name](), CALL_BOUND_MS)
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

    await within('admin.connect() through the proxy', admin.connect(), 20_000)
    let faulting = true
    const injecting = run().finally(() => {
      faulting = false
    })
    await Promise.all(
      Array.from({ length: o.workers }, async () => {
        while (faulting) await call(names[Math.floor(pick() * names.length)], false)
      }),
    )
    const faults = await injecting
    // the network is healthy again: every call must now give its right result
    for (const name of names) await call(name, true)
    if (created.length > 0) {
      const described = await within('describeTopics of the created topics', direct.describeTopics(created), 30_000)
      const missing = described.filter((d) => d.partitions.length !== 1).map((d) => d.topic)
      problems.check(missing.length === 0, `topics createTopics reported without their partition: ${missing.join()}`)
    }
    problems.check(made > results, `no call failed, not even in the ${hole.durationMs} ms black hole`)
    return { seed: o.seed, topic, calls: made, results, errors, slowestMs, faults, proxy: proxy.stats }
  })
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
