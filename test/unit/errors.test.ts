import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  AuthenticationError,
  ConfigError,
  ConnectionError,
  KafkaError,
  KafkaxError,
  ProtocolError,
  TimeoutError,
} from '../../src/index.ts'

describe('error classes', () => {
  it('carry a name, a code and retriability, and are KafkaxErrors', () => {
    const cases: [KafkaxError, string, string | number, boolean][] = [
      [new ConnectionError('lost'), 'ConnectionError', 'ECONNECTION', true],
      [new AuthenticationError('refused'), 'AuthenticationError', 'EAUTHENTICATION', false],
      [new TimeoutError('late'), 'TimeoutError', 'ETIMEOUT', true],
      [new ProtocolError('bad bytes'), 'ProtocolError', 'EPROTOCOL', false],
      [new ConfigError('bad option'), 'ConfigError', 'ECONFIG', false],
      [new KafkaError('not leader', 6, 'NOT_LEADER_OR_FOLLOWER', { retriable: true }), 'KafkaError', 6, true],
    ]
    for (const [error, name, code, retriable] of cases) {
      assert.ok(error instanceof KafkaxError && error instanceof Error)
      assert.equal(error.name, name)
      assert.equal(error.code, code)
      assert.equal(error.retriable, retriable)
    }
  })

  it('keeps the cause and lets a caller override retriability', () => {
    const cause = new Error('ECONNRESET')
    const error = new ConnectionError('broker 1 went away', { cause, retriable: false })
    assert.equal(error.cause, cause)
    assert.equal(error.retriable, false)
    assert.equal(
      (new KafkaError('x', 3, 'UNKNOWN_TOPIC_OR_PARTITION') as KafkaError).type,
      'UNKNOWN_TOPIC_OR_PARTITION',
    )
  })
})
