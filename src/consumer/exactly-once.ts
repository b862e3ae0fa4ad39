// Exactly-once consume-transform-produce (the Consumer's `exactlyOnce` option), as Kafka Streams runs
// it since KIP-447: one transactional producer per consumer, and transactions that hold the records
// the handlers wrote through `context.send()` together with the offsets of the messages they handled,
// committed with the member's generation so that a zombie member's transaction cannot commit.
//
// A transaction spans the messages of every assigned partition: it commits once `maxMessages` were
// handed out in it or `intervalMs` passed since its first one (Streams' commit.interval.ms), before a
// revocation completes, and when the consumer stops. Ending one stops handing out messages, waits
// for the running handlers, then sends the offsets and commits. When it cannot commit (a record or
// the offsets failed, the partitions were lost) it is aborted, and each partition still assigned
// goes back to where the transaction began there, so those messages are handled again.
//
// A handler run's records join the transaction only when the run succeeds: a failed attempt leaves
// none (the retry middleware runs it again, the dead-letter one writes the dead letter in the same
// transaction instead).

import { RetryPolicy, sleep } from '../client/retry.ts'
import type { OffsetToCommit } from '../client/topic-partition.ts'
import type { GroupMembership } from '../group/membership.ts'
import type { Logger } from '../observability/logger.ts'
import type { Producer, Transaction } from '../producer/producer.ts'
import { type NormalizedRecord, normalizeRecord, type ProducerRecord } from '../producer/record.ts'
import { TransactionError } from '../producer/transaction-error.ts'
import type { ConsumerGroupMetadata } from '../producer/transaction-requests.ts'
import { KafkaxError, TimeoutError } from '../protocol/errors.ts'
import { Committer } from './committer.ts'
import type { AssignedPartition, Dispatcher } from './dispatcher.ts'
import type { ClosableDeadLetterProducer } from './handler-pipeline.ts'
import type { Middleware } from './message.ts'
import { HandlerError } from './middleware.ts'
import type { ExactlyOnceOptions } from './options.ts'

/** What the transactions need of the rest of the consumer. */
export interface ExactlyOnceParts {
  dispatcher: Pick<Dispatcher, 'partitions' | 'drain' | 'seek' | 'pump'>
  member: Pick<GroupMembership, 'commitIdentity'>
  groupId: string
  log: Logger
  /** Aborts when the consumer stops. */
  stop: AbortSignal
  /** Failures the consumer reports (a transaction aborted, a commit that had to be called again). */
  report(error: Error): void
  /** The producer cannot go on (fenced by a newer instance): the consumer stops. */
  fatal(error: Error): void
}

type State = 'idle' | 'opening' | 'open' | 'ending' | 'failed'

/** The transactions of an exactly-once consumer. */
export class ExactlyOnce {
  private readonly producer: Producer
  private readonly maxMessages: number
  private readonly intervalMs: number
  private readonly committer: Committer
  private state: State = 'idle'
  private tx: Transaction | undefined
  private opening: Promise<void> | undefined
  private ending: Promise<void> = Promise.resolve()
  /** Messages handed out in the open transaction. */
  private admitted = 0
  private timer: NodeJS.Timeout | undefined
  /** The offset each partition's first message in the open transaction had: where an abort rewinds it to. */
  private readonly starts = new Map<AssignedPartition, bigint>()
  /** The first record of the open transaction that could not be written: it must not commit. */
  private failure: Error | undefined
  /** Set once the open transaction committed with its offsets. */
  private committed = false
  /** Transactions aborted in a row: the next one waits a backoff first. */
  private aborts = 0
  private readonly backoff = new RetryPolicy({ initialDelayMs: 500, maxDelayMs: 30_000 })

  /** The dead-letter producer of an exactly-once consumer: dead letters are written in the open transaction. */
  readonly deadLetters: ClosableDeadLetterProducer = {
    send: (record) => {
      if (!this.tx) return Promise.reject(new TransactionError('no transaction is open for the dead letter', 'state'))
      return this.tx.send(record)
    },
    close: async () => {},
  }

  constructor(
    options: Required<ExactlyOnceOptions>,
    private readonly parts: ExactlyOnceParts,
  ) {
    this.producer = options.producer
    this.maxMessages = options.maxMessages
    this.intervalMs = options.intervalMs
    this.committer = new Committer({ commit: (offsets) => this.commitWith(offsets) }, parts.groupId, parts.log)
  }

  /** Transactions committed with offsets. */
  get commits(): number {
    return this.committer.commits
  }

  /**
   * Initializes the producer before the consumer joins its group: an older instance with the same
   * transactional id is fenced and its open transaction aborted, so that the offsets this member
   * fetches are stable.
   */
  async start(): Promise<void> {
    await this.producer.initTransactions()
  }

  /** The dispatcher's gate: whether a partition's message at `offset` may start now, in the open transaction. */
  admit(s: AssignedPartition, offset: bigint): boolean {
    if (this.state !== 'open') {
      if (this.state === 'idle') this.open()
      return false
    }
    // full: its commit is on its way
    if (this.admitted >= this.maxMessages) return false
    if (this.admitted++ === 0) this.timer = setTimeout(this.commitNow, this.intervalMs)
    // after this turn of the dispatcher, once this message's handler is counted as running
    if (this.admitted === this.maxMessages) queueMicrotask(this.commitNow)
    if (!this.starts.has(s)) this.starts.set(s, offset)
    return true
  }

