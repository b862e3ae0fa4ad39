// Errors of transactions, sorted as the Java client's TransactionManager sorts them:
// - abortable: this transaction cannot commit (a record failed, the group rejected the offsets, the
//   coordinator said TRANSACTION_ABORTABLE): abort it, and run it again if you like (`retriable`);
// - fatal: the producer cannot take part in transactions any more (a newer instance with the same
//   transactional id fenced it, it is not authorised, the broker lost its producer id mapping): close it;
// - state: the call does not fit the transaction's state (commit with no transaction open, a send
//   outside one); nothing happened.
// Retriable coordinator errors (CONCURRENT_TRANSACTIONS, COORDINATOR_LOAD_IN_PROGRESS, NOT_COORDINATOR...)
// never get here: they are retried until the call's deadline.

import { ErrorCode } from '../protocol/error-codes.ts'
import { KafkaError, KafkaxError, type KafkaxErrorOptions } from '../protocol/errors.ts'

/** What a TransactionError leaves: abort the transaction, close the producer, or a call that did not fit (nothing happened). */
export type TransactionErrorKind = 'abortable' | 'fatal' | 'state'

/** A transaction failed or a transactional call was refused; `kind` says what the producer can still do. */
export class TransactionError extends KafkaxError {
  readonly kind: TransactionErrorKind
  /** Kafka's name of the error code behind it, when a broker answered with one (e.g. PRODUCER_FENCED). */
  readonly type: string | undefined

  constructor(message: string, kind: TransactionErrorKind, options: KafkaxErrorOptions & { type?: string } = {}) {
    super(message, 'ETRANSACTION', { ...options, retriable: kind === 'abortable' })
    this.kind = kind
    this.type = options.type ?? (options.cause instanceof KafkaError ? options.cause.type : undefined)
  }

  /** The producer is unusable for transactions: close it (and start a new one to go on). */
  get fatal(): boolean {
    return this.kind === 'fatal'
  }

  /** This transaction cannot commit: abort it; a new transaction may succeed. */
  get abortable(): boolean {
    return this.kind === 'abortable'
  }
}

/** Coordinator answers that end only the transaction (UNKNOWN_PRODUCER_ID: when the epoch can be bumped). */
const ABORTABLE_COORDINATOR_ERRORS = new Set<number>([
  ErrorCode.TRANSACTION_ABORTABLE,
  ErrorCode.GROUP_AUTHORIZATION_FAILED,
  ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  ErrorCode.FENCED_INSTANCE_ID,
  ErrorCode.UNKNOWN_MEMBER_ID,
  ErrorCode.ILLEGAL_GENERATION,
  ErrorCode.OPERATION_NOT_ATTEMPTED,
  ErrorCode.UNKNOWN_PRODUCER_ID,
])

/** Produce answers after which the producer cannot go on; any other failure of a record only aborts the transaction. */
const FATAL_PRODUCE_ERRORS = new Set<number>([
  ErrorCode.PRODUCER_FENCED,
  ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  ErrorCode.INVALID_PRODUCER_ID_MAPPING,
  ErrorCode.UNSUPPORTED_VERSION,
])

const FENCED_HINT =
  'the producer was fenced: a newer producer with the same transactionalId took over (or the coordinator bumped the epoch); close it'

/**
 * A non-retriable error of a transactional request as the producer takes it. `canRecover`: the
 * epoch can be bumped after an abort (InitProducerId v3+, KIP-360; or EndTxn itself, KIP-890);
 * without that an abortable error is fatal, as in Java. Errors not known to be abortable are fatal
 * (PRODUCER_FENCED, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, INVALID_TXN_STATE...), as Java treats them.
 */
export function transactionFailure(error: unknown, what: string, canRecover: boolean): TransactionError {
  if (error instanceof TransactionError) return error
  if (!(error instanceof KafkaError))
    return new TransactionError(`${what}: ${(error as Error).message}`, 'fatal', { cause: error })
  // from a coordinator INVALID_PRODUCER_EPOCH means fenced too (older coordinators send it)
  if (error.code === ErrorCode.PRODUCER_FENCED || error.code === ErrorCode.INVALID_PRODUCER_EPOCH)
    return new TransactionError(`${what}: ${FENCED_HINT} (${error.message})`, 'fatal', {
      cause: error,
      type: 'PRODUCER_FENCED',
    })
  if (ABORTABLE_COORDINATOR_ERRORS.has(error.code) && canRecover)
    return new TransactionError(`${what}: the transaction cannot commit, abort it (${error.message})`, 'abortable', {
      cause: error,
    })
  const why = ABORTABLE_COORDINATOR_ERRORS.has(error.code) ? ' (the broker cannot bump the epoch to recover)' : ''
  return new TransactionError(
    `${what}: the producer cannot go on with transactions${why}, close it (${error.message})`,
    'fatal',
    {
      cause: error,
    },
  )
}

/** The failure of a record sent in a transaction, as the transaction takes it: the transaction cannot commit. */
export function recordFailure(error: Error, topic: string, partition?: number): TransactionError {
  if (error instanceof TransactionError) return error
  const where = partition === undefined ? topic : `${topic}-${partition}`
  if (error instanceof KafkaError && FATAL_PRODUCE_ERRORS.has(error.code)) {
    const hint = error.code === ErrorCode.PRODUCER_FENCED ? FENCED_HINT : 'close the producer'
    return new TransactionError(`records for ${where} were refused: ${hint} (${error.message})`, 'fatal', {
      cause: error,
    })
  }
  return new TransactionError(
    `records for ${where} failed, so the transaction cannot commit: abort it (${error.message})`,
    'abortable',
    { cause: error },
  )
}
