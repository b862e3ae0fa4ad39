// kafkax/kafkajs's error classes against kafkajs 2.2.4's: the same names exported, the same
// hierarchy, name, retriable and fields for the same constructor arguments; and the translation of
// every kafkax error class into the kafkajs error kafkajs would have thrown.

import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { toKafkaJSError } from '../../../src/kafkajs/errors.ts'
import * as ours from '../../../src/kafkajs/index.ts'
import { ErrorCode, kafkaError } from '../../../src/protocol/error-codes.ts'
import {
  AuthenticationError,
  ConfigError,
  ConnectionError,
  KafkaxError,
  ProtocolError,
  TimeoutError,
} from '../../../src/protocol/errors.ts'

const require = createRequire(import.meta.url)
const kafkajs = require('kafkajs') as Record<string, any>
const errorNames = Object.keys(kafkajs).filter((k) => /^KafkaJS/.test(k))
const exported = ours as unknown as Record<string, any>

const chain = (cls: any): string[] => {
  const names: string[] = []
  for (let p = Object.getPrototypeOf(cls); p && p !== Function.prototype; p = Object.getPrototypeOf(p))
    names.push(p.name)
  return names
}

/** Constructor arguments kafkajs's classes accept, per class (most take a message and an options object). */
const ARGS: Record<string, unknown[]> = {
  KafkaJSOffsetOutOfRange: ['out of range', { topic: 't', partition: 2 }],
  KafkaJSMemberIdRequired: ['member id', { memberId: 'm-1' }],
  KafkaJSNumberOfRetriesExceeded: [new Error('last'), { retryCount: 5, retryTime: 4800 }],
  KafkaJSConnectionError: ['down', { broker: 'h:1', code: 'ECONNREFUSED' }],
  KafkaJSConnectionClosedError: ['closed', { host: 'h', port: 1 }],
  KafkaJSRequestTimeoutError: [
    'slow',
    { broker: 'h:1', correlationId: 7, createdAt: 1, sentAt: 2, pendingDuration: 1 },
  ],
  KafkaJSTopicMetadataNotLoaded: ['no metadata', { topic: 't' }],
  KafkaJSStaleTopicMetadataAssignment: ['stale', { topic: 't', unknownPartitions: [3] }],
  KafkaJSDeleteGroupsError: ['groups', [{ groupId: 'g', errorCode: 69 }]],
  KafkaJSServerDoesNotSupportApiKey: ['no api', { apiKey: 99, apiName: 'X' }],
  KafkaJSDeleteTopicRecordsError: [
    { topic: 't', partitions: [{ partition: 0, offset: '1', error: { retriable: true } }] },
  ],
  KafkaJSCreateTopicError: [{ message: 'exists', type: 'TOPIC_ALREADY_EXISTS', code: 36, retriable: false }, 't'],
  KafkaJSAggregateError: ['several', ['a', 'b']],
  KafkaJSAlterPartitionReassignmentsError: [{ message: 'no', type: 'X', code: 1, retriable: false }, 't', 3],
  KafkaJSProtocolError: [{ message: 'leader', type: 'NOT_LEADER_OR_FOLLOWER', code: 6, retriable: true }],
  KafkaJSNoBrokerAvailableError: [],
}
const FIELDS = [
  'name',
  'message',
  'retriable',
  'type',
  'code',
  'topic',
  'partition',
  'memberId',
  'retryCount',
  'retryTime',
  'broker',
  'host',
  'port',
  'correlationId',
  'createdAt',
  'sentAt',
  'pendingDuration',
  'unknownPartitions',
  'apiKey',
  'apiName',
  'errors',
  'groups',
]