  /**
   * Gives each handler run (inside the retry middleware) its own `context.send`, whose records join
   * the transaction when the run succeeds.
   */
  readonly middleware: Middleware = (next) => (message, context) => {
    const records: NormalizedRecord[] = []
    // the transaction this run belongs to
    const tx = this.tx
    let ended = false
    const send = (input: ProducerRecord | readonly ProducerRecord[]) => {
      if (ended) {
        throw new HandlerError(
          `context.send() after the handler run of ${message.topic}-${message.partition} at offset ${message.offset} ended: its records would belong to no transaction`,
        )
      }
      // checked now, so that a bad record fails this run rather than the transaction
      if (Array.isArray(input)) for (const r of input) records.push(normalizeRecord(r))
      else records.push(normalizeRecord(input as ProducerRecord))
    }
    const write = () => {
      ended = true
      // a run that outlived its transaction (abandoned by stop({ timeoutMs })) writes nothing: its offset stays uncommitted
      if (tx !== this.tx) return
      for (const r of records) tx!.publish(r, this.delivered)
    }
    const fail = (error: unknown) => {
      ended = true
      throw error
    }
    let result: unknown
    try {
      result = next(message, { ...context, send })
    } catch (error) {
      fail(error)
    }
    if (result !== null && typeof (result as PromiseLike<unknown>)?.then === 'function') {
      return Promise.resolve(result).then((value) => {
        write()
        return value
      }, fail)
    }
    write()
    return result
  }

  /** Commits the open transaction (after the running handlers); rejects with why it was aborted instead. */
  commit(): Promise<void> {
    return this.end(true)
  }

  /** Aborts the open transaction (the partitions were lost), rewinding the partitions still assigned. */
  abort(): Promise<void> {
    return this.end(false)
  }

  private readonly commitNow = () => {
    this.commit().catch((error) => this.parts.report(error))
  }

  private readonly delivered = (error: Error | null) => {
    if (error) this.failure ??= error
  }

  private open(): void {
    this.state = 'opening'
    this.opening = (async () => {
      if (this.aborts > 0) await sleep(this.backoff.delay(this.aborts), this.parts.stop).catch(() => {})
      try {
        this.tx = await this.producer.beginTransaction()
        this.failure = undefined
        this.committed = false
        this.state = 'open'
      } catch (error) {
        if (this.fatal(error)) return
        this.parts.report(error as Error)
        this.aborts++
        this.state = 'idle'
      }
      if (!this.parts.stop.aborted) this.parts.dispatcher.pump()
    })()
  }

  private end(commit: boolean): Promise<void> {
    if (this.state === 'opening') return this.opening!.then(() => this.end(commit))
    if (this.state !== 'open') return this.ending
    this.state = 'ending'
    clearTimeout(this.timer)
    const run = this.finish(commit)
    this.ending = run.catch(() => {})
    return run
  }

  private async finish(commit: boolean): Promise<void> {
    await this.parts.dispatcher.drain()
    let reason: Error = this.failure ?? new KafkaxError('the partitions were lost', 'EREBALANCE')
    if (commit && !this.failure) {
      try {
        await this.commitTransaction()
        this.aborts = 0
        this.ended()
        return
      } catch (error) {
        if (this.fatal(error)) throw error
        reason = error as Error
      }
    }
    try {
      await this.settle(() => this.producer.abortTransaction())
    } catch (error) {
      this.fatal(error, true)
      throw error
    }
    for (const [s, offset] of this.starts) if (!s.revoked) await this.parts.dispatcher.seek(s, offset)
    this.aborts++
    this.parts.log.warn?.({ err: reason }, 'transaction aborted: its messages will be handled again')
    this.ended()
    if (commit) throw reason
  }

  /** Sends the offsets of every partition and commits; with no offset to send, commits what there is. */
  private async commitTransaction(): Promise<void> {
    const trackers = [...this.parts.dispatcher.partitions.values()].map((s) => s.offsets)
    await this.committer.commit(trackers)
    if (trackers.some((t) => t.toCommit() !== undefined)) {
      throw new TransactionError('the input offsets did not join the transaction', 'abortable')
    }
    if (!this.committed) await this.settle(() => this.producer.commitTransaction())
  }

  /** The committer's target: the offsets join the transaction, which then commits. */
  private async commitWith(offsets: OffsetToCommit[]): Promise<void> {
    await this.tx!.sendOffsets(offsets, groupMetadata(this.parts.member))
    await this.settle(() => this.producer.commitTransaction())
    this.committed = true
  }

  /** A commit or abort that timed out has an unknown outcome: only calling it again finishes it. */
  private async settle(call: () => Promise<void>): Promise<void> {
    for (;;) {
      try {
        return await call()
      } catch (error) {
        if (!(error instanceof TimeoutError) || this.parts.stop.aborted) throw error
        this.parts.report(error)
      }
    }
  }

  private ended(): void {
    this.tx = undefined
    this.admitted = 0
    this.starts.clear()
    this.state = 'idle'
    if (!this.parts.stop.aborted) this.parts.dispatcher.pump()
  }

  /** A fatal error (or any error, `always`) ends the transactions for good: the consumer stops. */
  private fatal(error: unknown, always = false): boolean {
    if (!always && !(error instanceof TransactionError && error.fatal)) return false
    this.state = 'failed'
    clearTimeout(this.timer)
    this.parts.fatal(error as Error)
    return true
  }
}

/** The member as the group coordinator checks it (KIP-447): generation (or member epoch), member id, instance id. */
export function groupMetadata(member: Pick<GroupMembership, 'commitIdentity'>): ConsumerGroupMetadata {
  const who = member.commitIdentity()
  return {
    groupId: who.groupId,
    generationId: 'memberEpoch' in who ? who.memberEpoch : who.generationId,
    memberId: who.memberId,
    groupInstanceId: who.groupInstanceId,
  }
}
