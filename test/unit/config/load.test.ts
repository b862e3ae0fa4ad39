import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { Admin } from '../../../src/admin/admin.ts'
import { loadConfig } from '../../../src/config/index.ts'
import { Producer } from '../../../src/producer/producer.ts'
import { ConfigError } from '../../../src/protocol/errors.ts'

const dir = mkdtempSync(join(tmpdir(), 'kafkax-config-'))
after(() => rmSync(dir, { recursive: true, force: true }))

let files = 0
function file(text: string, name = `f${files++}`): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const BROKERS = { KAFKA_BROKERS: '127.0.0.1:9092' }

/** The ConfigError message loadConfig throws for these options. */
function problem(options: Parameters<typeof loadConfig>[0]): string {
  try {
    loadConfig(options)
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error))
    assert.equal(error.code, 'ECONFIG')
    return error.message
  }
  assert.fail('loadConfig did not throw')
}

describe('precedence: file < environment < overrides (< the defaults of what none sets)', () => {
  const yaml = file(`
common:
  brokers: [file:9092]
  requestTimeoutMs: 10s
producer:
  batch: { lingerMs: 10ms, maxMessages: 500 }
  compression: gzip
consumer:
  commit: { intervalMs: 7s }
`)

  test('what no layer sets is left to the constructor and its defaults', () => {
    const config = loadConfig({ env: BROKERS })
    assert.deepEqual(config.producer, { brokers: ['127.0.0.1:9092'] })
    assert.deepEqual(config.consumer, { brokers: ['127.0.0.1:9092'] })
    assert.deepEqual(config.admin, { brokers: ['127.0.0.1:9092'] })
  })

  test('a delivery timeout nobody set adapts to a long request timeout, as in the constructor', async () => {
    const config = loadConfig({ env: { ...BROKERS, KAFKA_PRODUCER_REQUEST_TIMEOUT_MS: '200s' } })
    await new Producer(config.producer).close()
  })

  test('each layer replaces the one below, option by option', () => {
    const fromFile = loadConfig({ file: yaml, env: {} })
    assert.deepEqual(fromFile.producer.brokers, ['file:9092'])
    assert.equal(fromFile.producer.batch?.lingerMs, 10)
    assert.equal(fromFile.producer.compression, 'gzip')
    assert.equal(fromFile.admin.requestTimeoutMs, 10_000)
    assert.equal(fromFile.consumer.commit?.intervalMs, 7000)

    const env = {
      KAFKA_BROKERS: 'env:9092',
      KAFKA_PRODUCER_BATCH_LINGER_MS: '20',
      KAFKA_CONSUMER_COMMIT_INTERVAL_MS: '3s',
      KAFKA_PRODUCER_REQUEST_TIMEOUT_MS: '4s',
    }
    const fromEnv = loadConfig({ file: yaml, env })
    assert.deepEqual(fromEnv.admin.brokers, ['env:9092'])
    assert.equal(fromEnv.producer.batch?.lingerMs, 20)
    assert.equal(fromEnv.producer.batch?.maxMessages, 500, 'a group merges key by key')
    assert.equal(fromEnv.producer.compression, 'gzip', 'the file still sets what the environment does not')
    assert.equal(fromEnv.consumer.commit?.intervalMs, 3000)
    assert.equal(fromEnv.producer.requestTimeoutMs, 4000)
    assert.equal(fromEnv.admin.requestTimeoutMs, 10_000)

    const overridden = loadConfig({
      file: yaml,
      env,
      overrides: { common: { requestTimeoutMs: 2500 }, producer: { batch: { lingerMs: 30 } } },
    })
    assert.equal(overridden.producer.batch?.lingerMs, 30)
    assert.equal(overridden.producer.requestTimeoutMs, 2500, 'a higher layer wins even through common')
    assert.equal(overridden.admin.requestTimeoutMs, 2500)
    assert.equal(overridden.consumer.commit?.intervalMs, 3000)
  })

  test("within a layer a section's own value beats common", () => {
    const yaml2 = file('common: { brokers: a:1, clientId: shared }\nproducer: { clientId: writer }\n')
    const config = loadConfig({ file: yaml2, env: {} })
    assert.equal(config.producer.clientId, 'writer')
    assert.equal(config.consumer.clientId, 'shared')
    assert.equal(config.admin.clientId, 'shared')
  })

  test("common.retry is the consumer's clientRetry; consumer.retry is its handler retry", () => {
    const config = loadConfig({
      env: { ...BROKERS, KAFKA_RETRY_MAX_ATTEMPTS: '9', KAFKA_CONSUMER_RETRY_MAX_RETRIES: '2' },
    })
    assert.equal(config.producer.retry?.maxAttempts, 9)
    assert.equal(config.admin.retry?.maxAttempts, 9)
    assert.equal(config.consumer.clientRetry?.maxAttempts, 9)
    assert.deepEqual(config.consumer.retry, { maxRetries: 2 })
  })

  test('the sections never share a mutable object', () => {
    const config = loadConfig({ env: { ...BROKERS, KAFKA_RETRY_MAX_ATTEMPTS: '3' } })
    assert.notEqual(config.producer.retry, config.admin.retry)
    assert.notEqual(config.producer.brokers, config.admin.brokers)
  })
})

