// The error table is generated from the Java client's Errors enum; these checks compare a few rows
// with the protocol guide's error table (https://kafka.apache.org/protocol#protocol_error_codes).

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ErrorCode, errorCode, kafkaError } from '../../../src/protocol/error-codes.ts'
import { ERROR_TABLE } from '../../../src/protocol/error-table.generated.ts'
import { KafkaError } from '../../../src/protocol/errors.ts'

describe('Kafka error codes', () => {
  it('knows codes, names and retriability as the protocol guide lists them', () => {
    assert.deepEqual(
      [-1, 1, 3, 6, 7, 15, 16, 22, 25, 58, 74].map((c) => [c, errorCode(c).name, errorCode(c).retriable]),
      [
        [-1, 'UNKNOWN_SERVER_ERROR', false],
        [1, 'OFFSET_OUT_OF_RANGE', false],
        [3, 'UNKNOWN_TOPIC_OR_PARTITION', true],
        [6, 'NOT_LEADER_OR_FOLLOWER', true],
        [7, 'REQUEST_TIMED_OUT', true],
        [15, 'COORDINATOR_NOT_AVAILABLE', true],
        [16, 'NOT_COORDINATOR', true],
        [22, 'ILLEGAL_GENERATION', false],
        [25, 'UNKNOWN_MEMBER_ID', false],
        [58, 'SASL_AUTHENTICATION_FAILED', false],
        [74, 'FENCED_LEADER_EPOCH', true],
      ],
    )
    assert.equal(ErrorCode.TOPIC_ALREADY_EXISTS, 36)
    // the constants are the table: every named code, and nothing else
    assert.deepEqual(
      Object.entries(ErrorCode).map(([name, code]) => [code, name]),
      ERROR_TABLE.map(([code, name]) => [code, name]),
    )
  })

  it('turns a code into a KafkaError carrying name, retriability and the broker detail', () => {
    const err = kafkaError(6, 'orders-0')
    assert.ok(err instanceof KafkaError)
    assert.equal(err.code, 6)
    assert.equal(err.type, 'NOT_LEADER_OR_FOLLOWER')
    assert.equal(err.retriable, true)
    assert.match(err.message, /^NOT_LEADER_OR_FOLLOWER: .*\(orders-0\)$/)
  })

  it('still gives a KafkaError for a code newer than the table', () => {
    const err = kafkaError(9999)
    assert.equal(err.type, 'UNKNOWN_ERROR_CODE_9999')
    assert.equal(err.retriable, false)
  })
})
