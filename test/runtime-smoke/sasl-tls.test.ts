// SASL SCRAM-SHA-512 over TLS, configured the way users do it: loadConfig with KAFKA_* variables
// (a CA file, mechanism, user and password), then produce, consume and administer on that listener.

import assert from 'node:assert/strict'
import { it } from 'node:test'
import { Admin, AuthenticationError, Consumer, loadConfig, type Message, Producer } from 'kafkax'
import { saslSsl, uniqueTopic, waitFor } from './smoke.ts'

const env = (password: string) => ({
  KAFKA_BROKERS: saslSsl().broker,
  KAFKA_TLS_CA_FILE: saslSsl().caFile,
  KAFKA_SASL_MECHANISM: 'scram-sha-512',
  KAFKA_SASL_USERNAME: 'alice',
  KAFKA_SASL_PASSWORD: password,
})

it('produces, consumes and administers over SASL_SSL with SCRAM-SHA-512', async () => {
  const config = loadConfig({ env: env('alice-secret') })
  const topic = uniqueTopic('sasl')
  const admin = new Admin(config.admin)
  try {
    await admin.createTopics([{ topic, partitions: 1, replicationFactor: 1 }])
    const producer = new Producer({ ...config.producer, compression: 'lz4' })
    const sent = await producer.send({ topic, key: 'k', value: 'over TLS' })
    await producer.close()
    const consumer = new Consumer({ ...config.consumer, assign: [{ topic, partition: 0, offset: sent.offset }] })
    const received: Message[] = []
    const running = consumer.run((m) => {
      received.push(m)
    })
    await waitFor('the record back over SASL_SSL', () => received.length === 1).finally(async () => {
      await consumer.stop()
      await running
    })
    assert.equal(received[0].value?.toString(), 'over TLS')
    await admin.deleteTopics([topic])
  } finally {
    await admin.close()
  }
})

it('fails at once with an AuthenticationError for a wrong password', async () => {
  const admin = new Admin(loadConfig({ env: env('not-the-password') }).admin)
  try {
    await assert.rejects(admin.listTopics(), AuthenticationError)
  } finally {
    await admin.close()
  }
})
