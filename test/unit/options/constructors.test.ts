// What the constructors do with the options users pass, from plain JavaScript as much as from
// TypeScript: every value is checked against the options' descriptions before any network work
// (the connector below fails the test if anything tries to connect), and anything wrong is a
// ConfigError, never a TypeError or an uncaught exception later.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { Admin } from '../../../src/admin/admin.ts'
import { ADMIN_OPTIONS } from '../../../src/admin/options.ts'
import type { Connector } from '../../../src/client/connector.ts'
import { loadConfig } from '../../../src/config/index.ts'
import { Consumer } from '../../../src/consumer/consumer.ts'
import { ConsumerManager } from '../../../src/consumer/manager.ts'
import { CONSUMER_OPTIONS, MANAGER_OPTIONS } from '../../../src/consumer/options.ts'
import type { OptionGroup, Spec } from '../../../src/options/schema.ts'
import { PRODUCER_OPTIONS, resolveProducerOptions } from '../../../src/producer/options.ts'
import { Producer } from '../../../src/producer/producer.ts'
import { ConfigError } from '../../../src/protocol/errors.ts'
import { ShareConsumer } from '../../../src/share/consumer.ts'
import { SHARE_CONSUMER_OPTIONS } from '../../../src/share/options.ts'

let connects = 0
/** Counts connection attempts: a constructor must make none. */
const connect: Connector = async () => {
  connects++
  throw new Error('a constructor tried to connect')
}
const BASE = { brokers: ['127.0.0.1:9'], connect }
const GROUP = { ...BASE, groupId: 'g', topics: ['orders'] }