describe('environment variables', () => {
  test('every kind of value is parsed by its schema type', () => {
    const config = loadConfig({
      env: {
        KAFKA_BROKERS: ' a:1, b:2 ,',
        KAFKA_CLIENT_ID: 'svc',
        KAFKA_MAX_IN_FLIGHT: '3',
        KAFKA_RETRY_JITTER: '0.5',
        KAFKA_PRODUCER_ACKS: '1',
        KAFKA_PRODUCER_COMPRESSION: 'LZ4',
        KAFKA_PRODUCER_IDEMPOTENT: 'no',
        KAFKA_PRODUCER_ALLOW_AUTO_TOPIC_CREATION: 'FALSE',
        KAFKA_PRODUCER_BUFFER_MEMORY: '64MiB',
        KAFKA_PRODUCER_BATCH_MAX_BYTES: '16KiB',
        KAFKA_CONSUMER_GROUP_ID: 'billing',
        KAFKA_CONSUMER_TOPICS: 'orders,payments',
        KAFKA_CONSUMER_FROM_BEGINNING: 'true',
        KAFKA_CONSUMER_ORDER_BY: 'key',
        KAFKA_CONSUMER_ASSIGNORS: 'roundrobin, Range',
        KAFKA_CONSUMER_ASSIGN: 'orders:0:42,orders:1',
        KAFKA_CONSUMER_ISOLATION_LEVEL: 'read_committed',
        KAFKA_CONSUMER_DLQ_TOPIC: 'orders.dlq',
        KAFKA_CONSUMER_FETCH_MAX_WAIT_MS: '1s',
        KAFKA_CONSUMER_FETCH_MAX_BYTES: '1MB',
        KAFKA_CONSUMER_SESSION_TIMEOUT_MS: '1m',
        KAFKA_ADMIN_CLIENT_ID: 'ops',
        KAFKA_ADMIN_METADATA_MAX_AGE_MS: '1h',
        KAFKA_PRODUCER_CLIENT_ID: '',
        KAFKA_HEAP_OPTS: '-Xmx1g',
      },
    })
    assert.deepEqual(config.producer.brokers, ['a:1', 'b:2'])
    assert.equal(config.producer.clientId, 'svc', 'an empty variable is unset')
    assert.equal(config.admin.clientId, 'ops')
    assert.equal(config.consumer.maxInFlight, 3)
    assert.equal(config.producer.retry?.jitter, 0.5)
    assert.equal(config.producer.acks, 'leader')
    assert.equal(config.producer.compression, 'lz4')
    assert.equal(config.producer.idempotent, false)
    assert.equal(config.producer.allowAutoTopicCreation, false)
    assert.equal(config.producer.bufferMemory, 64 * 1024 * 1024)
    assert.equal(config.producer.batch?.maxBytes, 16_384)
    assert.equal(config.consumer.groupId, 'billing')
    assert.deepEqual(config.consumer.topics, ['orders', 'payments'])
    assert.equal(config.consumer.fromBeginning, true)
    assert.equal(config.consumer.orderBy, 'key')
    assert.deepEqual(config.consumer.assignors, ['roundrobin', 'range'])
    assert.deepEqual(config.consumer.assign, [
      { topic: 'orders', partition: 0, offset: 42n },
      { topic: 'orders', partition: 1 },
    ])
    assert.equal(config.consumer.isolationLevel, 'read_committed')
    assert.deepEqual(config.consumer.dlq, { topic: 'orders.dlq' })
    assert.equal(config.consumer.fetch?.maxWaitMs, 1000)
    assert.equal(config.consumer.fetch?.maxBytes, 1_000_000)
    assert.equal(config.consumer.sessionTimeoutMs, 60_000)
    assert.equal(config.admin.metadataMaxAgeMs, 3_600_000)
  })

  test('SASL from variables, the password from a file without its final newline', () => {
    const secret = file('s3cret\n')
    const config = loadConfig({
      env: {
        ...BROKERS,
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        KAFKA_SASL_USERNAME: 'alice',
        KAFKA_SASL_PASSWORD_FILE: secret,
      },
    })
    assert.deepEqual(config.admin.sasl, { mechanism: 'scram-sha-512', username: 'alice', password: 's3cret' })
    assert.deepEqual(config.consumer.sasl, config.admin.sasl)
    const twoNewlines = loadConfig({
      env: {
        ...BROKERS,
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: 'a',
        KAFKA_SASL_PASSWORD_FILE: file('x\n\n'),
      },
    })
    assert.equal((twoNewlines.producer.sasl as { password: string }).password, 'x\n', 'only one newline is dropped')
  })

  test('any KAFKA_TLS_* variable turns TLS on; certificate files are read', () => {
    const [ca, cert, key] = [file('CA PEM\n'), file('CERT PEM\n'), file('KEY PEM\n')]
    const config = loadConfig({
      env: {
        ...BROKERS,
        KAFKA_TLS_CA_FILE: ca,
        KAFKA_TLS_CERT_FILE: cert,
        KAFKA_TLS_KEY_FILE: key,
        KAFKA_TLS_SERVERNAME: 'kafka.local',
        KAFKA_TLS_REJECT_UNAUTHORIZED: 'false',
      },
    })
    assert.deepEqual(config.producer.tls, {
      ca: 'CA PEM',
      cert: 'CERT PEM',
      key: 'KEY PEM',
      servername: 'kafka.local',
      rejectUnauthorized: false,
    })
    assert.deepEqual(loadConfig({ env: { ...BROKERS, KAFKA_TLS_SERVERNAME: 'x' } }).admin.tls, { servername: 'x' })
    assert.equal(loadConfig({ env: { ...BROKERS, KAFKA_TLS_ENABLED: 'true' } }).admin.tls, true)
    assert.equal(loadConfig({ env: BROKERS }).admin.tls, undefined)
    const off = loadConfig({ env: { ...BROKERS, KAFKA_TLS_SERVERNAME: 'x', KAFKA_TLS_ENABLED: 'false' } })
    assert.equal(off.admin.tls, undefined)
  })

  test('unreadable _FILE variables and double settings are reported', () => {
    const missing = join(dir, 'missing')
    const message = problem({ env: { ...BROKERS, KAFKA_SASL_PASSWORD_FILE: missing } })
    assert.match(message, new RegExp(`KAFKA_SASL_PASSWORD_FILE: cannot read ${missing} \\(ENOENT\\)`))
    const both = problem({ env: { ...BROKERS, KAFKA_SASL_PASSWORD: 'a', KAFKA_SASL_PASSWORD_FILE: file('b') } })
    assert.match(both, /KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE both set common\.sasl\.password/)
  })

  test('a bad value names the variable, the option and what is allowed', () => {
    const message = problem({ env: { ...BROKERS, KAFKA_PRODUCER_BATCH_MAX_MESSAGES: '0' } })
    assert.match(
      message,
      /KAFKA_PRODUCER_BATCH_MAX_MESSAGES \(producer\.batch\.maxMessages\): "0" is not allowed: expected integer >= 1/,
    )
    assert.match(problem({ env: { ...BROKERS, KAFKA_PRODUCER_IDEMPOTENT: 'maybe' } }), /expected boolean/)
    assert.match(problem({ env: { ...BROKERS, KAFKA_MAX_IN_FLIGHT: 'many' } }), /"many" is not allowed/)
  })

  test('unknown variables under our prefixes get a did-you-mean', () => {
    assert.match(
      problem({ env: { ...BROKERS, KAFKA_PRODUCER_BATCH_LINGER: '5' } }),
      /unknown environment variable KAFKA_PRODUCER_BATCH_LINGER; did you mean KAFKA_PRODUCER_BATCH_LINGER_MS\?/,
    )
    assert.match(problem({ env: { ...BROKERS, KAFKA_SASL_PASWORD: 'x' } }), /; did you mean KAFKA_SASL_PASSWORD\?/)
  })
})

