// A consumer group rebalance: a second member joins while the first consumes, the partitions are
// split between them, and every record is handled by the member that owns its partition.

import assert from 'node:assert/strict'
import { after, it } from 'node:test'
import { Admin, Consumer, Producer, type TopicPartition } from 'kafkax'
import { brokers, runtime, uniqueTopic, waitFor } from './smoke.ts'

const topic = uniqueTopic('group')
const admin = new Admin({ brokers: brokers() })
after(async () => {
  await admin.deleteTopics([topic])
  await admin.close()
})

it('splits the partitions between two members and hands each record to its owner', async () => {
  await admin.createTopics([{ topic, partitions: 4, replicationFactor: 1 }])
  const groupId = `smoke-${runtime}-group-${topic.slice(-8)}`
  const producer = new Producer({ brokers: brokers() })
  const seen = new Map<string, string>() // value -> member that handled it
  const member = (name: string) => {
    const consumer = new Consumer({
      brokers: brokers(),
      groupId,
      topics: [topic],
      fromBeginning: true,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 500,
    })
    const owned = (m: TopicPartition) => consumer.assignment().some((tp) => tp.partition === m.partition)
    const running = consumer.run((message) => {
      assert.ok(owned(message), `${name} handled ${message.partition} it does not own`)
      seen.set(message.value!.toString(), name)
    })
    return { consumer, running }
  }
  const send = (from: number, count: number) =>
    producer.sendBatch(Array.from({ length: count }, (_, i) => ({ topic, key: `k${from + i}`, value: `v${from + i}` })))

  const a = member('a')
  let b: ReturnType<typeof member> | undefined
  try {
    await send(0, 40)
    await waitFor('member a to handle the first 40 records', () => seen.size >= 40)
    assert.equal(a.consumer.assignment().length, 4)

    b = member('b')
    const split = () => a.consumer.assignment().length > 0 && b!.consumer.assignment().length > 0
    await waitFor(
      'both members to own partitions',
      () => split() && a.consumer.assignment().length + b!.consumer.assignment().length === 4,
    )
    const partitions = [...a.consumer.assignment(), ...b.consumer.assignment()].map((tp) => tp.partition).sort()
    assert.deepEqual(partitions, [0, 1, 2, 3])

    await send(40, 80)
    await waitFor('all 120 records', () => seen.size >= 120)
    const byB = [...seen.values()].filter((name) => name === 'b').length
    assert.ok(byB > 0 && byB < 80, `member b handled ${byB} of the 80 records sent after it joined`)
  } finally {
    await producer.close()
    await Promise.all([a.consumer.stop(), b?.consumer.stop()])
    await Promise.all([a.running, b?.running])
  }
  const lag = await admin.groupLag(groupId)
  assert.equal(lag.length, 4)
  assert.deepEqual(
    lag.map((l) => l.lag),
    [0n, 0n, 0n, 0n],
  )
})