/** The ConfigError message `build` throws (and that it made no connection attempt). */
function refused(build: () => unknown): string {
  const before = connects
  try {
    build()
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError, got ${String(error)}`)
    assert.equal(connects, before, 'no connection attempt')
    return error.message
  }
  assert.fail('no ConfigError')
}

const js = <T>(options: unknown) => options as T

describe('constructors check every option before any network work', () => {
  it('an unknown option gets a did-you-mean, at any depth', () => {
    assert.match(
      refused(() => new Consumer(js({ ...GROUP, groupProtcol: 'consumer' }))),
      /^invalid Consumer options: unknown option groupProtcol; did you mean groupProtocol\?$/,
    )
    assert.match(
      refused(() => new Producer(js({ ...BASE, ackz: 'all' }))),
      /unknown option ackz; did you mean acks\?/,
    )
    assert.match(
      refused(() => new Producer(js({ ...BASE, batch: { lingerMS: 5 } }))),
      /unknown option batch\.lingerMS; did you mean lingerMs\?/,
    )
    assert.match(
      refused(() => new Admin(js({ ...BASE, tls: { rejectUnauthorised: false } }))),
      /unknown option tls\.rejectUnauthorised; did you mean rejectUnauthorized\?/,
    )
    assert.match(
      refused(() => new Admin(js({ ...BASE, zzzzzz: 1 }))),
      /unknown option zzzzzz$/,
    )
  })

  it('values of the wrong type or out of bounds name the option and what is allowed', () => {
    assert.match(
      refused(() => new Consumer(js({ ...GROUP, topics: [42] }))),
      /topics: \[42\] is not allowed: expected list of topic names/,
    )
    assert.match(
      refused(() => new Producer(js({ ...BASE, acks: 'most' }))),
      /acks: "most" is not allowed: expected one of all, leader, none/,
    )
    assert.match(
      refused(() => new Consumer({ ...GROUP, concurrency: 0 })),
      /concurrency: 0 is not allowed: expected integer >= 1/,
    )
    assert.match(
      refused(() => new Consumer({ ...GROUP, fetch: { maxWaitMs: 2 ** 31 } })),
      /fetch\.maxWaitMs: 2147483648 is not allowed: expected duration >= 0 .*at most 2147483647/,
    )
    assert.match(
      refused(() => new Admin(js({ ...BASE, retry: 5 }))),
      /retry: must be a mapping of options/,
    )
    assert.match(
      refused(() => new Admin(js({ brokers: 'localhost' }))),
      /brokers: "localhost" is not allowed/,
    )
    assert.match(
      refused(() => new Admin(js({ clientId: 'x' }))),
      /brokers: required/,
    )
    assert.match(
      refused(() => new Producer(js(null))),
      /Producer needs an object of options, got null/,
    )
    assert.match(
      refused(() => new (Admin as unknown as new () => Admin)()),
      /got undefined/,
    )
    assert.match(
      refused(() => new Admin({ ...BASE, sasl: { mechanism: 'plain', username: 'u', password: 1 as never } })),
      /sasl\.password: \*\*\* is not allowed/,
    )
  })

  it('several problems are one ConfigError listing each', () => {
    const message = refused(() => new Producer(js({ ...BASE, acks: 2, compresion: 'lz4', batch: { maxBytes: 0 } })))
    assert.match(message, /^invalid Producer options: 3 problems:\n- /)
    assert.match(message, /acks: 2 is not allowed/)
    assert.match(message, /unknown option compresion; did you mean compression\?/)
    assert.match(message, /batch\.maxBytes: 0 is not allowed/)
  })

  it('RegExp topics and the consumer group protocol are taken; a pattern the broker cannot match is refused', () => {
    // before: a RegExp reached the subscription encoder in the join and crashed the process
    new Consumer({ ...GROUP, topics: ['a', /^orders/] })
    new Consumer({ ...GROUP, groupProtocol: 'consumer', topics: ['a', /^orders\./i] })
    // the consumer protocol sends patterns to the broker as RE2/J, which has no lookahead
    assert.match(
      refused(() => new Consumer({ ...GROUP, groupProtocol: 'consumer', topics: [/^(?!tmp)/] })),
      /lookahead/,
    )
    new Consumer({ ...GROUP, groupProtocol: 'classic', topics: [/^(?!tmp)/] })
    assert.match(
      refused(() => new Consumer({ ...GROUP, topics: [/orders/g] })),
      /the g and y flags/,
    )
    assert.match(
      refused(() => new Consumer(js({ ...GROUP, autoOffsetReset: 'smallest' }))),
      /autoOffsetReset: "smallest" is not allowed/,
    )
  })

  it('the dead-letter producer, made at run(), has its options checked with the consumer', () => {
    assert.match(
      refused(() => new Consumer(js({ ...GROUP, dlq: { topic: 'dlq', producer: { acks: 'most' } } }))),
      /invalid dead-letter producer options: acks: "most" is not allowed/,
    )
    assert.match(
      refused(() => new Consumer(js({ ...GROUP, dlq: {} }))),
      /dlq\.topic: required when dlq is set/,
    )
  })

  it('options between them are checked too, as the Java client does', () => {
    assert.match(
      refused(() => new Producer({ ...BASE, acks: 'leader', idempotent: true })),
      /idempotent: true needs acks: 'all'/,
    )
    assert.match(
      refused(() => new Consumer({ ...BASE, topics: ['t'] })),
      /without groupId/,
    )
    assert.match(
      refused(() => new Consumer({ ...GROUP, assign: [{ topic: 't', partition: 0 }] })),
      /either topics or assign/,
    )
  })

  it('middleware, run and stop options and routes are checked the same way', async () => {
    const consumer = new Consumer(GROUP)
    assert.match(
      refused(() => consumer.use(js(42))),
      /use\(\) needs a middleware function/,
    )
    assert.match(
      refused(() => consumer.run(async () => {}, js({ signal: 'abort' }))),
      /signal: "abort" is not allowed: expected AbortSignal/,
    )
    assert.match(
      refused(() => new ConsumerManager(js({ ...BASE, groupId: 'g', topcs: ['x'] }))),
      /unknown option topcs; each route names its topics/,
    )
    await assert.rejects(consumer.stop(js({ timeoutMs: -1 })), /timeoutMs: -1 is not allowed: expected duration >= 0/)
    await assert.rejects(new ConsumerManager({ ...BASE, groupId: 'g' }).stop(js({ timeout: 5 })), ConfigError)
    const manager = new ConsumerManager({ ...BASE, groupId: 'g' })
    assert.match(
      refused(() => manager.route(['bad topic!'], async () => {})),
      /route options: topics: \["bad topic!"\] is not allowed/,
    )
    assert.match(
      refused(() => manager.route(js(null))),
      /a route needs topics/,
    )
    assert.match(
      refused(() => manager.route({ topics: ['t'], handler: async () => {}, options: js({ concurrncy: 2 }) })),
      /unknown option concurrncy; did you mean concurrency\?/,
    )
  })
})

describe('what the constructors accept', () => {
  it('values in their text forms and case-insensitive enums, as loadConfig takes them', () => {
    const o = resolveProducerOptions(
      js({ ...BASE, acks: 1, compression: 'GZIP', batch: { lingerMs: '20ms', maxBytes: '64KiB' } }),
    )
    assert.equal(o.acks, 1)
    assert.equal(o.compression, 'gzip')
    assert.deepEqual(o.batch, { lingerMs: 20, maxBytes: 65_536, maxMessages: 10_000 })
  })

  it('defaults as the Java client has them, and the ones that follow other options', () => {
    const o = resolveProducerOptions({ brokers: 'a:1' })
    assert.equal(o.acks, -1)
    assert.equal(o.idempotent, true, 'idempotent with acks all')
    assert.equal(o.batch.lingerMs, 5)
    assert.equal(o.deliveryTimeoutMs, 120_000)
    assert.deepEqual(o.client.brokers, [{ host: 'a', port: 1 }])
    assert.equal(resolveProducerOptions({ brokers: 'a:1', acks: 'leader' }).idempotent, false)
    assert.equal(resolveProducerOptions({ brokers: 'a:1', requestTimeoutMs: 200_000 }).deliveryTimeoutMs, 200_005)
  })

  it("Node's other TLS options pass through; those of the connection itself do not", async () => {
    await new Admin({ ...BASE, tls: { minVersion: 'TLSv1.3', checkServerIdentity: () => undefined } }).close()
    assert.match(
      refused(() => new Admin(js({ ...BASE, tls: { host: 'elsewhere' } }))),
      /unknown option tls\.host/,
    )
  })

  it('what loadConfig returns, files and shorthands resolved', async () => {
    const config = loadConfig({
      env: {
        KAFKA_BROKERS: 'a:1',
        KAFKA_TLS_ENABLED: 'true',
        KAFKA_CONSUMER_GROUP_ID: 'g',
        KAFKA_CONSUMER_TOPICS: 't',
        KAFKA_CONSUMER_ASSIGNORS: 'roundrobin',
        KAFKA_CONSUMER_RETRY_MAX_RETRIES: '2',
        KAFKA_PRODUCER_BATCH_LINGER_MS: '1s',
      },
    })
    await new Producer({ ...config.producer, connect }).close()
    await new Admin({ ...config.admin, connect }).close()
    new Consumer({ ...config.consumer, connect })
  })
})

// ---------------------------------------------------------------------------------------------
// Random options: only ConfigError or success, and never a connection attempt

const anything = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withNullPrototype: true,
  withObjectString: true,
  withSet: true,
  withSparseArray: true,
  withTypedArray: true,
})

/** Values no option takes as they are, but that code passes by mistake. */
const mistakes = fc.constantFrom(null, undefined, true, false, 0, -1, '', 'x', [], {}, Symbol('s'), 10n)

/** A value for an option: mostly near what it takes (right or wrong), else a mistake or anything. */
function valueFor(spec: Spec): fc.Arbitrary<unknown> {
  if (spec.kind === 'group') return fc.oneof({ weight: 2, arbitrary: optionsFor(spec) }, mistakes, anything)
  const numbers = fc.oneof(
    fc.integer({ min: -5, max: 200_000 }),
    fc.double(),
    fc.constantFrom(0, 1, 2 ** 31 - 1, 2 ** 31, Number.NaN, Number.POSITIVE_INFINITY, '5s', '64KiB', '1.5', 'x'),
  )
  const names = fc.constantFrom('orders', 'a:1', '[::1]:9092', '', 'bad topic!', ...(spec.values ?? []))
  const near: Record<(typeof spec)['kind'], fc.Arbitrary<unknown>> = {
    string: fc.oneof(names, fc.string()),
    integer: numbers,
    number: numbers,
    duration: numbers,
    size: numbers,
    boolean: fc.oneof(fc.boolean(), fc.constantFrom('true', 0, 1)),
    enum: fc.oneof(
      names,
      names.map((n) => n.toUpperCase()),
      fc.func(fc.integer()),
    ),
    list: fc.oneof(fc.array(fc.oneof(names, fc.string(), fc.integer(), fc.constant(/^o/)), { maxLength: 4 }), names),
    assignments: fc.array(
      fc.record(
        { topic: fc.oneof(names, fc.string()), partition: fc.oneof(fc.nat(5), fc.integer()), offset: fc.bigInt() },
        { requiredKeys: ['topic'] },
      ),
      { maxLength: 3 },
    ),
    pem: fc.oneof(
      fc.string(),
      fc.uint8Array().map((a) => Buffer.from(a)),
      fc.array(fc.string(), { maxLength: 2 }),
    ),
    function: fc.oneof(
      fc.func(anything),
      fc.constant(() => Promise.reject(new Error('user code'))),
    ),
    object: fc.oneof(fc.object(), fc.constant({ name: 'X', authenticate: async () => {} }), fc.constant(console)),
  }
  return fc.oneof({ weight: 3, arbitrary: near[spec.kind] }, mistakes, anything)
}

/** Options for a group: a few of its fields, now and then a key it does not have. */
function optionsFor(group: Pick<OptionGroup, 'fields'>, focus?: string): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.entries(group.fields).filter(([name]) => name !== 'connect' && name !== focus)
  const some = fc
    .shuffledSubarray(fields, { maxLength: Math.min(2, fields.length) })
    .chain((chosen) =>
      fc.record(Object.fromEntries(chosen.map(([name, spec]) => [name, valueFor(spec)])), { requiredKeys: [] }),
    )
  const unknown = fc.dictionary(fc.string({ maxLength: 12 }), anything, { maxKeys: 2 })
  const extra = fc.oneof({ weight: 5, arbitrary: fc.constant({}) }, unknown)
  const focused = focus === undefined ? fc.constant({}) : fc.record({ [focus]: valueFor(group.fields[focus]) })
  return fc.tuple(some, extra, focused).map(([s, e, f]) => ({ ...e, ...s, ...f }))
}

/**
 * Runs `build` on random options over `base`, each option in turn the one surely set: it either
 * succeeds or throws a ConfigError.
 */
async function onlyConfigErrors(
  group: Pick<OptionGroup, 'fields'>,
  base: object,
  build: (options: never) => unknown,
): Promise<void> {
  let built = 0
  for (const focus of Object.keys(group.fields).filter((name) => name !== 'connect')) {
    await fc.assert(
      fc.asyncProperty(optionsFor(group, focus), async (random) => {
        let made: unknown
        try {
          made = build({ ...base, ...random, connect } as never)
        } catch (error) {
          if (error instanceof ConfigError) return
          throw error
        }
        built++
        await (made as { close?: () => Promise<void> }).close?.()
      }),
      { numRuns: 60 },
    )
  }
  // the generators reach both outcomes, or the property proves little
  assert.ok(built > 0, 'some random options were valid')
}

describe('random options (fast-check): only ConfigError or success', () => {
  const uncaught: unknown[] = []
  const record = (error: unknown) => uncaught.push(error)
  before(() => {
    process.on('uncaughtException', record)
    process.on('unhandledRejection', record)
  })
  after(() => {
    process.off('uncaughtException', record)
    process.off('unhandledRejection', record)
  })
  const noConnectsNorUncaught = async () => {
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(connects, 0, 'no constructor tried to connect')
    assert.deepEqual(uncaught, [])
  }

  it('new Producer', async () => {
    await onlyConfigErrors(PRODUCER_OPTIONS, BASE, (o) => new Producer(o))
    await noConnectsNorUncaught()
  })

  it('new Consumer', async () => {
    await onlyConfigErrors(CONSUMER_OPTIONS, GROUP, (o) => new Consumer(o))
    await noConnectsNorUncaught()
  })

  it('new ShareConsumer', async () => {
    await onlyConfigErrors(SHARE_CONSUMER_OPTIONS, GROUP, (o) => new ShareConsumer(o))
    await noConnectsNorUncaught()
  })

  it('new Admin', async () => {
    await onlyConfigErrors(ADMIN_OPTIONS, BASE, (o) => new Admin(o))
    await noConnectsNorUncaught()
  })

  it('new ConsumerManager, and its routes', async () => {
    await onlyConfigErrors(MANAGER_OPTIONS, { ...BASE, groupId: 'g' }, (o) =>
      new ConsumerManager(o).route(['orders'], async () => {}),
    )
    await onlyConfigErrors(
      { fields: { ...MANAGER_OPTIONS.fields, topics: CONSUMER_OPTIONS.fields.topics } },
      { topics: ['orders'] },
      ({ topics, ...o }: { topics: unknown }) =>
        new ConsumerManager({ ...BASE, groupId: 'g' }).route({
          topics: topics as string[],
          handler: () => {},
          options: o,
        }),
    )
    await noConnectsNorUncaught()
  })
})