describe('files and overrides', () => {
  test('YAML <name>File options are read relative to the YAML file', () => {
    file('top secret\n', 'yaml-secret')
    const yaml = file(
      'common:\n  brokers: a:1\n  sasl: { mechanism: plain, username: u, passwordFile: yaml-secret }\n  tls: { caFile: yaml-secret }\n',
    )
    const config = loadConfig({ file: yaml, env: {} })
    assert.equal((config.producer.sasl as { password: string }).password, 'top secret')
    assert.deepEqual(config.producer.tls, { ca: 'top secret' })
    assert.match(
      problem({ file: file('common: { brokers: a:1, sasl: { password: a, passwordFile: yaml-secret } }'), env: {} }),
      /common\.sasl\.passwordFile: set password or passwordFile, not both/,
    )
  })

  test('YAML assignments: objects or strings, offsets as exact bigints', () => {
    const yaml = file(
      "consumer:\n  assign:\n    - { topic: t, partition: 2, offset: '9007199254740993' }\n    - t:3\n    - { topic: t, partition: 4, offset: 7 }\n",
    )
    assert.deepEqual(loadConfig({ file: yaml, env: BROKERS }).consumer.assign, [
      { topic: 't', partition: 2, offset: 9_007_199_254_740_993n },
      { topic: 't', partition: 3 },
      { topic: 't', partition: 4, offset: 7n },
    ])
    assert.match(
      problem({ file: file('consumer: { assign: [{ topic: t, partition: -1 }] }'), env: BROKERS }),
      /consumer\.assign: .* is not allowed: expected list of topic:partition\[:offset\]/,
    )
  })

  test('a missing file, bad YAML, a non-mapping section are ConfigErrors', () => {
    assert.match(
      problem({ file: join(dir, 'nope.yaml'), env: BROKERS }),
      /cannot read config file .*nope\.yaml \(ENOENT\)/,
    )
    assert.match(problem({ file: file('producer: [1'), env: BROKERS }), /not valid YAML/)
    assert.match(
      problem({ file: file('producer: 5'), env: BROKERS }),
      /: producer: must be a mapping of options, got a number/,
    )
  })

  test('code-only values pass through overrides', async () => {
    const partitioner = () => 0
    const oauthBearerProvider = async () => ({ value: 'token' })
    const config = loadConfig({
      env: BROKERS,
      overrides: { producer: { partitioner }, common: { sasl: { mechanism: 'oauthbearer', oauthBearerProvider } } },
    })
    assert.equal(config.producer.partitioner, partitioner)
    assert.equal((config.consumer.sasl as { oauthBearerProvider: unknown }).oauthBearerProvider, oauthBearerProvider)
    assert.match(
      problem({ file: file('common: { sasl: { mechanism: oauthbearer } }'), env: BROKERS }),
      /producer\.sasl\.oauthBearerProvider must be a function/,
    )
  })

  test('the result constructs a Producer and an Admin', async () => {
    const config = loadConfig({ env: { ...BROKERS, KAFKA_PRODUCER_ACKS: 'leader' } })
    const producer = new Producer(config.producer)
    const admin = new Admin(config.admin)
    await producer.close()
    await admin.close()
  })
})

