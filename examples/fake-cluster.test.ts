// A unit test of a consumer handler against the fake cluster: no broker to start, no socket.
//   node --conditions=development --import tsx --test examples/fake-cluster.test.ts
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Consumer, Producer } from 'kafkax'
import { FakeCluster } from 'kafkax/testing'

test('the billing handler totals every order', { timeout: 10_000 }, async () => {
  const cluster = await FakeCluster.start({ listen: false, topics: [{ name: 'orders', partitions: 3 }] })
  const client = { brokers: cluster.bootstrap, connect: cluster.connect } // in process
  const producer = new Producer(client)
  await producer.sendBatch([12, 30, 8].map((total) => ({ topic: 'orders', value: JSON.stringify({ total }) })))
  let revenue = 0
  const consumer = new Consumer({ ...client, groupId: 'billing', topics: ['orders'], fromBeginning: true })
  const running = consumer.run((m) => {
    revenue += JSON.parse(String(m.value)).total
  })
  while (revenue < 50) await new Promise((r) => setTimeout(r, 10))
  await Promise.all([consumer.stop(), running, producer.close()])
  assert.equal(revenue, 50)
  const committed = cluster.committedOffsets('billing').reduce((n, o) => n + o.offset, 0n)
  assert.equal(committed, 3n)
  await cluster.stop()
})
