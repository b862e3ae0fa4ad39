// The states of a transactional producer and the moves between them, as the Java client's
// TransactionManager.State has them. A transition that does not fit is refused with a TransactionError
// of kind 'state' and changes nothing; FATAL_ERROR is reachable from everywhere and left by nothing.
//
//   UNINITIALIZED -> INITIALIZING -> READY -> IN_TRANSACTION -> COMMITTING -> READY
//                                              |    ^ begin       |
//                                              v                  v
//                                    ABORTABLE_ERROR -> ABORTING -> READY (or INITIALIZING: epoch bump)

import { TransactionError } from './transaction-error.ts'

export type TransactionState =
  | 'UNINITIALIZED'
  | 'INITIALIZING'
  | 'READY'
  | 'IN_TRANSACTION'
  | 'COMMITTING'
  | 'ABORTING'
  | 'ABORTABLE_ERROR'
  | 'FATAL_ERROR'

/** The states each state can be entered from. */
const SOURCES: Record<TransactionState, readonly TransactionState[]> = {
  UNINITIALIZED: [],
  // after a commit or an abort when the epoch must be bumped (KIP-360), or a move to protocol v2
  INITIALIZING: ['UNINITIALIZED', 'COMMITTING', 'ABORTING'],
  READY: ['INITIALIZING', 'COMMITTING', 'ABORTING'],
  IN_TRANSACTION: ['READY'],
  COMMITTING: ['IN_TRANSACTION'],
  ABORTING: ['IN_TRANSACTION', 'ABORTABLE_ERROR'],
  ABORTABLE_ERROR: ['IN_TRANSACTION', 'COMMITTING', 'ABORTABLE_ERROR'],
  FATAL_ERROR: [],
}

export class TransactionStateMachine {
  state: TransactionState = 'UNINITIALIZED'
  /** Why the state is ABORTABLE_ERROR or FATAL_ERROR. */
  error: TransactionError | undefined

  to(target: TransactionState, error?: TransactionError): void {
    if (target !== 'FATAL_ERROR' && !SOURCES[target].includes(this.state))
      throw new TransactionError(`cannot go from ${this.state} to ${target}`, 'state')
    this.state = target
    this.error = target === 'ABORTABLE_ERROR' || target === 'FATAL_ERROR' ? error : undefined
  }
}