describe('durations and sizes', () => {
  const linger = (lingerMs: unknown) =>
    loadConfig({ env: BROKERS, overrides: { producer: { batch: { lingerMs: lingerMs as number } } } }).producer.batch
      ?.lingerMs

  test('numbers are milliseconds; strings carry one unit', () => {
    assert.equal(linger(0), 0)
    assert.equal(linger(15), 15)
    assert.equal(linger('250ms'), 250)
    assert.equal(linger('5s'), 5000)
    assert.equal(linger('1.5s'), 1500)
    assert.equal(linger('2m'), 120_000)
    assert.equal(linger('1h'), 3_600_000)
    assert.equal(linger(' 7 '), 7, 'a bare number string is milliseconds')
  })

  test('anything else is refused with the accepted forms', () => {
    for (const bad of ['5 sec', '-1s', '0.5ms', '1d', '', -1, 1.5, true]) {
      assert.match(
        problem({ env: BROKERS, overrides: { producer: { batch: { lingerMs: bad as number } } } }),
        /overrides: producer\.batch\.lingerMs: .* is not allowed: expected duration >= 0 \(ms, or 250ms, 5s, 2m, 1h\)/,
        String(bad),
      )
    }
  })

  test('sizes take decimal and binary units', () => {
    const size = (maxRequestSize: unknown) =>
      loadConfig({ env: BROKERS, overrides: { producer: { maxRequestSize: maxRequestSize as number } } }).producer
        .maxRequestSize
    assert.equal(size(2048), 2048)
    assert.equal(size('64KB'), 64_000)
    assert.equal(size('16KiB'), 16_384)
    assert.equal(size('1MiB'), 1_048_576)
    assert.equal(size('2GB'), 2e9)
    assert.match(
      problem({ env: BROKERS, overrides: { producer: { maxRequestSize: '1KB' as unknown as number } } }),
      /size >= 1024/,
    )
    assert.match(
      problem({ env: BROKERS, overrides: { producer: { maxRequestSize: '1XB' as unknown as number } } }),
      /"1XB"/,
    )
  })
})

