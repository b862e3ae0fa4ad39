// The idempotent producer through a stalled network, as the defect was found: acks all, a short
// delivery timeout (request 3 s, delivery 4 s), ~1,000 records/s over 6 partitions, every
// connection black-holed for 5 s. Batches expire with sequences the broker may have written, the
// epoch is bumped, and the producer must go on: every send settles within its delivery timeout,
// what is acknowledged is in the log once and in send order, nothing is written twice.

import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Admin } from '../../src/admin/admin.ts'
import { Producer } from '../../src/producer/producer.ts'
import type { RecordMetadata } from '../../src/producer/record.ts'
import { KafkaxError, TimeoutError } from '../../src/protocol/errors.ts'
import { blackHole } from '../helpers/black-hole.ts'
import { brokers, kcat, uniqueTopic } from '../helpers/kafka.ts'
import { sleep, within } from '../helpers/wait.ts'

describe('Idempotent producer through a black hole', () => {
  const admin = new Admin({ brokers: brokers() })
  after(() => admin.close())

  it('settles every send within the delivery timeout and keeps sending after the epoch bump', async () => {
    const topic = uniqueTopic('stall')
    await admin.createTopics([{ topic, partitions: 6, replicationFactor: 1 }])
    const hole = blackHole()
    const producer = new Producer({
      brokers: brokers(),
      connect: hole.connect,
      acks: 'all',
      idempotent: true,
      requestTimeoutMs: 3000,
      deliveryTimeoutMs: 4000,
      retry: { initialDelayMs: 50, maxDelayMs: 500 },
    })
    const outcomes = new Map<string, RecordMetadata | Error>()
    const sentOrder = new Map<number, string[]>()
    const sentAt = new Map<string, number>()
    let settledLate = 0
    let n = 0
    const sendFor = async (ms: number) => {
      const end = Date.now() + ms
      while (Date.now() < end) {
        for (let i = 0; i < 10; i++) {
          const value = `v${n}`
          const partition = n++ % 6
          if (!sentOrder.has(partition)) sentOrder.set(partition, [])
          sentOrder.get(partition)!.push(value)
          sentAt.set(value, Date.now())
          producer.publish({ topic, partition, key: `k${partition}`, value }, (error, metadata) => {
            // the delivery timeout counts from the batch's first record; a request under way then gets its timeout more
            if (Date.now() - sentAt.get(value)! > 4000 + 3000 + 1000) settledLate++
            outcomes.set(value, error ?? metadata!)
          })
        }
        await sleep(10)
      }
    }
    try {
      // twice: each hole expires batches the broker may have written, and the bump that follows
      // meets requests in flight (the sender used to wait for them and never send again)
      await sendFor(1500)
      for (let round = 0; round < 2; round++) {
        hole.open()
        await sendFor(5000)
        hole.close()
        await sendFor(2500)
      }
      await within(`flush() (${n - outcomes.size} sends pending when it began)`, producer.flush(), 15_000)
      assert.equal(outcomes.size, n, 'every send settled')
      assert.equal(settledLate, 0, 'sends settled later than their delivery timeout allows')
      const failed = [...outcomes.values()].filter((o) => o instanceof Error)
      assert.ok(failed.length > 0, 'the black hole expired batches')
      for (const e of failed) assert.ok(e instanceof TimeoutError, `a send failed with ${e}`)
      const tail = Array.from({ length: 100 }, (_, i) => `v${n - 1 - i}`)
      assert.ok(
        tail.every((v) => !(outcomes.get(v) instanceof KafkaxError)),
        'the last records, sent well after the black hole, were delivered',
      )
      const lines = kcat(['-b', brokers()[0], '-C', '-t', topic, '-e', '-q', '-f', '%p\t%s\n'])
        .split('\n')
        .filter(Boolean)
      const written = new Map<string, number>()
      const logs = new Map<number, string[]>()
      for (const line of lines) {
        const [p, value] = line.split('\t')
        written.set(value, (written.get(value) ?? 0) + 1)
        if (!logs.has(Number(p))) logs.set(Number(p), [])
        logs.get(Number(p))!.push(value)
      }
      for (const [value, count] of written) assert.equal(count, 1, `${value} is in the log ${count} times`)
      for (const [value, outcome] of outcomes) {
        if (!(outcome instanceof Error)) assert.equal(written.get(value), 1, `${value} acknowledged but not in the log`)
      }
      for (const [p, values] of logs) {
        const order = sentOrder.get(p)!
        const positions = values.map((v) => order.indexOf(v))
        assert.deepEqual(
          positions,
          [...positions].sort((a, b) => a - b),
          `partition ${p} is out of send order`,
        )
      }
      const acked = [...outcomes.values()].filter((o) => !(o instanceof Error)).length
      process.stdout.write(
        `# ${n} sent, ${acked} acknowledged, ${failed.length} timed out (${written.size - acked} of them in the log), ${hole.connections} connections\n`,
      )
    } finally {
      hole.close()
      await within('close()', producer.close(), 10_000)
    }
  })
})