describe('kafkajs error classes', () => {
  it('every error class kafkajs exports is exported, with the same ancestry', () => {
    assert.ok(errorNames.length >= 30, `kafkajs exports ${errorNames.length} errors`)
    for (const name of errorNames) {
      assert.equal(typeof exported[name], 'function', `${name} missing`)
      assert.deepEqual(chain(exported[name]), chain(kafkajs[name]), name)
    }
  })

  it('the same constructor arguments make the same name, message, retriable and fields', () => {
    for (const name of errorNames) {
      const args = ARGS[name] ?? ['something failed']
      const theirs = new kafkajs[name](...args)
      const mine = new exported[name](...args)
      for (const field of FIELDS) {
        assert.deepEqual(mine[field], theirs[field], `${name}.${field}`)
      }
      assert.ok(mine instanceof Error, name)
      assert.equal(mine instanceof ours.KafkaJSError, theirs instanceof kafkajs.KafkaJSError, name)
    }
  })

  it('retries-exceeded keeps the last error as its cause, in its stack too', () => {
    const last = new ours.KafkaJSConnectionError('Connection error: connect ECONNREFUSED')
    const e = new ours.KafkaJSNumberOfRetriesExceeded(last, { retryCount: 5, retryTime: 9300 })
    assert.equal(e.cause, last)
    assert.equal(e.retriable, false)
    assert.match(e.stack!, /Caused by: KafkaJSConnectionError: Connection error/)
  })
})

describe('kafkax errors translated', () => {
  const spent = { retryCount: 5, retryTime: 9300 }

  it('a non-retriable broker error: KafkaJSProtocolError with Kafka type and code', () => {
    const cause = kafkaError(ErrorCode.MESSAGE_TOO_LARGE, 'orders-0')
    const e = toKafkaJSError(cause, spent) as ours.KafkaJSProtocolError
    assert.ok(e instanceof ours.KafkaJSProtocolError)
    assert.equal(e.name, 'KafkaJSProtocolError')
    assert.equal(e.type, 'MESSAGE_TOO_LARGE')
    assert.equal(e.code, ErrorCode.MESSAGE_TOO_LARGE)
    assert.equal(e.retriable, false)
    assert.equal(e.cause, cause)
  })

  it('a retriable broker error that came out: KafkaJSNumberOfRetriesExceeded caused by the KafkaJSProtocolError', () => {
    const e = toKafkaJSError(kafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER), spent) as ours.KafkaJSNumberOfRetriesExceeded
    assert.ok(e instanceof ours.KafkaJSNumberOfRetriesExceeded)
    assert.ok(e instanceof ours.KafkaJSNonRetriableError)
    assert.equal(e.retriable, false)
    assert.deepEqual([e.retryCount, e.retryTime], [5, 9300])
    const cause = e.cause as ours.KafkaJSProtocolError
    assert.ok(cause instanceof ours.KafkaJSProtocolError)
    assert.deepEqual([cause.type, cause.code, cause.retriable], ['NOT_LEADER_OR_FOLLOWER', 6, true])
  })

  it('connection, timeout, authentication, configuration and protocol errors', () => {
    const cases: [KafkaxError, string, string | undefined][] = [
      [new ConnectionError('cannot connect to h:1'), 'KafkaJSNumberOfRetriesExceeded', 'KafkaJSConnectionError'],
      [new ConnectionError('the client is closed', { retriable: false }), 'KafkaJSConnectionError', undefined],
      [
        new TimeoutError('Produce to h:1 got no response in 30000 ms'),
        'KafkaJSNumberOfRetriesExceeded',
        'KafkaJSRequestTimeoutError',
      ],
      [new AuthenticationError('SASL PLAIN authentication to h:1 failed'), 'KafkaJSSASLAuthenticationError', undefined],
      [new ConfigError('record.timestamp must be milliseconds'), 'KafkaJSNonRetriableError', undefined],
      [new ProtocolError('truncated batch'), 'KafkaJSNonRetriableError', undefined],
      [
        new KafkaxError('something retriable', 'EX', { retriable: true }),
        'KafkaJSNumberOfRetriesExceeded',
        'KafkaJSError',
      ],
    ]
    for (const [error, name, causeName] of cases) {
      const e = toKafkaJSError(error, spent) as ours.KafkaJSError
      assert.ok(e instanceof ours.KafkaJSError, name)
      assert.equal(e.name, name, error.message)
      assert.equal(e.message, error.message)
      assert.equal(e.retriable, false, name)
      if (causeName) assert.equal((e.cause as Error).name, causeName)
      else assert.equal(e.cause, error)
    }
  })

  it('kafkajs errors and errors of user code pass through as they are', () => {
    const mine = new ours.KafkaJSNonRetriableError('Invalid topic')
    assert.equal(toKafkaJSError(mine, spent), mine)
    const user = new TypeError('a bug in a listener')
    assert.equal(toKafkaJSError(user, spent), user)
  })
})