describe('validation', () => {
  test('unknown options get a did-you-mean from the same group', () => {
    const message = problem({ file: file('producer:\n  batch:\n    lingerMS: 5\n'), env: BROKERS })
    assert.match(message, /unknown option producer\.batch\.lingerMS; did you mean lingerMs\?$/)
    assert.match(
      problem({ file: file('producr: {}'), env: BROKERS }),
      /unknown option producr; did you mean producer\?/,
    )
    assert.match(problem({ file: file('common: { zzzzzz: 1 }'), env: BROKERS }), /unknown option common\.zzzzzz$/)
  })

  test('an option beside the sections is told which section holds it', () => {
    assert.match(
      problem({ file: file('brokers: [a:1]\n'), env: {} }),
      /: unknown option brokers; options go in a section: did you mean common\.brokers\?/,
    )
    assert.match(
      problem({ file: file('groupId: billing\n'), env: BROKERS }),
      /unknown option groupId; options go in a section: did you mean consumer\.groupId\?/,
    )
    assert.match(
      problem({ env: BROKERS, overrides: { acks: 'all' } as never }),
      /overrides: unknown option acks; options go in a section: did you mean producer\.acks\?/,
    )
  })

  test('enum errors list the allowed values', () => {
    assert.match(
      problem({ env: BROKERS, overrides: { producer: { compression: 'brotli' as 'gzip' } } }),
      /overrides: producer\.compression: "brotli" is not allowed: expected one of none, gzip, snappy, lz4, zstd/,
    )
    assert.match(
      problem({ env: { ...BROKERS, KAFKA_CONSUMER_ASSIGNORS: 'range,sticky' } }),
      /expected list of range, roundrobin, cooperative-sticky/,
    )
  })

  test('every problem of every layer is reported at once', () => {
    const message = problem({
      file: file('producer: { acks: most }\nconsumer: { concurrency: 0 }\n'),
      env: { ...BROKERS, KAFKA_CONSUMER_TOPICS: 'bad topic!' },
    })
    assert.match(message, /^invalid kafkax configuration: 3 problems:\n- /)
    assert.match(message, /producer\.acks: "most"/)
    assert.match(message, /consumer\.concurrency: 0 is not allowed: expected integer >= 1/)
    assert.match(
      message,
      /KAFKA_CONSUMER_TOPICS \(consumer\.topics\): "bad topic!" is not allowed: expected list of topic names/,
    )
  })

  test('brokers are required and checked', () => {
    assert.match(problem({ env: {} }), /producer\.brokers: required/)
    assert.match(
      problem({ env: { KAFKA_BROKERS: 'localhost' } }),
      /KAFKA_BROKERS \(common\.brokers\): "localhost" is not allowed: expected list of host:port/,
    )
  })

  test('groups with required fields', () => {
    assert.match(
      problem({ file: file('consumer: { dlq: {} }'), env: BROKERS }),
      /consumer\.dlq\.topic: required when consumer\.dlq is set/,
    )
    assert.match(
      problem({ env: { ...BROKERS, KAFKA_SASL_USERNAME: 'u' } }),
      /producer\.sasl\.mechanism: required when producer\.sasl is set/,
    )
  })
})

