// The logging helpers: the JSON-lines logger's format and levels, KAFKAX_LOG_LEVEL, child loggers
// over pino-like and console-like loggers.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { childLogger, jsonLogger, type Logger, resolveLogger, silentLogger } from '../../../src/observability/logger.ts'
import { ConfigError, KafkaError } from '../../../src/protocol/errors.ts'

function capture(level: Parameters<typeof jsonLogger>[0], bindings?: Record<string, unknown>) {
  const lines: string[] = []
  const logger = jsonLogger(level, (line) => lines.push(line), bindings)
  return { logger, records: () => lines.map((l) => JSON.parse(l)), lines }
}

describe('jsonLogger', () => {
  it('writes one JSON object per line with level, time, message, bindings and fields', () => {
    const { logger, records, lines } = capture('info', { clientId: 'c1' })
    logger.info?.({ topic: 'orders', partition: 2, offset: 10n }, 'partitions assigned')
    assert.equal(lines.length, 1)
    assert.ok(lines[0].endsWith('\n'))
    const [r] = records()
    assert.equal(r.level, 'info')
    assert.equal(r.msg, 'partitions assigned')
    assert.equal(r.clientId, 'c1')
    assert.equal(r.topic, 'orders')
    assert.equal(r.partition, 2)
    assert.equal(r.offset, '10', 'bigints are written as strings')
    assert.ok(Math.abs(r.time - Date.now()) < 5000)
  })

  it('formats printf-style text and serialises errors', () => {
    const { logger, records } = capture('trace')
    logger.warn?.('retry %d of %s', 2, 'orders')
    logger.error?.({ err: new KafkaError('not leader', 6, 'NOT_LEADER_OR_FOLLOWER', { retriable: true }) }, 'failed')
    logger.error?.(new Error('boom'), 'plain error first')
    const [text, kafka, plain] = records()
    assert.equal(text.msg, 'retry 2 of orders')
    assert.equal(kafka.err.type, 'KafkaError')
    assert.equal(kafka.err.message, 'not leader')
    assert.equal(kafka.err.code, 6)
    assert.equal(kafka.err.retriable, true)
    assert.match(kafka.err.stack, /not leader/)
    assert.equal(plain.err.message, 'boom')
    assert.equal(plain.msg, 'plain error first')
  })

  it('has no methods below its level, so callers skip building fields', () => {
    const { logger } = capture('warn')
    assert.equal(logger.trace, undefined)
    assert.equal(logger.debug, undefined)
    assert.equal(logger.info, undefined)
    assert.equal(typeof logger.warn, 'function')
    assert.equal(typeof logger.error, 'function')
    const silent = capture('silent').logger
    assert.deepEqual(
      ['trace', 'debug', 'info', 'warn', 'error'].filter((m) => m in silent),
      [],
    )
  })

  it('child loggers add their bindings, nested ones on top of their parent', () => {
    const { logger, records } = capture('debug', { clientId: 'c1' })
    const child = logger.child!({ topic: 'orders' }).child!({ partition: 3 })
    child.debug?.({ offset: 5 }, 'handled')
    assert.deepEqual(
      { ...records()[0], time: 0 },
      { time: 0, level: 'debug', msg: 'handled', clientId: 'c1', topic: 'orders', partition: 3, offset: 5 },
    )
  })
})

describe('resolveLogger', () => {
  it('uses the logger given, whatever the environment says', () => {
    const mine: Logger = { info() {} }
    assert.equal(resolveLogger(mine, { KAFKAX_LOG_LEVEL: 'debug' }), mine)
  })

  it('is silent without KAFKAX_LOG_LEVEL, and with silent', () => {
    assert.equal(resolveLogger(undefined, {}), silentLogger)
    assert.equal(resolveLogger(undefined, { KAFKAX_LOG_LEVEL: '' }), silentLogger)
    assert.equal(resolveLogger(undefined, { KAFKAX_LOG_LEVEL: 'silent' }).error, undefined)
  })

  it('turns on the JSON logger at the level KAFKAX_LOG_LEVEL names (any case)', () => {
    const logger = resolveLogger(undefined, { KAFKAX_LOG_LEVEL: ' WARN ' })
    assert.equal(logger.info, undefined)
    assert.equal(typeof logger.warn, 'function')
    assert.equal(typeof resolveLogger(undefined, { KAFKAX_LOG_LEVEL: 'trace' }).trace, 'function')
  })

  it('rejects an unknown level with a ConfigError naming the variable', () => {
    assert.throws(
      () => resolveLogger(undefined, { KAFKAX_LOG_LEVEL: 'verbose' }),
      (e: Error) => {
        assert.ok(e instanceof ConfigError)
        assert.match(e.message, /KAFKAX_LOG_LEVEL.*"verbose"/)
        return true
      },
    )
  })
})

describe('childLogger', () => {
  it("uses the logger's own child() when it has one (pino)", () => {
    const seen: Record<string, unknown>[] = []
    const child: Logger = {}
    const pinoLike: Logger = {
      child: (bindings) => {
        seen.push(bindings)
        return child
      },
    }
    assert.equal(childLogger(pinoLike, { topic: 't' }), child)
    assert.deepEqual(seen, [{ topic: 't' }])
  })

  it('wraps a console-like logger: bindings merged into fields, or passed before a plain text', () => {
    const calls: unknown[][] = []
    const consoleLike = {
      label: 'mine',
      warn(this: { label: string }, ...args: unknown[]) {
        calls.push([this.label, ...args])
      },
    }
    const child = childLogger(consoleLike, { clientId: 'c1' })
    assert.equal(child.info, undefined, 'methods the logger lacks stay absent')
    child.warn?.({ topic: 'orders' }, 'retrying')
    child.warn?.('just text', 42)
    const err = new Error('x')
    childLogger(child, { partition: 1 }).warn?.(err, 'failed')
    assert.deepEqual(calls, [
      ['mine', { clientId: 'c1', topic: 'orders' }, 'retrying'],
      ['mine', { clientId: 'c1' }, 'just text', 42],
      ['mine', { clientId: 'c1', partition: 1, err }, 'failed'],
    ])
  })

  it('of the silent logger logs nothing', () => {
    const child = childLogger(silentLogger, { topic: 't' })
    assert.equal(child.error, undefined)
    assert.equal(child.child!({ partition: 0 }).error, undefined)
  })
})