describe('secrets are never printed', () => {
  const SECRET = 'hunter2-very-secret'

  test('a wrong secret value shows ***', () => {
    const message = problem({
      file: file(`common:\n  sasl: { mechanism: plain, username: u, password: [${SECRET}] }\n  tls: { key: 12345 }\n`),
      env: BROKERS,
    })
    assert.match(message, /common\.sasl\.password: \*\*\* is not allowed/)
    assert.match(message, /common\.tls\.key: \*\*\* is not allowed/)
    assert.ok(!message.includes(SECRET) && !message.includes('12345'), message)
  })

  test('nor in unknown options, YAML syntax errors or SASL checks', () => {
    const messages = [
      problem({ file: file(`common:\n  sasl:\n    passwrd: ${SECRET}\n`), env: BROKERS }),
      problem({ file: file(`common:\n  sasl:\n    password: "${SECRET}\n    username: [\n`), env: BROKERS }),
      problem({ env: { ...BROKERS, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: SECRET } }),
      problem({ env: { ...BROKERS, KAFKA_SASL_PASSWORD: SECRET, KAFKA_SASL_PASSWORD_FILE: file(SECRET) } }),
      problem({ file: file(`common:\n  sasl: alice:${SECRET}\n`), env: BROKERS }),
    ]
    assert.match(messages[0], /unknown option common\.sasl\.passwrd; did you mean password\?/)
    assert.match(messages[1], /not valid YAML/)
    assert.match(messages[2], /producer\.sasl\.username must be a non-empty string/)
    assert.match(messages[4], /common\.sasl: must be a mapping of options, got a string/)
    for (const message of messages) assert.ok(!message.includes(SECRET), message)
  })
})
